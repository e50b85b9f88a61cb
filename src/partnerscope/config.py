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
from partnerscope.settings.awards import AwardSettings
from partnerscope.settings.business_plans import BusinessPlansSettings
from partnerscope.settings.enablement import EnablementSettings
from partnerscope.settings.escalation import EscalationSettings
from partnerscope.settings.evaluation import (
    AlertSettings,
    FlagSettings,
    ScorecardSettings,
    TierSettings,
)
from partnerscope.settings.identity import IdentitySettings
from partnerscope.settings.market import MarketSettings
from partnerscope.settings.money import IncentiveSettings, MdfSettings
from partnerscope.settings.notifications import NotificationSettings
from partnerscope.settings.onboarding import OnboardingSettings
from partnerscope.settings.predict import PredictSettings
from partnerscope.settings.qualification import QualificationSettings
from partnerscope.settings.registrations import RegistrationSettings
from partnerscope.settings.reports import ReportSettings
from partnerscope.settings.routing import RoutingSettings
from partnerscope.settings.rules import RuleSettings
from partnerscope.settings.schedules import ScheduleSettings
from partnerscope.settings.schedules import check_names as check_schedule_names
from partnerscope.settings.service import ServiceSettings

CONFIG_FILE = "partnerscope.toml"
#: Cell values read as empty in every column, besides blank cells.
DEFAULT_NULL_VALUES = ("NULL", "null", "None", "#N/A", "-")
#: Cell values read as empty only where text is not expected (numbers, amounts, rates, dates,
#: times, true/false, currency codes): in a text column "NA" is North America, "N/A" a name.
DEFAULT_TYPED_NULL_VALUES = ("N/A", "n/a", "NA")
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
    #: DuckDB's memory limit, e.g. "3GB" or "50%"; beyond it DuckDB spills to disk. Spark sizes
    #: its driver with it (a size only) on every master but Spark Connect.
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
    typed_null_values: tuple[str, ...] = DEFAULT_TYPED_NULL_VALUES


class LookupKey(_Strict):
    """The value a lookup is searched with, itself looked up in another lookup (a chain)."""

    lookup: str
    key: str | LookupKey
    column: str

    def hops(self) -> list[LookupKey]:
        """The lookups of the chain, the one the file's own column is searched in first."""
        inner = self.key.hops() if isinstance(self.key, LookupKey) else []
        return [*inner, self]

    def file_column(self) -> str:
        """The column of the source's own file the chain starts from."""
        return self.key.file_column() if isinstance(self.key, LookupKey) else self.key


AGGREGATES = ("sum", "count", "min", "max", "avg")


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
    #: The value of ``column`` in the lookup ``lookup`` on the row whose key is this row's
    #: ``key`` (docs/lookups.md).
    lookup: str | None = None
    #: With ``lookup``: the file's column (or a chained lookup) whose value is searched; with
    #: ``aggregate``: the line file's column that names the parent row.
    key: str | LookupKey | None = None
    #: ``aggregate`` over the rows of the line file ``source`` (a ``[lookups]`` entry) whose
    #: ``key`` equals this row's ``parent_key`` (default: the column named like ``key``).
    aggregate: Literal["sum", "count", "min", "max", "avg"] | None = None
    source: str | None = None
    parent_key: str | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnMapping:
        if self.lookup is not None:
            wrong = [
                k
                for k in ("constant", "expr", "aggregate", "source", "parent_key")
                if getattr(self, k) is not None
            ]
            if wrong or self.column is None or self.key is None:
                raise ValueError(
                    'a lookup takes lookup, key and column, e.g. { lookup = "reps", key = '
                    '"salesRepEmployeeNumber", column = "officeCode" }'
                    + (f" (remove {', '.join(wrong)})" if wrong else "")
                )
            return self
        if self.aggregate is not None:
            wrong = [k for k in ("constant", "lookup") if getattr(self, k) is not None]
            value = [k for k in ("column", "expr") if getattr(self, k) is not None]
            if (
                wrong
                or self.source is None
                or not isinstance(self.key, str)
                or len(value) > 1
                or (not value and self.aggregate != "count")
            ):
                raise ValueError(
                    "an aggregate takes aggregate, source, key and expr (or column), e.g. "
                    '{ aggregate = "sum", source = "order_lines", key = "orderNumber", '
                    'expr = "quantityOrdered * priceEach" }; count needs no expr'
                    + (f" (remove {', '.join(wrong)})" if wrong else "")
                )
            return self
        given = [k for k in ("column", "constant", "expr") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, constant or expr "
                f"(got {', '.join(given) if given else 'none'})"
            )
        extra = [k for k in ("key", "source", "parent_key") if getattr(self, k) is not None]
        if extra:
            raise ValueError(f'{", ".join(extra)} only go with lookup = "..." or aggregate = "..."')
        return self

    def file_columns(self) -> list[str]:
        """The columns of the source's own file this mapping reads by name (an ``expr`` may
        read others)."""
        if self.lookup is not None:
            assert self.key is not None
            return [self.key if isinstance(self.key, str) else self.key.file_column()]
        if self.aggregate is not None:
            assert isinstance(self.key, str)
            return [self.parent_key or self.key]
        return [self.column] if self.column is not None else []

    def lookup_chain(self) -> list[LookupKey]:
        """With ``lookup``: the chain of lookups, the one searched first first."""
        if self.lookup is None or self.key is None or self.column is None:
            return []
        return LookupKey(lookup=self.lookup, key=self.key, column=self.column).hops()

    def lookups_used(self) -> list[str]:
        """The names of the ``[lookups]`` entries this mapping reads."""
        if self.aggregate is not None and self.source is not None:
            return [self.source]
        return [hop.lookup for hop in self.lookup_chain()]


