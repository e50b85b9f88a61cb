"""Improvement plans: opened for partners flagged for improvement, tracked by every later run.

A plan records the owner, the agreed actions and the check-in dates; each run appends the
partner's score and whether it is still flagged, so a manager sees whether the plan works.
Plans are workspace state (``state/plans.json``), kept across runs and written atomically.

Every change to a plan goes through :func:`update_plan`, :func:`close_plan` or
:func:`track_run`, which also write an entry of the workspace's audit log. The plans are a
file and the log a database, so one transaction cannot hold both; the order is: open a
database transaction and add the audit entry to it, write the whole JSON file atomically (a
temporary file swapped in), then commit. A failed file write rolls the entry back (no entry
for a change that did not happen); only a failed commit after the swap, which leaves the
change without its entry, is possible, and it is reported as an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from partnerscope.atomic import write_bytes
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from pathlib import Path

    from partnerscope.evaluation.pipeline import Evaluation
    from partnerscope.settings.evaluation import ImprovementCriteria
    from partnerscope.workspace import Workspace

PLANS_FILE = "plans.json"
#: The actor of the audit entries of the plans a run opens and tracks.
RUN_ACTOR = "partnerscope run"

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
    #: free text the plan's owner keeps (meetings held, what the partner agreed)
    notes: str = ""

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
    #: the last run that tracked the plans (:func:`track_run`): the web server shows that run
    #: with them, never a newer one whose plans are not tracked yet (None: an older file)
    tracked_run: int | None = None

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


def update_plan(
    workspace: Workspace,
    partner_id: str,
    *,
    by: str,
    owner: str | None = None,
    actions: Sequence[str] | None = None,
    add_actions: Sequence[str] = (),
    check_ins: Sequence[date] = (),
    notes: str | None = None,
) -> Plan:
    """Change a partner's open plan: set the owner and notes, replace the actions (``actions``)
    or add to them (``add_actions``), add check-in dates; audited as ``update`` with the
    changed fields (nothing is written when nothing changes)."""
    with workspace.lock("plans"):
        book = load(workspace.state_dir)
        plan = book.of(partner_id)
        before = plan.model_dump(mode="json")
        if owner is not None:
            plan.owner = owner.strip() or None
        if actions is not None:
            plan.actions = [a.strip() for a in actions if a.strip()]
        plan.actions += [a.strip() for a in add_actions if a.strip()]
        plan.check_ins = sorted({*plan.check_ins, *check_ins})
        if notes is not None:
            plan.notes = notes.strip()
        after = plan.model_dump(mode="json")
        fields = [key for key in after if after[key] != before.get(key)]
        if fields:
            _save_audited(workspace, book, [(by, "update", partner_id, {"fields": fields})])
        return plan


def close_plan(workspace: Workspace, partner_id: str, *, by: str, reason: str) -> Plan:
    """Close a partner's open plan with the reason; audited as ``close``."""
    if not reason.strip():
        raise PlanError("say why the plan is closed (improved, exited, replaced…)")
    with workspace.lock("plans"):
        book = load(workspace.state_dir)
        plan = book.of(partner_id)
        plan.status = "closed"
        plan.closed_on = date.today()
        plan.closed_reason = reason.strip()
        detail = {"fields": ["status", "closed_on", "closed_reason"], "reason": plan.closed_reason}
        _save_audited(workspace, book, [(by, "close", partner_id, detail)])
        return plan


def track_run(
    workspace: Workspace,
    evaluation: Evaluation,
    *,
    run_id: int,
    today: date,
    criteria: ImprovementCriteria,
    managers: dict[str, str | None],
) -> tuple[int, int]:
    """:func:`track` on the workspace's plans, saved with one audit entry per plan opened
    (``open``) or tracked (``track``), by :data:`RUN_ACTOR`. The caller holds the run's lock
    of the workspace. Returns (opened, tracked)."""
    book = load(workspace.state_dir)
    before = {id(plan) for plan in book.plans}
    opened, tracked = track(
        book, evaluation, run_id=run_id, today=today, criteria=criteria, managers=managers
    )
    book.tracked_run = run_id
    entries: list[tuple[str, str, str, dict[str, Any]]] = []
    for plan in book.plans:
        if id(plan) not in before:
            detail = {"run_id": run_id, "fields": ["*"], "reasons": len(plan.reasons)}
            entries.append((RUN_ACTOR, "open", plan.partner_id, detail))
        elif plan.status == "open" and plan.progress and plan.progress[-1].run_id == run_id:
            still = plan.progress[-1].still_flagged
            detail = {"run_id": run_id, "fields": ["progress"], "still_flagged": still}
            entries.append((RUN_ACTOR, "track", plan.partner_id, detail))
    _save_audited(workspace, book, entries)
    return opened, tracked


def _save_audited(
    workspace: Workspace,
    book: PlanBook,
    entries: Sequence[tuple[str, str, str, dict[str, Any]]],
) -> None:
    """Save the plans and their audit entries in the order the module docstring gives."""
    from partnerscope import audit
    from partnerscope.appdb import connect

    with connect(workspace).begin() as connection:
        for actor, action, partner_id, detail in entries:
            audit.record(
                connection,
                actor=actor,
                action=action,
                object_type="plan",
                object_id=partner_id,
                detail={"action": action, **detail},
            )
        save(workspace.state_dir, book)
