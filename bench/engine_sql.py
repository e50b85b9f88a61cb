"""The hand-written core query of bench/metrics.py (``hand_sql()``) for PostgreSQL and Spark SQL.

The same 13 core metrics per partner × calendar quarter, with the same rules: deals won and lost
in the quarter they closed in, new pipeline in the quarter they were created in, open deals and
pipeline at quarter end as a cumulative sum of (created − closed) over every quarter of every
partner with a deal, leads in the quarter they were assigned in, a lead's SLA met when its first
touch came within the SLA and due once touched or once the SLA has passed at the as-of time, and
the exact median of the response hours. Timestamps are naive UTC, as in the warehouse. Each query
is written the way that engine is written by hand: PostgreSQL with ``date_trunc``, ``FILTER``,
interval arithmetic and ``percentile_cont(0.5) WITHIN GROUP``; Spark SQL with ``date_trunc``,
``timestampdiff``, ``FILTER`` and its exact ``percentile``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from metrics import AS_OF, METRICS, SLA_HOURS

#: The hand-written results as Arrow: the DuckDB query's types (money DECIMAL(38,2), counts
#: BIGINT, rates DOUBLE), which PostgreSQL's rows are read into.
MONEY = pa.decimal128(38, 2)
SCHEMA = pa.schema(
    [
        ("partner_id", pa.string()),
        ("period_start", pa.date32()),
        *(
            (
                name,
                MONEY
                if name in ("won_revenue", "new_pipeline", "open_pipeline")
                else pa.int64()
                if name in ("won_deals", "lost_deals", "open_deals", "leads_assigned")
                else pa.float64(),
            )
            for name in METRICS
        ),
    ]
)


def _seconds(sla_hours: float) -> str:
    """The SLA in seconds to the microsecond, as a decimal literal (``7200.000000``)."""
    micros = round(sla_hours * 3600 * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def postgres_sql(as_of: datetime = AS_OF, sla_hours: float = SLA_HOURS) -> str:
    """The core metrics per partner × quarter as one PostgreSQL query over the warehouse's copy
    (the backend's search path names its schema)."""
    sla = f"make_interval(secs => {_seconds(sla_hours)})"
    return f"""
    WITH opp AS (
        SELECT partner_id, status, amount, created_at, closed_at,
               date_trunc('quarter', created_at)::date AS created_q,
               date_trunc('quarter', closed_at)::date AS closed_q
        FROM opportunities
        WHERE partner_id IS NOT NULL
    ),
    closed AS (  -- in period = closed_at in the quarter
        SELECT partner_id, closed_q AS q,
               coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS won_revenue,
               count(*) FILTER (WHERE status = 'won') AS won_deals,
               count(*) FILTER (WHERE status = 'lost') AS lost_deals,
               avg(extract(epoch FROM closed_at - created_at)::float8)
                   FILTER (WHERE status = 'won') / 86400 AS sales_cycle_days,
               -- leaving the open pipeline after this quarter's end
               count(*) AS ended_deals,
               coalesce(sum(amount), 0) AS ended_amount
        FROM opp
        WHERE closed_at IS NOT NULL
        GROUP BY partner_id, closed_q
    ),
    created AS (
        SELECT partner_id, created_q AS q, count(*) AS created_deals,
               coalesce(sum(amount), 0) AS new_pipeline
        FROM opp
        GROUP BY partner_id, created_q
    ),
    lead_q AS (
        SELECT partner_id, date_trunc('quarter', assigned_at)::date AS q,
               count(*) AS leads_assigned,
               count(*) FILTER (WHERE first_touch_at - assigned_at <= {sla}) AS sla_met,
               count(*) FILTER (WHERE first_touch_at IS NOT NULL
                   OR assigned_at <= TIMESTAMP '{as_of.isoformat(sep=" ")}' - {sla}) AS sla_due,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM first_touch_at - assigned_at)::float8 / 3600
               ) AS median_response_hours,
               count(*) FILTER (WHERE converted) AS converted
        FROM leads
        WHERE partner_id IS NOT NULL
        GROUP BY 1, 2
    ),
    quarters AS (
        SELECT g::date AS q
        FROM (SELECT min(q) AS lo, max(q) AS hi
              FROM (SELECT q FROM created UNION ALL SELECT q FROM closed
                    UNION ALL SELECT q FROM lead_q) AS seen) AS bounds,
             generate_series(lo::timestamp, hi::timestamp, interval '3 months') AS g
    ),
    grid AS (  -- every quarter of every partner with a deal
        SELECT p.partner_id, quarters.q
        FROM (SELECT DISTINCT partner_id FROM created) AS p CROSS JOIN quarters
    ),
    open_q AS (  -- open at quarter end = Σ created up to the quarter − Σ closed up to it
        SELECT g.partner_id, g.q,
               sum(coalesce(c.created_deals, 0) - coalesce(x.ended_deals, 0)) OVER w AS open_deals,
               sum(coalesce(c.new_pipeline, 0) - coalesce(x.ended_amount, 0)) OVER w
                   AS open_pipeline
        FROM grid g
        LEFT JOIN created c ON c.partner_id = g.partner_id AND c.q = g.q
        LEFT JOIN closed x ON x.partner_id = g.partner_id AND x.q = g.q
        WINDOW w AS (PARTITION BY g.partner_id ORDER BY g.q ROWS UNBOUNDED PRECEDING)
    ),
    keys AS (
        SELECT partner_id, q FROM closed
        UNION SELECT partner_id, q FROM created
        UNION SELECT partner_id, q FROM lead_q
        UNION SELECT partner_id, q FROM open_q WHERE open_deals > 0
    )
    SELECT k.partner_id,
           k.q AS period_start,
           coalesce(x.won_revenue, 0) AS won_revenue,
           coalesce(x.won_deals, 0) AS won_deals,
           coalesce(x.lost_deals, 0) AS lost_deals,
           x.won_deals::float8 / nullif(x.won_deals + x.lost_deals, 0) AS win_rate,
           x.won_revenue::float8 / nullif(x.won_deals, 0) AS avg_deal_size,
           x.sales_cycle_days,
           coalesce(c.new_pipeline, 0) AS new_pipeline,
           coalesce(o.open_deals, 0)::bigint AS open_deals,
           coalesce(o.open_pipeline, 0) AS open_pipeline,
           coalesce(l.leads_assigned, 0) AS leads_assigned,
           l.sla_met::float8 / nullif(l.sla_due, 0) AS lead_sla_rate,
           l.median_response_hours,
           l.converted::float8 / nullif(l.leads_assigned, 0) AS lead_conversion_rate
    FROM keys k
    LEFT JOIN closed x ON x.partner_id = k.partner_id AND x.q = k.q
    LEFT JOIN created c ON c.partner_id = k.partner_id AND c.q = k.q
    LEFT JOIN open_q o ON o.partner_id = k.partner_id AND o.q = k.q
    LEFT JOIN lead_q l ON l.partner_id = k.partner_id AND l.q = k.q
    ORDER BY k.partner_id, k.q
    """


def spark_sql(as_of: datetime = AS_OF, sla_hours: float = SLA_HOURS) -> str:
    """The core metrics per partner × quarter as one Spark SQL query over the staged warehouse's
    temporary views (timestamps without a time zone, as staged)."""
    sla_us = round(sla_hours * 3600 * 1_000_000)
    return f"""
    WITH opp AS (
        SELECT partner_id, status, amount, created_at, closed_at,
               CAST(date_trunc('QUARTER', created_at) AS DATE) AS created_q,
               CAST(date_trunc('QUARTER', closed_at) AS DATE) AS closed_q
        FROM opportunities
        WHERE partner_id IS NOT NULL
    ),
    closed AS (  -- in period = closed_at in the quarter
        SELECT partner_id, closed_q AS q,
               coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS won_revenue,
               count(*) FILTER (WHERE status = 'won') AS won_deals,
               count(*) FILTER (WHERE status = 'lost') AS lost_deals,
               avg(timestampdiff(MICROSECOND, created_at, closed_at) / 86400e6)
                   FILTER (WHERE status = 'won') AS sales_cycle_days,
               -- leaving the open pipeline after this quarter's end
               count(*) AS ended_deals,
               coalesce(sum(amount), 0) AS ended_amount
        FROM opp
        WHERE closed_at IS NOT NULL
        GROUP BY partner_id, closed_q
    ),
    created AS (
        SELECT partner_id, created_q AS q, count(*) AS created_deals,
               coalesce(sum(amount), 0) AS new_pipeline
        FROM opp
        GROUP BY partner_id, created_q
    ),
    lead_q AS (
        SELECT partner_id, CAST(date_trunc('QUARTER', assigned_at) AS DATE) AS q,
               count(*) AS leads_assigned,
               count(*) FILTER (WHERE response_us <= {sla_us}) AS sla_met,
               count(*) FILTER (WHERE first_touch_at IS NOT NULL
                   OR assigned_at <= TIMESTAMP_NTZ '{as_of.isoformat(sep=" ")}'
                       - INTERVAL '{_seconds(sla_hours)}' SECOND) AS sla_due,
               percentile(response_us / 3600e6, 0.5) AS median_response_hours,
               count(*) FILTER (WHERE converted) AS converted
        FROM (
            SELECT partner_id, assigned_at, first_touch_at, converted,
                   timestampdiff(MICROSECOND, assigned_at, first_touch_at) AS response_us
            FROM leads
            WHERE partner_id IS NOT NULL
        ) AS l
        GROUP BY 1, 2
    ),
    quarters AS (
        SELECT explode(sequence(lo, hi, INTERVAL 3 MONTH)) AS q
        FROM (SELECT min(q) AS lo, max(q) AS hi
              FROM (SELECT q FROM created UNION ALL SELECT q FROM closed
                    UNION ALL SELECT q FROM lead_q) AS seen) AS bounds
    ),
    grid AS (  -- every quarter of every partner with a deal
        SELECT p.partner_id, quarters.q
        FROM (SELECT DISTINCT partner_id FROM created) AS p CROSS JOIN quarters
    ),
    open_q AS (  -- open at quarter end = Σ created up to the quarter − Σ closed up to it
        SELECT g.partner_id, g.q,
               sum(coalesce(c.created_deals, 0) - coalesce(x.ended_deals, 0)) OVER w AS open_deals,
               sum(coalesce(c.new_pipeline, 0) - coalesce(x.ended_amount, 0)) OVER w
                   AS open_pipeline
        FROM grid g
        LEFT JOIN created c ON c.partner_id = g.partner_id AND c.q = g.q
        LEFT JOIN closed x ON x.partner_id = g.partner_id AND x.q = g.q
        WINDOW w AS (PARTITION BY g.partner_id ORDER BY g.q ROWS UNBOUNDED PRECEDING)
    ),
    keys AS (
        SELECT partner_id, q FROM closed
        UNION SELECT partner_id, q FROM created
        UNION SELECT partner_id, q FROM lead_q
        UNION SELECT partner_id, q FROM open_q WHERE open_deals > 0
    )
    SELECT k.partner_id,
           k.q AS period_start,
           coalesce(x.won_revenue, 0) AS won_revenue,
           coalesce(x.won_deals, 0) AS won_deals,
           coalesce(x.lost_deals, 0) AS lost_deals,
           x.won_deals / nullif(x.won_deals + x.lost_deals, 0) AS win_rate,
           CAST(x.won_revenue AS DOUBLE) / nullif(x.won_deals, 0) AS avg_deal_size,
           x.sales_cycle_days,
           coalesce(c.new_pipeline, 0) AS new_pipeline,
           CAST(coalesce(o.open_deals, 0) AS BIGINT) AS open_deals,
           coalesce(o.open_pipeline, 0) AS open_pipeline,
           coalesce(l.leads_assigned, 0) AS leads_assigned,
           l.sla_met / nullif(l.sla_due, 0) AS lead_sla_rate,
           l.median_response_hours,
           l.converted / nullif(l.leads_assigned, 0) AS lead_conversion_rate
    FROM keys k
    LEFT JOIN closed x ON x.partner_id = k.partner_id AND x.q = k.q
    LEFT JOIN created c ON c.partner_id = k.partner_id AND c.q = k.q
    LEFT JOIN open_q o ON o.partner_id = k.partner_id AND o.q = k.q
    LEFT JOIN lead_q l ON l.partner_id = k.partner_id AND l.q = k.q
    ORDER BY k.partner_id, k.q
    """


def postgres_rows(backend: Any) -> Any:
    """The PostgreSQL query's result on the session of an Ibis PostgreSQL backend (its schema,
    time zone and settings), read into an Arrow table of :data:`SCHEMA`."""
    with backend.raw_sql(postgres_sql()) as cursor:
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in SCHEMA]
    return pa.table(
        [pa.array(values, type=f.type) for values, f in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def spark_rows(session: Any) -> Any:
    """The Spark SQL query's result on a session holding the warehouse's views, as Arrow."""
    return session.sql(spark_sql()).toArrow()
