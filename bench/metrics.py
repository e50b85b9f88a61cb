"""Metric engine speed: partnerscope against hand-written DuckDB SQL and pandas, in the same run.

    python bench/metrics.py [--scale 1] [--seed 42] [--out bench/out/metrics] [--regenerate]
                            [--contenders sql,pandas,core,run,incremental] [--repeat 1]

Generates a warehouse straight into DuckDB at the given scale (scale 1: 20,000 partners, 10
million opportunities, 20 million leads over twelve calendar quarters, 2023-01-01 .. 2025-12-31
UTC) and caches it under ``--out``. The core metrics per partner × quarter are then computed by
each contender in a process of its own (``--only NAME``), so that wall time and peak memory are
per contender: one hand-written DuckDB query, idiomatic pandas, partnerscope's
``compute_metrics``, a full ``Workspace.run`` and an incremental one after one more month of
data. It prints times, peak memory and ratios against the hand-written SQL, and checks that every
contender's partner × quarter rows are the hand-written query's (bench/parity.py: a full outer
join, counts and money exactly, other values within 1e-9 relative): what differs is printed and
the exit status is 1 (``--corrupt`` shows it). Nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

import parity
from machine import machine_info
from partnerscope.schema import PARTNER_TYPES
from partnerscope.warehouse import Warehouse
from timing import run_child

ROOT = Path(__file__).resolve().parents[1]

# ---- the data --------------------------------------------------------------------------------

#: Row counts at scale 1; --scale multiplies every one of them.
BASE_OPPORTUNITIES = 10_000_000
BASE_LEADS = 20_000_000
BASE_PARTNERS = 20_000
BASE_ACCOUNTS = 500_000
#: Twelve calendar quarters (UTC), end exclusive.
WINDOW_START = date(2023, 1, 1)
WINDOW_END = date(2026, 1, 1)
QUARTERS = 12
#: The incremental contender appends one more month (1/36 of the rows).
EXTRA_START = date(2026, 1, 1)
EXTRA_END = date(2026, 2, 1)
MONTHS = 36

#: Bump when the generated data changes: cached warehouses of another version are rebuilt.
GENERATOR_VERSION = 4

#: The as-of time of the runs (naive = UTC, like the warehouse's TIMESTAMP columns).
AS_OF = datetime(2026, 1, 1)
AS_OF_INCREMENTAL = datetime(2026, 2, 1)
SLA_HOURS = 2.0

# shape of the generated data (see bench/README.md)
DIRECT_SHARE = 0.10  # opportunities without a partner
SOURCED_SHARE = 0.60  # of partner opportunities; the rest are influenced
NEVER_CLOSES = 0.25  # opportunities that stay open whatever their age
WIN_SHARE = 0.40  # of closed opportunities
AMOUNT_MU, AMOUNT_SIGMA, AMOUNT_MIN = 9.5, 1.1, 100  # lognormal amount, median ≈ 13,360
TOUCHED_SHARE = 0.80  # leads with a first touch
TOUCH_MEDIAN_HOURS, TOUCH_SIGMA = 1.5, 1.3  # lognormal response time
CONVERTED_SHARE = 0.15  # of all leads (only touched leads convert)
# the rest of the scorecard (issue 30): rows at scale 1 per partner or in all
PRODUCTS, FAMILIES = 40, 8  # opportunities name one of PRODUCTS products, PRODUCTS/FAMILIES each
CASES_PER_OPPORTUNITY = 0.2  # support cases: 2M at scale 1
CRITICAL_SHARE, ESCALATED_SHARE, FCR_SHARE = 0.1, 0.05, 0.7
TERMS_PER_PARTNER = 50  # subscription terms: 1M at scale 1
SURVEYS_PER_PARTNER = 3  # partner surveys sent (one a year)
AUDITS_PER_PARTNER = 4  # audits over the window, one finding for every second audit
TERRITORIES = 250

# ---- the metrics -----------------------------------------------------------------------------

#: Compared exactly; every other metric within RELATIVE_TOLERANCE.
COUNT_METRICS = ("won_deals", "lost_deals", "open_deals", "leads_assigned")
#: Output columns of the baselines, in order (after partner_id, period_start).
METRICS = (
    "won_revenue",
    "won_deals",
    "lost_deals",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "new_pipeline",
    "open_deals",
    "open_pipeline",
    "leads_assigned",
    "lead_sla_rate",
    "median_response_hours",
    "lead_conversion_rate",
)
RELATIVE_TOLERANCE = 1e-9

CONTENDERS = ("sql", "pandas", "core", "run", "incremental")
LABELS = {
    "sql": "hand-written DuckDB SQL",
    "pandas": "pandas",
    "core": "partnerscope core",
    "run": "partnerscope run (full catalog)",
    "incremental": "partnerscope incremental (+1 month)",
}
PROBE = "probe"

# ---- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    scale: float
    opportunities: int
    leads: int
    partners: int
    accounts: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(
            scale=scale,
            opportunities=max(1, round(BASE_OPPORTUNITIES * scale)),
            leads=max(1, round(BASE_LEADS * scale)),
            partners=max(10, round(BASE_PARTNERS * scale)),
            accounts=max(100, round(BASE_ACCOUNTS * scale)),
        )

    @property
    def extra_opportunities(self) -> int:
        return max(1, round(self.opportunities / MONTHS))

    @property
    def extra_leads(self) -> int:
        return max(1, round(self.leads / MONTHS))


@dataclass
class Paths:
    out: Path
    scale: float
    seed: int

    @property
    def tag(self) -> str:
        return f"s{self.scale:g}-seed{self.seed}"

    @property
    def warehouse(self) -> Path:
        return self.out / f"warehouse-{self.tag}.duckdb"

    @property
    def stats(self) -> Path:
        return self.out / f"warehouse-{self.tag}.json"

    @property
    def workspace(self) -> Path:
        return self.out / f"ws-{self.tag}"

    def result(self, contender: str) -> Path:
        return self.out / f"result-{contender}-{self.tag}.parquet"

    @property
    def report(self) -> Path:
        return self.out / f"report-{self.tag}.json"


@dataclass
class Outcome:
    """What one contender's process reports, plus what the parent measured around it."""

    contender: str
    status: str = "ok"  # ok, unavailable, failed
    message: str = ""
    seconds: float | None = None  # the measured work inside the child
    rows: int | None = None
    notes: dict[str, float] = field(default_factory=dict)
    process_seconds: float | None = None  # interpreter start to exit, measured by the parent
    cpu_seconds: float | None = None  # user + system CPU time of the child (os.wait4)
    #: VmHWM the child read from /proc/self/status at its end: its peak resident set since exec
    peak_mb: float | None = None
    #: ru_maxrss of the child (os.wait4); not used for the table because Linux counts in it the
    #: parent's peak at the moment of the (v)fork, and the parent generated the data
    maxrss_mb: float | None = None
    load_before: float | None = None  # 1-minute load average when the child started


def _pandas_version() -> str:
    try:
        return str(importlib.import_module("pandas").__version__)
    except ImportError:
        return "not installed"


def pandas_module() -> Any:
    """pandas, untyped: the dev tools carry no pandas stubs (and mypy --strict runs on bench/)."""
    return importlib.import_module("pandas")


def connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    # the machine default, said out loud
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    return con


def vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def sql_literal(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return f"DATE '{value.isoformat()}'"


def epoch_us(value: date) -> int:
    """Microseconds since 1970 of midnight UTC starting that day."""
    return (value - date(1970, 1, 1)).days * 86_400 * 1_000_000


# ---- 1. data generation ----------------------------------------------------------------------
#
# Every value is a function of (row number, column salt, seed) through DuckDB's hash(), so the data
# is the same whatever the thread count (random() is reproducible after setseed() only on one
# thread). setseed() is still called, for anything that would use random().


def define_macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    # uniform in [0, 1) with 53 random bits
    con.execute(
        "CREATE OR REPLACE TEMP MACRO u(i, k) AS "
        f"(hash(i, k, {int(seed)}::BIGINT) >> 11)::DOUBLE / 9007199254740992.0"
    )
    # standard normal (Box-Muller); 1 - u is in (0, 1]
    con.execute(
        "CREATE OR REPLACE TEMP MACRO z(i, k) AS "
        "sqrt(-2 * ln(1 - u(i, k))) * cos(2 * pi() * u(i, k + 1))"
    )


def partner_id_sql(index: str, partners: int) -> str:
    width = max(5, len(str(partners)))
    return f"'P' || lpad(({index} + 1)::VARCHAR, {width}, '0')"


def partner_pick_sql(row: str, salt: int, partners: int) -> str:
    """A partner index in [0, partners), skewed: partner k gets a share ∝ 1/√k."""
    return f"least({partners - 1}, floor({partners} * pow(u({row}, {salt}), 2))::BIGINT)"


def partners_sql(sizes: Sizes) -> str:
    types = ", ".join(f"'{t}'" for t in PARTNER_TYPES)
    return f"""
    INSERT INTO partners (partner_id, name, partner_type, region, program_tier, partner_manager,
                          joined_at, status, updated_at, _import_id, _source_file, _source_row)
    SELECT {partner_id_sql("i", sizes.partners)},
           'Partner ' || (i + 1),
           [{types}][1 + floor(u(i, 101) * {len(PARTNER_TYPES)})::BIGINT],
           ['North America', 'EMEA', 'APAC', 'LATAM'][1 + floor(u(i, 102) * 4)::BIGINT],
           CASE WHEN u(i, 103) < 0.1 THEN 'Gold' WHEN u(i, 103) < 0.4 THEN 'Silver'
                ELSE 'Registered' END,
           'CAM ' || lpad((i % 200 + 1)::VARCHAR, 3, '0'),
           DATE '2015-01-01' + floor(u(i, 104) * 2900)::INTEGER,
           'active',
           TIMESTAMP '2023-01-01 00:00:00',
           1, 'bench', i + 1
    FROM range({sizes.partners}) r(i)
    """


def targets_sql(sizes: Sizes) -> str:
    # quota ≈ the partner's expected won revenue per quarter (share of deals × deals per quarter ×
    # won share of all deals (~0.27) × mean amount), ± 25 % noise and growing 3 % a quarter
    mean_amount = math.exp(AMOUNT_MU + AMOUNT_SIGMA**2 / 2)
    per_quarter = sizes.opportunities * (1 - DIRECT_SHARE) / QUARTERS * 0.27 * mean_amount
    p = sizes.partners
    return f"""
    INSERT INTO targets (partner_id, period_start, grain, quota, currency, updated_at, fx_rate,
                         quota_local, _import_id, _source_file, _source_row)
    SELECT partner_id, period_start, 'quarter', quota, 'USD', TIMESTAMP '2023-01-01 00:00:00',
           1, quota, 1, 'bench', row_number() OVER (ORDER BY k, qi)
    FROM (
        SELECT k, qi, {partner_id_sql("k", p)} AS partner_id,
               ({sql_literal(WINDOW_START)} + to_months(3 * qi::INTEGER))::DATE AS period_start,
               greatest(1000, round({per_quarter!r} * (sqrt((k + 1) / {p}) - sqrt(k / {p}))
                   * (0.75 + 0.5 * u(k * 100 + qi, 201)) * pow(1.03, qi), 2))::DECIMAL(18,2)
                   AS quota
        FROM range({p}) a(k) CROSS JOIN range({QUARTERS}) b(qi)
    )
    """


def opportunities_sql(
    sizes: Sizes, first: int, count: int, start: date, end: date, import_id: int
) -> str:
    start_us, end_us = epoch_us(start), epoch_us(end)
    span_s = (end_us - start_us) // 1_000_000
    account_width = max(7, len(str(sizes.accounts)))
    return f"""
    INSERT INTO opportunities (opportunity_id, partner_id, attribution, account_id, product,
                               status, amount, currency, created_at, closed_at, updated_at,
                               fx_rate, amount_local, _import_id, _source_file, _source_row)
    SELECT 'O' || lpad(i::VARCHAR, 10, '0'),
           CASE WHEN NOT direct THEN {partner_id_sql("p", sizes.partners)} END,
           CASE WHEN direct THEN NULL WHEN u(i, 3) < {SOURCED_SHARE} THEN 'sourced'
                ELSE 'influenced' END,
           'A' || lpad(floor(u(i, 4) * {sizes.accounts})::BIGINT::VARCHAR, {account_width}, '0'),
           'Product ' || lpad((1 + floor(u(i, 10) * {PRODUCTS}))::BIGINT::VARCHAR, 2, '0'),
           CASE WHEN still_open THEN 'open' WHEN u(i, 8) < {WIN_SHARE} THEN 'won' ELSE 'lost' END,
           amount, 'USD',
           make_timestamp(created_us),
           CASE WHEN NOT still_open THEN make_timestamp(closes_us) END,
           make_timestamp(CASE WHEN still_open THEN created_us ELSE closes_us END),
           1, amount, {import_id}, 'bench', i + 1
    FROM (
        SELECT *, u(i, 7) < {NEVER_CLOSES} OR closes_us >= {end_us} AS still_open
        FROM (
            SELECT i,
                   u(i, 1) < {DIRECT_SHARE} AS direct,
                   {partner_pick_sql("i", 2, sizes.partners)} AS p,
                   {start_us} + floor(u(i, 5) * {span_s})::BIGINT * 1000000 AS created_us,
                   -- closes 1 .. 180 days later, to the second
                   created_us + (86400 + floor(u(i, 6) * {179 * 86400 + 1})::BIGINT) * 1000000
                       AS closes_us,
                   greatest({AMOUNT_MIN},
                            round(exp({AMOUNT_MU} + {AMOUNT_SIGMA} * z(i, 9)), 2))::DECIMAL(18,2)
                       AS amount
            FROM range({first}, {first + count}) r(i)
        )
    )
    """


def leads_sql(sizes: Sizes, first: int, count: int, start: date, end: date, import_id: int) -> str:
    start_us, end_us = epoch_us(start), epoch_us(end)
    span_s = (end_us - start_us) // 1_000_000
    conversion = CONVERTED_SHARE / TOUCHED_SHARE
    # salts 11..20: a lead must not share its partner or time with the opportunity of its number
    return f"""
    INSERT INTO leads (lead_id, partner_id, assigned_at, first_touch_at, converted, currency,
                       updated_at, fx_rate, _import_id, _source_file, _source_row)
    SELECT 'L' || lpad(i::VARCHAR, 11, '0'),
           {partner_id_sql("p", sizes.partners)},
           make_timestamp(assigned_us),
           make_timestamp(touch_us),
           touch_us IS NOT NULL AND u(i, 17) < {conversion},
           'USD',
           make_timestamp(coalesce(touch_us, assigned_us)),
           1, {import_id}, 'bench', i + 1
    FROM (
        SELECT i, p, assigned_us,
               -- a touch after the end of the window has not happened yet: untouched
               CASE WHEN touch_us < {end_us} THEN touch_us END AS touch_us
        FROM (
            SELECT i,
                   {partner_pick_sql("i", 12, sizes.partners)} AS p,
                   {start_us} + floor(u(i, 15) * {span_s})::BIGINT * 1000000 AS assigned_us,
                   CASE WHEN u(i, 13) < {TOUCHED_SHARE} THEN assigned_us
                       + least(1e9, round(exp({math.log(TOUCH_MEDIAN_HOURS)!r}
                                            + {TOUCH_SIGMA} * z(i, 18)) * 3600))::BIGINT * 1000000
                   END AS touch_us
            FROM range({first}, {first + count}) r(i)
        )
    )
    """


def product_families_sql() -> str:
    per = PRODUCTS // FAMILIES
    return f"""
    INSERT INTO product_families (product, family, updated_at, _import_id, _source_file,
                                  _source_row)
    SELECT 'Product ' || lpad((i + 1)::VARCHAR, 2, '0'), 'Family ' || (i // {per} + 1),
           TIMESTAMP '2023-01-01 00:00:00', 1, 'bench', i + 1
    FROM range({PRODUCTS}) r(i)
    """


def support_cases_sql(sizes: Sizes) -> str:
    start_us, end_us = epoch_us(WINDOW_START), epoch_us(WINDOW_END)
    span_s = (end_us - start_us) // 1_000_000
    count = max(1, round(sizes.opportunities * CASES_PER_OPPORTUNITY))
    # salts 31..40; response: lognormal around 2 h, resolution: around 12 h after the response
    return f"""
    INSERT INTO support_cases (case_id, partner_id, priority, opened_at, first_response_at,
                               resolved_at, first_contact_resolution, escalated, csat, updated_at,
                               _import_id, _source_file, _source_row)
    SELECT 'C' || lpad(i::VARCHAR, 10, '0'), {partner_id_sql("p", sizes.partners)},
           CASE WHEN u(i, 33) < {CRITICAL_SHARE} THEN 'critical' ELSE 'standard' END,
           make_timestamp(opened_us), make_timestamp(response_us),
           make_timestamp(CASE WHEN resolved_us < {end_us} THEN resolved_us END),
           u(i, 34) < {FCR_SHARE}, u(i, 35) < {ESCALATED_SHARE},
           CASE WHEN u(i, 36) < 0.3 THEN 1 + floor(u(i, 37) * 5) END,
           make_timestamp(opened_us), 1, 'bench', i + 1
    FROM (
        SELECT *, response_us + least(1e9, round(exp(ln(12) + z(i, 38)) * 3600))::BIGINT
                  * 1000000 AS resolved_us
        FROM (
            SELECT i, {partner_pick_sql("i", 31, sizes.partners)} AS p,
                   {start_us} + floor(u(i, 32) * {span_s})::BIGINT * 1000000 AS opened_us,
                   opened_us + least(1e9, round(exp(ln(2) + z(i, 39)) * 3600))::BIGINT * 1000000
                       AS response_us
            FROM range({count}) r(i)
        )
    )
    """


def subscriptions_sql(sizes: Sizes) -> str:
    count = sizes.partners * TERMS_PER_PARTNER
    days = (WINDOW_END - WINDOW_START).days
    # a one-year term starting in the window or up to 354 days before it, so that every
    # renewal (10 days before the term ends) falls in the window: a month before it would
    # give the run a quarter the hand-written query has no rows for
    return f"""
    INSERT INTO subscriptions (contract_id, partner_id, account_id, start_date, end_date,
                               recurring_value, outcome, renewed_at, renewal_value, currency,
                               updated_at, fx_rate, recurring_value_local, renewal_value_local,
                               _import_id, _source_file, _source_row)
    SELECT 'K' || lpad(i::VARCHAR, 10, '0'),
           {partner_id_sql(f"i % {sizes.partners}", sizes.partners)},
           'A' || lpad(floor(u(i, 41) * {sizes.accounts})::BIGINT::VARCHAR, 7, '0'),
           start_date, end_date, value, outcome,
           CASE WHEN outcome NOT IN ('open', 'churned') THEN end_date - 10 END,
           renewal, 'USD', TIMESTAMP '2023-01-01 00:00:00', 1, value, renewal, 1, 'bench', i + 1
    FROM (
        SELECT *, CASE outcome WHEN 'renewed' THEN value
                               WHEN 'expanded' THEN round(value * 1.2, 2)
                               WHEN 'contracted' THEN round(value * 0.8, 2) END AS renewal
        FROM (
            SELECT i, start_date, (start_date + 364)::DATE AS end_date,
                   round(1000 + exp(8 + z(i, 42)), 2)::DECIMAL(18,2) AS value,
                   CASE WHEN end_date >= {sql_literal(WINDOW_END)} THEN 'open'
                        WHEN u(i, 43) < 0.10 THEN 'churned' WHEN u(i, 43) < 0.25 THEN 'expanded'
                        WHEN u(i, 43) < 0.30 THEN 'contracted' ELSE 'renewed' END AS outcome
            FROM (SELECT i, ({sql_literal(WINDOW_START)} - 354
                             + floor(u(i, 44) * {days + 354})::INTEGER)::DATE AS start_date
                  FROM range({count}) r(i))
        )
    )
    """


def partner_surveys_sql(sizes: Sizes) -> str:
    count = sizes.partners * SURVEYS_PER_PARTNER
    return f"""
    INSERT INTO partner_surveys (response_id, partner_id, sent_at, responded_at, satisfaction,
                                 recommend, updated_at, _import_id, _source_file, _source_row)
    SELECT 'S' || lpad(i::VARCHAR, 9, '0'),
           {partner_id_sql(f"i // {SURVEYS_PER_PARTNER}", sizes.partners)},
           sent, CASE WHEN answered THEN sent + INTERVAL 3 DAY END,
           CASE WHEN answered THEN least(10, greatest(0, round(8 + 1.5 * z(i, 51)))) END,
           CASE WHEN answered THEN least(10, greatest(0, round(7.5 + 2 * z(i, 53)))) END,
           sent, 1, 'bench', i + 1
    FROM (SELECT i, u(i, 55) < 0.6 AS answered,
                 make_timestamp({epoch_us(WINDOW_START)} + ((i % {SURVEYS_PER_PARTNER}) * 365
                                + 180)::BIGINT * {86400 * 1_000_000}) AS sent
          FROM range({count}) r(i))
    """


def audits_sql(sizes: Sizes) -> str:
    count = sizes.partners * AUDITS_PER_PARTNER
    days = (WINDOW_END - WINDOW_START).days
    categories = (
        "['margin_requirements', 'certification_standards', 'marketing_guidelines', "
        "'data_security', 'anti_corruption']"
    )
    return f"""
    INSERT INTO audits (audit_id, partner_id, audited_at, category, weight, passed, updated_at,
                        _import_id, _source_file, _source_row)
    SELECT 'AU' || lpad(i::VARCHAR, 9, '0'),
           {partner_id_sql(f"i // {AUDITS_PER_PARTNER}", sizes.partners)},
           ({sql_literal(WINDOW_START)} + floor(u(i, 61) * {days})::INTEGER)::DATE,
           {categories}[1 + floor(u(i, 62) * 5)::BIGINT], 1, u(i, 63) < 0.85,
           TIMESTAMP '2023-01-01 00:00:00', 1, 'bench', i + 1
    FROM range({count}) r(i)
    """


def audit_findings_sql() -> str:
    return f"""
    INSERT INTO audit_findings (finding_id, audit_id, partner_id, severity, finding, due_at,
                                closed_at, updated_at, _import_id, _source_file, _source_row)
    SELECT 'F' || substr(audit_id, 3), audit_id, partner_id,
           ['low', 'medium', 'high', 'critical'][1 + floor(u(k, 71) * 4)::BIGINT],
           'finding', audited_at + 60,
           CASE WHEN u(k, 72) < 0.7 THEN audited_at + floor(u(k, 73) * 90)::INTEGER END,
           TIMESTAMP '2023-01-01 00:00:00', 1, 'bench', row_number() OVER (ORDER BY audit_id)
    FROM (SELECT *, hash(audit_id) AS k FROM audits WHERE NOT passed OR u(hash(audit_id), 74) < 0.3)
    WHERE audited_at + 90 < {sql_literal(WINDOW_END)} OR u(k, 72) >= 0.7
    """


def territories_sql(sizes: Sizes) -> str:
    return f"""
    INSERT INTO territories (territory_id, name, country, region, is_target, updated_at,
                             _import_id, _source_file, _source_row)
    SELECT 'T' || lpad(i::VARCHAR, 3, '0'), 'Territory ' || (i + 1), 'C' || (i + 1),
           ['North America', 'EMEA', 'APAC', 'LATAM'][1 + i % 4], true,
           TIMESTAMP '2023-01-01 00:00:00', 1, 'bench', i + 1
    FROM range({TERRITORIES}) r(i)
    """


def generate(paths: Paths, sizes: Sizes, console: Console) -> dict[str, Any]:
    """Build the warehouse for (scale, seed) under a temporary name; rename it when complete."""
    target = paths.warehouse
    partial = target.with_name(target.stem + ".partial.duckdb")
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    window = (WINDOW_START, WINDOW_END)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("partners", lambda: partners_sql(sizes)),
        ("targets", lambda: targets_sql(sizes)),
        ("opportunities", lambda: opportunities_sql(sizes, 0, sizes.opportunities, *window, 1)),
        ("leads", lambda: leads_sql(sizes, 0, sizes.leads, *window, 1)),
        ("product_families", product_families_sql),
        ("support_cases", lambda: support_cases_sql(sizes)),
        ("subscriptions", lambda: subscriptions_sql(sizes)),
        ("partner_surveys", lambda: partner_surveys_sql(sizes)),
        ("audits", lambda: audits_sql(sizes)),
        ("audit_findings", audit_findings_sql),
        ("territories", lambda: territories_sql(sizes)),
    ]
    stats: dict[str, Any] = {
        "generator": GENERATOR_VERSION,
        "scale": sizes.scale,
        "seed": paths.seed,
        "tables": {},
    }
    began = time.perf_counter()
    warehouse = Warehouse(partial)  # creates every canonical table
    con = warehouse.con
    try:
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        define_macros(con, paths.seed)
        # lineage says import 1: take it from the ledger's sequence, so that the next gets 2
        con.execute("SELECT nextval('_import_seq')")
        for table, build in steps:
            with console.status(f"generating {table} …"):
                started = time.perf_counter()
                con.execute(build())
                elapsed = time.perf_counter() - started
            rows = _count(con, table)
            stats["tables"][table] = {"rows": rows, "seconds": elapsed}
            console.print(
                f"  {table:<14} {rows:>12,} rows  {elapsed:7.1f} s  "
                f"{rows / elapsed if elapsed else 0:>12,.0f} rows/s"
            )
        for table, _ in steps:
            record_import(con, table, 1)
        with console.status("checkpoint …"):
            started = time.perf_counter()
            con.execute("CHECKPOINT")
            stats["checkpoint_seconds"] = time.perf_counter() - started
    finally:
        warehouse.close()
    stats["seconds"] = time.perf_counter() - began
    partial.rename(target)
    stats["bytes"] = target.stat().st_size
    paths.stats.write_text(json.dumps(stats, indent=2), encoding="utf-8")
    return stats


