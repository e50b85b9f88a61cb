"""Medians and distinct counts: computed from the rows for every grain, period and group.

They cannot be summed from monthly parts (the median of a quarter is not a sum of monthly
medians; an account covered by two partners is one covered account), so each is one query over
its entity, its rows placed in periods and in the groups of their partner.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnerscope.metrics.calendar import add_months
from partnerscope.metrics.definition import Agg, Catalog, When
from partnerscope.metrics.parts import Context, _filter, _measure

if TYPE_CHECKING:
    import ibis.expr.types as ir


def holistic_values(
    ctx: Context,
    catalog: Catalog,
    names: list[str],
    month_map: ir.Table,
    periods: ir.Table,
    memberships: ir.Table,
    level_keys: dict[str, str | None],
    since: date | None,
    earliest: date | None = None,
) -> ir.Table | None:
    """level × group_key × grain × period_start with ``<metric>`` and ``<metric>__n`` columns.

    ``memberships`` gives each partner's group keys per (grain, period_start); ``level_keys``
    maps each level to its key column there (None: one group of everyone). With ``since``,
    only periods whose last month is from it on are computed; ``earliest`` is the first month
    those periods read, which lets the engine skip older rows.
    """
    import ibis

    if since is not None:
        month_map = month_map.filter(month_map.last_month >= ibis.literal(since))
        periods = periods.filter(periods.last_month >= ibis.literal(since))
    pieces = []
    for name in names:
        metric = catalog[name]
        if not metric.holistic:
            continue
        spec = metric.spec
        table = ctx.entity(str(metric.entity))
        if earliest is not None and spec.when is not When.AT_PERIOD_END:
            months_back = 11 if spec.when is When.TRAILING_12_MONTHS else 0
            first = add_months(earliest, -months_back) - timedelta(days=2)  # time-zone margin
            table = table.filter(table[str(spec.time)] >= ibis.literal(first))
        rows = table.mutate(
            __keep=_filter(ctx, metric, table), __value=_measure(ctx, metric, table)
        )
        rows = rows.filter(rows.__keep, rows.__value.notnull())
        distinct = spec.agg is Agg.COUNT_DISTINCT
        placed: ir.Table
        match spec.when:
            case When.IN_PERIOD:
                rows = rows.select("partner_id", "__value", month=ctx.month(rows[str(spec.time)]))
                placed = rows.join(month_map, "month").select(
                    "partner_id", "__value", "grain", "period_start"
                )
            case When.AT_PERIOD_END:
                rows = rows.select(
                    "partner_id",
                    "__value",
                    __in=ctx.month(rows[str(spec.start)]),
                    __out=ctx.month(rows[str(spec.end)]),
                )
                rows = rows.distinct() if distinct else rows
                placed = rows.join(
                    periods,
                    (rows.__in <= periods.last_month)
                    & (rows.__out.isnull() | (rows.__out > periods.last_month)),
                ).select("partner_id", "__value", "grain", "period_start")
            case When.TRAILING_12_MONTHS:
                rows = rows.select("partner_id", "__value", month=ctx.month(rows[str(spec.time)]))
                rows = rows.distinct() if distinct else rows
                placed = rows.join(
                    periods,
                    (rows.month <= periods.last_month)
                    & (rows.month > periods.last_month - ibis.interval(months=12)),
                ).select("partner_id", "__value", "grain", "period_start")
            case _:
                raise AssertionError(f"{name}: {spec.when} is not holistic")
        grouped = any(key not in (None, "partner_id") for key in level_keys.values())
        keyed = (
            placed.left_join(memberships, ["partner_id", "grain", "period_start"])
            if grouped
            else placed
        )
        for level, key in level_keys.items():
            group = keyed if level == "company" else keyed.filter(keyed.partner_id.notnull())
            group_key = group[key].cast("string") if key else ibis.literal("all")
            group = group.filter(group_key.notnull()) if key else group
            value = group.__value.nunique() if distinct else group.__value.median()
            pieces.append(
                (
                    name,
                    group.group_by(
                        level=ibis.literal(level),
                        group_key=group_key,
                        grain=group.grain,
                        period_start=group.period_start,
                    ).aggregate(
                        **{name: value.cast("float64"), f"{name}__n": group.__value.count()}
                    ),
                )
            )
    if not pieces:
        return None
    keys = ["level", "group_key", "grain", "period_start"]
    columns = {c: t for _, piece in pieces for c, t in piece.schema().items() if c not in keys}
    aligned = [
        piece.select(
            *keys,
            **{
                c: piece[c] if c in piece.columns else ibis.null().cast(t)
                for c, t in columns.items()
            },
        )
        for _, piece in pieces
    ]
    if len(aligned) == 1:
        return aligned[0]
    union = ibis.union(*aligned)
    return union.group_by(*keys).aggregate(**{c: union[c].max() for c in columns})