class FileSettings(_Strict):
    """Where a file is and how to read it: what sources and lookups share."""

    path: str | list[str]
    format: Literal["auto", "csv", "xlsx", "parquet"] = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    header: bool = True
    column_names: list[str] | None = None
    sheet: str | int | None = None
    skip_rows: Annotated[int, Field(ge=0)] = 0
    decimal_separator: Literal[".", ","] = "."
    #: Default: "." when the decimal separator is ",", else ",".
    thousands_separator: Literal[",", ".", " ", "'", ""] = ","
    null_values: tuple[str, ...] | None = None

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
    def _distinct_separators(self) -> FileSettings:
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


class SourceConfig(FileSettings):
    entity: str
    #: blanked only in columns that are not text (a lookup's values are read as the source's)
    typed_null_values: tuple[str, ...] | None = None
    preset: str | None = None
    timezone: str | None = None
    date_format: str | None = None
    timestamp_format: str | None = None
    rollup: bool = False
    columns: dict[str, str | ColumnMapping] = Field(default_factory=dict)

    def mapping(self, name: str) -> ColumnMapping | None:
        value = self.columns.get(name)
        return ColumnMapping(column=value) if isinstance(value, str) else value

    def lookups_used(self) -> list[str]:
        """The ``[lookups]`` entries the mappings read, each once."""
        names = (
            n for v in self.columns.values() if not isinstance(v, str) for n in v.lookups_used()
        )
        return list(dict.fromkeys(names))


class LookupConfig(FileSettings):
    """A file read only to fill the columns of sources: a lookup table (one row per ``key``) or
    the line items aggregated into a parent column (docs/lookups.md)."""

    #: The column that identifies a row, for ``{ lookup = ... }`` mappings; none needed for a
    #: file only aggregated.
    key: str | None = None


