"""Running the catalog on an engine: parts, periods, groups, values.

:func:`compute` is the whole computation on an Ibis backend; :func:`compute_metrics` is the
short form for a DuckDB connection. A run (:mod:`partnerscope.pipeline`) passes the previous run's
parts to recompute only the months new data touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from partnerscope.metrics.calendar import FiscalCalendar, Grain, add_months
from partnerscope.metrics.definition import Agg, Catalog, Metric, When, load_catalog
from partnerscope.metrics.dialects import dialect_for
from partnerscope.metrics.evaluate import (
    KEYS,
    LEVELS,
    ROW_KEYS,
    Evaluator,
    band_labels,
    level_parts,
    monthly_values,
    partner_periods,
)
from partnerscope.metrics.holistic import STATIC_KEYS, combine, holistic_queries, small_entities
from partnerscope.metrics.parts import (
    Context,
    components,
    monthly_parts,
    raw_columns,
    static_values,
)
from partnerscope.runs import MEMBERSHIPS, RESULTS

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends.sql import SQLBackend

    from partnerscope.config import Config

ALL_GRAINS = tuple(Grain)
ALL_LEVELS = tuple(LEVELS)
#: The metric whose trailing 12 months place a partner in a revenue band.
BAND_SOURCE = "won_revenue"
#: Periods further back than this are not computed (a mistyped year 1900 would otherwise make a
#: grid of 1,500 months per partner).
MAX_YEARS = 10

Step = Callable[[str], None]
#: Numbers the temporary tables of every computation in this process.
_TEMP_TABLES = count()


@dataclass(frozen=True)
class Reuse:
    """What an incremental run keeps from the previous one (files it wrote): parts of months
    before ``since``, and medians and distinct counts of periods that end before
    ``holistic_since`` (the same month or later: they need not follow the as-of time of
    metrics they do not include)."""

    parts: Path
    holistic: Path | None
    since: date
    holistic_since: date


#: The files a computation writes into its output folder (the first two are what the run
#: store reads back: partnerscope.runs)
PARTS, HOLISTIC = "parts.parquet", "holistic.parquet"
KEY_ORDER = ["level", "group_key", "grain", "period_start"]


@dataclass(frozen=True)
class Computation:
    """What was computed. With an output folder the tables are files there (``results`` is
    None); without one, ``results`` holds every value."""

    rows: int
    #: SHA-256 of the results in key order (equal for equal results), for results written out.
    digest: str | None
    first_month: date | None
    last_month: date
    results: pa.Table | None = None
    #: What the reader of the results should know (e.g. data left out before the first period).
    notes: tuple[str, ...] = ()


def parameters(config: Config, as_of: datetime) -> dict[str, Any]:
    return {
        "sla_hours": config.workspace.sla_hours,
        "gross_margin": config.economics.gross_margin,
        "as_of": as_of,
    }


def local_time(moment: datetime, timezone: str) -> datetime:
    """An instant stored as naive UTC, as naive wall-clock time in the reporting time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def last_month(as_of: datetime, timezone: str) -> date:
    """The last month a run computes: the one that has begun before the as-of time (an as-of
    time at midnight on the 1st ends the previous month)."""
    return (local_time(as_of, timezone) - timedelta(microseconds=1)).date().replace(day=1)