def cached_stats(paths: Paths) -> dict[str, Any] | None:
    """The generation record of a cached warehouse made by this version of the generator."""
    if not paths.warehouse.exists() or not paths.stats.exists():
        return None
    stats: dict[str, Any] = json.loads(paths.stats.read_text(encoding="utf-8"))
    return stats if stats.get("generator") == GENERATOR_VERSION else None


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return int(row[0]) if row else 0


#: The earliest business date of a row, as the ingester records it in _imports.changed_from.
FIRST_DATE = {
    "partners": "joined_at",
    "targets": "period_start",
    "opportunities": "created_at",
    "leads": "assigned_at",
    "product_families": "updated_at",
    "support_cases": "opened_at",
    "subscriptions": "start_date",
    "partner_surveys": "sent_at",
    "audits": "audited_at",
    "audit_findings": "due_at",
    "territories": "updated_at",
}


def record_import(con: duckdb.DuckDBPyConnection, table: str, import_id: int) -> None:
    """The import ledger row an ingest of these rows would have written: the engine's
    incremental runs read what changed (and from which date) there."""
    con.execute(
        f"""
        INSERT INTO _imports (import_id, batch_id, source, entity, file, rows_in, loaded,
                              quarantined, records, inserted, updated, unchanged, superseded,
                              started_at, finished_at, changed_from)
        SELECT {import_id}, {import_id}, 'bench', '{table}', 'bench', n, n, 0, n, n, 0, 0, 0,
               now()::TIMESTAMP, now()::TIMESTAMP, first
        FROM (SELECT count(*) AS n, min({FIRST_DATE[table]})::TIMESTAMP AS first
              FROM "{table}" WHERE _import_id = {import_id})
        """
    )


