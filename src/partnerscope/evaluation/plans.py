"""Improvement plans: opened for partners flagged for improvement, tracked by every later run.

A plan records the owner, the agreed actions and the check-in dates; each run appends the
partner's score and whether it is still flagged, so a manager sees whether the plan works.
Plans are workspace state (``state/plans.json``), kept across runs and written atomically.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from partnerscope.atomic import write_bytes
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from pathlib import Path

    from partnerscope.evaluation.pipeline import Evaluation
    from partnerscope.evaluation.settings import ImprovementCriteria

PLANS_FILE = "plans.json"

#: The first action of a plan opened for each improvement criterion.
FIRST_ACTIONS = {
    "bottom_of_cohort": "Review the scorecard's weakest metrics with the partner and agree "
    "targets for the next period",
    "declining": "Find the cause of the decline (pipeline, win rate, deal size) with the "
    "partner and agree a recovery plan",
}
FIRST_ACTIONS["declining_revenue"] = FIRST_ACTIONS["declining"]


class PlanError(PartnerscopeError, ValueError):
    """A plan that does not exist, or a plans file that cannot be read."""


class Progress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int
    period: str
    score: float | None
    still_flagged: bool


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: str
    status: Literal["open", "closed"] = "open"
    opened_run: int
    opened_on: date
    reasons: list[str]
    owner: str | None = None
    actions: list[str] = Field(default_factory=list)
    check_ins: list[date] = Field(default_factory=list)
    baseline_period: str
    baseline_score: float | None
    progress: list[Progress] = Field(default_factory=list)
    closed_on: date | None = None
    closed_reason: str | None = None

    @property
    def latest_score(self) -> float | None:
        return self.progress[-1].score if self.progress else self.baseline_score

    @property
    def change(self) -> float | None:
        """Points gained since the plan was opened."""
        if self.latest_score is None or self.baseline_score is None:
            return None
        return self.latest_score - self.baseline_score

    def next_check_in(self, today: date) -> date | None:
        """The first check-in not yet past (or the last one, when all are past)."""
        upcoming = [d for d in self.check_ins if d >= today]
        return upcoming[0] if upcoming else (self.check_ins[-1] if self.check_ins else None)


class PlanBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plans: list[Plan] = Field(default_factory=list)

    def open_plan(self, partner_id: str) -> Plan | None:
        for plan in self.plans:
            if plan.partner_id == partner_id and plan.status == "open":
                return plan
        return None

    def of(self, partner_id: str) -> Plan:
        plan = self.open_plan(partner_id)
        if plan is None:
            raise PlanError(
                f"partner {partner_id!r} has no open improvement plan; plans are opened by "
                "`partnerscope run` for partners flagged for improvement (see `partnerscope "
                "plans`)"
            )
        return plan


def load(state_dir: Path) -> PlanBook:
    path = state_dir / PLANS_FILE
    if not path.is_file():
        return PlanBook()
    try:
        return PlanBook.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise PlanError(
            f"{path}: cannot read the improvement plans ({str(exc).splitlines()[0]}); restore "
            "the file from a backup or fix the named field"
        ) from None


def save(state_dir: Path, book: PlanBook) -> None:
    """Write the whole file next to the old one, then swap: never a half-written file."""
    write_bytes(state_dir / PLANS_FILE, book.model_dump_json(indent=2).encode())


def track(
    book: PlanBook,
    evaluation: Evaluation,
    *,
    run_id: int,
    today: date,
    criteria: ImprovementCriteria,
    managers: dict[str, str | None],
) -> tuple[int, int]:
    """Open plans for newly flagged partners and record every open plan's progress.
    Returns (opened, tracked)."""
    import numpy as np

    panel = evaluation.panel
    latest = np.flatnonzero(panel.period == panel.latest)
    period = panel.labels[panel.latest] if panel.periods else ""
    scores = {
        panel.partner[i]: (None if np.isnan(s) else round(float(s), 2))
        for i, s in zip(latest, evaluation.cards.score[latest], strict=True)
    }
    flagged: dict[str, list[dict[str, str]]] = {}
    for flag in evaluation.flags.to_pylist():
        if flag["flag"] == "improvement":
            flagged.setdefault(flag["partner_id"], []).append(flag)
    open_plans = {plan.partner_id for plan in book.plans if plan.status == "open"}
    opened = 0
    for partner_id, found in flagged.items():
        if partner_id in open_plans:
            continue
        reasons = [f["evidence"] for f in found]
        criteria_found = dict.fromkeys(f["criterion"] for f in found)
        actions = [FIRST_ACTIONS[c] for c in criteria_found if c in FIRST_ACTIONS]
        book.plans.append(
            Plan(
                partner_id=partner_id,
                opened_run=run_id,
                opened_on=today,
                reasons=reasons,
                owner=managers.get(partner_id),
                actions=actions,
                check_ins=[
                    today + timedelta(days=criteria.check_in_days * k)
                    for k in range(1, criteria.check_ins + 1)
                ],
                baseline_period=period,
                baseline_score=scores.get(partner_id),
            )
        )
        opened += 1
    tracked = 0
    for plan in book.plans:
        if plan.status != "open" or plan.opened_run == run_id:
            continue
        plan.progress = [p for p in plan.progress if p.run_id != run_id]
        plan.progress.append(
            Progress(
                run_id=run_id,
                period=period,
                score=scores.get(plan.partner_id),
                still_flagged=plan.partner_id in flagged,
            )
        )
        tracked += 1
    return opened, tracked
