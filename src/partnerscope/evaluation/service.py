"""Service quality and satisfaction per partner for one period, against the framework's targets:
what the web's ``/service`` page, its API twin and ``partnerscope service`` show.

Everything is read from a stored run (its metric values, never recomputed). The targets are
the framework's quality standards (docs/service.md): critical cases answered within 4 hours,
standard cases resolved within 24 hours, first-contact resolution of 80 %, escalation under
5 %, partner satisfaction 9.0 out of 10, customer satisfaction 90 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partnerscope.present import finite

if TYPE_CHECKING:
    from collections.abc import Callable

    from partnerscope.evaluation.view import RunData
    from partnerscope.present import Words


@dataclass(frozen=True)
class Target:
    """A measure's target: its value must be at least (``higher``) or at most ``bound``."""

    metric: str
    bound: float
    higher: bool
    #: the target in words ("at least 80 %")
    text: str
    #: the bound itself misses the target ("under 5 %")
    strict: bool = False

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.strict:
            return value > self.bound if self.higher else value < self.bound
        return value >= self.bound if self.higher else value <= self.bound


#: The columns of the service table, in order: (metric, short heading).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("support_cases", "Cases"),
    ("critical_response_rate", "Critical answered within 4 h"),
    ("median_critical_response_hours", "Median critical response"),
    ("standard_resolution_rate", "Standard resolved within 24 h"),
    ("median_standard_resolution_hours", "Median standard resolution"),
    ("first_contact_resolution_rate", "First-contact resolution"),
    ("escalation_rate", "Escalation rate"),
    ("case_csat", "Case satisfaction (1–5)"),
    ("customer_satisfaction", "Customer satisfaction"),
    ("partner_satisfaction", "Partner satisfaction (0–10)"),
    ("partner_nps", "Partner NPS"),
    ("partner_survey_response_rate", "Survey response rate"),
)
METRICS = tuple(m for m, _ in COLUMNS)
#: The evidence each value rests on (shown beside it, and in the API).
EVIDENCE = (
    "critical_cases_due",
    "standard_cases_due",
    "resolved_cases",
    "csat_responses",
    "partner_survey_responses",
    "partner_surveys_sent",
)

TARGETS: dict[str, Target] = {
    t.metric: t
    for t in (
        Target("critical_response_rate", 1.0, True, "every critical case answered within 4 h"),
        Target("median_critical_response_hours", 4.0, False, "4 h or less"),
        Target("standard_resolution_rate", 1.0, True, "every standard case resolved in 24 h"),
        Target("median_standard_resolution_hours", 24.0, False, "24 h or less"),
        Target("first_contact_resolution_rate", 0.80, True, "at least 80 %"),
        Target("escalation_rate", 0.05, False, "under 5 %", strict=True),
        Target("customer_satisfaction", 0.90, True, "at least 90 %"),
        Target("partner_satisfaction", 9.0, True, "at least 9.0 out of 10"),
    )
}


@dataclass
class ServiceRow:
    partner_id: str
    name: str
    values: dict[str, float | None]
    evidence: dict[str, float | None] = field(default_factory=dict)

    def met(self, metric: str) -> bool | None:
        target = TARGETS.get(metric)
        return None if target is None else target.met(self.values.get(metric))

    @property
    def misses(self) -> list[str]:
        """The metrics whose target this partner misses."""
        return [m for m in TARGETS if self.met(m) is False]

    @property
    def has_data(self) -> bool:
        return bool(self.values.get("support_cases")) or bool(
            self.evidence.get("partner_surveys_sent") or self.evidence.get("csat_responses")
        )


@dataclass
class ServiceTable:
    period: str
    #: every partner the caller may see, by name
    rows: list[ServiceRow]
    #: all partners together (the portfolio's values)
    portfolio: ServiceRow


def service_table(
    data: RunData, period: str | None, can_see: Callable[[str], bool] | None = None
) -> ServiceTable:
    """The service measures of each partner the caller may see (``can_see``; None: every
    partner) in the period named (default: the latest with data), and of all partners."""
    import pyarrow.compute as pc

    start, label = data.pick_period(period)
    results = data.results().table
    now = results.filter(pc.equal(results["period_start"], start))
    wanted = [m for m in (*METRICS, *EVIDENCE) if m in now.column_names]
    rows = []
    for r in now.select(["group_key", *wanted]).to_pylist():
        pid = str(r["group_key"])
        if can_see is not None and not can_see(pid):
            continue
        rows.append(_row(pid, data.partner_name(pid), r))
    rows.sort(key=lambda row: (row.name.casefold(), row.partner_id))
    group = data.group_results("portfolio")
    at = group.filter(pc.equal(group["period_start"], start))
    whole = at.to_pylist()
    portfolio = _row("all", "All partners", whole[0] if whole else {})
    return ServiceTable(label, rows, portfolio)


def _row(partner_id: str, name: str, r: dict[str, Any]) -> ServiceRow:
    return ServiceRow(
        partner_id,
        name,
        {m: finite(r.get(m)) for m in METRICS},
        {m: finite(r.get(m)) for m in EVIDENCE},
    )


def cell(words: Words, metric: str, value: float | None) -> str:
    """A value as people read it: shares as percentages, hours, ratings."""
    if value is None:
        return "—"
    if metric == "partner_nps":
        return words.number(value, digits=0)
    return words.of_metric(metric, value)