def compute(
    backend: SQLBackend,
    config: Config,
    catalog: Catalog,
    *,
    as_of: datetime,
    metrics: Sequence[str] | None = None,
    grains: Sequence[str] = ALL_GRAINS,
    levels: Sequence[str] = ALL_LEVELS,
    reuse: Reuse | None = None,
    out: Path | None = None,
    step: Step | None = None,
) -> Computation:
    """Every requested metric per level × group × grain × period, up to the as-of period;
    written as Parquet files into ``out`` when given (see :data:`RESULTS`)."""
    import ibis
    import pyarrow as pa

    say = step or (lambda _text: None)
    grain_list = [Grain(g) for g in grains]
    requested = list(dict.fromkeys(levels))
    names = catalog.closure(metrics if metrics is not None else [m.name for m in catalog])
    if "revenue_band" in requested and BAND_SOURCE not in names:
        names = catalog.closure([*names, BAND_SOURCE])
    # formulas that look at the company or at the partners of a group need those rows
    functions = {f for n in names for f in _functions(catalog[n])}
    level_list = list(requested)
    if "company" in functions:
        level_list.append("company")
    if functions & {"partners_where", "weighted_mean"}:
        level_list.append("partner")
    level_list = list(dict.fromkeys(level_list))
    names_set = set(names)
    timezone = config.workspace.timezone
    # parts are summed per the finest grain asked for: months for a run, quarters when only
    # quarters are wanted (fewer groups; complete periods come out the same)
    base = min(grain_list, key=lambda g: g.months)
    ctx = Context(
        tables=backend.table,
        dialect=dialect_for(backend.name),
        timezone=timezone,
        params=parameters(config, as_of),
        as_of=as_of,
        base=base,
        fiscal_year_start_month=config.workspace.fiscal_year_start_month,
    )
    # names unique across computations: a second one on the same connection must not meet the
    # first one's temporary tables
    fresh = (f"__ps{i}" for i in _TEMP_TABLES)
    scratch: list[str] = []  # dropped at the end: a connection may serve many computations

    def materialize(name: str, expr: ir.Table) -> ir.Table:
        scratch.append(f"{name}_{next(fresh)}")
        return ctx.dialect.materialize(backend, scratch[-1], expr)

    def upload(name: str, data: pa.Table) -> ir.Table:
        scratch.append(f"{name}_{next(fresh)}")
        return ctx.dialect.upload(backend, scratch[-1], data)

    comps = components(catalog, names)
    raw = raw_columns(comps)
    # with one grain and nothing reused, a partner's in-period median is a group of the parts'
    # own scan: read the rows once
    fused = [
        n
        for n in names
        if len(grain_list) == 1
        and reuse is None
        and "partner" in level_list
        and catalog[n].holistic
        and catalog[n].spec.when is When.IN_PERIOD
        # a diversity sums per value first: not one aggregate of the parts' scan
        and catalog[n].spec.agg is not Agg.DIVERSITY
    ]
    say("computing monthly parts")
    new_parts = monthly_parts(
        ctx,
        catalog,
        names,
        reuse.since if reuse else None,
        fused,
        partners_only="company" not in level_list,
    )
    if new_parts is not None and reuse is not None:
        kept = ctx.dialect.read_parquet(backend, f"__kept_parts_{next(fresh)}", reuse.parts)
        scratch.append(kept.get_name())
        # the stored types are the engine's (a sum of integers may come back as a decimal)
        kept = kept.select(**{c: kept[c].cast(t) for c, t in new_parts.schema().items()})
        new_parts = ibis.union(kept.filter(kept.month < reuse.since), new_parts)
    if new_parts is None:  # nothing the catalog sums: an empty parts table keeps the shape
        no_rows = {"partner_id": pa.array([], pa.string()), "month": pa.array([], pa.date32())}
        new_parts = upload("__no_parts", pa.table(no_rows))
    parts = materialize("__parts", new_parts)
    calendar = FiscalCalendar(config.workspace.fiscal_year_start_month)
    final_month = calendar.period_of(last_month(as_of, timezone), base).start
    first = ctx.dialect.fetch(backend, parts.month.min()).as_py()
    first = first.date() if isinstance(first, datetime) else first
    notes: list[str] = []
    oldest = calendar.period_of(add_months(final_month, -12 * MAX_YEARS), base).start
    first_month = max(first, oldest) if first else None
    if first and first_month and first < first_month:
        notes.append(
            f"data from {first:%Y-%m} is older than {MAX_YEARS} years before the as-of time; "
            f"periods start at {first_month:%Y-%m} (check for mistyped years, or set --as-of)"
        )
    if first and first > final_month:
        notes.append(f"all data is after the as-of time ({first:%Y-%m} onward); set --as-of later")
    if first_month is None or first_month > final_month:
        first_month = final_month
    month_map = upload(
        "__month_map", calendar.month_map(first_month, final_month, grain_list, base)
    )
    periods = upload(
        "__periods",
        calendar.period_table(
            first_month, final_month, grain_list, local_time(as_of, timezone), base
        ),
    )
    months = upload(
        "__months", calendar.month_map(first_month, final_month, [base], base).select(["month"])
    )

    say("combining months into periods")
    partners = backend.table("partners")
    partner_ids = ibis.union(
        partners.select(partner_id=partners.partner_id.cast("string")),
        parts.select("partner_id"),
        distinct=True,
    )
    band_source = BAND_SOURCE if "revenue_band" in level_list else None
    # read once, by the next query: not stored
    monthly = monthly_values(
        parts.select("partner_id", "month", *raw),
        partner_ids,
        months,
        comps,
        band_source,
        per_year=12 // base.months,
    )
    static, company_static = static_values(ctx, catalog, names)
    bands = list(config.cohorts.revenue_bands)
    per_partner = materialize(
        "__partner_periods",
        partner_periods(
            monthly,
            month_map,
            comps,
            partners,
            static,
            bands,
            band_labels(bands, config.workspace.base_currency),
            single_grain=base.value if len(grain_list) == 1 else None,
        ),
    )
    memberships = per_partner.select(
        "partner_id",
        "grain",
        "period_start",
        "name",
        *[k for k in LEVELS.values() if k and k != "partner_id"],
    )

    say("medians and distinct counts")
    level_keys = {level: LEVELS[level] for level in level_list}
    earliest = None
    if reuse is not None:
        recomputed = [
            p.start
            for grain in grain_list
            for p in calendar.periods(first_month, final_month, grain)
            if min(add_months(p.end, -1), final_month) >= reuse.holistic_since
        ]
        earliest = min(recomputed, default=reuse.holistic_since)
    queries = holistic_queries(
        ctx,
        catalog,
        names,
        [g.value for g in grain_list],
        month_map,
        periods,
        memberships,
        partners.select(*STATIC_KEYS, partner_id=partners.partner_id.cast("string")),
        level_keys,
        reuse.holistic_since if reuse else None,
        earliest,
        fused,
        # one grain has one query per metric and level either way: nothing to count
        small_entities(
            ctx, catalog, names, lambda t: int(ctx.dialect.fetch(backend, t.count()).as_py())
        )
        if len(grain_list) > 1
        else set(),
    )
    # one at a time: each median holds its values in memory until its groups are done
    stored = [materialize("__holistic_part", query) for query in queries]
    if fused:
        own = parts.filter(parts.partner_id.notnull())
        stored.append(
            own.select(
                level=ibis.literal("partner"),
                group_key=own.partner_id,
                grain=ibis.literal(base.value),
                period_start=own.month,
                **{n: own[n].cast("float64") for n in fused},
                # the parts' sums may come back wider than the counts they add up
                **{
                    f"{n}__n": own[f"{n}__n"].cast("int64") for n in fused if catalog[n].counts_rows
                },
            )
        )
    holistic = combine(stored) if stored else None
    if holistic is not None and reuse is not None and reuse.holistic is not None:
        old = ctx.dialect.read_parquet(backend, f"__kept_holistic_{next(fresh)}", reuse.holistic)
        scratch.append(old.get_name())
        old = old.select(**{c: old[c].cast(t) for c, t in holistic.schema().items()})
        old = old.semi_join(
            periods.filter(periods.last_month < reuse.holistic_since), ["grain", "period_start"]
        ).filter(old.level.isin(level_list))
        holistic = ibis.union(old.select(*holistic.columns), holistic)
    holistic_table = materialize("__holistic", holistic) if holistic is not None else None

    say("computing metrics per partner and group")
    table = level_parts(per_partner, comps, level_list)
    if holistic_table is not None:
        table = table.left_join(holistic_table, list(KEYS)).select(
            *table.columns, *[c for c in holistic_table.columns if c not in KEYS]
        )
    evaluator = Evaluator(catalog, ctx.params, memberships, company_static, materialize)
    table = evaluator.run(table, names)
    final = table.join(periods, ["grain", "period_start"]).select(
        *ROW_KEYS, *[n for n in catalog.metrics if n in names_set]
    )
    final = final.filter(final.level.isin(requested))
    say("collecting results")
    fingerprint = None
    results = None
    if out is None:
        results = ctx.dialect.fetch(backend, final.order_by(*KEY_ORDER))
        rows = results.num_rows
    else:
        stored = materialize("__results", final)
        rows = int(ctx.dialect.fetch(backend, stored.count()).as_py())
        fingerprint = ctx.dialect.digest(backend, stored, KEY_ORDER)
        write = partial(ctx.dialect.write_parquet, backend)
        write(stored.order_by(*KEY_ORDER), out / RESULTS)
        members = memberships.filter(memberships.partner_id.notnull())
        # each partner's program status and join date, stored with the run: the evaluation
        # leaves out partners inactive or not yet joined in a period
        standing = partners.select(
            partner_id=partners.partner_id.cast("string"),
            status=partners.status,
            joined_at=partners.joined_at,
        )
        members = members.left_join(standing, "partner_id").drop("partner_id_right")
        write(members.order_by("partner_id", "grain", "period_start"), out / MEMBERSHIPS)
        write(parts, out / PARTS)
        if holistic_table is not None:
            write(holistic_table, out / HOLISTIC)
    computation = Computation(
        rows=rows,
        digest=fingerprint,
        first_month=first_month,
        last_month=final_month,
        results=results,
        notes=tuple(notes),
    )
    for name in reversed(scratch):
        ctx.dialect.drop(backend, name)
    return computation


