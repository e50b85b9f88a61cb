"""Aggregates compiled to additive monthly parts, and the holistic ones computed from rows.

Most aggregates are sums and counts: they are computed once per partner × fiscal month (direct
deals under a null partner) and every period and group is a sum of those parts, so ratios are
recomputed from summed parts and a run after new data only recomputes the months it touched.
Medians, distinct counts and rows spanning periods cannot be summed from months:
:mod:`partnerscope.metrics.holistic` computes them from the rows
at every grain and group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from partnerscope.metrics.calendar import Grain
from partnerscope.metrics.definition import Agg, Catalog, Kind, Metric, When
from partnerscope.metrics.dialects import Dialect
from partnerscope.metrics.entities import ENTITIES
from partnerscope.metrics.expressions import to_ibis
from partnerscope.schema import ColumnType

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: How the months of a period combine: summed (flow), the value at the period's last month after
#: a running total (stock) or a 12-month window (trailing), or the same in every period
#: (static).
Combine = Literal["flow", "stock", "trailing", "static"]

MONEY = "decimal(38, 2)"
#: Other sums are exact too (to 1e-9): a float sum depends on the order rows arrive in, which
#: varies between parallel runs, and the same inputs must give the same results.
EXACT = "decimal(38, 9)"


@dataclass(frozen=True)
class Component:
    """One column of the monthly parts table after the running windows."""

    name: str
    metric: str
    combine: Combine
    dtype: str


@dataclass
class Context:
    """What compiling needs: the tables, the engine's dialect and the run's parameters."""

    tables: Callable[[str], ir.Table]
    dialect: Dialect
    timezone: str
    params: dict[str, Any]
    as_of: datetime
    #: The finest grain asked for: parts are summed per partner and period of it.
    base: Grain = Grain.MONTH
    fiscal_year_start_month: int = 1
    _built: dict[str, ir.Table] = field(default_factory=dict)

    def entity(self, name: str) -> ir.Table:
        if name not in self._built:
            self._built[name] = ENTITIES[name].build(self.tables)
        return self._built[name]

    def month(self, value: Any) -> ir.DateValue:
        """The start of the base period (a fiscal month, or a coarser period when only
        coarser grains are asked for) that a date or timestamp falls in, as a date."""
        local = self.dialect.local(value, self.timezone)
        k = self.base.months
        if k == 1 or (self.fiscal_year_start_month - 1) % k == 0:
            # fiscal periods that coincide with calendar ones: the engine's own truncation
            start = local.truncate({1: "M", 3: "Q", 12: "Y"}[k])
        else:
            month = local.truncate("M")
            offset = ((month.month() - self.fiscal_year_start_month) % k + k) % k
            start = month - offset.as_interval("M")
        # through timestamp: Ibis takes a truncated date for a date and would leave the cast
        # out, but DuckDB's date_trunc and date arithmetic return timestamps
        bucket: ir.DateValue = start.cast("timestamp").cast("date")
        return bucket

    def resolver(self, table: ir.Table) -> Callable[[str], Any]:
        import ibis

        def resolve(name: str) -> Any:
            if name in table.columns:
                return table[name]
            value = self.params.get(name)
            if value is None:
                return ibis.null().cast("float64")
            return ibis.literal(value)

        return resolve


def row_filter(ctx: Context, metric: Metric, table: ir.Table) -> Any:
    import ibis

    if metric.filter is None:
        return ibis.literal(True)
    return to_ibis(metric.filter.tree, ctx.resolver(table)).fill_null(False)


def row_measure(ctx: Context, metric: Metric, table: ir.Table) -> Any:
    assert metric.measure is not None
    return to_ibis(metric.measure.tree, ctx.resolver(table))


def _is_money(metric: Metric) -> bool:
    if metric.measure is None:
        return False
    names = metric.measure.names
    columns = ENTITIES[str(metric.entity)].columns
    return (
        len(names) == 1
        and metric.measure.text.strip() == names[0]
        and columns.get(names[0]) is ColumnType.MONEY
    )


def _bases(metric: Metric) -> list[tuple[str, str]]:
    """(suffix, type) of the sums a metric is made of."""
    agg = metric.spec.agg
    if agg is Agg.COUNT or (agg is Agg.COUNT_DISTINCT and metric.spec.when is When.FIRST_IN_PERIOD):
        return [("", "int64")]
    if agg is Agg.MEAN:
        return [("__sum", EXACT), ("__n", "int64")]
    assert agg is Agg.SUM
    value = ("", MONEY if _is_money(metric) else EXACT)
    return [value, ("__n", "int64")] if metric.spec.empty == "null" else [value]


def components(catalog: Catalog, names: list[str]) -> list[Component]:
    """The monthly parts the named aggregates need (holistic aggregates have none)."""
    out: list[Component] = []
    for name in names:
        metric = catalog[name]
        if metric.kind is not Kind.AGGREGATE or metric.holistic:
            continue
        combines: dict[When, Combine] = {
            When.IN_PERIOD: "flow",
            When.FIRST_IN_PERIOD: "flow",
            When.AT_PERIOD_END: "stock",
            When.TRAILING_12_MONTHS: "trailing",
            When.ALWAYS: "static",
        }
        combine = combines[metric.spec.when]
        out += [Component(f"{name}{s}", name, combine, dtype) for s, dtype in _bases(metric)]
    return out


def raw_columns(comps: list[Component]) -> dict[str, str]:
    """Columns of the stored monthly parts: a stock is kept as what entered and what left."""
    out: dict[str, str] = {}
    for c in comps:
        if c.combine == "stock":
            out[f"{c.name}__in"] = c.dtype
            out[f"{c.name}__out"] = c.dtype
        elif c.combine != "static":
            out[c.name] = c.dtype
    return out


def monthly_parts(
    ctx: Context,
    catalog: Catalog,
    names: list[str],
    since: date | None,
    fused: Sequence[str] = (),
    *,
    partners_only: bool = False,
) -> ir.Table | None:
    """partner_id × month × raw part columns for months from ``since`` (all months if None).

    ``fused`` names in-period medians and distinct counts to compute per partner in the same
    scans (``<name>`` columns, and ``<name>__n`` where it :attr:`~Metric.counts_rows`): when
    the base period is the only grain, a partner's value for it is a group of these scans, and
    the rows are read once.
    ``partners_only`` leaves direct deals out (when no company level is asked for).
    """
    import ibis

    comps = components(catalog, names)
    columns = raw_columns(comps)
    counted = [name for name in fused if catalog[name].counts_rows]
    columns |= dict.fromkeys(fused, "float64") | dict.fromkeys(
        (f"{name}__n" for name in counted), "int64"
    )
    if not columns:
        return None
    scans: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    pieces: list[ir.Table] = []

    def add(entity: str, time: str, column: str, build: Callable[[ir.Table], Any]) -> None:
        scans.setdefault((entity, time), []).append((column, build))

    for name in dict.fromkeys(c.metric for c in comps if c.combine != "static"):
        metric = catalog[name]
        spec = metric.spec
        entity = str(metric.entity)
        if spec.when is When.FIRST_IN_PERIOD:
            pieces.append(_first_in_period(ctx, metric, since))
            continue
        for suffix, dtype in _bases(metric):
            build = _base_builder(ctx, metric, suffix, dtype)
            match spec.when:
                case When.IN_PERIOD | When.TRAILING_12_MONTHS:
                    add(entity, str(spec.time), f"{name}{suffix}", build)
                case When.AT_PERIOD_END:
                    add(entity, str(spec.start), f"{name}{suffix}__in", build)
                    add(entity, str(spec.end), f"{name}{suffix}__out", build)
    for name in fused:
        metric = catalog[name]
        key = (str(metric.entity), str(metric.spec.time))
        add(*key, name, _holistic_builder(ctx, metric))
        if name in counted:
            add(*key, f"{name}__n", _holistic_builder(ctx, metric, count=True))
    # one scan per entity and dating column computes all its parts; rows without that date
    # fall in no period (left out by the scan: a null test on the stored column is cheaper
    # than one on the month computed from it, a fifth of the closed deals' scan)
    for (entity, time), cols in scans.items():
        table = ctx.entity(entity)
        keep = [table[time].notnull()]
        if partners_only:
            keep.append(table.partner_id.notnull())
        if since is not None:
            # the raw filter lets the engine skip old row groups (a day's margin for the time
            # zone); the month filter is exact
            margin = timedelta(days=2)
            keep += [
                table[time] >= ibis.literal(since - margin),
                ctx.month(table[time]) >= ibis.literal(since),
            ]
        table = table.filter(*keep)
        grouped = _scan(
            table,
            {"partner_id": table.partner_id, "month": ctx.month(table[time])},
            {column: build(table) for column, build in cols},
        )
        pieces.append(grouped)
    return _union_sum(pieces, columns)


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of a scan: ``how`` over ``measure`` for the rows where ``where`` holds."""

    how: Literal["count", "count_value", "sum", "median", "nunique"]
    measure: Any
    where: Any
    dtype: str