def append_month(warehouse: Path, sizes: Sizes, seed: int) -> dict[str, int]:
    """One more month (2026-01) of opportunities and leads after the existing ids, recorded in
    the import ledger as one import."""
    with Warehouse(warehouse) as wh:  # upgrades an older warehouse's ledger too
        con = wh.con
        define_macros(con, seed)
        row = con.execute("SELECT nextval('_import_seq')").fetchone()
        import_id = int(row[0]) if row else 2
        first_opp, first_lead = _count(con, "opportunities"), _count(con, "leads")
        month = (EXTRA_START, EXTRA_END)
        with wh.transaction():
            con.execute(
                opportunities_sql(sizes, first_opp, sizes.extra_opportunities, *month, import_id)
            )
            con.execute(leads_sql(sizes, first_lead, sizes.extra_leads, *month, import_id))
            record_import(con, "opportunities", import_id)
            record_import(con, "leads", import_id)
        con.execute("CHECKPOINT")
    return {"opportunities": sizes.extra_opportunities, "leads": sizes.extra_leads}


def data_shape(warehouse: Path) -> list[str]:
    con = connect(warehouse, read_only=True)
    try:
        opp = con.execute(
            """
            SELECT count(*),
                   avg((partner_id IS NULL)::INTEGER),
                   avg((status = 'won')::INTEGER), avg((status = 'lost')::INTEGER),
                   avg((status = 'open')::INTEGER),
                   median(amount)::DOUBLE, avg(amount)::DOUBLE,
                   count(DISTINCT partner_id)
            FROM opportunities
            """
        ).fetchone()
        leads = con.execute(
            f"""
            SELECT count(*), avg((first_touch_at IS NOT NULL)::INTEGER),
                   avg((converted)::INTEGER),
                   median(epoch(first_touch_at - assigned_at) / 3600),
                   avg((epoch(first_touch_at - assigned_at) <= {SLA_HOURS * 3600})::INTEGER)
            FROM leads
            """
        ).fetchone()
        top = con.execute(
            """
            WITH c AS (SELECT partner_id, count(*) AS n FROM opportunities
                       WHERE partner_id IS NOT NULL GROUP BY ALL)
            SELECT sum(n) FILTER (WHERE r <= greatest(1, (SELECT count(*) FROM c) // 100))
                       / sum(n),
                   min(n), median(n), max(n)
            FROM (SELECT n, row_number() OVER (ORDER BY n DESC) AS r FROM c)
            """
        ).fetchone()
    finally:
        con.close()
    if opp is None or leads is None or top is None:
        return []
    return [
        f"opportunities {opp[0]:,}: {opp[1]:.1%} direct, {opp[2]:.1%} won, {opp[3]:.1%} lost, "
        f"{opp[4]:.1%} open; amount median {opp[5]:,.0f}, mean {opp[6]:,.0f}; "
        f"{opp[7]:,} partners with deals",
        f"deals per partner: min {top[1]:,}, median {top[2]:,.0f}, max {top[3]:,}; the top 1 % "
        f"of partners hold {top[0]:.1%} of partner deals",
        f"leads {leads[0]:,}: {leads[1]:.1%} touched (median response {leads[3]:.2f} h, "
        f"{leads[4]:.1%} of all leads touched within {SLA_HOURS:g} h), {leads[2]:.1%} converted",
    ]


