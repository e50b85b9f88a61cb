"""From monthly parts to metric values for every level, grain and period.

Parts are summed into periods and groups first; only then are aggregates, ratios and formulas
computed, so every ratio of a group is recomputed from its summed parts and never averaged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from partnerscope.metrics.definition import Agg, Catalog, Kind, Metric, When
from partnerscope.metrics.expressions import divide, to_ibis
from partnerscope.metrics.parts import Component

if TYPE_CHECKING:
    import ibis.expr.types as ir

KEYS = ("level", "group_key", "grain", "period_start")
#: The columns of a results row that say which row it is (every metric's column follows them).
ROW_KEYS = (*KEYS, "period_end", "label", "complete")
#: Each level's key in the partner memberships (None: one group of all partners).
LEVELS: dict[str, str | None] = {
    "partner": "partner_id",
    "partner_type": "partner_type",
    "region": "region",
    "program_tier": "program_tier",
    "revenue_band": "revenue_band",
    "portfolio": None,
    "company": None,
}
GROUP_LEVELS = tuple(level for level in LEVELS if level != "partner")

Materialize = Callable[[str, "ir.Table"], "ir.Table"]


def monthly_values(
    parts: ir.Table,
    partner_ids: ir.Table,
    months: ir.Table,
    comps: list[Component],
    band_source: str | None,
    per_year: int = 12,
) -> ir.Table:
    """The dense partner × month grid with stocks as running totals and 12-month windows
    (``per_year`` rows when the grid's "months" are coarser periods)."""
    import ibis

    grid = partner_ids.cross_join(months)
    # direct deals sit under a null partner: match it null-safely, with plain equalities that
    # every engine can hash (PostgreSQL cannot hash IS NOT DISTINCT FROM and joined each month's
    # rows pairwise: minutes at 2,000 partners, hours at 20,000)
    joined = grid.left_join(
        parts,
        [
            grid.partner_id.fill_null("") == parts.partner_id.fill_null(""),
            grid.partner_id.isnull() == parts.partner_id.isnull(),
            grid.month == parts.month,
        ],
    ).select("partner_id", "month", *[c for c in parts.columns if c not in ("partner_id", "month")])
    running = ibis.cumulative_window(group_by="partner_id", order_by="month")
    trailing = ibis.window(
        preceding=per_year - 1, following=0, group_by="partner_id", order_by="month"
    )
    values: dict[str, Any] = {}
    for comp in comps:
        match comp.combine:
            case "stock":
                # the running total of the net flow: one window, not one per direction
                inflow, outflow = (joined[f"{comp.name}__{d}"].fill_null(0) for d in ("in", "out"))
                values[comp.name] = (inflow - outflow).sum().over(running).cast(comp.dtype)
            case "trailing":
                values[comp.name] = (
                    joined[comp.name].fill_null(0).sum().over(trailing).cast(comp.dtype)
                )
            case "flow":
                values[comp.name] = joined[comp.name].fill_null(0)
    if band_source is not None:
        values["__band_revenue"] = joined[band_source].fill_null(0).sum().over(trailing)
    return joined.select("partner_id", "month", **values)


def partner_periods(
    monthly: ir.Table,
    month_map: ir.Table,
    comps: list[Component],
    partners: ir.Table,
    static: ir.Table | None,
    bands: list[float],
    band_labels: list[str],
    single_grain: str | None = None,
) -> ir.Table:
    """partner × grain × period: parts combined over the period's months, with group keys.
    ``single_grain``: the parts are per period of that grain already (see ``Context.base``)."""
    import ibis

    if single_grain is not None:
        # the parts are already per period of the one grain asked for: nothing to combine
        kept = [c.name for c in comps if c.combine != "static"]
        if "__band_revenue" in monthly.columns:
            kept.append("__band_revenue")
        table = monthly.select(
            "partner_id", *kept, grain=ibis.literal(single_grain), period_start=monthly.month
        )
    else:
        rows = monthly.join(month_map, "month")
        last = rows.month == rows.last_month
        aggs: dict[str, Any] = {}
        for comp in comps:
            if comp.combine == "flow":
                aggs[comp.name] = rows[comp.name].sum().cast(comp.dtype)
            elif comp.combine in ("stock", "trailing"):
                aggs[comp.name] = rows[comp.name].sum(where=last).cast(comp.dtype)
        if "__band_revenue" in monthly.columns:
            aggs["__band_revenue"] = rows.__band_revenue.sum(where=last)
        table = rows.group_by("partner_id", "grain", "period_start").aggregate(**aggs)
    attributes = partners.select(
        partner_id="partner_id",
        name="name",
        partner_type="partner_type",
        region="region",
        program_tier="program_tier",
    )
    table = table.left_join(attributes, "partner_id").drop("partner_id_right")
    if static is not None:
        table = table.left_join(static, "partner_id").drop("partner_id_right")
    band: Any = ibis.null().cast("string")
    if "__band_revenue" in table.columns:
        revenue = table.__band_revenue
        cases = [(revenue < limit, label) for limit, label in zip(bands, band_labels, strict=False)]
        band = ibis.cases(*cases, else_=band_labels[-1]) if cases else ibis.literal(band_labels[-1])
        band = ibis.ifelse(table.partner_id.isnull(), ibis.null().cast("string"), band)
    return table.mutate(revenue_band=band)


def band_labels(bands: list[float], currency: str) -> list[str]:
    def short(value: float) -> str:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if value >= size:
                return f"{value / size:g}{suffix}"
        return f"{value:g}"

    if not bands:
        return ["all"]
    labels = [f"under {short(bands[0])} {currency}"]
    labels += [f"{short(a)}–{short(b)} {currency}" for a, b in itertools.pairwise(bands)]
    labels.append(f"{short(bands[-1])}+ {currency}")
    return labels


def level_parts(periods: ir.Table, comps: list[Component], levels: list[str]) -> ir.Table:
    """Parts summed per level, group and period (the company level includes direct deals)."""
    import ibis

    names = [c.name for c in comps if c.name in periods.columns]
    pieces = []
    for level in levels:
        key = LEVELS[level]
        rows = periods if level == "company" else periods.filter(periods.partner_id.notnull())
        group_key = rows[key].cast("string") if key else ibis.literal("all")
        if key:
            rows = rows.filter(group_key.notnull())
        if key == "partner_id":  # one row per partner and period already: no grouping
            pieces.append(
                rows.select(
                    level=ibis.literal(level),
                    group_key=group_key,
                    grain=rows.grain,
                    period_start=rows.period_start,
                    # the types a sum would have, as in the other levels
                    **{n: rows[n].cast(rows[n].sum().type()) for n in names},
                )
            )
            continue
        pieces.append(
            rows.group_by(
                level=ibis.literal(level),
                group_key=group_key,
                grain="grain",
                period_start="period_start",
            ).aggregate(**{n: rows[n].sum() for n in names})
        )
    return ibis.union(*pieces) if len(pieces) > 1 else pieces[0]


class Evaluator:
    """Adds one column per metric, in dependency order, to the level × period table."""

    def __init__(
        self,
        catalog: Catalog,
        params: dict[str, Any],
        memberships: ir.Table,
        company_static: dict[str, ir.Table],
        materialize: Materialize,
    ) -> None:
        self.catalog = catalog
        self.params = params
        self.memberships = memberships
        self.company_static = company_static
        self.materialize = materialize
        self._joins = 0

    def run(self, table: ir.Table, names: list[str]) -> ir.Table:
        """Metrics in stages: each stage holds the metrics whose inputs are all computed, so
        the table is one projection per stage (not one per metric, which Ibis compiles
        slowly)."""
        depth: dict[str, int] = {}
        for name in names:
            inputs = [depth[d] for d in self.catalog[name].depends_on if d in depth]
            depth[name] = 1 + max(inputs, default=-1)
        for stage in sorted(set(depth.values())):
            batch = [self.catalog[n] for n in names if depth[n] == stage]
            if any(_function_calls(m) for m in batch):
                # a function joins the table to a query of itself: store it, or the SQL
                # computes everything before this stage twice
                table = self.materialize(f"__stage{stage}", table)
            calls: dict[int, str] = {}
            for metric in batch:
                table = self._join_functions(table, metric, calls)
            values = {m.name: self._guarded(table, m, self._value(table, m, calls)) for m in batch}
            table = table.mutate(**values)
            if calls:
                table = table.drop(*calls.values())
        return table

    def _value(self, table: ir.Table, metric: Metric, calls: dict[int, str]) -> Any:
        if metric.kind is Kind.AGGREGATE:
            return self._aggregate(table, metric)
        if metric.kind is Kind.RATIO:
            spec = metric.spec
            value = divide(table[str(spec.numerator)], table[str(spec.denominator)])
            return value * spec.scale if spec.scale != 1 else value
        assert metric.formula is not None

        def resolve(name: str) -> Any:
            import ibis

            if name in table.columns:
                return table[name]
            value = self.params.get(name)
            return ibis.null().cast("float64") if value is None else ibis.literal(value)

        def call(function: str, args: list[exp.Expression]) -> Any:
            return table[calls[id(args[0].parent)]]

        return to_ibis(metric.formula.tree, resolve, call).cast("float64")

    def _guarded(self, table: ir.Table, metric: Metric, value: Any) -> Any:
        """Null where the evidence is below the minimum, and at partner level for metrics
        that only groups have."""
        import ibis

        minimum = metric.spec.min_evidence
        if minimum is not None:
            source = metric.evidence_metric
            evidence = table[source] if source else table[f"{metric.name}__n"]
            value = ibis.ifelse(evidence.fill_null(0) >= minimum, value, ibis.null())
        if metric.group_only:
            value = ibis.ifelse(table.level == "partner", ibis.null(), value)
        return value

    def _aggregate(self, table: ir.Table, metric: Metric) -> Any:
        import ibis

        name, spec = metric.name, metric.spec
        if metric.holistic:
            value = table[name].cast("float64")
            # a group or period without rows has no holistic row: a distinct count of nothing is
            # 0 (like any count), a median or diversity of nothing stays null
            if spec.agg not in (Agg.MEDIAN, Agg.DIVERSITY) and spec.empty != "null":
                return value.fill_null(0)
            return value
        if spec.when is When.ALWAYS and name in self.company_static:
            value = self.company_static[name].as_scalar()
            return value.cast("float64")
        if spec.agg is Agg.MEAN:
            return divide(table[f"{name}__sum"], table[f"{name}__n"])
        value = table[name].fill_null(0).cast("float64")
        if spec.empty == "null":
            return ibis.ifelse(table[f"{name}__n"] > 0, value, ibis.null())
        return value

    def _join_functions(self, table: ir.Table, metric: Metric, calls: dict[int, str]) -> ir.Table:
        """Join what a formula's functions look at (other periods, the company, the partners
        of a group) as columns named in ``calls``."""
        for node, function in _function_calls(metric):
            self._joins += 1
            calls[id(node)] = f"__f{self._joins}"
            table = self._join_function(table, function, node.expressions, calls[id(node)])
        return table

    def _join_function(
        self, table: ir.Table, function: str, args: list[exp.Expression], column: str
    ) -> ir.Table:
        import ibis

        if function == "prior_year":
            source = str(args[0].name)
            prior = table.select(
                "level",
                "group_key",
                "grain",
                period_start=(table.period_start + ibis.interval(years=1)).cast("date"),
                **{column: table[source]},
            )
            return table.left_join(prior, list(KEYS)).select(*table.columns, column)
        if function == "company":
            source = str(args[0].name)
            company = table.filter(table.level == "company").select(
                "grain", "period_start", **{column: table[source]}
            )
            return table.left_join(company, ["grain", "period_start"]).select(
                *table.columns, column
            )
        # partners_where / weighted_mean: over the partner rows of each group
        partners = table.filter(table.level == "partner")
        keyed = partners.join(
            self.memberships,
            (partners.group_key == self.memberships.partner_id)
            & (partners.grain == self.memberships.grain)
            & (partners.period_start == self.memberships.period_start),
        )

        def resolve(name: str) -> Any:
            return keyed[name]

        if function == "partners_where":
            condition = to_ibis(args[0], resolve).fill_null(False)
            value: Any = keyed.count(where=condition)
        else:
            metric, weight = (keyed[str(a.name)] for a in args)
            both = metric.notnull() & weight.notnull()
            # exact sums: the result must not depend on the order partners arrive in
            exact = "decimal(38, 9)"
            value = divide(
                (metric * weight).cast(exact).sum(where=both), weight.cast(exact).sum(where=both)
            )
        pieces = []
        for level in GROUP_LEVELS:
            key = LEVELS[level]
            group_key = keyed[key].cast("string") if key else ibis.literal("all")
            pieces.append(
                keyed.group_by(
                    level=ibis.literal(level),
                    group_key=group_key,
                    grain=keyed.grain,
                    period_start=keyed.period_start,
                ).aggregate(**{column: value.cast("float64")})
            )
        groups = ibis.union(*pieces)
        return table.left_join(groups, list(KEYS)).select(*table.columns, column)


#: Formula functions that join the level table to other rows of itself.
JOINED_FUNCTIONS = ("prior_year", "company", "partners_where", "weighted_mean")


def _function_calls(metric: Metric) -> list[tuple[exp.Anonymous, str]]:
    """The calls in a metric's formula of :data:`JOINED_FUNCTIONS`, with the function's name."""
    if metric.formula is None:
        return []
    calls = [(node, str(node.this).lower()) for node in metric.formula.tree.find_all(exp.Anonymous)]
    return [(node, function) for node, function in calls if function in JOINED_FUNCTIONS]