def _functions(metric: Metric) -> tuple[str, ...]:
    return metric.formula.functions if metric.formula is not None else ()


def compute_metrics(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    metrics: list[str],
    grains: tuple[str, ...] = ("quarter",),
    levels: tuple[str, ...] = ("partner",),
    *,
    as_of: datetime,
) -> pa.Table:
    """The named metrics (and what they need) on a DuckDB connection to a warehouse."""
    import ibis

    backend = ibis.duckdb.from_connection(con)
    catalog = load_catalog(config.metrics)
    results = compute(
        backend, config, catalog, as_of=as_of, metrics=metrics, grains=grains, levels=levels
    ).results
    assert results is not None
    return results


def unbound_tables() -> Callable[[str], ir.Table]:
    """The canonical tables as Ibis tables without a connection: enough to compile SQL."""
    import ibis

    from partnerscope.metrics.entities_market import IDENTITY_TABLE
    from partnerscope.schema import TABLES

    types = {
        "VARCHAR": "string",
        "BIGINT": "int64",
        "DOUBLE": "float64",
        "DECIMAL(18,2)": "decimal(18, 2)",
        "DECIMAL(18,8)": "decimal(18, 8)",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "BOOLEAN": "boolean",
    }
    tables = {
        name: ibis.table({c: types[t] for c, t in table.stored_columns()}, name=name)
        for name, table in TABLES.items()
    }
    # derived by the ingest of accounts (one customer behind several account records)
    tables[IDENTITY_TABLE] = ibis.table(
        {"account_id": "string", "identity_id": "string"}, name=IDENTITY_TABLE
    )
    return tables.__getitem__


