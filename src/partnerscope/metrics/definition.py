"""Metric definitions: the declarative form, validated into frozen :class:`Metric` objects.

The built-in catalog (``catalog.toml``, METRICS.md) and a workspace's own ``[metrics.NAME]`` tables
use the same form. Loading reports every problem at once, each at its key.

It stays one module: the form, the checks that validate it and the frozen metric they make are
one concept, and the checks read the form's fields one by one.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from partnerscope.errors import ConfigError, PartnerscopeError, did_you_mean
from partnerscope.metrics.entities import ENTITIES
from partnerscope.metrics.expressions import Expression, ExpressionError, parse
from partnerscope.schema import ColumnType

BUILTIN_CATALOG = Path(__file__).with_name("catalog.toml")
#: The rest of the built-in catalog, one file per area (service, retention, coverage...), read
#: after catalog.toml in name order; a name may be defined only once across them.
BUILTIN_MEASURES = Path(__file__).with_name("measures")
#: Names a filter, measure or formula may use besides columns and metrics.
PARAMETERS = {
    "sla_hours": "workspace.sla_hours: hours within which a lead must be first touched",
    "gross_margin": "economics.gross_margin: gross margin share of won revenue (0-1)",
    "as_of": "the run's as-of time (only in hours_between(<column>, as_of) >= <hours>)",
}
_TIME_TYPES = (ColumnType.DATE, ColumnType.TIMESTAMP)


class UnknownMetricError(PartnerscopeError, LookupError):
    """A metric name that is not in the catalog."""


class Unit(StrEnum):
    MONEY = "money"
    COUNT = "count"
    SHARE = "share"
    RATIO = "ratio"
    DAYS = "days"
    HOURS = "hours"
    SCORE = "score"
    RATING = "rating"
    MONEY_PER_DAY = "money_per_day"
    NUMBER = "number"


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"


class When(StrEnum):
    """Which rows of an entity count toward a period."""

    IN_PERIOD = "in_period"
    AT_PERIOD_END = "at_period_end"
    TRAILING_12_MONTHS = "trailing_12_months"
    FIRST_IN_PERIOD = "first_in_period"
    WITHIN_PERIOD = "within_period"
    ALWAYS = "always"


class Agg(StrEnum):
    SUM = "sum"
    COUNT = "count"
    MEAN = "mean"
    MEDIAN = "median"
    COUNT_DISTINCT = "count_distinct"
    #: 1 − Σ s² (Herfindahl), s each ``by`` value's share of Σ measure over the rows.
    DIVERSITY = "diversity"


class Kind(StrEnum):
    AGGREGATE = "aggregate"
    RATIO = "ratio"
    FORMULA = "formula"


class MetricSpec(BaseModel):
    """One ``[metrics.NAME]`` table, as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str | None = None
    description: str = ""
    unit: Unit = Unit.NUMBER
    direction: Direction = Direction.HIGHER
    version: int = Field(default=1, ge=1)
    # an aggregate over an entity
    entity: str | None = None
    agg: Agg | None = None
    measure: str | None = None
    #: agg = "diversity": the column whose values share the measure (product family).
    by: str | None = None
    filter: str | None = None
    when: When = When.IN_PERIOD
    time: str | None = None
    start: str | None = None
    end: str | None = None
    length: str | None = None
    #: Value of a sum or count with no rows: 0, or null ("no quota" is not a quota of 0).
    empty: str = Field(default="zero", pattern="^(zero|null)$")
    # a ratio of two metrics
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    # a formula over metrics
    formula: str | None = None
    # minimum evidence: below it the value is null
    evidence: str | None = None
    min_evidence: float | None = Field(default=None, ge=0)


