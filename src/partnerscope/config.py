"""The workspace configuration, ``partnerscope.toml``.

Loading validates everything at once: TOML syntax, shape (pydantic), and meaning (known entities and
columns, mapped required columns, time zones, value maps onto allowed values). Every problem is
reported with its key and a hint, in one :class:`~partnerscope.errors.ConfigError`.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from partnerscope.errors import ConfigError
from partnerscope.present import DEFAULT_LOCALE, check_locale
from partnerscope.schema import TABLES, ColumnType
from partnerscope.settings.evaluation import (
    AlertSettings,
    FlagSettings,
    ScorecardSettings,
    TierSettings,
)
from partnerscope.settings.money import IncentiveSettings, MdfSettings
from partnerscope.settings.registrations import RegistrationSettings
from partnerscope.settings.reports import ReportSettings
from partnerscope.settings.routing import RoutingSettings

CONFIG_FILE = "partnerscope.toml"
DEFAULT_NULL_VALUES = ("NULL", "null", "None", "N/A", "n/a", "NA", "#N/A", "-")
PRESETS_DIR = Path(__file__).parent / "presets"

Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkspaceSettings(_Strict):
    name: str = "partnerscope workspace"
    base_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    #: how numbers, money and dates are written (Babel: en_US, en_GB, de_DE, fr_FR, ...)
    locale: Annotated[str, AfterValidator(check_locale)] = DEFAULT_LOCALE
    timezone: str = "UTC"
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = 1
    sla_hours: Annotated[float, Field(gt=0)] = 2.0


class EconomicsSettings(_Strict):
    #: Gross margin share of won revenue, for contribution_margin; unset leaves it undefined.
    gross_margin: Annotated[float, Field(ge=0, le=1)] | None = None


class CohortSettings(_Strict):
    #: Upper limits (base currency) of the revenue bands partners are grouped in, by won revenue
    #: over the 12 months ending at each period's end.
    revenue_bands: tuple[Annotated[float, Field(gt=0)], ...] = (250_000.0, 1_000_000.0, 5_000_000.0)

    @field_validator("revenue_bands")
    @classmethod
    def _ascending(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(set(value)):
            raise ValueError("list the band limits in ascending order, each once")
        return value


class EngineSettings(_Strict):
    #: What computes the metrics: "duckdb" on the warehouse file itself, "postgres" on a copy of
    #: its tables in a PostgreSQL schema, or "spark" on a copy staged as Parquet
    #: (docs/engines.md).
    kind: Literal["duckdb", "postgres", "spark"] = "duckdb"
    path: str = "state/warehouse.duckdb"
    #: kind = "postgres": the server, e.g. "postgresql://partnerscope@db.example.com/analytics";
    #: kind = "spark": the master, e.g. "spark://host:7077" or "sc://host:15002" (Spark Connect);
    #: unset: "local[*]", Spark inside the run's process.
    #: PARTNERSCOPE_ENGINE_URL wins over it (keep passwords there or in ~/.pgpass).
    url: str | None = None
    #: kind = "spark": the existing folder (an absolute path) the warehouse is staged in as
    #: Parquet; on a cluster, one every executor reads at the same path. Unset: a temporary
    #: folder (local mode).
    staging: str | None = None
    #: kind = "postgres": the schema each run replaces with the warehouse's tables.
    schema_name: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "partnerscope"
    #: DuckDB's memory limit, e.g. "3GB" or "50%"; beyond it DuckDB spills to disk. Spark in
    #: local mode sizes its driver with it (a size only).
    memory_limit: str = "3GB"
    #: Threads DuckDB may use (default: one per core).
    threads: Annotated[int, Field(ge=1)] | None = None

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(%|[KMGT]i?B)\s*", value):
            raise ValueError("write a size such as '3GB' or '2.5GiB', or a share such as '50%'")
        return value.strip()


class DatabaseSettings(_Strict):
    #: SQLAlchemy URL of the transactional store (users, decisions, payouts, MDF, registrations),
    #: e.g. "postgresql+psycopg://partnerscope@db.example.com/partnerscope"; unset: the SQLite
    #: file state/app.db. PARTNERSCOPE_DATABASE_URL wins over it (keep passwords there or in
    #: ~/.pgpass, not in this file).
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z][a-z0-9+]*://\S*", value.strip()):
            raise ValueError(
                'write a SQLAlchemy URL such as "postgresql+psycopg://user@host/database"'
            )
        return value.strip() if value else value


class IngestSettings(_Strict):
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES


class ColumnMapping(_Strict):
    """How one canonical column is filled from a source file."""

    column: str | None = None
    constant: Scalar | None = None
    expr: str | None = None
    map: dict[str, str] = Field(default_factory=dict)
    otherwise: str | None = None
    default: Scalar | None = None
    format: str | None = None
    scale: float | None = None
    agg: Literal["sum", "min", "max", "first", "last"] | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnMapping:
        given = [k for k in ("column", "constant", "expr") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, constant or expr "
                f"(got {', '.join(given) if given else 'none'})"
            )
        return self


class SourceConfig(_Strict):
    entity: str
    path: str | list[str]
    preset: str | None = None
    format: Literal["auto", "csv", "xlsx", "parquet"] = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    header: bool = True
    column_names: list[str] | None = None
    sheet: str | int | None = None
    skip_rows: Annotated[int, Field(ge=0)] = 0
    timezone: str | None = None
    date_format: str | None = None
    timestamp_format: str | None = None
    decimal_separator: Literal[".", ","] = "."
    #: Default: "." when the decimal separator is ",", else ",".
    thousands_separator: Literal[",", ".", " ", "'", ""] = ","
    null_values: tuple[str, ...] | None = None
    rollup: bool = False
    columns: dict[str, str | ColumnMapping] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _thousands_default(cls, data: Any) -> Any:
        # "1.234,50": with a decimal comma the usual grouping mark is the dot
        if (
            isinstance(data, dict)
            and data.get("decimal_separator") == ","
            and "thousands_separator" not in data
        ):
            return {**data, "thousands_separator": "."}
        return data

    @model_validator(mode="after")
    def _distinct_separators(self) -> SourceConfig:
        if self.thousands_separator == self.decimal_separator:
            raise ValueError(
                f"decimal_separator and thousands_separator are both {self.decimal_separator!r}; "
                "set thousands_separator to the mark that groups digits in your file"
            )
        return self

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        value = "\t" if value == "\\t" else value
        if value != "auto" and len(value) != 1:
            raise ValueError('delimiter must be one character or "auto"')
        return value

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)

    def mapping(self, name: str) -> ColumnMapping | None:
        value = self.columns.get(name)
        return ColumnMapping(column=value) if isinstance(value, str) else value


class Config(_Strict):
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    economics: EconomicsSettings = Field(default_factory=EconomicsSettings)
    cohorts: CohortSettings = Field(default_factory=CohortSettings)
    #: The workspace's own metrics (and min_evidence of built-in ones), validated by
    #: partnerscope.metrics.definition.load_catalog.
    metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scorecard: ScorecardSettings = Field(default_factory=ScorecardSettings)
    tiers: TierSettings = Field(default_factory=TierSettings)
    flags: FlagSettings = Field(default_factory=FlagSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    incentives: IncentiveSettings = Field(default_factory=IncentiveSettings)
    mdf: MdfSettings = Field(default_factory=MdfSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    registration: RegistrationSettings = Field(default_factory=RegistrationSettings)

    def config_hash(self) -> str:
        """Stable hash of the effective configuration (defaults and presets applied); where
        the transactional store lives is no part of it."""
        return _hash(self.model_dump(mode="json", exclude={"database"}))

    def metrics_hash(self) -> str:
        """Hash of what metric values depend on: the configuration without the sections that
        only evaluate them (scorecard, tiers, flags, alerts, reports, incentives, mdf)."""
        return _hash(self.model_dump(mode="json", exclude={*EVALUATION_SECTIONS, "database"}))


#: Sections that read metric values without changing them: editing them re-evaluates a run
#: but never recomputes its metrics.
EVALUATION_SECTIONS = (
    "scorecard",
    "tiers",
    "flags",
    "alerts",
    "reports",
    "incentives",
    "mdf",
    "routing",
    "registration",
)


def _hash(data: Any) -> str:
    blob = json.dumps(data, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_config(path: Path, *, check_files: bool = True) -> Config:
    """Read and validate ``partnerscope.toml``; raise one ConfigError listing every problem."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            where, [f"no {CONFIG_FILE} here; create one with `partnerscope init`"]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(where, [f"the file is not UTF-8 text ({exc.reason})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, [f"TOML syntax: {exc}"]) from None
    problems: list[str] = []
    raw = _apply_presets(raw, problems)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc))
        # one typo must not hide the other problems: check what did validate
        timezone, sources = _valid_parts(raw)
        problems.extend(_check_meaning(timezone, sources, path.parent, check_files=check_files))
        metrics = raw.get("metrics")
        problems.extend(_check_metrics(metrics if isinstance(metrics, dict) else {}))
        raise ConfigError(where, problems) from None
    problems.extend(
        _check_meaning(
            config.workspace.timezone, config.sources, path.parent, check_files=check_files
        )
    )
    problems.extend(_check_metrics(config.metrics))
    if not problems:
        problems.extend(check_evaluation(config))
    if problems:
        raise ConfigError(where, problems)
    return config


