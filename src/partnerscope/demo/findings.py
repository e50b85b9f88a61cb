"""Which of the demo's planted patterns the evaluation found, and by what."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: pattern → (what should find it, test on one flag or alert row)
FOUND_BY: dict[str, tuple[str, Any]] = {
    "decliners": (
        "improvement flag: declining",
        lambda r: (
            r.get("flag") == "improvement" and str(r.get("criterion", "")).startswith("declining")
        ),
    ),
    "sla_breakers": (
        "alert: lead_sla_rate below threshold",
        lambda r: r.get("kind") == "threshold" and r.get("metric") == "lead_sla_rate",
    ),
    "compliance_violators": (
        "alert: compliance_score below threshold",
        lambda r: r.get("kind") == "threshold" and r.get("metric") == "compliance_score",
    ),
    "risers": (
        "high-potential flag",
        lambda r: r.get("flag") == "high_potential",
    ),
    "collapse": (
        "sudden-change alert",
        lambda r: str(r.get("kind", "")).startswith("anomaly"),
    ),
}


@dataclass(frozen=True)
class Finding:
    pattern: str
    found_by: str
    planted: list[str]
    found: list[str]

    @property
    def missed(self) -> list[str]:
        return [p for p in self.planted if p not in self.found]


def findings(workspace: Workspace, planted: dict[str, list[str]]) -> list[Finding]:
    """For each planted pattern, its partners that the latest run's flags or alerts name."""
    from partnerscope.evaluation.pipeline import ALERTS, FLAGS
    from partnerscope.evaluation.view import read
    from partnerscope.runs import get_run

    run = get_run(workspace)
    rows = [*read(workspace, run, FLAGS).to_pylist(), *read(workspace, run, ALERTS).to_pylist()]
    out = []
    for pattern, ids in planted.items():
        label, test = FOUND_BY[pattern]
        hits = {r["partner_id"] for r in rows if test(r)}
        out.append(Finding(pattern, label, ids, [p for p in ids if p in hits]))
    return out


# ---- the patterns planted for the service, retention, coverage and conflict measures ----------

#: pattern → how its finder finds it (:func:`measure_findings`)
MEASURE_FOUND_BY: dict[str, str] = {
    "service_collapse": (
        "the share of critical cases answered within 4 h 30 points or more below its level of "
        "the year before (on 5 critical cases a quarter or more), or the escalation rate 10 "
        "points or more above it (on 20 cases or more), in each of the last two quarters"
    ),
    "rising_churn": (
        "customer churn up quarter on quarter through the last four quarters, by 15 points or more"
    ),
    "uncovered_territory": (
        "market coverage's gap list: no active partner with a valid certification serves "
        "the territory"
    ),
    "conflicting_account": (
        "the channel conflicts: the account identity takes the records for one customer, so "
        "the partner's open deal overlaps the direct and the other partner's"
    ),
    "complete_portfolio": (
        "product portfolio coverage of 100 % (won deals in every product family)"
    ),
}
#: Quarters of the window the measure finders compare (the last four, and the year before them).
LAST_QUARTERS = ("2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01")
YEAR_BEFORE = ("2024-10-01", "2025-01-01", "2025-04-01", "2025-07-01")
PERIOD_END = "2026-09-30"


def measure_findings(workspace: Workspace, planted: dict[str, list[str]]) -> list[Finding]:
    """For each pattern planted for the new measures (``data/planted-measures.json``), what of
    it the latest run's metric values (and the account identity) show."""
    from partnerscope.runs import read_results

    results = read_results(workspace)
    out = []
    for pattern, ids in planted.items():
        named = _FINDERS[pattern](workspace, results, ids)
        out.append(Finding(pattern, MEASURE_FOUND_BY[pattern], ids, [i for i in ids if i in named]))
    return out