@dataclass(frozen=True)
class Metric:
    name: str
    spec: MetricSpec
    kind: Kind
    builtin: bool
    filter: Expression | None = None
    measure: Expression | None = None
    formula: Expression | None = None
    #: Metrics this one is computed from.
    depends_on: tuple[str, ...] = ()
    #: Only defined for groups of partners (it looks at the partners of a group).
    group_only: bool = False

    @property
    def label(self) -> str:
        return self.spec.label or self.name.replace("_", " ").capitalize()

    @property
    def entity(self) -> str | None:
        return self.spec.entity

    @property
    def holistic(self) -> bool:
        """Computed from the rows at every grain and group, not from summed monthly parts."""
        return self.kind is Kind.AGGREGATE and (
            self.spec.agg in (Agg.MEDIAN, Agg.DIVERSITY)
            or (self.spec.agg is Agg.COUNT_DISTINCT and self.spec.when is not When.FIRST_IN_PERIOD)
            or self.spec.when is When.WITHIN_PERIOD
        )

    @property
    def counts_rows(self) -> bool:
        """Whether the evidence is the metric's own row count: a median or distinct count then
        also keeps ``<name>__n``, the rows it is over."""
        return self.spec.min_evidence is not None and self.evidence_metric is None

    @property
    def evidence_metric(self) -> str | None:
        """The metric whose value must reach ``min_evidence`` (None: the row count)."""
        if self.spec.evidence:
            return self.spec.evidence
        if self.kind is Kind.RATIO:
            return self.spec.denominator
        return None

    def formula_text(self) -> str:
        """The definition in one line, as `metrics show` prints it."""
        s = self.spec
        if self.kind is Kind.RATIO:
            scale = f"{s.scale:g} × " if s.scale != 1 else ""
            return f"{scale}{s.numerator} / {s.denominator}"
        if self.kind is Kind.FORMULA:
            return str(s.formula)
        what = f"{s.agg}({s.measure or '*'})"
        if s.agg is Agg.DIVERSITY:
            what = f"1 − Σ share² of {s.measure} by {s.by}"
        where = f" where {s.filter}" if s.filter else ""
        return f"{what} over {s.entity}{where}, {_when_text(s)}"

    def as_of_horizon_hours(self, params: Mapping[str, Any]) -> float | None:
        """How far back the as-of time can change this aggregate's rows (None: it does not)."""
        exprs = [e for e in (self.filter, self.measure) if e is not None]
        horizons = [h for e in exprs for h in _as_of_horizons(e, params)]
        return max(horizons) if horizons else None


def _when_text(s: MetricSpec) -> str:
    match s.when:
        case When.IN_PERIOD:
            return f"{s.time} in period"
        case When.AT_PERIOD_END:
            return f"open at period end: {s.start} ≤ end and ({s.end} is null or {s.end} > end)"
        case When.TRAILING_12_MONTHS:
            return f"{s.time} in the 12 months ending at period end"
        case When.FIRST_IN_PERIOD:
            return f"counted in the period of its first row ({s.time}) per partner"
        case When.WITHIN_PERIOD:
            return f"rows whose span ({s.start}, {s.length}) lies within the period"
        case When.ALWAYS:
            return "every period (not dated)"


@dataclass(frozen=True)
class Catalog:
    """The validated metrics, built-in first, in an order where each follows its inputs."""

    metrics: dict[str, Metric]
    version: str

    def __getitem__(self, name: str) -> Metric:
        return self.metrics[name]

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def __iter__(self) -> Any:
        return iter(self.metrics.values())

    def get(self, name: str) -> Metric:
        """The metric called ``name``, or an error with a 'did you mean'."""
        if name not in self.metrics:
            raise UnknownMetricError(
                f"no metric {name!r}{did_you_mean(name, self.metrics)}; list them with "
                "`partnerscope metrics`"
            )
        return self.metrics[name]

    def closure(self, names: Iterable[str]) -> list[str]:
        """The named metrics and everything they are computed from, in dependency order."""
        wanted: set[str] = set()

        def visit(name: str) -> None:
            if name not in wanted:
                wanted.add(name)
                for dep in self.metrics[name].depends_on:
                    visit(dep)

        for name in names:
            visit(self.get(name).name)
        return [n for n in self.metrics if n in wanted]

    def share_of_counts(self, name: str) -> tuple[str, str] | None:
        """(successes, trials) of a metric that is a share of counted events (win_rate:
        won_deals of closed_deals), else None: what a scorecard may shrink toward its cohort."""
        metric = self[name]
        if metric.kind is not Kind.RATIO or metric.spec.unit is not Unit.SHARE:
            return None
        numerator, denominator = metric.spec.numerator, metric.spec.denominator
        assert numerator is not None and denominator is not None
        if all(self[m].spec.unit is Unit.COUNT for m in (numerator, denominator)):
            return numerator, denominator
        return None


def builtin_raw() -> tuple[str, dict[str, dict[str, Any]]]:
    raw = tomllib.loads(BUILTIN_CATALOG.read_text(encoding="utf-8"))
    metrics: dict[str, dict[str, Any]] = dict(raw["metrics"])
    for path in sorted(BUILTIN_MEASURES.glob("*.toml")):
        more = tomllib.loads(path.read_text(encoding="utf-8")).get("metrics", {})
        twice = sorted(set(more) & set(metrics))
        if twice:
            raise ConfigError(
                str(path), [f"metrics.{n}: defined twice in the catalog" for n in twice]
            )
        metrics.update(more)
    return str(raw["version"]), metrics