# ---- 2. baseline (a): one hand-written DuckDB query ------------------------------------------


def hand_sql(as_of: datetime = AS_OF, sla_hours: float = SLA_HOURS) -> str:
    """The core metrics per partner × quarter (METRICS.md) as one query over the warehouse."""
    sla_us = round(sla_hours * 3600 * 1_000_000)
    return f"""
    WITH opp AS (
        SELECT partner_id, status, amount, created_at, closed_at,
               date_trunc('quarter', created_at)::DATE AS created_q,
               date_trunc('quarter', closed_at)::DATE AS closed_q
        FROM opportunities
        WHERE partner_id IS NOT NULL
    ),
    closed AS (  -- in period = closed_at in the quarter
        SELECT partner_id, closed_q AS q,
               coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS won_revenue,
               count(*) FILTER (WHERE status = 'won') AS won_deals,
               count(*) FILTER (WHERE status = 'lost') AS lost_deals,
               avg((epoch_us(closed_at) - epoch_us(created_at)) / 86400e6)
                   FILTER (WHERE status = 'won') AS sales_cycle_days,
               -- leaving the open pipeline after this quarter's end
               count(*) AS ended_deals,
               coalesce(sum(amount), 0) AS ended_amount
        FROM opp
        WHERE closed_at IS NOT NULL
        GROUP BY ALL
    ),
    created AS (
        SELECT partner_id, created_q AS q, count(*) AS created_deals,
               coalesce(sum(amount), 0) AS new_pipeline
        FROM opp
        GROUP BY ALL
    ),
    lead_q AS (
        SELECT partner_id, date_trunc('quarter', assigned_at)::DATE AS q,
               count(*) AS leads_assigned,
               count(*) FILTER (WHERE response_us <= {sla_us}) AS sla_met,
               count(*) FILTER (WHERE first_touch_at IS NOT NULL
                   OR assigned_at <= {sql_literal(as_of)} - INTERVAL {sla_us} MICROSECOND)
                   AS sla_due,
               median(response_us / 3600e6) AS median_response_hours,
               count(*) FILTER (WHERE converted) AS converted
        FROM (
            SELECT partner_id, assigned_at, first_touch_at, converted,
                   epoch_us(first_touch_at) - epoch_us(assigned_at) AS response_us
            FROM leads
            WHERE partner_id IS NOT NULL
        )
        GROUP BY ALL
    ),
    quarters AS (
        SELECT unnest(generate_series(min(q), max(q), INTERVAL 3 MONTH))::DATE AS q
        FROM (SELECT q FROM created UNION ALL SELECT q FROM closed UNION ALL SELECT q FROM lead_q)
    ),
    grid AS (  -- every quarter of every partner with a deal
        SELECT p.partner_id, quarters.q
        FROM (SELECT DISTINCT partner_id FROM created) p CROSS JOIN quarters
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
           x.won_revenue::DOUBLE / nullif(x.won_deals, 0) AS avg_deal_size,
           x.sales_cycle_days,
           coalesce(c.new_pipeline, 0) AS new_pipeline,
           coalesce(o.open_deals, 0)::BIGINT AS open_deals,
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


def sql_metrics(warehouse: Path) -> Any:
    """The hand-written query, materialized to an Arrow table."""
    con = connect(warehouse, read_only=True)
    try:
        return con.sql(hand_sql()).to_arrow_table()
    finally:
        con.close()


# ---- 3. baseline (b): pandas -----------------------------------------------------------------


def pandas_metrics(
    warehouse: Path, notes: dict[str, float], as_of: datetime = AS_OF, sla_hours: float = SLA_HOURS
) -> Any:
    """The same metrics with idiomatic pandas, from the columns read out of the warehouse
    through Arrow (``.to_arrow_table().to_pandas()``: DuckDB's ``.df()`` builds the text
    columns through Python objects and takes about seven times as long). Money is read as
    integer cents, so that its sums are exact, and reported in currency units."""
    pd = pandas_module()
    started = time.perf_counter()
    con = connect(warehouse, read_only=True)
    try:
        opp = (
            con.sql(
                "SELECT partner_id, status, (amount * 100)::BIGINT AS cents, created_at, closed_at "
                "FROM opportunities"
            )
            .to_arrow_table()
            .to_pandas()
        )
        leads = (
            con.sql("SELECT partner_id, assigned_at, first_touch_at, converted FROM leads")
            .to_arrow_table()
            .to_pandas()
        )
    finally:
        con.close()
    notes["load s"] = time.perf_counter() - started
    keys = ["partner_id", "q"]

    # opportunities: won / lost by the quarter they closed in, new pipeline by the one created in
    opp = opp[opp["partner_id"].notna()]
    opp = opp.assign(
        created_q=opp["created_at"].dt.to_period("Q"), closed_q=opp["closed_at"].dt.to_period("Q")
    )
    closed = opp[opp["closed_at"].notna()]
    won = closed[closed["status"] == "won"]
    won = won.assign(cycle_days=(won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400)
    won_g = (
        won.groupby(["partner_id", "closed_q"])
        .agg(
            won_revenue=("cents", "sum"),
            won_deals=("cents", "size"),
            sales_cycle_days=("cycle_days", "mean"),
        )
        .rename_axis(keys)
    )
    lost_g = (
        closed[closed["status"] == "lost"]
        .groupby(["partner_id", "closed_q"])
        .size()
        .rename("lost_deals")
        .rename_axis(keys)
    )
    created = (
        opp.groupby(["partner_id", "created_q"])
        .agg(n=("cents", "size"), cents=("cents", "sum"))
        .rename_axis(keys)
    )
    ended = (
        closed.groupby(["partner_id", "closed_q"])
        .agg(n=("cents", "size"), cents=("cents", "sum"))
        .rename_axis(keys)
    )

    # leads, by the quarter they were assigned in
    leads = leads[leads["partner_id"].notna()]
    response_h = (leads["first_touch_at"] - leads["assigned_at"]).dt.total_seconds() / 3600
    due_before = pd.Timestamp(as_of) - pd.Timedelta(hours=sla_hours)
    leads = leads.assign(
        q=leads["assigned_at"].dt.to_period("Q"),
        response_h=response_h,
        met=response_h <= sla_hours,
        due=leads["first_touch_at"].notna() | (leads["assigned_at"] <= due_before),
        conv=leads["converted"].fillna(False).astype(bool),
    )
    lead_g = leads.groupby(keys).agg(
        leads_assigned=("conv", "size"),
        sla_met=("met", "sum"),
        sla_due=("due", "sum"),
        median_response_hours=("response_h", "median"),
        converted=("conv", "sum"),
    )

    # open at quarter end: cumulative (created − closed) over every quarter of every partner
    quarters_seen = [f.index.get_level_values("q") for f in (created, ended, lead_g) if len(f)]
    first_q = min(q.min() for q in quarters_seen)
    last_q = max(q.max() for q in quarters_seen)
    grid = pd.MultiIndex.from_product(
        [created.index.unique("partner_id"), pd.period_range(first_q, last_q, freq="Q")],
        names=keys,
    )
    flow = created.reindex(grid, fill_value=0) - ended.reindex(grid, fill_value=0)
    open_q = (
        flow.groupby(level="partner_id")
        .cumsum()
        .rename(columns={"n": "open_deals", "cents": "open_pipeline"})
    )

    result = pd.concat(
        [
            won_g,
            lost_g,
            created["cents"].rename("new_pipeline"),
            open_q[open_q["open_deals"] > 0],
            lead_g,
        ],
        axis=1,
    )
    counts = ("won_deals", "lost_deals", "open_deals", "leads_assigned", "sla_met", "sla_due")
    for column in (*counts, "converted"):
        result[column] = result[column].fillna(0).astype("int64")
    for column in ("won_revenue", "new_pipeline", "open_pipeline"):  # cents -> currency units
        result[column] = result[column].fillna(0).astype("int64") / 100
    closed_deals = result["won_deals"] + result["lost_deals"]
    result["win_rate"] = result["won_deals"] / closed_deals.where(closed_deals > 0)
    result["avg_deal_size"] = result["won_revenue"] / result["won_deals"].where(
        result["won_deals"] > 0
    )
    result["lead_sla_rate"] = result["sla_met"] / result["sla_due"].where(result["sla_due"] > 0)
    result["lead_conversion_rate"] = result["converted"] / result["leads_assigned"].where(
        result["leads_assigned"] > 0
    )
    result = result.rename_axis(keys).reset_index()
    result["period_start"] = result["q"].dt.start_time
    return result[["partner_id", "period_start", *METRICS]].sort_values(
        ["partner_id", "period_start"], ignore_index=True
    )


# ---- 4./5. one process per contender ---------------------------------------------------------


class Unavailable(Exception):
    """The contender's code does not exist (yet)."""


