"""One account identity in the web app: ``/identity`` (the review queue — pairs of accounts the
engine is unsure of, each with a form to decide — and a check of two accounts),
``/api/v1/identity/review``, ``/api/v1/identity/check`` and deciding a pair by POST.

Vendor staff who keep the accounts data: admins and analysts. Partner managers, finance and
partner users are refused (403): the queue names every account of the accounts data, whoever's
customer it is. A decision is an entry of the audit log (docs/account-identity.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.identity import AccountRecord
from partnerscope.operations import identity as ops
from partnerscope.web.render import form_action, page
from partnerscope.web.security import ANALYSTS, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["identity"])

Keepers = Annotated[Ctx, Depends(allow(*ANALYSTS))]
PairId = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]+$", description="the pair's id")]
Text = Annotated[str | None, Query(max_length=300)]

DECISION_WORDS = {"same": "the same customer", "different": "two customers", "review": "unsure"}


class AccountOut(BaseModel):
    account_id: str
    name: str
    domain: str | None
    country: str | None


class PairOut(BaseModel):
    pair_id: str
    a: AccountOut
    b: AccountOut
    #: 0–1
    score: float
    reasons: list[str]
    #: same or different when a person decided, else null
    decided: str | None
    decided_by: str | None
    reason: str | None


class CheckOut(BaseModel):
    #: same, different or review (a person decides)
    decision: str
    #: 0–1
    score: float
    reasons: list[str]


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["same", "different"]
    reason: str | None = Field(default=None, max_length=2000)


def _account(found: AccountRecord) -> AccountOut:
    return AccountOut(
        account_id=found.account_id, name=found.name, domain=found.domain, country=found.country
    )


def _pair(p: ops.Pair) -> PairOut:
    return PairOut(
        pair_id=p.pair_id,
        a=_account(p.a),
        b=_account(p.b),
        score=p.verdict.score,
        reasons=list(p.verdict.reasons),
        decided=p.decided.value if p.decided else None,
        decided_by=p.decided_by,
        reason=p.reason,
    )


def _check(
    ctx: Ctx,
    a: str | None,
    b: str | None,
    domain_a: str | None,
    domain_b: str | None,
    country_a: str | None,
    country_b: str | None,
) -> CheckOut | None:
    from partnerscope.identity import check

    if not (a or "").strip() or not (b or "").strip():
        return None
    verdict = check(
        a or "",
        b or "",
        domain_a=domain_a or None,
        domain_b=domain_b or None,
        country_a=country_a or None,
        country_b=country_b or None,
        rules=ops.rules_of(ctx.workspace),
    )
    return CheckOut(
        decision=verdict.decision.value, score=verdict.score, reasons=list(verdict.reasons)
    )


def _decide(ctx: Ctx, pair_id: str, decision: str, reason: str | None) -> ops.Pair:
    try:
        return ops.decide(ctx.workspace, pair_id, decision, by=ctx.user.name, reason=reason)
    except ops.IdentityError as exc:
        if str(exc).startswith("no pair"):
            raise HTTPException(404, str(exc)) from None
        raise


@pages.get("/identity", response_class=HTMLResponse)
def identity_page(
    request: Request,
    ctx: Keepers,
    a: Text = None,
    b: Text = None,
    domain_a: Text = None,
    domain_b: Text = None,
    country_a: Text = None,
    country_b: Text = None,
    decided: bool = False,
) -> HTMLResponse:
    """The review queue and a check of two accounts."""
    return _page(
        request,
        ctx,
        errors=[],
        status=200,
        decided=decided,
        check=(a, b, domain_a, domain_b, country_a, country_b),
    )


def _page(
    request: Request,
    ctx: Ctx,
    *,
    errors: list[str],
    status: int,
    decided: bool = False,
    check: tuple[str | None, ...] = (None,) * 6,
) -> HTMLResponse:
    found = ops.pairs(ctx.workspace, include_decided=decided)
    a, b, domain_a, domain_b, country_a, country_b = check
    words = ctx.workspace.words
    return page(
        request,
        ctx,
        "identity.html.j2",
        status=status,
        title="Account identity",
        subtitle=f"{words.number(len(found))} pair(s) of accounts for a person to decide",
        pairs=found,
        decided=decided,
        check=_check(ctx, a, b, domain_a, domain_b, country_a, country_b),
        asked={
            "a": a or "",
            "b": b or "",
            "domain_a": domain_a or "",
            "domain_b": domain_b or "",
            "country_a": country_a or "",
            "country_b": country_b or "",
        },
        decision_words=DECISION_WORDS,
        percent=lambda v: f"{v * 100:.0f} %",
        errors=errors,
    )


@pages.post("/identity/{pair_id}/decide", response_class=HTMLResponse, response_model=None)
def decide_submit(
    request: Request,
    ctx: Keepers,
    pair_id: PairId,
    decision: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return form_action(
        lambda: _decide(ctx, pair_id, decision, reason),
        "/identity",
        lambda errors, status: _page(request, ctx, errors=errors, status=status),
    )


@api.get("/identity/review", response_model=list[PairOut])
def review_api(ctx: Keepers, decided: bool = False) -> list[PairOut]:
    """Pairs of accounts the engine is unsure of (``decided``: the decided ones too)."""
    return [_pair(p) for p in ops.pairs(ctx.workspace, include_decided=decided)]


@api.post("/identity/review/{pair_id}", response_model=PairOut)
def decide_api(ctx: Keepers, pair_id: PairId, given: DecideIn) -> PairOut:
    """Decide a pair: the same customer, or two (audited; applied on the next resolve)."""
    return _pair(_decide(ctx, pair_id, given.decision, given.reason))


@api.get("/identity/check", response_model=CheckOut)
def check_api(
    ctx: Keepers,
    a: Annotated[str, Query(min_length=1, max_length=300)],
    b: Annotated[str, Query(min_length=1, max_length=300)],
    domain_a: Text = None,
    domain_b: Text = None,
    country_a: Text = None,
    country_b: Text = None,
) -> CheckOut:
    """Whether two accounts are the same customer: the decision, the score and the reasons."""
    found = _check(ctx, a, b, domain_a, domain_b, country_a, country_b)
    if found is None:
        raise HTTPException(422, "a and b need a name each, like a=Statoil ASA&b=Equinor ASA")
    return found