def load_catalog(
    user: Mapping[str, Mapping[str, Any]] | None = None, *, where: str = "partnerscope.toml"
) -> Catalog:
    """The built-in catalog plus a workspace's ``[metrics]``; every problem in one ConfigError."""
    version, builtin = builtin_raw()
    user = dict(user or {})
    problems: list[str] = []
    raw: dict[str, tuple[dict[str, Any], bool]] = {n: (dict(s), True) for n, s in builtin.items()}
    for name, given in user.items():
        key = f"metrics.{name}"
        if not isinstance(given, Mapping):  # a TOML scalar where a table belongs
            problems.append(f"{key}: must be a table of settings")  # type: ignore[unreachable]
            continue
        if name in builtin:
            locked = sorted(set(given) - {"min_evidence"})
            if locked:
                problems.append(
                    f"{key}: {name} is a locked built-in definition; only min_evidence can be "
                    f"set for it (got {', '.join(locked)}); define your own metric under "
                    "another name"
                )
                continue
            raw[name] = ({**raw[name][0], **given}, True)
        else:
            raw[name] = (dict(given), False)
    specs: dict[str, tuple[MetricSpec, bool]] = {}
    for name, (spec_raw, is_builtin) in raw.items():
        key = f"metrics.{name}"
        try:
            specs[name] = (MetricSpec.model_validate(spec_raw), is_builtin)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                if err["type"] == "extra_forbidden":
                    hint = did_you_mean(str(err["loc"][-1]), MetricSpec.model_fields)
                    problems.append(f"{key}.{loc}: unknown key{hint}")
                else:
                    msg = err["msg"].removeprefix("Value error, ")
                    problems.append(f"{key}.{loc}: {msg} (got {err.get('input')!r})")
    metrics: dict[str, Metric] = {}
    for name, (spec, is_builtin) in specs.items():
        metric = _check(name, spec, is_builtin, set(raw), problems)
        if metric is not None:
            metrics[name] = metric
    ordered = _order(metrics, problems)
    if problems:
        raise ConfigError(
            str(BUILTIN_CATALOG) if all(n in builtin for n in _names(problems)) else where,
            problems,
        )
    digest = hashlib.sha256(
        json.dumps(
            {n: m.spec.model_dump(mode="json") for n, m in ordered.items()}, sort_keys=True
        ).encode()
    ).hexdigest()[:10]
    return Catalog(ordered, f"{version}+{digest}")


def _names(problems: list[str]) -> set[str]:
    return {p.split(":", 1)[0].split(".")[1] for p in problems if p.startswith("metrics.")}


def _check(
    name: str, spec: MetricSpec, builtin: bool, known: set[str], problems: list[str]
) -> Metric | None:
    key = f"metrics.{name}"
    given = [k for k in ("entity", "numerator", "formula") if getattr(spec, k) is not None]
    if len(given) != 1:
        problems.append(
            f"{key}: give exactly one of entity (an aggregate), numerator and denominator (a "
            f"ratio) or formula (got {', '.join(given) if given else 'none'})"
        )
        return None
    before = len(problems)
    if spec.evidence is not None and spec.evidence not in known:
        problems.append(
            f"{key}.evidence: no metric {spec.evidence!r}{did_you_mean(spec.evidence, known)}"
        )
    metric: Metric | None
    if spec.entity is not None:
        metric = _check_aggregate(name, spec, builtin, problems)
    elif spec.numerator is not None:
        metric = _check_ratio(name, spec, builtin, known, problems)
    else:
        metric = _check_formula(name, spec, builtin, known, problems)
    counted = (
        metric is not None
        and metric.kind is Kind.AGGREGATE
        and spec.agg
        in (
            Agg.MEAN,
            Agg.MEDIAN,
        )
    )
    if (
        metric is not None
        and spec.min_evidence is not None
        and metric.evidence_metric is None
        and not counted
    ):
        problems.append(
            f"{key}.min_evidence: say which metric is the evidence with evidence = "
            '"<metric>" (ratios use their denominator, means and medians their row count)'
        )
    return metric if len(problems) == before else None


