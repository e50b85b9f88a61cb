"""The demo's decision record: framed, compared with the scenario model, committed, with a
reversal signal that fires on the demo data (the demo's lead follow-up stays under 95 %).

Its assumptions are set in proportion to the demo's own size (recruits per month as a share
of the active partners, program costs as a share of monthly revenue), so the comparison reads
the same at every ``--scale``."""

from __future__ import annotations

from datetime import date, timedelta
from string import Template
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.decisions.record import DecisionRecord
    from partnerscope.workspace import Workspace

FILE = "decisions/grow-coverage.toml"
OWNER = "Head of Channel"
#: fires on the demo: its portfolio lead_sla_rate runs at 89–91 %
SIGNAL = "lead_sla_rate < 0.95 for 2 quarters"
STOP = "control_index < 85 for 2 quarters"

DECISION_FILE = Template("""\
# A decision record of the demo, in the form `partnerscope decide new --file` reads.
# [frame] and [compare] are the framework's template; each [[cite]] is a metric value of
# the latest run kept as evidence.

[frame]
decision = "How should we grow partner coverage of our target accounts next year?"
owner = "Head of Channel"
horizon_months = 24
scope = "All regions; recruitment into the Registered tier"
background = \"\"\"A quarter of our target accounts have no partner opportunity in the last \
12 months, and partners follow up fewer than 95 % of leads within the 2-hour SLA.\"\"\"
objective = "Raise coverage without letting the control index fall under 90."

[compare]
constraints = ["Partner program budget flat in real terms", "No new headcount in channel ops"]
trade_offs = [
  "More partners raise coverage; new partners pull the revenue-weighted compliance down",
  "A phased pilot learns before it spends, and grows coverage more slowly",
]
facts = ["Recruits need about six months to reach full productivity (enablement records)"]
assumptions = [
  "Recruits reach the Registered tier's productivity",
  "MDF moves revenue with an elasticity of about 0.1",
]
open_questions = ["Can partner managers onboard 50 % more partners at today's quality?"]
success_metrics = ["coverage", "control_index", "lead_sla_rate", "won_revenue"]

[[compare.risks]]
risk = "Lead follow-up worsens as new partners join"
mitigation = "Reversal signal on the lead SLA rate; SLA routing first"

[[compare.risks]]
risk = "Compliance falls with many new partners"
mitigation = "Stop condition on the control index"

[compare.scenario]
trials = 10000
seed = 7
key_assumptions = [
  "recruitment_velocity", "ramp_months", "churn", "win_rate", "compliance_recruits",
]

# assumptions laid over the inputs measured from the latest run
[compare.scenario.inputs]
churn = { dist = "triangular", low = 0.004, mode = 0.008, high = 0.012 }
compliance_recruits = { dist = "triangular", low = 70, mode = 80, high = 90 }
# recruits a month: about 1 % of the active partners
recruitment_velocity = { dist = "triangular", mode = $velocity, low = $low, high = $high }

[[compare.scenario.options]]
key = "A"
label = "Keep the current approach"

[[compare.scenario.options]]
key = "B"
label = "Pilot in phases"
description = "Double recruitment, two regions first, with an onboarding program."
overrides = { recruitment_velocity = { scale = 2.0 }, program_cost = $pilot_cost }

[[compare.scenario.options]]
key = "C"
label = "Redesign end to end"
description = "Quadruple recruitment and raise MDF by 30 % in every region."
[compare.scenario.options.overrides]
recruitment_velocity = { scale = 4.0 }
mdf_spend = { scale = 1.3 }
program_cost = $redesign_cost

[[compare.scenario.criteria]]
name = "Contribution margin"
weight = 0.4
outcome = "margin"

[[compare.scenario.criteria]]
name = "Coverage"
weight = 0.3
outcome = "coverage"

[[compare.scenario.criteria]]
name = "Control"
weight = 0.2
outcome = "control"

[[compare.scenario.criteria]]
name = "Downside margin"
weight = 0.1
outcome = "margin"
statistic = "p10"

[[cite]]
metric = "coverage"
scope = "company"
note = "Target accounts with a partner opportunity in the last 12 months"

[[cite]]
metric = "control_index"
note = "Revenue-weighted compliance of the partners"

[[cite]]
metric = "lead_sla_rate"
note = "Leads first touched within the SLA"

[[cite]]
metric = "win_rate"
scope = "program_tier=Registered"
note = "Where recruits start"
""")


def plant_decision(ws: Workspace, *, today: date) -> DecisionRecord:
    """Write the demo's decision file, then frame, model and commit it as a user would."""
    from partnerscope.decisions.service import Decisions
    from partnerscope.scenarios.analysis import calibrate_run

    measured = calibrate_run(ws).distributions()
    tiers = [name.partition(".")[2] for name in measured if name.startswith("active_partners.")]
    partners = sum(measured[f"active_partners.{t}"].center() for t in tiers)
    revenue = sum(
        measured[f"active_partners.{t}"].center() * measured[f"productivity.{t}"].center()
        for t in tiers
    )
    revenue *= measured["win_rate"].center() * measured["deal_size"].center()
    velocity = 0.01 * partners  # 1 % of the partners a month
    path = ws.root / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = DECISION_FILE.substitute(
        velocity=_round(velocity),
        low=_round(velocity / 2),
        high=_round(velocity * 1.5),
        pilot_cost=_round(0.01 * revenue),
        redesign_cost=_round(0.12 * revenue),
    )
    path.write_text(text, encoding="utf-8")
    service = Decisions(ws)
    record = service.new({}, by="demo", file=path)
    service.compare(record.decision_id, by="demo")
    return service.commit(
        record.decision_id,
        option="B",
        rationale="B adds coverage at a fraction of C's cost and keeps the control index above "
        "90 in the base case; it can be stopped region by region.",
        owner=OWNER,
        timeline="Two regions in the first two quarters, the rest after the initial review",
        first_review=today + timedelta(days=30),
        every_months=3,
        signals=[SIGNAL],
        stops=[STOP],
        today=today,
        by="demo",
    )


def _round(value: float) -> str:
    """Three significant digits, as a person would write the assumption."""
    return f"{float(f'{value:.3g}'):g}"