def metric_sql(
    config: Config,
    catalog: Catalog,
    name: str,
    *,
    as_of: datetime,
    dialect: str = "duckdb",
) -> list[str]:
    """The SQL the engine sends for a metric's aggregates: its monthly parts and, for medians
    and distinct counts, the per-period query (ratios and formulas are computed on top)."""
    import ibis

    ctx = Context(
        tables=unbound_tables(),
        dialect=dialect_for(dialect),
        timezone=config.workspace.timezone,
        params=parameters(config, as_of),
        as_of=as_of,
    )
    inputs = [n for n in catalog.closure([name]) if catalog[n].entity is not None]
    out = []
    parts = monthly_parts(ctx, catalog, [n for n in inputs if not catalog[n].holistic], None)
    if parts is not None:
        out.append(ibis.to_sql(parts, dialect=dialect))
    holistic = [n for n in inputs if catalog[n].holistic]
    if holistic:
        month_map = ibis.table(
            {"grain": "string", "month": "date", "period_start": "date", "last_month": "date"},
            name="month_map",
        )
        periods = ibis.table(
            {"grain": "string", "period_start": "date", "period_end": "date", "last_month": "date"},
            name="periods",
        )
        memberships = ibis.table(
            {"partner_id": "string", "grain": "string", "period_start": "date"}
            | dict.fromkeys(("partner_type", "region", "program_tier", "revenue_band"), "string"),
            name="memberships",
        )
        for query in holistic_queries(
            ctx,
            catalog,
            holistic,
            ["quarter"],
            month_map,
            periods,
            memberships,
            memberships.select("partner_id", *STATIC_KEYS),
            {"partner": "partner_id"},
            None,
        ):
            out.append(ibis.to_sql(query, dialect=dialect))
    return out