def _check_aggregate(
    name: str, spec: MetricSpec, builtin: bool, problems: list[str]
) -> Metric | None:
    key = f"metrics.{name}"
    entity = ENTITIES.get(str(spec.entity))
    if entity is None:
        problems.append(
            f"{key}.entity: unknown entity {spec.entity!r}"
            f"{did_you_mean(str(spec.entity), ENTITIES)}; entities are {', '.join(ENTITIES)}"
        )
        return None
    if spec.agg is None:
        problems.append(f"{key}.agg: required for an aggregate; one of {', '.join(Agg)}")
        return None
    columns = entity.columns

    def column(field: str, *, time: bool = False, required: bool = True) -> None:
        value = getattr(spec, field)
        if value is None:
            if required:
                problems.append(f"{key}.{field}: required when when = {spec.when.value!r}")
            return
        if value not in columns:
            problems.append(
                f"{key}.{field}: {spec.entity} has no column {value!r}"
                f"{did_you_mean(value, columns)}"
            )
        elif time and columns[value] not in _TIME_TYPES:
            problems.append(f"{key}.{field}: {value} is not a date or timestamp column")

    match spec.when:
        case When.IN_PERIOD | When.TRAILING_12_MONTHS | When.FIRST_IN_PERIOD:
            column("time", time=True)
        case When.AT_PERIOD_END:
            column("start", time=True)
            column("end", time=True)
        case When.WITHIN_PERIOD:
            column("start", time=True)
            column("length")
        case When.ALWAYS:
            pass
    if spec.when is When.FIRST_IN_PERIOD and spec.agg is not Agg.COUNT_DISTINCT:
        problems.append(
            f"{key}.agg: when = 'first_in_period' counts distinct values; use count_distinct"
        )
    if spec.when in (When.WITHIN_PERIOD, When.ALWAYS) and spec.agg not in (Agg.SUM, Agg.COUNT):
        problems.append(f"{key}.agg: when = {spec.when.value!r} takes sum or count")
    if not entity.partner_scoped and spec.when is not When.ALWAYS:
        problems.append(
            f"{key}.when: {spec.entity} is not per partner; its metrics use when = 'always'"
        )
    if spec.agg is Agg.DIVERSITY:
        if spec.by is None:
            problems.append(
                f"{key}.by: agg = 'diversity' needs the column whose values share "
                'the measure (e.g. by = "family")'
            )
        else:
            column("by")
    elif spec.by is not None:
        problems.append(f"{key}.by: only used with agg = 'diversity'")
    if spec.agg is not Agg.COUNT and spec.measure is None:
        problems.append(f"{key}.measure: required for agg = {spec.agg.value!r}")
    parsed = {}
    for field in ("filter", "measure"):
        text = getattr(spec, field)
        if text is None:
            continue
        try:
            expr = parse(text)
        except ExpressionError as exc:
            problems.append(f"{key}.{field}: {exc}")
            continue
        for ref in expr.names:
            if ref not in columns and ref not in PARAMETERS:
                problems.append(
                    f"{key}.{field}: {spec.entity} has no column {ref!r}"
                    f"{did_you_mean(ref, [*columns, *PARAMETERS])}; see "
                    f"`partnerscope schema {spec.entity}`"
                )
        problems.extend(f"{key}.{field}: {p}" for p in _as_of_misuse(expr))
        parsed[field] = expr
    return Metric(
        name,
        spec,
        Kind.AGGREGATE,
        builtin,
        filter=parsed.get("filter"),
        measure=parsed.get("measure"),
        depends_on=(spec.evidence,) if spec.evidence else (),
    )


def _check_ratio(
    name: str, spec: MetricSpec, builtin: bool, known: set[str], problems: list[str]
) -> Metric | None:
    key = f"metrics.{name}"
    if spec.denominator is None:
        problems.append(f"{key}.denominator: a ratio needs a denominator metric")
        return None
    for field in ("numerator", "denominator"):
        value = getattr(spec, field)
        if value not in known:
            problems.append(
                f"{key}.{field}: {value!r} is not a metric{did_you_mean(value, known)}; a ratio "
                "divides one metric by another (write an expression as a formula)"
            )
    deps = [str(spec.numerator), spec.denominator]
    if spec.evidence:
        deps.append(spec.evidence)
    return Metric(name, spec, Kind.RATIO, builtin, depends_on=tuple(dict.fromkeys(deps)))


