"""The canonical data model: one typed definition per table.

The ingester, the warehouse DDL and the data-model page of the docs are all generated from
:data:`TABLES`; nothing else declares a column. Checks are DuckDB SQL over the parsed canonical
columns and run at ingest, where a failing row is quarantined with the check's message.

It stays one module: most of it is :data:`TABLES`, every table declared once and side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"
    RATE = "rate"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    CURRENCY = "currency"


#: Storage type of each column type in the warehouse. Money is exact: Decimal with cents.
SQL_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.NUMBER: "DOUBLE",
    ColumnType.MONEY: "DECIMAL(18,2)",
    ColumnType.RATE: "DECIMAL(18,8)",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.CURRENCY: "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    allowed: tuple[str, ...] = ()
    #: Value used when the source does not map the column at all.
    default: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: Table whose key this column must name (checked at ingest).
    references: str | None = None


@dataclass(frozen=True)
class Check:
    """A row rule: ``sql`` must be true (or null) for the row to load."""

    rule: str
    column: str
    sql: str
    message: str


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    #: SQL giving the date whose FX rate converts this table's money columns (METRICS.md).
    fx_date: str | None = None
    #: Tables to load before this one in the same ingest (foreign keys, FX rates).
    depends_on: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def money_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.type is ColumnType.MONEY)

    def stored_columns(self) -> Iterator[tuple[str, str]]:
        """(name, SQL type) of every warehouse column, lineage included."""
        for col in self.columns:
            yield col.name, SQL_TYPES[col.type]
        if self.money_columns:
            yield "fx_rate", SQL_TYPES[ColumnType.RATE]
            for col in self.money_columns:
                yield f"{col.name}_local", SQL_TYPES[ColumnType.MONEY]
        yield from LINEAGE_COLUMNS


#: Where each stored row came from: the import that last changed it, the file and the row there.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_import_id", "BIGINT"),
    ("_source_file", "VARCHAR"),
    ("_source_row", "BIGINT"),
)

S, INT, N, M, R = (
    ColumnType.STRING,
    ColumnType.INTEGER,
    ColumnType.NUMBER,
    ColumnType.MONEY,
    ColumnType.RATE,
)
D, TS, B, CUR = ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.BOOLEAN, ColumnType.CURRENCY

PARTNER_TYPES = ("var", "si", "distributor", "oem", "msp", "retailer", "referral", "other")


def _partner_ref(required: bool = True) -> Column:
    return Column(
        "partner_id",
        S,
        "The partner this row belongs to.",
        required=required,
        references="partners",
    )


def _currency() -> Column:
    return Column(
        "currency",
        CUR,
        "ISO 4217 code of the money columns as exported; converted to the base currency at ingest.",
        default="{base_currency}",
    )


def _updated_at() -> Column:
    return Column(
        "updated_at",
        TS,
        "Last change in the source system; when two rows share a key "
        "the newer one wins (without it, the later row wins).",
    )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "fx_rates",
            "FX rates",
            "Exchange rates into the base currency: 1 unit of `currency` = `rate` units of base. "
            "A money amount uses the latest rate on or before its reference date.",
            (
                Column("currency", CUR, "Currency converted from.", required=True),
                Column("rate_date", D, "Date the rate applies from.", required=True),
                Column(
                    "rate",
                    R,
                    "Units of base currency per unit of `currency`.",
                    required=True,
                    minimum=0.0,
                ),
                Column(
                    "base_currency",
                    CUR,
                    "Currency the rate is quoted in; must be the workspace base currency.",
                    default="{base_currency}",
                ),
            ),
            key=("currency", "rate_date"),
            checks=(
                Check("positive_rate", "rate", "rate > 0", "rate must be greater than 0"),
                Check(
                    "quoted_in_base",
                    "base_currency",
                    "base_currency = '{base_currency}'",
                    "rate is quoted in another currency than the workspace base "
                    "{base_currency}; convert it or drop the row",
                ),
            ),
        ),
        Table(
            "partners",
            "Partners",
            "Channel partners: resellers, system integrators, distributors, OEMs, MSPs.",
            (
                Column("partner_id", S, "Stable partner identifier.", required=True),
                Column("name", S, "Partner name as shown in reports.", required=True),
                Column(
                    "partner_type",
                    S,
                    "Business model; the default peer cohort.",
                    allowed=PARTNER_TYPES,
                    default="other",
                ),
                Column("region", S, "Sales region (cohort key)."),
                Column("country", S, "Country of the partner's head office."),
                Column(
                    "program_tier",
                    S,
                    "Contracted program tier (e.g. Gold); certification "
                    "requirements are declared per program tier.",
                ),
                Column("partner_manager", S, "Channel account manager responsible."),
                Column("joined_at", D, "Date the partner joined the program."),
                Column(
                    "status",
                    S,
                    "Program status.",
                    allowed=("active", "inactive", "exited"),
                    default="active",
                ),
                Column(
                    "latitude",
                    N,
                    "Head-office latitude (lead routing).",
                    minimum=-90.0,
                    maximum=90.0,
                ),
                Column(
                    "longitude",
                    N,
                    "Head-office longitude (lead routing).",
                    minimum=-180.0,
                    maximum=180.0,
                ),
                _updated_at(),
            ),
            key=("partner_id",),
        ),
        Table(
            "accounts",
            "Accounts",
            "End-customer accounts; `is_target` marks the accounts the channel should cover.",
            (
                Column("account_id", S, "Stable account identifier.", required=True),
                Column("name", S, "Account name.", required=True),
                Column("domain", S, "Web domain, used to match deal registrations."),
                Column("country", S, "Country."),
                Column("industry", S, "Industry or sector."),
                Column("employees", INT, "Head count.", minimum=0.0),
                Column("annual_revenue", N, "Annual revenue in base currency.", minimum=0.0),
                Column("is_target", B, "A target account for coverage.", default="false"),
                _updated_at(),
            ),
            key=("account_id",),
        ),
        Table(
            "opportunities",
            "Opportunities",
            "Deals, with at most one partner and one attribution; a deal without a partner is "
            "direct.",
            (
                Column("opportunity_id", S, "Stable opportunity identifier.", required=True),
                _partner_ref(required=False),
                Column(
                    "attribution",
                    S,
                    "How the partner contributed: sourced the deal or "
                    "influenced it. Empty for direct deals.",
                    allowed=("sourced", "influenced"),
                ),
                Column("account_id", S, "End-customer account."),
                Column("name", S, "Opportunity name."),
                Column("product", S, "Product or product line."),
                Column("stage", S, "Stage as named in the source CRM."),
                Column(
                    "status",
                    S,
                    "open, won or lost.",
                    required=True,
                    allowed=("open", "won", "lost"),
                ),
                Column("amount", M, "Deal value in base currency.", minimum=0.0),
                Column("discount_amount", M, "Partner discount granted on the deal.", minimum=0.0),
                _currency(),
                Column("created_at", TS, "When the opportunity was created (UTC).", required=True),
                Column("closed_at", TS, "When it was won or lost (UTC)."),
                Column("mdf_activity_id", S, "MDF activity that generated or supported it."),
                _updated_at(),
            ),
            key=("opportunity_id",),
            checks=(
                Check(
                    "closed_needs_date",
                    "closed_at",
                    "status = 'open' OR closed_at IS NOT NULL",
                    "closed_at is required when status is won or lost",
                ),
                Check(
                    "open_has_no_close",
                    "closed_at",
                    "status <> 'open' OR closed_at IS NULL",
                    "an open opportunity cannot have closed_at. If the deal is closed, map its "
                    "stage to won or lost; if it is really open (disputed, on hold), map the "
                    'close date only for closed stages, e.g. closed_at = { expr = "CASE WHEN '
                    "status IN ('Shipped', 'Cancelled') THEN closeDate END\" } with your "
                    "file's stage column, closed stages and close-date column",
                ),
                Check(
                    "won_needs_amount",
                    "amount",
                    "status <> 'won' OR amount IS NOT NULL",
                    "amount is required when status is won",
                ),
                Check(
                    "closed_after_created",
                    "closed_at",
                    "closed_at >= created_at",
                    "closed_at is before created_at",
                ),
                Check(
                    "attribution_needs_partner",
                    "attribution",
                    "(partner_id IS NULL) = (attribution IS NULL)",
                    "attribution must be set exactly when partner_id is (direct deals have "
                    "neither); map it or give it a constant",
                ),
            ),
            fx_date="CASE WHEN status = 'open' THEN created_at ELSE closed_at END",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "leads",
            "Leads",
            "Leads assigned to partners, with their first touch and conversion.",
            (
                Column("lead_id", S, "Stable lead identifier.", required=True),
                _partner_ref(),
                Column(
                    "assigned_at",
                    TS,
                    "When the lead was assigned to the partner (UTC).",
                    required=True,
                ),
                Column(
                    "first_touch_at", TS, "First contact by the partner (UTC); empty if untouched."
                ),
                Column("converted", B, "The lead became an opportunity.", default="false"),
                Column("opportunity_id", S, "The opportunity it converted to."),
                Column("estimated_value", M, "Estimated deal value.", minimum=0.0),
                _currency(),
                Column("country", S, "Country of the lead."),
                Column("product", S, "Product of interest."),
                Column("source", S, "Lead source (campaign, web, event...)."),
                _updated_at(),
            ),
            key=("lead_id",),
            checks=(
                Check(
                    "touch_after_assign",
                    "first_touch_at",
                    "first_touch_at >= assigned_at",
                    "first_touch_at is before assigned_at",
                ),
            ),
            fx_date="assigned_at",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "mdf_activities",
            "MDF activities",
            "Market development fund activities: what was requested, approved and paid.",
            (
                Column("activity_id", S, "Stable activity identifier.", required=True),
                _partner_ref(),
                Column(
                    "activity_type",
                    S,
                    "Kind of activity.",
                    allowed=("event", "digital", "content", "training", "telemarketing", "other"),
                    default="other",
                ),
                Column("name", S, "Activity name."),
                Column(
                    "status",
                    S,
                    "Workflow status.",
                    allowed=("requested", "approved", "claimed", "paid", "rejected", "cancelled"),
                    default="paid",
                ),
                Column("requested_amount", M, "Amount requested.", minimum=0.0),
                Column("approved_amount", M, "Amount approved.", minimum=0.0),
                Column("paid_amount", M, "Amount paid.", minimum=0.0),
                _currency(),
                Column("requested_at", D, "Date requested."),
                Column("paid_at", D, "Date paid; MDF spend falls in this period."),
                _updated_at(),
            ),
            key=("activity_id",),
            checks=(
                Check(
                    "paid_needs_date",
                    "paid_at",
                    "paid_amount IS NULL OR paid_amount = 0 OR paid_at IS NOT NULL",
                    "paid_at is required when paid_amount is set",
                ),
            ),
            fx_date="coalesce(paid_at, requested_at)",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "certifications",
            "Certifications",
            "Certifications held by people at partners.",
            (
                Column(
                    "record_id", S, "Stable identifier of this certification record.", required=True
                ),
                _partner_ref(),
                Column("person_id", S, "The certified person.", required=True),
                Column("certification", S, "Certification code or name.", required=True),
                Column("issued_at", D, "Date obtained.", required=True),
                Column("expires_at", D, "Date it lapses; empty if it does not expire."),
                _updated_at(),
            ),
            key=("record_id",),
            checks=(
                Check(
                    "expires_after_issue",
                    "expires_at",
                    "expires_at >= issued_at",
                    "expires_at is before issued_at",
                ),
            ),
            depends_on=("partners",),
        ),
        Table(
            "certification_requirements",
            "Certification requirements",
            "Certifications each program tier requires (enablement_completion).",
            (
                Column(
                    "program_tier", S, "Program tier as in partners.program_tier.", required=True
                ),
                Column("certification", S, "Required certification code or name.", required=True),
            ),
            key=("program_tier", "certification"),
        ),
        Table(
            "compliance_checks",
            "Compliance checks",
            "Audits and checks of partners, weighted, passed or failed.",
            (
                Column("check_id", S, "Stable check identifier.", required=True),
                _partner_ref(),
                Column("checked_at", D, "Date of the check.", required=True),
                Column("check_type", S, "What was checked.", required=True),
                Column("weight", N, "Weight in compliance_score.", default="1", minimum=0.0),
                Column("passed", B, "Whether the partner passed.", required=True),
                Column("notes", S, "Findings."),
                _updated_at(),
            ),
            key=("check_id",),
            depends_on=("partners",),
        ),
        Table(
            "surveys",
            "Survey responses",
            "Customer satisfaction (CSAT) and NPS responses about partners.",
            (
                Column("response_id", S, "Stable response identifier.", required=True),
                _partner_ref(),
                Column("responded_at", TS, "When the response was given (UTC).", required=True),
                Column("kind", S, "csat or nps.", allowed=("csat", "nps"), default="csat"),
                Column("score", N, "The score given.", required=True),
                Column("scale_min", N, "Lowest score of the scale.", default="1"),
                Column("scale_max", N, "Highest score of the scale.", default="5"),
                _updated_at(),
            ),
            key=("response_id",),
            checks=(
                Check(
                    "score_in_scale",
                    "score",
                    "score BETWEEN scale_min AND scale_max",
                    "score is outside its scale (scale_min..scale_max)",
                ),
                Check(
                    "nps_scale",
                    "kind",
                    "kind <> 'nps' OR (scale_min = 0 AND scale_max = 10)",
                    "an nps response must be on the 0-10 scale; set scale_min=0, scale_max=10",
                ),
            ),
            depends_on=("partners",),
        ),
        Table(
            "targets",
            "Targets and quotas",
            "Revenue quota per partner and fiscal period.",
            (
                _partner_ref(),
                Column("period_start", D, "First day of the fiscal period.", required=True),
                Column(
                    "grain",
                    S,
                    "Length of the period.",
                    allowed=("month", "quarter", "year"),
                    default="quarter",
                ),
                Column("quota", M, "Won-revenue quota for the period.", required=True, minimum=0.0),
                _currency(),
                _updated_at(),
            ),
            key=("partner_id", "period_start", "grain"),
            fx_date="period_start",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "partner_costs",
            "Partner costs",
            "Costs of serving a partner (contribution margin, partner CAC); each run posts the "
            "approved payout ledgers here as category 'incentive' (docs/payouts.md).",
            (
                Column("cost_id", S, "Stable cost identifier.", required=True),
                _partner_ref(),
                Column("incurred_at", D, "Date the cost was incurred.", required=True),
                Column("category", S, "Kind of cost (support, program, travel...)."),
                Column(
                    "amount",
                    M,
                    "Cost amount; an incentive cost may be negative (a credit: clawbacks "
                    "larger than the quarter's earnings).",
                    required=True,
                ),
                _currency(),
                _updated_at(),
            ),
            key=("cost_id",),
            checks=(
                Check(
                    "negative_cost",
                    "amount",
                    "amount >= 0 OR coalesce(lower(category), '') = 'incentive'",
                    "amount is negative; only an incentive cost may be (a credit such as a "
                    "clawback); export the cost as a positive amount",
                ),
            ),
            fx_date="incurred_at",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "market_sizes",
            "Market sizes",
            "Market size per country and vertical (a market study's export); the market "
            "opportunity map takes it instead of its estimate from the target accounts for the "
            "cells it covers (docs/lifecycle.md).",
            (
                Column("country", S, "Country, spelt as in accounts.country.", required=True),
                Column("region", S, "Sales region of the country (the map's region roll-up)."),
                Column("vertical", S, "Vertical, spelt as in accounts.industry.", required=True),
                Column(
                    "market_value",
                    M,
                    "Size of the market (yearly spend) in the country and vertical.",
                    required=True,
                    minimum=0.0,
                ),
                _currency(),
                Column(
                    "competitors",
                    INT,
                    "Number of competitors present in the country and vertical.",
                    minimum=0.0,
                ),
                Column(
                    "competitor_share",
                    N,
                    "Share of the market held by competitors, 0–1.",
                    minimum=0.0,
                    maximum=1.0,
                ),
                _updated_at(),
            ),
            key=("country", "vertical"),
            fx_date="updated_at",
            depends_on=("fx_rates",),
        ),
        Table(
            "support_cases",
            "Support cases",
            "Customer support cases handled by partners (a help desk's or CRM's case export): "
            "the service-quality measures (docs/service.md).",
            (
                Column("case_id", S, "Stable case identifier.", required=True),
                _partner_ref(),
                Column("account_id", S, "End-customer account."),
                Column(
                    "priority",
                    S,
                    "Priority: critical cases are measured on first response, standard ones "
                    "on resolution.",
                    allowed=("critical", "high", "standard", "low"),
                    default="standard",
                ),
                Column("opened_at", TS, "When the case was opened (UTC).", required=True),
                Column("first_response_at", TS, "First response to the customer (UTC)."),
                Column("resolved_at", TS, "When the case was resolved (UTC); empty while open."),
                Column(
                    "first_contact_resolution",
                    B,
                    "Resolved at the first contact, without a follow-up.",
                    default="false",
                ),
                Column("escalated", B, "Escalated to the vendor's support.", default="false"),
                Column(
                    "csat",
                    N,
                    "The customer's satisfaction with the case, 1–5; empty without an answer.",
                    minimum=1.0,
                    maximum=5.0,
                ),
                _updated_at(),
            ),
            key=("case_id",),
            checks=(
                Check(
                    "response_after_open",
                    "first_response_at",
                    "first_response_at >= opened_at",
                    "first_response_at is before opened_at",
                ),
                Check(
                    "resolved_after_open",
                    "resolved_at",
                    "resolved_at >= opened_at",
                    "resolved_at is before opened_at: a case cannot be resolved before it "
                    "opened; check that both columns are mapped to the right fields",
                ),
            ),
            depends_on=("partners",),
        ),
        Table(
            "subscriptions",
            "Subscriptions and renewals",
            "Recurring contracts sold through partners, one row per term, with how the term "
            "ended: the retention measures (docs/retention.md).",
            (
                Column("contract_id", S, "Stable identifier of the contract term.", required=True),
                _partner_ref(),
                Column("account_id", S, "End-customer account."),
                Column("product", S, "Product or product line."),
                Column("start_date", D, "First day of the term.", required=True),
                Column(
                    "end_date",
                    D,
                    "Last day of the term; the renewal falls due then.",
                    required=True,
                ),
                Column(
                    "recurring_value",
                    M,
                    "Annual recurring value of the term.",
                    required=True,
                    minimum=0.0,
                ),
                Column(
                    "outcome",
                    S,
                    "How the term ended: open (not yet decided), renewed (same value), expanded "
                    "(renewed for more), contracted (renewed for less) or churned.",
                    allowed=("open", "renewed", "expanded", "contracted", "churned"),
                    default="open",
                ),
                Column("renewed_at", D, "Date the renewal was signed."),
                Column(
                    "renewal_value",
                    M,
                    "Annual recurring value of the next term; empty or 0 when churned.",
                    minimum=0.0,
                ),
                _currency(),
                _updated_at(),
            ),
            key=("contract_id",),
            checks=(
                Check(
                    "end_after_start",
                    "end_date",
                    "end_date >= start_date",
                    "end_date is before start_date",
                ),
                Check(
                    "renewal_after_start",
                    "renewed_at",
                    "renewed_at >= start_date",
                    "renewed_at is before start_date: a term cannot be renewed before it starts",
                ),
                Check(
                    "renewal_needs_value",
                    "renewal_value",
                    "outcome NOT IN ('renewed', 'expanded', 'contracted') "
                    "OR renewal_value IS NOT NULL",
                    "renewal_value is required when outcome is renewed, expanded or contracted",
                ),
                Check(
                    "churn_has_no_value",
                    "renewal_value",
                    "outcome <> 'churned' OR coalesce(renewal_value, 0) = 0",
                    "a churned term cannot have a renewal_value; map the outcome of renewed "
                    "terms to renewed, expanded or contracted",
                ),
            ),
            fx_date="end_date",
            depends_on=("partners", "fx_rates"),
        ),
        Table(
            "partner_surveys",
            "Partner surveys",
            "Partners' answers about the vendor and its program (not customers' CSAT): "
            "partner satisfaction and partner NPS (docs/service.md).",
            (
                Column("response_id", S, "Stable identifier of the invitation.", required=True),
                _partner_ref(),
                Column("sent_at", TS, "When the survey was sent (UTC).", required=True),
                Column("responded_at", TS, "When the partner answered (UTC); empty if not."),
                Column(
                    "satisfaction",
                    N,
                    "Overall satisfaction with the vendor, 0–10.",
                    minimum=0.0,
                    maximum=10.0,
                ),
                Column(
                    "recommend",
                    N,
                    "Likelihood to recommend the program to another partner, 0–10 (partner NPS).",
                    minimum=0.0,
                    maximum=10.0,
                ),
                Column("comment", S, "Free-text comment."),
                _updated_at(),
            ),
            key=("response_id",),
            checks=(
                Check(
                    "responded_after_sent",
                    "responded_at",
                    "responded_at >= sent_at",
                    "responded_at is before sent_at",
                ),
                Check(
                    "answer_needs_date",
                    "responded_at",
                    "responded_at IS NOT NULL OR (satisfaction IS NULL AND recommend IS NULL)",
                    "an answered survey needs responded_at; map the response date",
                ),
            ),
            depends_on=("partners",),
        ),
        Table(
            "territories",
            "Territories",
            "The territories the channel should cover: a country, optionally a region and a "
            "vertical (market coverage, docs/coverage.md).",
            (
                Column("territory_id", S, "Stable territory identifier.", required=True),
                Column("name", S, "Territory name as shown in reports."),
                Column("country", S, "Country, spelt as in partners.country.", required=True),
                Column("region", S, "Sales region."),
                Column("vertical", S, "Vertical, spelt as in accounts.industry; empty for all."),
                Column("is_target", B, "Counted in market coverage.", default="true"),
                _updated_at(),
            ),
            key=("territory_id",),
        ),
        Table(
            "partner_territories",
            "Partner territories",
            "Territories each partner is authorized to serve; without rows here a partner "
            "serves the territories of its head-office country that name no vertical.",
            (
                _partner_ref(),
                Column(
                    "territory_id",
                    S,
                    "Territory served.",
                    required=True,
                    references="territories",
                ),
                _updated_at(),
            ),
            key=("partner_id", "territory_id"),
            depends_on=("partners", "territories"),
        ),
        Table(
            "product_families",
            "Product families",
            "The product family of each product (product mix, portfolio coverage).",
            (
                Column("product", S, "Product, spelt as in opportunities.product.", required=True),
                Column("family", S, "Product family.", required=True),
                _updated_at(),
            ),
            key=("product",),
        ),
        Table(
            "audits",
            "Compliance audits",
            "Audits of partners against the program's standards, one row per audit and "
            "category; they count in compliance_score beside the compliance checks.",
            (
                Column("audit_id", S, "Stable audit identifier.", required=True),
                _partner_ref(),
                Column("audited_at", D, "Date of the audit.", required=True),
                Column(
                    "category",
                    S,
                    "What was audited.",
                    required=True,
                    allowed=(
                        "margin_requirements",
                        "certification_standards",
                        "marketing_guidelines",
                        "data_security",
                        "anti_corruption",
                    ),
                ),
                Column("weight", N, "Weight in compliance_score.", default="1", minimum=0.0),
                Column("passed", B, "Whether the partner passed.", required=True),
                Column("auditor", S, "Who audited."),
                Column("notes", S, "Summary of the audit."),
                _updated_at(),
            ),
            key=("audit_id",),
            depends_on=("partners",),
        ),
        Table(
            "audit_findings",
            "Audit findings",
            "Findings of compliance audits, with their corrective actions and closure.",
            (
                Column("finding_id", S, "Stable finding identifier.", required=True),
                Column(
                    "audit_id", S, "The audit that found it.", required=True, references="audits"
                ),
                _partner_ref(),
                Column(
                    "severity",
                    S,
                    "Severity.",
                    allowed=("low", "medium", "high", "critical"),
                    default="medium",
                ),
                Column("finding", S, "What was found.", required=True),
                Column("corrective_action", S, "What must be done about it."),
                Column("owner", S, "Who owns the corrective action."),
                Column("due_at", D, "Date the corrective action is due."),
                Column("closed_at", D, "Date the corrective action was closed; empty while open."),
                _updated_at(),
            ),
            key=("finding_id",),
            depends_on=("partners", "audits"),
        ),
    )
}


def load_order(names: list[str] | None = None) -> list[str]:
    """Table names in an order where every table comes after the tables it depends on."""
    wanted = set(names) if names is not None else set(TABLES)
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in TABLES[name].depends_on:
            visit(dep)
        ordered.append(name)

    for name in TABLES:
        visit(name)
    return [n for n in ordered if n in wanted]
