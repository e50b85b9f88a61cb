"""The ``partnerscope.toml`` of the demo workspace: one source per generated file."""

from __future__ import annotations

CONFIG_TEMPLATE = """\
# partnerscope demo workspace, written by `partnerscope demo` (seed {seed}, scale {scale}).
# The files in data/ imitate real exports: an XLSX partner list, a Salesforce opportunity
# report, a Parquet lead extract, a UTF-16 survey export with Berlin local times, and CSVs.
# Planted patterns (decliners, SLA breakers, ...) are listed in data/planted.json.

[workspace]
name = "partnerscope demo"
base_currency = "USD"
timezone = "UTC"
# fiscal years run October to September: the data covers FY2024 Q1 to FY2026 Q4
fiscal_year_start_month = 10
sla_hours = 2.0

[economics]
# gross margin of won revenue, for contribution margin
gross_margin = 0.68

[sources.fx_rates]
entity = "fx_rates"
path = "data/fx_rates.csv"
date_format = "%m/%d/%Y"

[sources.fx_rates.columns]
rate_date = "Date"
currency = "Currency"
rate = "USD per unit"
base_currency = {{ constant = "USD" }}

[sources.partners]
entity = "partners"
path = "data/partners.xlsx"
sheet = "Partners"

[sources.partners.columns]
partner_id = "Partner ID"
name = "Partner Name"
region = "Region"
country = "Country"
program_tier = "Program Tier"
partner_manager = "Channel Manager"
joined_at = "Join Date"
latitude = "Latitude"
longitude = "Longitude"

[sources.partners.columns.partner_type]
column = "Partner Type"
otherwise = "other"

[sources.partners.columns.partner_type.map]
"Value Added Reseller" = "var"
"System Integrator" = "si"
"Distributor" = "distributor"
"OEM" = "oem"
"Managed Service Provider" = "msp"

[sources.partners.columns.status]
column = "Status"
map = {{ "Active" = "active", "Inactive" = "inactive", "Exited" = "exited" }}

[sources.accounts]
entity = "accounts"
path = "data/accounts.csv"

[sources.accounts.columns]
account_id = "Account ID"
name = "Account Name"
domain = "Website"
country = "Country"
industry = "Industry"
employees = "Employees"
annual_revenue = "Annual Revenue (USD)"
is_target = {{ column = "Target Account", map = {{ "Y" = "true", "N" = "false" }} }}

[sources.mdf_activities]
entity = "mdf_activities"
path = "data/mdf_activities.csv"
date_format = "%m/%d/%Y"

[sources.mdf_activities.columns]
activity_id = "Activity ID"
partner_id = "Partner ID"
name = "Activity Name"
requested_amount = "Requested Amount"
approved_amount = "Approved Amount"
paid_amount = "Paid Amount"
currency = "Currency"
requested_at = "Request Date"
paid_at = "Paid Date"

[sources.mdf_activities.columns.activity_type]
column = "Activity Type"
otherwise = "other"

[sources.mdf_activities.columns.activity_type.map]
"Event" = "event"
"Digital Campaign" = "digital"
"Content Syndication" = "content"
"Training" = "training"
"Telemarketing" = "telemarketing"

[sources.mdf_activities.columns.status]
column = "Status"

[sources.mdf_activities.columns.status.map]
"Requested" = "requested"
"Approved" = "approved"
"Claimed" = "claimed"
"Paid" = "paid"
"Rejected" = "rejected"
"Cancelled" = "cancelled"

# A Salesforce opportunity report; the preset maps the standard fields, the two custom
# fields of this org are added here.
[sources.opportunities]
entity = "opportunities"
path = "data/opportunities.csv"
preset = "salesforce_opportunities"

[sources.opportunities.columns]
product = "Product_Family__c"
discount_amount = "Partner_Discount__c"

[sources.leads]
entity = "leads"
path = "data/leads.parquet"

[sources.leads.columns]
lead_id = "lead_id"
partner_id = "partner_id"
assigned_at = "assigned_ts"
first_touch_at = "first_touch_ts"
converted = "is_converted"
opportunity_id = "converted_opportunity_id"
estimated_value = "est_value"
currency = "currency_code"
country = "country"
product = "product_interest"
source = "lead_source"

[sources.certifications]
entity = "certifications"
path = "data/certifications.csv"

[sources.certifications.columns]
record_id = "record_id"
partner_id = "partner_id"
person_id = "person_id"
certification = "certification"
issued_at = "issued_on"
expires_at = "expires_on"

[sources.certification_requirements]
entity = "certification_requirements"
path = "data/certification_requirements.csv"

[sources.certification_requirements.columns]
program_tier = "tier"
certification = "certification"

[sources.compliance_checks]
entity = "compliance_checks"
path = "data/compliance_checks.csv"

[sources.compliance_checks.columns]
check_id = "Check ID"
partner_id = "Partner ID"
checked_at = "Check Date"
check_type = "Check Type"
weight = "Weight"
passed = {{ column = "Result", map = {{ "Pass" = "true", "Fail" = "false" }} }}
notes = "Findings"

# Exported from the survey tool on a German Windows machine: UTF-16, semicolons, local time.
[sources.surveys]
entity = "surveys"
path = "data/surveys.csv"
format = "csv"
encoding = "utf-16"
delimiter = ";"
timezone = "Europe/Berlin"
timestamp_format = "%d.%m.%Y %H:%M:%S"

[sources.surveys.columns]
response_id = "Response ID"
partner_id = "Partner"
responded_at = "Responded At"
score = "Score"
kind = {{ column = "Survey Type", map = {{ "CSAT" = "csat", "NPS" = "nps" }} }}
scale_min = {{ expr = "CASE WHEN \\"Survey Type\\" = 'NPS' THEN '0' ELSE '1' END" }}
scale_max = {{ expr = "CASE WHEN \\"Survey Type\\" = 'NPS' THEN '10' ELSE '5' END" }}

[sources.quotas]
entity = "targets"
path = "data/quotas.csv"
date_format = "%m/%d/%Y"

[sources.quotas.columns]
partner_id = "Partner ID"
period_start = "Quarter Start"
grain = {{ constant = "quarter" }}
quota = "Quota"
currency = "Currency"

[sources.partner_costs]
entity = "partner_costs"
path = "data/partner_costs.csv"

[sources.partner_costs.columns]
cost_id = "Cost ID"
partner_id = "Partner ID"
incurred_at = "Date"
category = "Category"
amount = "Amount"
currency = "Currency"
"""


