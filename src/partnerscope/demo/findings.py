"""Which of the demo's planted patterns the evaluation found, and by what."""

from __future__ import annotations

from dataclasses import dataclass
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