def _base_builder(
    ctx: Context, metric: Metric, suffix: str, dtype: str
) -> Callable[[ir.Table], Aggregate]:
    def build(table: ir.Table) -> Aggregate:
        where = row_filter(ctx, metric, table)
        if metric.spec.agg is Agg.COUNT:
            return Aggregate("count", None, where, dtype)
        value = row_measure(ctx, metric, table)
        if suffix == "__n":
            return Aggregate("count_value", value, where, dtype)
        # a money column is summed as stored: exact already, and the engine widens the sum
        # (casting every row to 38 digits first costs a tenth of the scan)
        return Aggregate("sum", value if dtype == MONEY else value.cast(dtype), where, dtype)

    return build


def _holistic_builder(
    ctx: Context, metric: Metric, *, count: bool = False
) -> Callable[[ir.Table], Aggregate]:
    def build(table: ir.Table) -> Aggregate:
        value = row_measure(ctx, metric, table)
        where = row_filter(ctx, metric, table)
        if count:
            return Aggregate("count_value", value, where, "int64")
        how: Literal["median", "nunique"] = "median" if metric.spec.agg is Agg.MEDIAN else "nunique"
        return Aggregate(how, value, where, "float64")

    return build


def _scan(table: ir.Table, keys: dict[str, Any], aggregates: dict[str, Aggregate]) -> ir.Table:
    """Group ``table`` by ``keys`` into the aggregates. Each distinct row expression (a filter, a
    measure) becomes one column first, so the engine computes it once per row however many
    aggregates share it."""
    derived: dict[Any, str] = {}

    def column(expr: Any) -> str:
        node = expr.op()
        if node not in derived:
            derived[node] = f"__e{len(derived)}"
        return derived[node]

    plan = {
        name: (
            a,
            None if a.measure is None else column(a.measure),
            None if _always(a.where) else column(a.where),
        )
        for name, a in aggregates.items()
    }
    columns = {**keys, **{name: node.to_expr() for node, name in derived.items()}}
    rows = table.select(**columns) if columns else table  # a bare count selects nothing
    aggs: dict[str, Any] = {}
    for name, (a, measure, where) in plan.items():
        cond = None if where is None else rows[where]
        match a.how:
            case "count":
                value = rows.count(where=cond)
            case "count_value":
                value = rows[measure].count(where=cond)
            case "sum":
                value = rows[measure].sum(where=cond)
            case "median":
                value = rows[measure].median(where=cond).cast("float64")
            case "nunique":
                value = rows[measure].nunique(where=cond).cast("float64")
        aggs[name] = value
    return rows.group_by(*keys).aggregate(**aggs) if keys else rows.aggregate(**aggs)