#: the measures' sources (issue 30): help desk, billing, partner survey, territories, audits
MEASURES = """
# A help desk's ticket export: its own column names, a P1-P4 priority and Yes/No flags.
[sources.support_cases]
entity = "support_cases"
path = "data/support_cases.csv"
timestamp_format = "%Y-%m-%d %H:%M:%S"

[sources.support_cases.columns]
case_id = "Ticket ID"
partner_id = "Partner Account ID"
account_id = "Customer Account"
opened_at = "Created"
first_response_at = "First Reply"
resolved_at = "Solved"
csat = "Satisfaction"

[sources.support_cases.columns.first_contact_resolution]
column = "Solved on First Contact"
map = {{ "Yes" = "true", "No" = "false" }}

[sources.support_cases.columns.escalated]
column = "Escalated to Vendor"
map = {{ "Yes" = "true", "No" = "false" }}

[sources.support_cases.columns.priority]
column = "Priority"

[sources.support_cases.columns.priority.map]
"P1 - Critical" = "critical"
"P2 - High" = "high"
"P3 - Normal" = "standard"
"P4 - Low" = "low"

# The billing system's subscription terms, one row per annual term, in the shape the
# generic_subscriptions preset reads (its Status values Upsell, Downsell, Cancelled ... mapped).
[sources.subscriptions]
entity = "subscriptions"
path = "data/subscriptions.csv"
preset = "generic_subscriptions"

# The partner survey: twice a year, 0-10 scores and a free-text comment.
[sources.partner_surveys]
entity = "partner_surveys"
path = "data/partner_surveys.csv"
timestamp_format = "%Y-%m-%d %H:%M:%S"

[sources.partner_surveys.columns]
response_id = "Invitation ID"
partner_id = "Partner ID"
sent_at = "Sent"
responded_at = "Completed"
satisfaction = "Overall satisfaction (0-10)"
recommend = "Likelihood to recommend (0-10)"
comment = "Comments"

[sources.product_families]
entity = "product_families"
path = "data/product_families.csv"

[sources.product_families.columns]
product = "Product"
family = "Product Family"

[sources.territories]
entity = "territories"
path = "data/territories.csv"

[sources.territories.columns]
territory_id = "Territory"
name = "Territory Name"
country = "Country"
region = "Region"
vertical = "Vertical"
is_target = {{ column = "Target", map = {{ "Y" = "true", "N" = "false" }} }}

[sources.partner_territories]
entity = "partner_territories"
path = "data/partner_territories.csv"

[sources.partner_territories.columns]
partner_id = "Partner ID"
territory_id = "Territory"

# The audit tool's export: one row per audit and area, and the findings with their actions.
[sources.audits]
entity = "audits"
path = "data/audits.csv"

[sources.audits.columns]
audit_id = "Audit ID"
partner_id = "Partner ID"
audited_at = "Audit Date"
weight = "Weight"
passed = {{ column = "Result", map = {{ "Pass" = "true", "Fail" = "false" }} }}
auditor = "Auditor"

[sources.audits.columns.category]
column = "Area"

[sources.audits.columns.category.map]
"Margin Requirements" = "margin_requirements"
"Certification Standards" = "certification_standards"
"Marketing Guidelines" = "marketing_guidelines"
"Data Security" = "data_security"
"Anti-Corruption" = "anti_corruption"

[sources.audit_findings]
entity = "audit_findings"
path = "data/audit_findings.csv"
preset = "generic_audit_findings"

# The direct sales team's CRM: its own account records (one customer may be spelt there
# differently from accounts.csv; the account identity matches them) and its deals.
[sources.direct_accounts]
entity = "accounts"
path = "data/direct_crm_accounts.csv"

[sources.direct_accounts.columns]
account_id = "Company ID"
name = "Company Name"
domain = "Company Domain"
country = "Country"
industry = "Industry"

[sources.direct_deals]
entity = "opportunities"
path = "data/direct_crm_deals.csv"
preset = "generic_crm_opportunities"

# The performance tiers of the defaults, with the framework's Elite criterion "complete product
# portfolio coverage" (issue 30): won deals in every product family of
# data/product_families.csv over the trailing 12 months (portfolio_coverage = 100 %).
[[tiers.performance.levels]]
name = "Elite"
min = {{ score_percentile = 0.90, quota_attainment = 1.50, csat = 4.75, portfolio_coverage = 1.0 }}

[[tiers.performance.levels]]
name = "Performance"
min = {{ quota_attainment = 0.80, csat = 4.25 }}

[[tiers.performance.levels]]
name = "Development"
min = {{ quota_attainment = 0.50 }}

[[tiers.performance.levels]]
name = "Under review"
"""