def load_libraries() -> None:
    """Import what any contender computes with: every contender does this before its clock
    starts, so that no wall time includes loading a library (each is loaded once per process;
    ``process s`` still counts it). pyarrow imports pandas as soon as it converts a Python value,
    and the engine imports Ibis and its DuckDB backend on its first computation."""
    pandas_module()
    importlib.import_module("pyarrow.parquet")
    importlib.import_module("ibis").duckdb  # noqa: B018 - the attribute loads the backend


def _engine() -> Any:
    try:
        return importlib.import_module("partnerscope.metrics.engine")
    except ImportError as exc:
        raise Unavailable(f"cannot import partnerscope.metrics.engine: {exc}") from None


def _workspace_run(paths: Paths) -> Callable[..., Any]:
    from partnerscope.workspace import Workspace

    _engine()
    workspace = Workspace.open(paths.workspace)
    run: Callable[..., Any] | None = getattr(workspace, "run", None)
    if run is None:
        raise Unavailable("partnerscope.workspace.Workspace has no run() yet")
    return run


def measure(name: str, paths: Paths) -> Outcome:
    """Run one contender in this process and say how long its work took."""
    import pyarrow.parquet as pq

    outcome = Outcome(name)
    started = time.perf_counter()
    load_libraries()
    outcome.notes["import s"] = time.perf_counter() - started
    if name == PROBE:
        # the floor: what a child that only imports the libraries peaks at
        started = time.perf_counter()
        _engine()
        outcome.notes["engine import s"] = time.perf_counter() - started
        if getattr(importlib.import_module("partnerscope.workspace").Workspace, "run", None):
            outcome.message = "engine and Workspace.run available"
        else:
            outcome.message = "engine available; Workspace.run is not"
        return outcome
    if name == "sql":
        started = time.perf_counter()
        table = sql_metrics(paths.warehouse)
        outcome.seconds = time.perf_counter() - started
        outcome.rows = table.num_rows
        pq.write_table(table, paths.result(name))
    elif name == "pandas":
        started = time.perf_counter()
        frame = pandas_metrics(paths.warehouse, outcome.notes)
        outcome.seconds = time.perf_counter() - started
        outcome.rows = len(frame)
        frame.to_parquet(paths.result(name), index=False)
    elif name == "core":
        from partnerscope.config import Config

        started = time.perf_counter()
        compute_metrics = _engine().compute_metrics
        outcome.notes["import s"] += time.perf_counter() - started
        started = time.perf_counter()
        con = connect(paths.warehouse, read_only=True)
        try:
            table = compute_metrics(
                con,
                Config(),
                list(METRICS),
                grains=("quarter",),
                levels=("partner",),
                as_of=AS_OF,
            )
        finally:
            con.close()
        outcome.seconds = time.perf_counter() - started
        outcome.rows = table.num_rows
        pq.write_table(table, paths.result(name))
    elif name in ("run", "incremental"):
        started = time.perf_counter()
        run = _workspace_run(paths)
        outcome.notes["import s"] += time.perf_counter() - started
        started = time.perf_counter()
        if name == "run":
            manifest = run(as_of=AS_OF.replace(tzinfo=UTC), full=True)
        else:
            manifest = run(as_of=AS_OF_INCREMENTAL.replace(tzinfo=UTC))
        outcome.seconds = time.perf_counter() - started
        outcome.message = describe_manifest(manifest)
        rows = getattr(manifest, "rows", None)
        outcome.rows = rows if isinstance(rows, int) else None
    else:
        raise ValueError(name)
    return outcome


def describe_manifest(manifest: Any) -> str:
    """What the run says it did, as far as its manifest tells."""
    mode, reason = getattr(manifest, "mode", None), getattr(manifest, "reason", None)
    return ": ".join(str(v) for v in (mode, reason) if v)


def child_main(name: str, paths: Paths) -> int:
    try:
        outcome = measure(name, paths)
    except Unavailable as exc:
        outcome = Outcome(name, status="unavailable", message=str(exc))
    except Exception as exc:
        traceback.print_exc()
        outcome = Outcome(name, status="failed", message=f"{type(exc).__name__}: {exc}")
    outcome.peak_mb = vm_hwm_mb()
    print("RESULT " + json.dumps(asdict(outcome)), flush=True)
    return 0