def _check_formula(
    name: str, spec: MetricSpec, builtin: bool, known: set[str], problems: list[str]
) -> Metric | None:
    key = f"metrics.{name}.formula"
    try:
        expr = parse(str(spec.formula), formula=True)
    except ExpressionError as exc:
        problems.append(f"{key}: {exc}")
        return None
    for ref in expr.names:
        if ref not in known and ref not in PARAMETERS:
            problems.append(
                f"{key}: {ref!r} is not a metric{did_you_mean(ref, [*known, *PARAMETERS])}"
            )
    if "as_of" in expr.names:
        problems.append(f"{key}: as_of is for filters (elapsed time since a column)")
    for function in ("prior_year", "company"):
        for call in expr.calls(function):
            arg = call.expressions[0]
            if not isinstance(arg, exp.Column):
                problems.append(f"{key}: {function}() takes a metric name, not an expression")
    for call in expr.calls("weighted_mean"):
        if not all(isinstance(a, exp.Column) for a in call.expressions):
            problems.append(f"{key}: weighted_mean() takes two metric names")
    deps = [r for r in expr.names if r in known]
    if spec.evidence:
        deps.append(spec.evidence)
    group_only = bool(set(expr.functions) & {"partners_where", "weighted_mean"})
    return Metric(
        name,
        spec,
        Kind.FORMULA,
        builtin,
        formula=expr,
        depends_on=tuple(dict.fromkeys(deps)),
        group_only=group_only,
    )


def _as_of_misuse(expr: Expression) -> list[str]:
    """as_of may only appear as ``hours_between(<column>, as_of)`` or ``days_between`` compared
    with ``>=`` or ``>`` to a bound: then a later as-of only adds rows, which keeps runs
    incremental."""
    problems = []
    for column in expr.tree.find_all(exp.Column):
        if column.name != "as_of":
            continue
        call = column.parent
        comparison = call.parent if call is not None else None
        ok = (
            isinstance(call, exp.Anonymous)
            and str(call.this).lower() in ("hours_between", "days_between")
            and call.expressions[1] is column
            and isinstance(comparison, exp.GT | exp.GTE)
            and comparison.this is call
        )
        if not ok:
            problems.append(
                "as_of may only be used as hours_between(<column>, as_of) >= <hours> (or "
                "days_between, or >): the time elapsed since a column"
            )
    return problems


def _as_of_horizons(expr: Expression, params: Mapping[str, Any]) -> list[float]:
    hours = []
    for column in expr.tree.find_all(exp.Column):
        if column.name != "as_of":
            continue
        call = column.parent
        assert isinstance(call, exp.Anonymous) and call.parent is not None
        bound = _constant(call.parent.expression, params)
        per = 24.0 if str(call.this).lower() == "days_between" else 1.0
        hours.append(float("inf") if bound is None else bound * per)
    return hours


def _constant(node: exp.Expression, params: Mapping[str, Any]) -> float | None:
    """The value of a bound made of numbers and numeric parameters (None: not constant)."""
    if isinstance(node, exp.Paren):
        return _constant(node.this, params)
    if isinstance(node, exp.Literal) and not node.is_string:
        return float(node.this)
    if isinstance(node, exp.Column) and isinstance(params.get(node.name), int | float):
        return float(params[node.name])
    if isinstance(node, exp.Mul | exp.Add | exp.Sub | exp.Div):
        a, b = _constant(node.this, params), _constant(node.expression, params)
        if a is None or b is None or (isinstance(node, exp.Div) and b == 0):
            return None
        ops = {exp.Mul: a * b, exp.Add: a + b, exp.Sub: a - b}
        return ops.get(type(node), a / b if b else 0.0)
    return None


def _order(metrics: dict[str, Metric], problems: list[str]) -> dict[str, Metric]:
    """Metrics in dependency order; a cycle is reported at each metric on it."""
    ordered: dict[str, Metric] = {}
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done" or name not in metrics:
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            problems.append(
                f"metrics.{name}: a cycle between derived metrics: {' → '.join(cycle)}; "
                "a metric cannot be computed from itself"
            )
            return
        state[name] = "visiting"
        for dep in metrics[name].depends_on:
            visit(dep, [*path, name])
        state[name] = "done"
        ordered[name] = metrics[name]

    for name in metrics:
        visit(name, [])
    # a metric computed from one that only groups have is only defined for groups too
    for name, metric in list(ordered.items()):
        if not metric.group_only and any(
            ordered[d].group_only for d in metric.depends_on if d in ordered
        ):
            ordered[name] = Metric(**{**metric.__dict__, "group_only": True})
    return ordered
