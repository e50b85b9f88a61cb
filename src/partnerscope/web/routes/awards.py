"""Recognition awards in the web app: ``/awards`` (each award's ranked shortlist for a fiscal
year, each nominee with why, and the winner recorded), ``/awards/{award}/decide`` (record the
winner as a decision) and ``/api/v1/awards`` (docs/awards.md).

Who sees what: admins and analysts read every shortlist and record winners; a partner manager
reads them, the partners they look after by name and with their reasons, the others as
"another partner"; finance and partner users are refused (403): partners never see the
shortlists.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.decisions.awards import decide, decided, winner_of
from partnerscope.evaluation import awards as aw
from partnerscope.web.audience import json_answer
from partnerscope.web.render import form_action, page
from partnerscope.web.security import ANALYSTS, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["awards"])

Reader = Annotated[Ctx, Depends(allow(Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER))]
Decider = Annotated[Ctx, Depends(allow(*ANALYSTS))]
AwardKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
OTHER = "another partner"


class AwardsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the fiscal year (default: the latest complete one of the served run)
    year: Annotated[int | None, Field(ge=1900, le=2999)] = None


class NomineeOut(BaseModel):
    rank: int
    #: None for a partner the caller does not look after
    partner_id: str | None
    partner: str
    #: 0–100 among the eligible partners
    standing: float | None
    reasons: list[str]


class WinnerOut(BaseModel):
    decision: str
    #: None: no award this year
    partner_id: str | None
    partner: str | None
    decided_by: str
    decided_on: str
    reason: str


class ShortlistOut(BaseModel):
    award: str
    label: str
    description: str
    year: int
    period: str
    run_id: int
    considered: int
    eligible: int
    nominees: list[NomineeOut]
    winner: WinnerOut | None


def _shortlists(ctx: Ctx, year: int | None) -> list[ShortlistOut]:
    words = ctx.workspace.words
    try:
        found = aw.shortlists(ctx.workspace, year)
    except aw.AwardError as exc:
        raise HTTPException(404, str(exc).removeprefix("--")) from None
    done = decided(ctx.workspace)
    out = []
    for s in found:
        record = done.get((s.award, s.year))
        winner = None
        if record is not None and record.commit is not None:
            won = winner_of(record)
            seen = won is not None and ctx.can_see(won[0])
            winner = WinnerOut(
                decision=record.ref,
                partner_id=won[0] if seen and won else None,
                partner=(won[1] if seen else OTHER) if won else None,
                decided_by=record.commit.committed_by,
                decided_on=words.date(record.commit.committed_on),
                reason=record.commit.rationale,
            )
        out.append(
            ShortlistOut(
                award=s.award,
                label=s.label,
                description=s.description,
                year=s.year,
                period=s.period,
                run_id=s.run_id,
                considered=s.considered,
                eligible=s.eligible,
                nominees=[
                    NomineeOut(
                        rank=n.rank,
                        partner_id=n.partner_id,
                        partner=n.partner,
                        standing=n.standing,
                        reasons=list(n.reasons),
                    )
                    if ctx.can_see(n.partner_id)
                    else NomineeOut(
                        rank=n.rank, partner_id=None, partner=OTHER, standing=None, reasons=[]
                    )
                    for n in s.nominees
                ],
                winner=winner,
            )
        )
    return out


@api.get("/awards", response_model=list[ShortlistOut])
def awards_api(ctx: Reader, query: Annotated[AwardsQuery, Query()]) -> Response:
    """Each award's ranked shortlist for a fiscal year, with the reasons and the winner
    recorded."""
    return json_answer(_shortlists(ctx, query.year))


def _page(
    request: Request, ctx: Ctx, year: int | None, *, errors: list[str], status: int = 200
) -> HTMLResponse:
    found = _shortlists(ctx, year)
    return page(
        request,
        ctx,
        "awards.html.j2",
        status=status,
        title="Recognition awards",
        shortlists=found,
        period=found[0].period if found else "",
        can_decide=ctx.user.role in ANALYSTS,
        errors=errors,
    )


@pages.get("/awards", response_class=HTMLResponse)
def awards_page(
    request: Request, ctx: Reader, query: Annotated[AwardsQuery, Query()]
) -> HTMLResponse:
    """The shortlists of the year with each nominee's reasons; admins and analysts record the
    winner."""
    return _page(request, ctx, query.year, errors=[])


@pages.post("/awards/{award}/decide", response_class=HTMLResponse, response_model=None)
def awards_decide(
    request: Request,
    ctx: Decider,
    award: AwardKey,
    year: Annotated[int, Form(ge=1900, le=2999)],
    partner_id: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Record the winner people chose (``no_award``: none this year) as a decision."""
    from partnerscope.decisions.awards import NO_AWARD

    return form_action(
        lambda: decide(
            ctx.workspace,
            award,
            year=year,
            partner_id=None if partner_id == NO_AWARD else partner_id,
            reason=reason,
            by=ctx.user.name,
        ),
        f"/awards?year={year}",
        lambda errors, status: _page(request, ctx, year, errors=errors, status=status),
        sees=ctx.can_see,
    )