def spawn(name: str, args: argparse.Namespace, console: Console) -> Outcome:
    """Run ``--only name`` in a child process: wall, CPU (os.wait4) and peak memory (VmHWM)."""
    load = os.getloadavg()[0]
    with console.status(f"{LABELS.get(name, name)} …"):
        child = run_child(__file__, name, *child_options(args))
    for line in child.lines:
        console.print(f"  [dim]{name}: {line}[/dim]", highlight=False, markup=False)
    if child.result is None:
        outcome = Outcome(
            name, status="failed", message=f"the child exited with {child.exit_code}, no result"
        )
    else:
        outcome = Outcome(**child.result)
    outcome.process_seconds = child.seconds
    outcome.load_before = load
    outcome.cpu_seconds = child.cpu_seconds
    outcome.maxrss_mb = child.maxrss_mb
    if outcome.peak_mb is None:  # no /proc: the best there is
        outcome.peak_mb = outcome.maxrss_mb
    return outcome


def child_options(args: argparse.Namespace) -> list[str]:
    """The options a child process is run with: the parent's scale, seed and folder."""
    return ["--scale", repr(args.scale), "--seed", str(args.seed), "--out", str(args.out)]


def spawn_rounds(
    names: list[str], args: argparse.Namespace, console: Console
) -> dict[str, Outcome]:
    """``--repeat`` rounds of contenders that change nothing, each round one run of each (so
    a change in the machine's load falls on all of them alike); each one's fastest run is
    reported."""
    runs: dict[str, list[Outcome]] = {name: [] for name in names}
    for round_ in range(args.repeat):
        for name in round_order(names, round_):
            runs[name].append(spawn(name, args, console))
    best = {name: _fastest(outcomes) for name, outcomes in runs.items()}
    if "sql" in runs and args.repeat > 1:
        # the runs of one round met the same load: their ratio moves less than the best times'
        for name in [n for n in names if n != "sql"]:
            ratios = [
                o.seconds / s.seconds
                for o, s in zip(runs[name], runs["sql"], strict=True)
                if o.seconds and s.seconds
            ]
            if ratios:
                best[name].notes["× SQL per round, median"] = statistics.median(ratios)
    return best


def round_order(names: list[str], round_: int) -> list[str]:
    """The others first, then the hand-written query and partnerscope core back to back, each
    of the two first in every other round: a run right after pandas' 20 s of full load can be
    slower (4.7 s against 3.8 s once), and it must not always be the same contender's."""
    compared = [n for n in ("sql", "core") if n in names]
    rest = [n for n in names if n not in compared]
    return rest + (compared if round_ % 2 == 0 else compared[::-1])


def _fastest(runs: list[Outcome]) -> Outcome:
    done = [o for o in runs if o.status == "ok" and o.seconds is not None]
    if not done:
        return runs[-1]
    best = min(done, key=lambda o: o.seconds or 0.0)
    if len(runs) > 1:
        best.notes[f"slowest of {len(runs)}"] = max(o.seconds or 0.0 for o in done)
    return best


# ---- comparing results -----------------------------------------------------------------------


def result_table(result: Path | Any, engine_output: bool = False) -> Any:
    """A contender's partner × quarter rows as an Arrow table: partner_id, period_start (a
    date) and the metrics it has (the engine's output: its partner level at the quarter grain,
    group_key renamed). ``result`` is a Parquet file or an Arrow table."""
    con = duckdb.connect()
    try:
        if isinstance(result, Path):
            source = f"read_parquet('{result}')"
        else:
            con.register("result", result)
            source = "result"
        if engine_output:
            source = (
                f"(SELECT group_key AS partner_id, * EXCLUDE (group_key) FROM {source} "
                "WHERE level = 'partner' AND grain = 'quarter')"
            )
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        metrics = ", ".join(m for m in METRICS if m in have)
        return con.sql(
            f"SELECT partner_id, period_start::DATE AS period_start, {metrics} FROM {source}"
        ).to_arrow_table()
    finally:
        con.close()


def compare_results(
    reference: Any, other: Any, names: tuple[str, str], corrupt: bool = False
) -> parity.Comparison:
    """Two contenders' partner × quarter rows on a full outer join of (partner_id,
    period_start): counts exactly, money exactly in cents, the other values within
    RELATIVE_TOLERANCE."""
    if corrupt:
        other = parity.corrupt(other, ("partner_id", "period_start"))
    return parity.compare(
        reference,
        other,
        ("partner_id", "period_start"),
        names=names,
        columns=METRICS,
        exact=COUNT_METRICS,
        rel_tol=RELATIVE_TOLERANCE,
    )


def workspace_results(paths: Paths, out: Path) -> Path:
    """The results of the latest run of the benchmark's workspace, written to ``out`` (the
    parent process reads them after the run's child has exited, untimed)."""
    import pyarrow.parquet as pq

    from partnerscope.runs import read_results
    from partnerscope.workspace import Workspace

    pq.write_table(read_results(Workspace.open(paths.workspace)), out)
    return out


def agreement(
    outcomes: dict[str, Outcome], paths: Paths, console: Console, corrupt: bool
) -> dict[str, parity.Comparison]:
    """Every contender that computed the core metrics against the hand-written query: pandas,
    partnerscope core, the full run (its partner × quarter rows) and the incremental run
    (against the hand-written query as of its own time, on the warehouse with the new month)."""
    done = {n for n, o in outcomes.items() if o.status == "ok"}
    found: dict[str, parity.Comparison] = {}
    if "sql" not in done:
        return found
    sql = result_table(paths.result("sql"))
    first = True
    for name in ("pandas", "core", "run"):
        if name not in done:
            continue
        other = result_table(paths.result(name), engine_output=name != "pandas")
        found[name] = compare_results(
            sql, other, (LABELS["sql"], LABELS[name]), corrupt=corrupt and first
        )
        first = False
    if "incremental" in done:
        warehouse = paths.workspace / "state" / "warehouse.duckdb"
        con = connect(warehouse, read_only=True)
        try:
            later = con.sql(hand_sql(as_of=AS_OF_INCREMENTAL)).to_arrow_table()
        finally:
            con.close()
        ours = result_table(paths.result("incremental"), engine_output=True)
        label = f"{LABELS['sql']} as of {AS_OF_INCREMENTAL:%Y-%m-%d}"
        found["incremental"] = compare_results(later, ours, (label, LABELS["incremental"]))
    for comparison in found.values():
        parity.print_lines(comparison.lines(), console)
    return found


# ---- the run ---------------------------------------------------------------------------------


def prepare_workspace(paths: Paths) -> float:
    """A fresh workspace whose warehouse is a copy of the generated one (a copy, never a hard
    link: DuckDB writes in place, and the incremental contender appends to it)."""
    started = time.perf_counter()
    root = paths.workspace
    if root.exists():
        shutil.rmtree(root)
    (root / "state").mkdir(parents=True)
    (root / "partnerscope.toml").write_text('[workspace]\nname = "bench"\n', encoding="utf-8")
    shutil.copyfile(paths.warehouse, root / "state" / "warehouse.duckdb")
    return time.perf_counter() - started


