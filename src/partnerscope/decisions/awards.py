"""Recording an award's winner as a decision (docs/awards.md): people decide among the
shortlist of :mod:`partnerscope.evaluation.awards`, and the choice is a decision record like
any other, in the same store with the same history and audit trail.

The record: Frame "Partner of the Year FY2025" (scope ``award:partner_of_the_year:FY2025``,
owner the person deciding); Compare, an option per nominee (key: the partner id) and "No award
this year", the nominee's reasons as facts and its measures cited from the run as evidence;
Commit, the chosen partner with the reason, by whom and when.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope.decisions import cadence
from partnerscope.decisions.record import DecisionRecord, Status
from partnerscope.decisions.service import Decisions
from partnerscope.errors import PartnerscopeError
from partnerscope.evaluation.awards import Shortlist, shortlists
from partnerscope.settings.awards import SCORE

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the option of giving no award this year
NO_AWARD = "no_award"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class AwardDecisionError(PartnerscopeError, ValueError):
    """The winner cannot be recorded (not on the shortlist, or the award already decided)."""


def scope_of(award: str, year: int) -> str:
    return f"award:{award}:FY{year}"


def _option_key(partner_id: str, rank: int) -> str:
    return partner_id if _KEY.match(partner_id) and partner_id != NO_AWARD else f"N{rank}"


def decided(workspace: Workspace) -> dict[tuple[str, int], DecisionRecord]:
    """The committed award decisions: (award, fiscal year) → its record."""
    out: dict[tuple[str, int], DecisionRecord] = {}
    for record in Decisions(workspace).store.records(Status.COMMITTED):
        scope = record.frame.scope
        if scope.startswith("award:"):
            _, award, year = scope.split(":", 2)
            out[(award, int(year.removeprefix("FY")))] = record
    return out


def winner_of(record: DecisionRecord) -> tuple[str, str] | None:
    """(partner id, partner name) the record awarded; None for "no award this year"."""
    if record.commit is None or record.commit.option == NO_AWARD:
        return None
    option = record.option(record.commit.option)
    if option is None:
        return None
    return option.description, option.label


def decide(
    workspace: Workspace,
    award: str,
    *,
    year: int,
    partner_id: str | None,
    reason: str,
    by: str,
    run_id: int | None = None,
    today: date | None = None,
) -> DecisionRecord:
    """Record the award's winner for a fiscal year (``partner_id`` None: no award this year),
    as a committed decision with who decided and why."""
    if not reason.strip():
        raise AwardDecisionError("--reason: say why (it is kept with the decision)")
    (found,) = shortlists(workspace, year, run_id=run_id, award=award)
    if not found.nominees:
        raise AwardDecisionError(
            f"{found.label} {found.period} has no eligible partner: there is nothing to decide"
        )
    done = decided(workspace).get((award, found.year))
    if done is not None:
        raise AwardDecisionError(
            f"{found.label} {found.period} is already decided in {done.ref} by "
            f"{done.commit.committed_by if done.commit else done.created_by}"
        )
    if partner_id is not None and found.nominee(partner_id) is None:
        listed = ", ".join(f"{n.partner} ({n.partner_id})" for n in found.nominees) or "nobody"
        raise AwardDecisionError(
            f"--partner {partner_id} is not on the {found.label} {found.period} shortlist; "
            f"it holds {listed} (`partnerscope awards shortlist --year {found.year}`)"
        )
    decisions = Decisions(workspace)
    record = decisions.new(
        {
            "decision": f"{found.label} {found.period}",
            "owner": by,
            "horizon_months": 12,
            "scope": scope_of(award, found.year),
            "objective": found.description,
            "background": f"The shortlist of run {found.run_id}: {found.eligible} eligible of "
            f"{found.considered} partners with a value for {found.period}.",
        },
        by=by,
    )
    options = [
        {
            "key": _option_key(n.partner_id, n.rank),
            "label": n.partner,
            "description": n.partner_id,
        }
        for n in found.nominees
    ]
    options.append({"key": NO_AWARD, "label": "No award this year"})
    patch: dict[str, Any] = {"compare": {"scenario": {"options": options}}}
    chosen = found.nominee(partner_id) if partner_id is not None else None
    if chosen is not None:
        patch["compare"]["facts"] = [f"{chosen.partner}: {r}" for r in chosen.reasons]
    patch["cite"] = _citations(workspace, found, partner_id or found.nominees[0].partner_id)
    record = decisions.edit(record.decision_id, patch=patch, by=by)
    option = NO_AWARD if chosen is None else _option_key(chosen.partner_id, chosen.rank)
    # an award is not run like a programme: one look back a year later, no review every quarter
    day = today or date.today()
    a_year_on = cadence.months_later(day, 12)
    return decisions.commit(
        record.decision_id,
        option=option,
        rationale=reason.strip(),
        owner=by,
        first_review=a_year_on,
        every_months=12,
        post_review=a_year_on,
        today=day,
        by=by,
    )


def _citations(workspace: Workspace, found: Shortlist, partner_id: str) -> list[dict[str, Any]]:
    """The award's measures of the partner, cited from the run (the scorecard score is no
    metric: its rule's requirements are cited beside it)."""
    rule = workspace.config.awards.rules[found.award]
    metrics = [m for m in rule.rank_by if m != SCORE] + [q.metric for q in rule.require]
    return [
        {
            "metric": m,
            "scope": f"partner={partner_id}",
            "grain": "year",
            "period": found.period,
            "run_id": found.run_id,
        }
        for m in dict.fromkeys(metrics)
    ]
