"""Aggregates computed from the rows for every grain, period and group.

Medians and distinct counts cannot be summed from monthly parts (the median of a quarter is not
a sum of monthly medians; an account covered by two partners is one covered account), and rows
that span a period (a quarterly quota) belong to periods, not months. Each is one query per level
over its entity, its rows placed in periods and in the groups of their partner; the engine runs
them one at a time, so that a median over tens of millions of leads needs the memory of one.
An entity of at most :data:`ONE_QUERY_ROWS` rows has every grain in the same query: there the
time goes into compiling the queries, not into running them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnerscope.metrics.calendar import add_months
from partnerscope.metrics.definition import Agg, Catalog, When
from partnerscope.metrics.expressions import divide
from partnerscope.metrics.parts import Context, row_filter, row_measure

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Group keys that are partner attributes, the same in every period.
STATIC_KEYS = ("partner_type", "region", "program_tier")
#: Months of each value of a `length` column (within_period).
SPANS = {"month": 1, "quarter": 3, "year": 12}
#: Entities of at most this many rows have their medians and distinct counts of every grain in
#: one query (each row then held once per grain: three times the memory of one grain). A run of
#: a small workspace compiles a third of the queries, 40 % less of its computation; larger
#: entities keep one grain per query.
ONE_QUERY_ROWS = 1_000_000


def holistic_queries(
    ctx: Context,
    catalog: Catalog,
    names: list[str],
    grains: list[str],
    month_map: ir.Table,
    periods: ir.Table,
    memberships: ir.Table,
    attributes: ir.Table,
    level_keys: dict[str, str | None],
    since: date | None,
    earliest: date | None = None,
    fused: Collection[str] = (),
    small: Collection[str] = (),
) -> list[ir.Table]:
    """Queries of level × group_key × grain × period_start with ``<metric>`` columns (and
    ``<metric>__n`` where it :attr:`~Metric.counts_rows`), one per grain, metric and level (a
    median keeps all of its values in memory: one grain at a time keeps that to one pass over
    the rows); for the metrics of the ``small`` entities (:func:`small_entities`), one per
    metric and level for every grain.

    ``memberships`` gives each partner's group keys per (grain, period_start) and
    ``attributes`` those that do not change (partner_id and :data:`STATIC_KEYS`); ``level_keys``
    maps each level to its key column (None: one group of everyone). With ``since``,
    only periods whose last month is from it on are computed; ``earliest`` is the first month
    those periods read, which lets the engine skip older rows.
    """
    import ibis

    if since is not None:
        month_map = month_map.filter(month_map.last_month >= ibis.literal(since))
        periods = periods.filter(periods.last_month >= ibis.literal(since))
    together = [n for n in names if str(catalog[n].entity) in small]
    apart = [n for n in names if n not in together]

    def queries(
        chosen: list[str], months: ir.BooleanValue, ends: ir.BooleanValue
    ) -> list[ir.Table]:
        return _queries(
            ctx,
            catalog,
            chosen,
            month_map.filter(months),
            periods.filter(ends),
            memberships,
            attributes,
            level_keys,
            earliest,
            fused,
        )

    out = queries(together, month_map.grain.isin(grains), periods.grain.isin(grains))
    for grain in grains:
        out += queries(apart, month_map.grain == grain, periods.grain == grain)
    return out


def small_entities(
    ctx: Context, catalog: Catalog, names: list[str], count: Callable[[ir.Table], int]
) -> set[str]:
    """The entities of the holistic metrics among ``names`` with at most
    :data:`ONE_QUERY_ROWS` rows (``count`` runs a row count on the engine)."""
    entities = {str(catalog[n].entity) for n in names if catalog[n].holistic}
    return {e for e in entities if count(ctx.entity(e)) <= ONE_QUERY_ROWS}


def _queries(
    ctx: Context,
    catalog: Catalog,
    names: list[str],
    month_map: ir.Table,
    periods: ir.Table,
    memberships: ir.Table,
    attributes: ir.Table,
    level_keys: dict[str, str | None],
    earliest: date | None,
    fused: Collection[str],
) -> list[ir.Table]:
    import ibis

    pieces = []
    for name in names:
        metric = catalog[name]
        if not metric.holistic:
            continue
        spec = metric.spec
        table = ctx.entity(str(metric.entity))
        if earliest is not None and spec.when not in (When.AT_PERIOD_END, When.WITHIN_PERIOD):
            months_back = 11 if spec.when is When.TRAILING_12_MONTHS else 0
            first = add_months(earliest, -months_back) - timedelta(days=2)  # time-zone margin
            table = table.filter(table[str(spec.time)] >= ibis.literal(first))
        measure = row_measure(ctx, metric, table) if metric.measure is not None else ibis.literal(1)
        # a diversity carries the column whose values share the measure (rows without one are
        # left out)
        diverse = spec.agg is Agg.DIVERSITY
        by = {"__by": table[str(spec.by)]} if diverse else {}
        rows = table.mutate(__keep=row_filter(ctx, metric, table), __value=measure, **by)
        keep = [rows.__keep, rows.__value.notnull()]
        rows = rows.filter(*keep, rows.__by.notnull()) if diverse else rows.filter(*keep)
        distinct = spec.agg is Agg.COUNT_DISTINCT
        carried = ["partner_id", "__value", *by]
        placed: ir.Table
        match spec.when:
            case When.IN_PERIOD:
                rows = rows.select(*carried, month=ctx.month(rows[str(spec.time)]))
                placed = rows.join(month_map, "month").select(*carried, "grain", "period_start")
            case When.AT_PERIOD_END:
                rows = rows.select(
                    *carried,
                    __in=ctx.month(rows[str(spec.start)]),
                    __out=ctx.month(rows[str(spec.end)]),
                )
                rows = rows.distinct() if distinct else rows
                placed = rows.join(
                    periods,
                    (rows.__in <= periods.last_month)
                    & (rows.__out.isnull() | (rows.__out > periods.last_month)),
                ).select(*carried, "grain", "period_start")
            case When.TRAILING_12_MONTHS:
                rows = rows.select(*carried, month=ctx.month(rows[str(spec.time)]))
                rows = rows.distinct() if distinct else rows
                placed = rows.join(
                    periods,
                    (rows.month <= periods.last_month)
                    & (rows.month > periods.last_month - ibis.interval(months=12)),
                ).select(*carried, "grain", "period_start")
            case When.WITHIN_PERIOD:
                # a row counts for every period that contains its whole span, whether or not the
                # period has reached the span yet (a year in progress has its later quarters')
                start = ctx.month(rows[str(spec.start)])
                length = rows[str(spec.length)]
                ends = [(length == g, start + ibis.interval(months=k)) for g, k in SPANS.items()]
                rows = rows.select(
                    "partner_id", "__value", __start=start, __end=ibis.cases(*ends).cast("date")
                )
                placed = rows.join(
                    periods,
                    (rows.__start >= periods.period_start) & (rows.__end <= periods.period_end),
                ).select("partner_id", "__value", "grain", "period_start")
            case _:
                raise AssertionError(f"{name}: {spec.when} is not holistic")
        levels = []
        for level, key in level_keys.items():
            if level == "partner" and name in fused:
                continue  # computed with the monthly parts
            # join only what the level needs: the attribute table for static keys, the
            # per-period memberships for the revenue band (a join of every row costs)
            if key in STATIC_KEYS:
                keyed = placed.left_join(attributes, "partner_id")
            elif key is not None and key != "partner_id":
                keyed = placed.left_join(memberships, ["partner_id", "grain", "period_start"])
            else:
                keyed = placed
            group = keyed if level == "company" else keyed.filter(keyed.partner_id.notnull())
            group_key = group[key].cast("string") if key else ibis.literal("all")
            group = group.filter(group_key.notnull()) if key else group
            if diverse:
                levels.append(_diversity(group, level, group_key, name))
                continue
            if spec.agg is Agg.SUM:
                value = group.__value.sum()
            elif spec.agg is Agg.COUNT:
                value = group.__value.count()
            else:
                value = group.__value.nunique() if distinct else group.__value.median()
            # the row count only where it is the evidence (a count costs a tenth of a median)
            count = {f"{name}__n": group.__value.count()} if metric.counts_rows else {}
            levels.append(
                group.group_by(
                    level=ibis.literal(level),
                    group_key=group_key,
                    grain=group.grain,
                    period_start=group.period_start,
                ).aggregate(**{name: value.cast("float64")}, **count)
            )
        if spec.agg is Agg.MEDIAN or len(levels) < 2:
            pieces += levels  # a median holds every value: one level at a time
        else:
            pieces.append(ibis.union(*levels))  # one query: each costs planning time
    return pieces


def _diversity(group: ir.Table, level: str, group_key: ir.Value, name: str) -> ir.Table:
    """1 − Σ s² per group and period, s each ``__by`` value's share of the group's Σ
    ``__value``: the sums per value and their squares are exact decimals (each square from its
    double, 4 decimals), so the result does not depend on the order rows arrive in."""
    import ibis

    keys = ("level", "group_key", "grain", "period_start")
    shares = group.group_by(
        level=ibis.literal(level),
        group_key=group_key,
        grain=group.grain,
        period_start=group.period_start,
        __by=group.__by,
    ).aggregate(__sum=group.__value.sum())
    each = shares.__sum.cast("float64")
    shares = shares.mutate(__square=(each * each).cast("decimal(38, 4)"))
    totals = shares.group_by(*keys).aggregate(
        __total=shares.__sum.sum(), __squares=shares.__square.sum()
    )
    total = totals.__total.cast("float64")
    value = 1 - divide(totals.__squares, total * total)
    return totals.select(*keys, **{name: value.cast("float64")})


def combine(pieces: list[ir.Table]) -> ir.Table:
    """One row per level, group and period with every metric's column."""
    import ibis

    keys = ["level", "group_key", "grain", "period_start"]
    columns = {c: t for piece in pieces for c, t in piece.schema().items() if c not in keys}
    aligned = [
        piece.select(
            *keys,
            **{
                c: piece[c] if c in piece.columns else ibis.null().cast(t)
                for c, t in columns.items()
            },
        )
        for piece in pieces
    ]
    if len(aligned) == 1:
        return aligned[0]
    union = ibis.union(*aligned)
    return union.group_by(*keys).aggregate(**{c: union[c].max() for c in columns})