def _check_metrics(metrics: dict[str, Any]) -> list[str]:
    """Problems of the workspace's own metric definitions (and built-in overrides)."""
    from partnerscope.metrics.definition import load_catalog

    try:
        load_catalog(metrics)
    except ConfigError as exc:
        return exc.problems
    return []


def check_evaluation(config: Config) -> list[str]:
    """Problems of the names the scorecard, tier rules, alerts, reports, incentives and MDF
    budgets use."""
    from partnerscope.metrics.definition import load_catalog
    from partnerscope.settings.evaluation import check
    from partnerscope.settings.money import check as check_money
    from partnerscope.settings.reports import check as check_reports
    from partnerscope.settings.routing import check as check_routing

    catalog = load_catalog(config.metrics)
    return [
        *check(catalog, config.scorecard, config.tiers, config.alerts),
        *check_reports(catalog, config.reports),
        *check_money(catalog, config.tiers, config.incentives, config.mdf),
        *check_routing(config.tiers, config.routing),
    ]


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def _apply_presets(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Merge each source's preset under its own settings (the source's own keys win)."""
    sources = raw.get("sources")
    if not isinstance(sources, dict):
        return raw
    merged: dict[str, Any] = {}
    for name, source in sources.items():
        preset = source.get("preset") if isinstance(source, dict) else None
        if not isinstance(preset, str):
            merged[name] = source
            continue
        file = PRESETS_DIR / f"{preset}.toml"
        if not file.is_file():
            problems.append(
                f"sources.{name}.preset: unknown preset {preset!r}; "
                f"choose one of {', '.join(preset_names())}"
            )
            merged[name] = {k: v for k, v in source.items() if k != "preset"}
            continue
        base = tomllib.loads(file.read_text(encoding="utf-8"))
        columns = {**base.get("columns", {}), **source.get("columns", {})}
        merged[name] = {**base, **source, "columns": columns}
    return {**raw, "sources": merged}


#: Names pydantic gives the members of a union in an error location.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "list[str]", "ColumnMapping"})


def _user_loc(loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], bool]:
    """The location as the user wrote it (without validator and union-member names), and
    whether it named a union member."""
    out: list[int | str] = []
    member = False
    for i, part in enumerate(loc):
        text = str(part)
        if text.startswith("function-"):
            continue
        if text in _UNION_MEMBERS and i > 0 and loc[i - 1] not in ("sources", "map"):
            member = True
            continue
        out.append(part)
    return tuple(out), member


def describe_validation_error(exc: ValidationError) -> list[str]:
    errors = [(*_user_loc(err["loc"]), err) for err in exc.errors()]
    problems = []
    seen: set[tuple[int | str, ...]] = set()
    for loc, member, err in errors:
        if (
            member
            and (
                # a table was given: that a scalar member rejects it explains nothing
                (isinstance(err.get("input"), dict) and err["type"].endswith("_type"))
                # another member got further and says what is wrong inside
                or any(len(o) > len(loc) and o[: len(loc)] == loc for o, _, _ in errors)
            )
        ):
            continue
        if loc in seen:
            continue  # one problem per key, from the first member that fails
        seen.add(loc)
        where = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            parent = _model_for_loc(loc[:-1])
            hint = _did_you_mean(str(loc[-1]), parent.model_fields if parent else [])
            problems.append(f"{where}: unknown key{hint}")
        elif err["type"] == "missing":
            problems.append(f"{where}: required key is missing")
        else:
            message = err["msg"].removeprefix("Value error, ")
            value = err.get("input")
            got = "" if isinstance(value, dict) else f" (got {value!r})"
            problems.append(f"{where}: {message}{got}")
    return list(dict.fromkeys(problems))


def _model_for_loc(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Config
    parts = list(loc)
    while parts and model is not None:
        part = parts.pop(0)
        if model is Config and part == "sources":
            if parts:
                parts.pop(0)
            model = SourceConfig
        elif model is SourceConfig and part == "columns":
            if parts:
                parts.pop(0)
            model = ColumnMapping
        else:
            field = model.model_fields.get(str(part))
            annotation = field.annotation if field else None
            model = (
                annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel)
                else None
            )
    return model


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _valid_parts(raw: dict[str, Any]) -> tuple[str | None, dict[str, SourceConfig]]:
    """The workspace time zone and the sources that are valid on their own; an invalid column
    mapping (already reported) is replaced by a stand-in so that the rest is still checked."""
    workspace = raw.get("workspace")
    timezone = workspace.get("timezone") if isinstance(workspace, dict) else None
    raw_sources = raw.get("sources")
    sources = {}
    for name, source in raw_sources.items() if isinstance(raw_sources, dict) else []:
        for attempt in range(2):
            try:
                sources[name] = SourceConfig.model_validate(source)
                break
            except ValidationError as exc:
                bad = {e["loc"][1] for e in exc.errors() if e["loc"][:1] == ("columns",)}
                columns = source.get("columns") if isinstance(source, dict) else None
                if attempt or not bad or not isinstance(columns, dict):
                    break
                stand_in = {k: "?" if k in bad else v for k, v in columns.items()}
                source = {**source, "columns": stand_in}
    return timezone if isinstance(timezone, str) else None, sources


def _check_meaning(
    timezone: str | None, sources: dict[str, SourceConfig], root: Path, *, check_files: bool
) -> list[str]:
    problems: list[str] = []
    zones = [("workspace.timezone", timezone)] if timezone is not None else []
    for key, tz in zones + [
        (f"sources.{n}.timezone", s.timezone) for n, s in sources.items() if s.timezone
    ]:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"{key}: unknown time zone {tz!r}; use an IANA name such as "
                "'UTC', 'Europe/Berlin' or 'America/New_York'"
            )
    for name, source in sources.items():
        problems.extend(_check_source(name, source, root, check_files=check_files))
    return problems


def _check_source(name: str, source: SourceConfig, root: Path, *, check_files: bool) -> list[str]:
    where = f"sources.{name}"
    table = TABLES.get(source.entity)
    if table is None:
        return [
            f"{where}.entity: unknown entity {source.entity!r}"
            f"{_did_you_mean(source.entity, TABLES)}; entities are {', '.join(TABLES)}"
        ]
    problems: list[str] = []
    for column_name in source.columns:
        if column_name not in table.column_names:
            problems.append(
                f"{where}.columns.{column_name}: {source.entity} has no column "
                f"{column_name!r}{_did_you_mean(column_name, table.column_names)}; see "
                f"`partnerscope schema {source.entity}`"
            )
    for col in table.columns:
        mapping = source.mapping(col.name)
        if mapping is None:
            if col.required and col.default is None:
                problems.append(
                    f"{where}.columns: required column {col.name!r} of {source.entity} is not "
                    f'mapped; add `{col.name} = "<column in your file>"`'
                )
            continue
        if col.allowed:
            for target in [
                *mapping.map.values(),
                mapping.otherwise,
                mapping.constant,
                mapping.default,
            ]:
                if target is not None and str(target).lower() not in col.allowed:
                    problems.append(
                        f"{where}.columns.{col.name}: {target!r} is not an allowed value; "
                        f"use one of {', '.join(col.allowed)}"
                    )
        if mapping.agg and not source.rollup:
            problems.append(f"{where}.columns.{col.name}.agg: only used with rollup = true")
        if mapping.scale is not None and col.type not in (
            ColumnType.MONEY,
            ColumnType.NUMBER,
            ColumnType.INTEGER,
            ColumnType.RATE,
        ):
            problems.append(f"{where}.columns.{col.name}.scale: {col.name} is not numeric")
    if source.column_names is None and not source.header:
        problems.append(
            f"{where}.column_names: a file without a header row needs "
            "column_names = [...] in file order"
        )
    if source.column_names is not None and source.header:
        problems.append(
            f"{where}.column_names: only used with header = false (the file's header names the "
            "columns); remove it, or set header = false if the file has no header row"
        )
    if check_files:
        for pattern in source.paths:
            if not _glob(root, pattern):
                problems.append(f"{where}.path: no file matches {pattern!r} (relative to {root})")
    return problems


def _glob(root: Path, pattern: str) -> list[Path]:
    # glob.glob, unlike Path.glob, accepts absolute patterns too
    return sorted(Path(p) for p in glob.glob(str(root / pattern)) if Path(p).is_file())  # noqa: PTH207


def source_files(root: Path, source: SourceConfig) -> list[Path]:
    """The files a source's path patterns name, in a stable order, each once."""
    return list(dict.fromkeys(f for pattern in source.paths for f in _glob(root, pattern)))