def _always(where: Any) -> bool:
    import ibis.expr.operations as ops

    node = where.op()
    return isinstance(node, ops.Literal) and node.value is True


def _first_in_period(ctx: Context, metric: Metric, since: date | None) -> ir.Table:
    """Count of (partner, value) pairs whose first qualifying row falls in each month."""
    import ibis

    table = ctx.entity(str(metric.entity))
    rows = table.mutate(
        __keep=row_filter(ctx, metric, table),
        __value=row_measure(ctx, metric, table),
        __time=table[str(metric.spec.time)],
    )
    rows = rows.filter(rows.__keep, rows.__value.notnull(), rows.__time.notnull())
    firsts = rows.group_by("partner_id", "__value").aggregate(__first=rows.__time.min())
    firsts = firsts.mutate(month=ctx.month(firsts.__first))
    if since is not None:
        firsts = firsts.filter(firsts.month >= ibis.literal(since))
    return firsts.group_by("partner_id", "month").aggregate(**{metric.name: firsts.count()})


def _union_sum(
    pieces: list[ir.Table], columns: dict[str, str], keys: tuple[str, ...] = ("partner_id", "month")
) -> ir.Table:
    """Stack pieces that each have some of the columns and sum them per key."""
    import ibis

    types = {"partner_id": "string", "month": "date"}
    aligned = [
        piece.select(
            **{k: piece[k].cast(types[k]) for k in keys},
            **{
                c: piece[c].cast(t) if c in piece.columns else ibis.null().cast(t)
                for c, t in columns.items()
            },
        )
        for piece in pieces
    ]
    if len(aligned) == 1:
        return aligned[0]  # already one row per key
    union = ibis.union(*aligned)
    return union.group_by(*keys).aggregate(
        **{c: union[c].sum().cast(t) for c, t in columns.items()}
    )


def static_values(
    ctx: Context, catalog: Catalog, names: list[str]
) -> tuple[ir.Table | None, dict[str, ir.Table]]:
    """Undated aggregates: one table per partner, and one-row tables for the company."""
    per_partner: list[ir.Table] = []
    columns: dict[str, str] = {}
    company: dict[str, ir.Table] = {}
    for comp in components(catalog, names):
        if comp.combine != "static":
            continue
        metric = catalog[comp.metric]
        table = ctx.entity(str(metric.entity))
        aggregate = {
            comp.name: _base_builder(ctx, metric, comp.name[len(metric.name) :], comp.dtype)(table)
        }
        if ENTITIES[str(metric.entity)].partner_scoped:
            per_partner.append(_scan(table, {"partner_id": table.partner_id}, aggregate))
            columns[comp.name] = comp.dtype
        else:
            company[comp.name] = _scan(table, {}, aggregate)
    if not per_partner:
        return None, company
    return _union_sum(per_partner, columns, keys=("partner_id",)), company