class Config(_Strict):
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    lookups: dict[str, LookupConfig] = Field(default_factory=dict)
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
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    predict: PredictSettings = Field(default_factory=PredictSettings)
    market: MarketSettings = Field(default_factory=MarketSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    qualification: QualificationSettings = Field(default_factory=QualificationSettings)
    onboarding: OnboardingSettings = Field(default_factory=OnboardingSettings)
    enablement: EnablementSettings = Field(default_factory=EnablementSettings)
    business_plans: BusinessPlansSettings = Field(default_factory=BusinessPlansSettings)
    awards: AwardSettings = Field(default_factory=AwardSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    schedules: tuple[ScheduleSettings, ...] = ()
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    rules: tuple[RuleSettings, ...] = ()

    def config_hash(self) -> str:
        """Stable hash of the effective configuration (defaults and presets applied); where
        the transactional store lives and how people are told (DELIVERY_SECTIONS) are no
        part of it."""
        return _hash(self.model_dump(mode="json", exclude={"database", *DELIVERY_SECTIONS}))

    def metrics_hash(self) -> str:
        """Hash of what metric values depend on: the configuration without the sections that
        only evaluate them (scorecard, tiers, flags, alerts, reports, incentives, mdf)."""
        return _hash(
            self.model_dump(
                mode="json", exclude={*EVALUATION_SECTIONS, *DELIVERY_SECTIONS, "database"}
            )
        )


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
    "predict",
    "market",
    "service",
    "qualification",
    "onboarding",
    "enablement",
    "business_plans",
    "awards",
)


#: Sections that only tell people about results: no part of what a run computes, so editing
#: them neither recomputes nor re-evaluates anything.
DELIVERY_SECTIONS = ("notifications", "schedules", "escalation", "rules")


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
        timezone, sources, lookups = _valid_parts(raw)
        problems.extend(
            _check_meaning(timezone, sources, path.parent, check_files=check_files, lookups=lookups)
        )
        metrics = raw.get("metrics")
        problems.extend(_check_metrics(metrics if isinstance(metrics, dict) else {}))
        raise ConfigError(where, problems) from None
    problems.extend(
        _check_meaning(
            config.workspace.timezone,
            config.sources,
            path.parent,
            check_files=check_files,
            lookups=config.lookups,
        )
    )
    problems.extend(_check_metrics(config.metrics))
    problems.extend(check_schedule_names(config.schedules))
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
    """Problems of the names the scorecard, tier rules, alerts, reports, incentives, MDF
    budgets, awards and the ``[[rules]]`` use."""
    from partnerscope.metrics.definition import load_catalog
    from partnerscope.settings.awards import check as check_awards
    from partnerscope.settings.evaluation import check
    from partnerscope.settings.money import check as check_money
    from partnerscope.settings.reports import check as check_reports
    from partnerscope.settings.routing import check as check_routing
    from partnerscope.settings.rules import check as check_rules

    catalog = load_catalog(config.metrics)
    return [
        *check(catalog, config.scorecard, config.tiers, config.alerts),
        *check_reports(catalog, config.reports),
        *check_money(catalog, config.tiers, config.incentives, config.mdf),
        *check_routing(config.tiers, config.routing),
        *check_rules(catalog, config.rules),
        *check_awards(list(catalog.metrics), config.awards),
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
_UNION_MEMBERS = frozenset(
    {"str", "int", "float", "bool", "list[str]", "ColumnMapping", "LookupKey"}
)


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
        if model is Config and part in ("sources", "lookups"):
            if parts:
                parts.pop(0)
            model = SourceConfig if part == "sources" else LookupConfig
        elif model is SourceConfig and part == "columns":
            if parts:
                parts.pop(0)
            model = ColumnMapping
        elif model in (ColumnMapping, LookupKey) and part == "key":
            model = LookupKey
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


def _valid_parts(
    raw: dict[str, Any],
) -> tuple[str | None, dict[str, SourceConfig], dict[str, LookupConfig] | None]:
    """The workspace time zone, the sources that are valid on their own and the lookups (None
    when any is invalid: the names the sources use are not known then); an invalid column
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
    raw_lookups = raw.get("lookups", {})
    lookups: dict[str, LookupConfig] | None = {}
    try:
        lookups = {name: LookupConfig.model_validate(value) for name, value in raw_lookups.items()}
    except (ValidationError, AttributeError):
        lookups = None
    return timezone if isinstance(timezone, str) else None, sources, lookups


def _check_meaning(
    timezone: str | None,
    sources: dict[str, SourceConfig],
    root: Path,
    *,
    check_files: bool,
    lookups: dict[str, LookupConfig] | None = None,
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
        if lookups is not None:
            problems.extend(_check_lookup_use(name, source, lookups))
    for name, lookup in (lookups or {}).items():
        if name in sources:
            problems.append(
                f"lookups.{name}: a source is named {name!r} too; give the lookup another name"
            )
        if check_files:
            for pattern in lookup.paths:
                if not _glob(root, pattern):
                    problems.append(
                        f"lookups.{name}.path: no file matches {pattern!r} (relative to {root})"
                    )
    return problems


def then(hint: str) -> str:
    """A did-you-mean hint followed by the next sentence, or the end of the sentence."""
    return f"{hint} " if hint else ". "


def _check_lookup_use(
    name: str, source: SourceConfig, lookups: dict[str, LookupConfig]
) -> list[str]:
    """Problems of the lookups and line files a source's mappings name."""
    problems = []
    declared = ", ".join(lookups) or "none declared"
    for column, value in source.columns.items():
        if isinstance(value, str):
            continue
        where = f"sources.{name}.columns.{column}"
        if value.aggregate is not None and value.source is not None:
            if value.source not in lookups:
                problems.append(
                    f"{where}.source: no lookup {value.source!r} among {declared}"
                    f"{then(_did_you_mean(value.source, lookups))}A line file is declared as "
                    f"[lookups.{value.source}] with its path"
                )
            continue
        chain = value.lookup_chain()
        for depth, hop in enumerate(chain):
            lookup = lookups.get(hop.lookup)
            if lookup is None:
                problems.append(
                    f"{where}{'.key' * (len(chain) - 1 - depth)}.lookup: no lookup "
                    f"{hop.lookup!r} among {declared}"
                    f"{then(_did_you_mean(hop.lookup, lookups))}A lookup is declared as "
                    f"[lookups.{hop.lookup}] with path and key"
                )
            elif lookup.key is None:
                problems.append(
                    f"lookups.{hop.lookup}.key: required by {where}: name the column of "
                    f'{hop.lookup} that identifies its rows, e.g. key = "id"'
                )
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


def source_files(root: Path, source: FileSettings) -> list[Path]:
    """The files a source's path patterns name, in a stable order, each once."""
    return list(dict.fromkeys(f for pattern in source.paths for f in _glob(root, pattern)))