def warm_cache(path: Path) -> float:
    """Read the warehouse file once so that no contender pays for the first disk read."""
    started = time.perf_counter()
    with path.open("rb") as fh:
        while fh.read(16 * 2**20):
            pass
    return time.perf_counter() - started


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def print_results(console: Console, outcomes: dict[str, Outcome]) -> None:
    base = outcomes.get("sql")
    base_s = base.seconds if base and base.status == "ok" else None
    table = Table(title="metric engines, core metrics per partner × quarter", title_justify="left")
    table.add_column("contender")
    table.add_column("wall s", justify="right")
    table.add_column("process s", justify="right")
    table.add_column("cpu s", justify="right")
    table.add_column("peak MB", justify="right")
    table.add_column("rows out", justify="right")
    table.add_column("× SQL", justify="right")
    table.add_column("notes")
    for name, o in outcomes.items():
        if o.status != "ok":
            table.add_row(LABELS[name], "—", fmt(o.process_seconds), "—", "—", "—", "—", o.message)
            continue
        notes = ", ".join(
            [f"{k} {v:.2f}" for k, v in o.notes.items()] + [o.message] * bool(o.message)
        )
        table.add_row(
            LABELS[name],
            fmt(o.seconds),
            fmt(o.process_seconds),
            fmt(o.cpu_seconds),
            fmt(o.peak_mb, ",.0f"),
            fmt(None if o.rows is None else float(o.rows), ",.0f"),
            f"{o.seconds / base_s:.2f}×" if base_s and o.seconds else "—",
            notes,
        )
    console.print(table)
    pandas = outcomes.get("pandas")
    if pandas and pandas.status == "ok" and pandas.seconds:
        for name in ("core", "run"):
            ours = outcomes.get(name)
            if ours and ours.status == "ok" and ours.seconds:
                console.print(
                    f"pandas ÷ {LABELS[name]}: {pandas.seconds / ours.seconds:.2f}× "
                    f"(time), {(pandas.peak_mb or 0) / (ours.peak_mb or 1):.2f}× (peak memory)"
                )


def parse_contenders(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown contender {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}"
        )
    return [n for n in CONTENDERS if n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="partnerscope metric engine vs hand-written DuckDB SQL and pandas"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiplies every row count; 1 = 20,000 partners, 10M opportunities, 20M leads "
        "(default 1; 0.01 for a quick check)",
    )
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "out" / "metrics",
        help="cached warehouses, results and the workspace (default bench/out/metrics)",
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="build the warehouse even if it is cached"
    )
    parser.add_argument(
        "--contenders",
        type=parse_contenders,
        default=list(CONTENDERS),
        help=f"comma-separated subset of {','.join(CONTENDERS)} (default all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of sql, pandas and core each; the fastest is reported (default 1)",
    )
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one value of the first compared contender's result and drop one of its "
        "rows before the comparison, to see it fail (exit 1)",
    )
    parser.add_argument("--only", choices=[*CONTENDERS, PROBE], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be greater than 0")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.out = args.out.resolve()
    paths = Paths(args.out, args.scale, args.seed)
    sizes = Sizes.at(args.scale)
    if args.only:
        return child_main(args.only, paths)

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 132)
    console.print("[bold]partnerscope metric engine benchmark[/bold]")
    for line in machine_info(extra_versions=f"pandas {_pandas_version()}"):
        console.print(f"  {line}")
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. the data
    console.print(
        f"\n[bold]data[/bold]  scale {args.scale:g}, seed {args.seed}: {sizes.partners:,} "
        f"partners, {sizes.opportunities:,} opportunities, {sizes.leads:,} leads, "
        f"{QUARTERS} quarters {WINDOW_START} .. {WINDOW_END - timedelta(days=1)}"
    )
    cached = None if args.regenerate else cached_stats(paths)
    if cached is not None:
        stats = cached
        console.print(
            f"  cached    {paths.warehouse}, generated in {stats['seconds']:.1f} s "
            "(--regenerate to rebuild)"
        )
    else:
        paths.warehouse.unlink(missing_ok=True)
        stats = generate(paths, sizes, console)
        console.print(
            f"  generated {sum(t['rows'] for t in stats['tables'].values()):,} rows in "
            f"{stats['seconds']:.1f} s (checkpoint {stats['checkpoint_seconds']:.1f} s), "
            f"{stats['bytes'] / 2**20:,.0f} MiB: {paths.warehouse}"
        )
    for line in data_shape(paths.warehouse):
        console.print(f"  {line}")
    console.print(
        f"  page cache: read the {paths.warehouse.stat().st_size / 2**20:,.0f} MiB file in "
        f"{warm_cache(paths.warehouse):.1f} s"
    )

    # 2.-5. the contenders, one process each
    console.print("\n[bold]contenders[/bold]  (each in its own process)")
    outcomes: dict[str, Outcome] = {}
    os.sync()  # no writeback of the generated file beside the first contender
    ours = [n for n in ("core", "run", "incremental") if n in args.contenders]
    probe = spawn(PROBE, args, console) if ours else None
    if probe is not None and probe.status != "ok":
        console.print(f"  [yellow]partnerscope contenders skipped:[/yellow] {probe.message}")
        ours = []
    elif probe is not None:
        console.print(
            f"  {probe.message}; a child that only imports duckdb, pandas, pyarrow, Ibis "
            f"and the engine peaks at {fmt(probe.peak_mb, ',.0f')} MB (libraries "
            f"{probe.notes.get('import s', 0):.2f} s, engine "
            f"{probe.notes.get('engine import s', 0):.2f} s)"
        )
    repeated = [n for n in ("sql", "pandas") if n in args.contenders]
    outcomes |= spawn_rounds(repeated + [n for n in ours if n == "core"], args, console)
    if "run" in ours or "incremental" in ours:
        console.print(f"  workspace {paths.workspace} set up in {prepare_workspace(paths):.1f} s")
        if "run" in ours:
            outcomes["run"] = spawn("run", args, console)
            if outcomes["run"].status == "ok":  # its results, before the next run is stored
                workspace_results(paths, paths.result("run"))
        if "incremental" in ours:
            if "run" not in ours:
                outcomes["incremental"] = Outcome(
                    "incremental", "unavailable", "needs the full run first (add run)"
                )
            elif outcomes["run"].status != "ok":
                outcomes["incremental"] = Outcome(
                    "incremental", "unavailable", "the full run did not succeed"
                )
            else:
                started = time.perf_counter()
                added = append_month(
                    paths.workspace / "state" / "warehouse.duckdb", sizes, args.seed
                )
                console.print(
                    f"  appended {added['opportunities']:,} opportunities and "
                    f"{added['leads']:,} leads ({EXTRA_START:%Y-%m}) in "
                    f"{time.perf_counter() - started:.1f} s"
                )
                os.sync()
                outcomes["incremental"] = spawn("incremental", args, console)
                if outcomes["incremental"].status == "ok":
                    workspace_results(paths, paths.result("incremental"))

    console.print()
    print_results(console, outcomes)
    for name, o in outcomes.items():
        if o.status == "failed":
            console.print(f"[red]{LABELS[name]} failed:[/red] {o.message}")

    # agreement
    console.print()
    comparisons = agreement(outcomes, paths, console, args.corrupt)
    failed = [LABELS[n] for n, o in outcomes.items() if o.status == "failed"]

    console.print(
        "\nwall s: the contender's work inside its process (connect, read, compute, materialize; "
        "pandas includes loading the columns); process s: the whole child, interpreter start and "
        "imports included; cpu s: user + system CPU time of the child (less sensitive than wall "
        "time to other load on the machine); peak MB: the child's maximum resident set "
        "(VmHWM); × SQL: wall time over the hand-written query's."
    )
    paths.report.write_text(
        json.dumps(
            {
                "scale": args.scale,
                "seed": args.seed,
                "machine": machine_info(extra_versions=f"pandas {_pandas_version()}"),
                "data": stats,
                "outcomes": {k: asdict(v) for k, v in outcomes.items()},
                "comparisons": {k: c.as_json() for k, c in comparisons.items()},
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    console.print(f"report: {paths.report}")
    if failed:
        console.print(f"[red]failed:[/red] {', '.join(failed)}")
    return max(parity.exit_code(comparisons.values()), 1 if failed else 0)


if __name__ == "__main__":
    sys.exit(main())