#: report distribution (docs/notifications.md, "Schedules"): cron in the workspace time zone
SCHEDULES = """
# Reports sent on a schedule (`partnerscope schedule list`): fired by `partnerscope serve`,
# or by `partnerscope schedule run-due` from cron. Cron: minute hour day-of-month month
# day-of-week, in the workspace time zone.

[[schedules]]
# each partner's scorecard (its partner edition, as PDF) to its users, on the 1st
name = "monthly-scorecards"
what = "scorecards"
cron = "0 7 1 * *"

[[schedules]]
# each partner manager: their partners' week (new alerts, deals won, open tasks)
name = "weekly-manager-digest"
what = "manager_digest"
cron = "0 8 * * 1"

[[schedules]]
# the executive summary (PDF) on the 2nd day of each fiscal quarter
name = "quarterly-executive-summary"
what = "executive_summary"
cron = "0 7 2 1,4,7,10 *"
roles = ["admin"]
# addresses = ["leadership@example.com"]

[[schedules]]
# each partner's statement of a payout ledger approved since the day before
name = "payout-statements"
what = "payout_statements"
cron = "0 9 * * *"
"""


# ---- rules that act (escalations helper; docs/notifications.md, "Rules that act") ----------

#: conditions over every run's results that open a task or nudge the partner
RULES = """
# Rules evaluated on every run (`partnerscope run`): each acts once per partner and period.

[[rules]]
# a partner slow to follow up its leads two quarters running: a task for its manager
name = "lead-follow-up"
when = "lead_sla_rate < 0.8 for 2 periods"
do = "task"
message = "Review lead follow-up with the partner: leads waited past their response time"

[[rules]]
# a partner missing certifications its next tier requires: a suggestion to its own users
name = "next-tier-certifications"
when = "next_tier_enablement_gap"
do = "nudge"
message = "Your next tier is in reach: your enablement page lists the certifications to earn."
"""


def workspace_toml(*, seed: int, scale: float) -> str:
    return CONFIG_TEMPLATE.format(seed=seed, scale=scale) + MEASURES.format() + SCHEDULES + RULES
