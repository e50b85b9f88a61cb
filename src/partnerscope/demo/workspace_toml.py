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
    return CONFIG_TEMPLATE.format(seed=seed, scale=scale) + SCHEDULES + RULES