def _quarterly(results: Any, metric: str) -> dict[str, dict[str, float]]:
    """partner → quarter start (ISO) → value, for the quarters the finders compare."""
    import pyarrow.compute as pc

    if metric not in results.column_names:
        return {}
    rows = results.filter(
        pc.and_(pc.equal(results["level"], "partner"), pc.equal(results["grain"], "quarter"))
    ).select(["group_key", "period_start", metric])
    out: dict[str, dict[str, float]] = {}
    for r in rows.to_pylist():
        if r[metric] is not None:
            out.setdefault(r["group_key"], {})[r["period_start"].isoformat()] = float(r[metric])
    return out


def _service_collapse(workspace: Workspace, results: Any, ids: list[str]) -> set[str]:
    named = set()
    # each rate judged on enough cases in both of the last two quarters (a partner with two
    # critical cases a quarter swings by 50 points on one of them)
    for metric, change, events, least in (
        ("critical_response_rate", -0.30, "critical_cases", 5),
        ("escalation_rate", 0.10, "support_cases", 20),
    ):
        counts = _quarterly(results, events)
        for partner, values in _quarterly(results, metric).items():
            before = [values[q] for q in YEAR_BEFORE if q in values]
            last = [values.get(q) for q in LAST_QUARTERS[-2:]]
            enough = all(counts.get(partner, {}).get(q, 0) >= least for q in LAST_QUARTERS[-2:])
            if not before or None in last or not enough:
                continue
            level = sum(before) / len(before)
            shifts = [(v - level) if change > 0 else (level - v) for v in last if v is not None]
            if all(shift >= abs(change) for shift in shifts):
                named.add(partner)
    return named


def _rising_churn(workspace: Workspace, results: Any, ids: list[str]) -> set[str]:
    named = set()
    for partner, values in _quarterly(results, "customer_churn_rate").items():
        last = [values.get(q) for q in LAST_QUARTERS]
        if None in last:
            continue
        steps = [b - a for a, b in itertools.pairwise(last) if a is not None and b is not None]
        if all(s > 0 for s in steps) and sum(steps) >= 0.15:
            named.add(partner)
    return named


def _uncovered(workspace: Workspace, results: Any, ids: list[str]) -> set[str]:
    """Countries of the gap list at the window's end (lifecycle/coverage.py: target
    territories without an active partner holding a valid certification)."""
    from partnerscope.lifecycle.coverage import read_coverage

    coverage = read_coverage(workspace, date.fromisoformat(PERIOD_END), nearest=0)
    return {gap.country for gap in coverage.gaps if gap.vertical is None}


def _conflicting_account(workspace: Workspace, results: Any, ids: list[str]) -> set[str]:
    """The planted account records in a channel conflict (the pairs behind
    conflicted_opportunities, lifecycle/coverage.py) with another of them: two records of one
    customer that only the account identity puts together."""
    from partnerscope.lifecycle.coverage import read_conflicts
    from partnerscope.warehouse import read_warehouse

    partners = read_warehouse(
        workspace,
        "SELECT DISTINCT partner_id FROM opportunities WHERE partner_id IS NOT NULL AND "
        f"account_id IN ({', '.join('?' for _ in ids)})",
        ids,
    )
    named = set()
    for conflict in read_conflicts(workspace, partners=[p for (p,) in partners]):
        pair = {conflict.mine.account_id, conflict.other.account_id}
        if len(pair) == 2 and pair <= set(ids):
            named |= pair
    return named


def _complete_portfolio(workspace: Workspace, results: Any, ids: list[str]) -> set[str]:
    values = _quarterly(results, "portfolio_coverage")
    return {p for p, v in values.items() if v.get(LAST_QUARTERS[-1]) == 1.0}


_FINDERS = {
    "service_collapse": _service_collapse,
    "rising_churn": _rising_churn,
    "uncovered_territory": _uncovered,
    "conflicting_account": _conflicting_account,
    "complete_portfolio": _complete_portfolio,
}
