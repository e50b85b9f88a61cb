"""Applications to join the program in the web app.

- ``/apply/<token>``: the form a prospective partner opens from an invitation link, without an
  account. It is protected like the sign-in form (a CSRF token in a cookie of its own, compared
  with the form's), and rate-limited per client; the link's state (unknown, expired, used) is
  a clear page; a sent application shows what happens next, never an internal judgement.
- ``/applications`` and ``/applications/<id>``: staff only. Admins and partner managers invite,
  own, score (with evidence) and decide; analysts read. Partner users and finance are refused
  (403, no name of an applicant in the answer).
- ``/api/v1/applications``: the same as JSON.

Every change goes through :mod:`partnerscope.lifecycle.applications` (checked, audited).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.clock import now_utc
from partnerscope.lifecycle import applications as apps
from partnerscope.present import PARTNER_TYPES
from partnerscope.web.render import form_action, page
from partnerscope.web.security import (
    CSRF_FIELD,
    Ctx,
    UtcDateTime,
    allow,
    form_cookie_matches,
    set_form_cookie,
    web_state,
)

if TYPE_CHECKING:
    from collections.abc import Callable

pages = APIRouter()
api = APIRouter(tags=["applications"])

READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)
DECIDERS = (Role.ADMIN, Role.PARTNER_MANAGER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
Decider = Annotated[Ctx, Depends(allow(*DECIDERS))]
ApplicationId = Annotated[int, Path(ge=1, le=2**62)]
Token = Annotated[str, Path(min_length=10, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]

#: the applicant form's own CSRF cookie (the applicant has no session), valid on /apply only
APPLY_CSRF_COOKIE = "partnerscope_apply_csrf"
#: at most this many applicant requests that post a form or name an unknown link ...
APPLY_LIMIT = 10
#: ... per client within this many seconds
APPLY_WINDOW = 600.0


class Throttle:
    """At most :data:`APPLY_LIMIT` counted requests per client in :data:`APPLY_WINDOW`
    seconds (kept in the app's memory, like a reverse proxy's limit)."""

    def __init__(self, limit: int = APPLY_LIMIT, window: float = APPLY_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, client: str, *, count: bool = True) -> int:
        """Seconds the client must wait (0: go on; ``count``: this request counts)."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, int(seen[0] + self.window - now) + 1)
            if count:
                seen.append(now)
            if len(self._seen) > 10_000:  # forget clients that went quiet
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]
            return 0


def throttle(request: Request) -> Throttle:
    found = getattr(request.app.state, "apply_throttle", None)
    if not isinstance(found, Throttle):
        found = Throttle()
        request.app.state.apply_throttle = found
    return found


# ---------------------------------------------------------------------------- models


class ApplicationOut(BaseModel):
    application_id: int
    company: str
    contact_name: str
    contact_email: str
    website: str | None
    country: str | None
    region: str | None
    vertical: str | None
    partner_type: str | None
    description: str | None
    #: employees, certifications held, references given (as the applicant told)
    details: dict[str, Any]
    #: form, import or cli
    source: str
    #: submitted, approved or rejected
    status: str
    owner: str | None
    submitted_at: UtcDateTime
    submitted_by: str
    decided_at: UtcDateTime | None
    decided_by: str | None
    reason: str | None
    program_tier: str | None
    partner_id: str | None
    #: Σ weight × score / Σ weight over the criteria scored, on the scale (null: none scored)
    weighted_score: float | None
    #: what stops an approval (no owner, a required criterion without a score)
    missing: list[str]
    recommendation: str
    #: where it stands, in words
    where: str


class ScoreOut(BaseModel):
    criterion: str
    label: str
    weight: float
    required: bool
    asks: str
    score: float | None
    evidence: str | None
    scored_by: str | None
    scored_at: UtcDateTime | None


class AssessmentOut(BaseModel):
    application: ApplicationOut
    scores: list[ScoreOut]
    #: the best score of the scale (scores are 1 to it)
    scale: int
    #: the weighted score from which approval is recommended
    threshold: float
    #: the market opportunity map's cell of the country and vertical, proposed as evidence
    #: for market fit
    market_suggestion: str | None


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: Annotated[str | None, Field(max_length=200)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    days: Annotated[int | None, Field(ge=1, le=365)] = None


class InviteOut(BaseModel):
    #: the path of the form (prefix it with the web app's address); shown only now
    link: str
    company: str | None
    email: str | None
    expires_at: UtcDateTime


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, Field(min_length=1, max_length=200)]


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: Annotated[str, Field(min_length=1, max_length=80)]
    score: Annotated[int, Field(ge=1, le=10)]
    evidence: Text


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_tier: Annotated[str, Field(min_length=1, max_length=64)]
    partner_id: Annotated[str | None, Field(max_length=64)] = None
    partner_manager: Annotated[str | None, Field(max_length=200)] = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class ApplicationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: apps.Status | None = None
    owner: Annotated[str | None, Field(max_length=200)] = None


def application_out(judged: apps.Assessment) -> ApplicationOut:
    from dataclasses import asdict

    found = judged.application
    fields = asdict(found)
    fields["status"] = found.status.value
    fields.pop("updated_at")
    return ApplicationOut(
        **fields,
        weighted_score=None if judged.weighted is None else round(judged.weighted, 4),
        missing=list(judged.missing),
        recommendation=judged.recommendation,
        where=found.where(),
    )


def assessment_out(judged: apps.Assessment) -> AssessmentOut:
    from dataclasses import asdict

    return AssessmentOut(
        application=application_out(judged),
        scores=[ScoreOut(**asdict(s)) for s in judged.scores],
        scale=judged.scale,
        threshold=judged.threshold,
        market_suggestion=judged.suggestion,
    )


def _judged(ctx: Ctx, application_id: int, *, suggest: bool = True) -> apps.Assessment:
    """The application's assessment; 404 alike for one that does not exist and for one the
    caller may not see (:func:`_may_see`)."""
    try:
        judged = apps.assessment(ctx.workspace, application_id, suggest=suggest)
    except apps.ApplicationNotFoundError:
        judged = None
    if judged is None or not _may_see(ctx, judged.application.partner_id):
        raise HTTPException(404, f"no application #{application_id}")
    return judged


def _may_see(ctx: Ctx, partner_id: str | None) -> bool:
    """Whether the caller may see an application that became ``partner_id``: always before a
    decision and while the runs do not know the new partner yet; then as the partner itself."""
    known = ctx.served.data.managers if ctx.served is not None else {}
    return partner_id is None or partner_id not in known or ctx.can_see(partner_id)


def _listing(ctx: Ctx, query: ApplicationFilter) -> list[apps.Assessment]:
    """The applications the caller may see (:func:`_may_see`)."""
    return [
        apps.assessment(ctx.workspace, a.application_id, suggest=False)
        for a in apps.listing(ctx.workspace, query.status, query.owner or None)
        if _may_see(ctx, a.partner_id)
    ]


def _now() -> datetime:
    return now_utc(whole_seconds=True)


def _invite(ctx: Ctx, given: InviteIn) -> apps.Invite:
    return apps.invite(
        ctx.workspace,
        by=ctx.user.name,
        company=given.company or None,
        email=given.email or None,
        days=given.days,
        now=_now(),
    )


def _approve(ctx: Ctx, application_id: int, given: ApproveIn) -> apps.Application:
    _judged(ctx, application_id, suggest=False)
    return apps.approve(
        ctx.workspace,
        application_id,
        by=ctx.user.name,
        program_tier=given.program_tier,
        partner_id=given.partner_id or None,
        partner_manager=given.partner_manager or None,
        now=_now(),
    )


def _reject(ctx: Ctx, application_id: int, given: RejectIn) -> apps.Application:
    _judged(ctx, application_id, suggest=False)
    return apps.reject(
        ctx.workspace, application_id, by=ctx.user.name, reason=given.reason, now=_now()
    )


def _score(ctx: Ctx, application_id: int, given: ScoreIn) -> apps.Assessment:
    _judged(ctx, application_id, suggest=False)
    return apps.score(
        ctx.workspace,
        application_id,
        given.criterion,
        given.score,
        given.evidence,
        by=ctx.user.name,
        now=_now(),
    )


def _own(ctx: Ctx, application_id: int, given: OwnerIn) -> apps.Application:
    _judged(ctx, application_id, suggest=False)
    return apps.set_owner(ctx.workspace, application_id, given.owner, by=ctx.user.name, now=_now())


# ------------------------------------------------------------------------------- API


@api.get("/applications", response_model=list[ApplicationOut])
def applications_api(ctx: Reader, query: Annotated[ApplicationFilter, Query()]) -> Response:
    """The applications, newest first, with their weighted score and what is missing."""
    from partnerscope.web.audience import json_answer

    return json_answer([application_out(j) for j in _listing(ctx, query)])


@api.get("/applications/{application_id}", response_model=AssessmentOut)
def application_api(ctx: Reader, application_id: ApplicationId) -> AssessmentOut:
    """One application's assessment: each criterion's score and evidence, the weighted score,
    what is missing and the market map's suggestion for market fit."""
    return assessment_out(_judged(ctx, application_id))


@api.post("/applications/invites", response_model=InviteOut, status_code=201)
def invite_api(ctx: Decider, given: InviteIn) -> InviteOut:
    """A new invitation link (one application; only its hash is kept: the link is shown only
    in this answer)."""
    made = _invite(ctx, given)
    return InviteOut(
        link=made.link, company=made.company, email=made.email, expires_at=made.expires_at
    )


@api.post("/applications/{application_id}/owner", response_model=ApplicationOut)
def owner_api(ctx: Decider, application_id: ApplicationId, given: OwnerIn) -> ApplicationOut:
    """Set the staff member who owns the assessment (audited)."""
    _own(ctx, application_id, given)
    return application_out(_judged(ctx, application_id, suggest=False))


@api.post("/applications/{application_id}/scores", response_model=AssessmentOut)
def score_api(ctx: Decider, application_id: ApplicationId, given: ScoreIn) -> AssessmentOut:
    """Score a criterion with its evidence (audited; again replaces it)."""
    return assessment_out(_score(ctx, application_id, given))


@api.post("/applications/{application_id}/approve", response_model=ApplicationOut)
def approve_api(ctx: Decider, application_id: ApplicationId, given: ApproveIn) -> ApplicationOut:
    """Approve with the initial program tier: the applicant becomes a partner (the next free
    id unless given) and its onboarding starts (one transaction, audited)."""
    _approve(ctx, application_id, given)
    return application_out(_judged(ctx, application_id, suggest=False))


@api.post("/applications/{application_id}/reject", response_model=ApplicationOut)
def reject_api(ctx: Decider, application_id: ApplicationId, given: RejectIn) -> ApplicationOut:
    """Reject with the reason (audited)."""
    _reject(ctx, application_id, given)
    return application_out(_judged(ctx, application_id, suggest=False))


# ----------------------------------------------------------------------- staff pages


def _list_page(
    request: Request,
    ctx: Ctx,
    query: ApplicationFilter,
    *,
    errors: list[str],
    status: int,
    invited: apps.Invite | None = None,
) -> HTMLResponse:
    found = _listing(ctx, query)
    return page(
        request,
        ctx,
        "applications.html.j2",
        status=status,
        title="Applications",
        applications=[application_out(j) for j in found],
        waiting=sum(1 for j in found if j.application.status is apps.Status.SUBMITTED),
        query=query,
        statuses=[s.value for s in apps.Status],
        owners=sorted({j.application.owner for j in found if j.application.owner}),
        can_decide=ctx.user.role in DECIDERS,
        invited=invited,
        invite_base=str(request.base_url).rstrip("/"),
        days=ctx.workspace.config.qualification.invite_days,
        scale=ctx.workspace.config.qualification.scale,
        errors=errors,
    )


def _detail_page(
    request: Request, ctx: Ctx, application_id: int, *, errors: list[str], status: int
) -> HTMLResponse:
    judged = _judged(ctx, application_id)
    decider = ctx.user.role in DECIDERS
    found = judged.application
    return page(
        request,
        ctx,
        "applications_detail.html.j2",
        status=status,
        title=f"Application #{application_id}: {found.company}",
        a=application_out(judged),
        d=assessment_out(judged),
        can_decide=decider,
        tiers=apps.known_tiers(ctx.workspace) if decider else [],
        next_id=(
            apps.next_partner_id(ctx.workspace)
            if decider and found.status is apps.Status.SUBMITTED
            else ""
        ),
        market_key="market_fit",
        errors=errors,
    )


@pages.get("/applications", response_class=HTMLResponse)
def applications_page(
    request: Request, ctx: Reader, query: Annotated[ApplicationFilter, Query()]
) -> HTMLResponse:
    """The applications with their status, weighted score and owner; the invitation form."""
    return _list_page(request, ctx, query, errors=[], status=200)


@pages.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(request: Request, ctx: Reader, application_id: ApplicationId) -> HTMLResponse:
    """One application's assessment and the forms of the decision."""
    return _detail_page(request, ctx, application_id, errors=[], status=200)


@pages.post("/applications/invite", response_class=HTMLResponse, response_model=None)
def invite_submit(
    request: Request,
    ctx: Decider,
    company: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    try:
        given = InviteIn(
            company=company.strip() or None,
            email=email.strip() or None,
            days=int(days) if days.strip().isdigit() else None,
        )
        made = _invite(ctx, given)
    except apps.ApplicationError as exc:
        return _list_page(request, ctx, ApplicationFilter(), errors=[str(exc)], status=400)
    # the link is shown once, on this answer (only its hash is kept)
    return _list_page(request, ctx, ApplicationFilter(), errors=[], status=201, invited=made)


def _decide_form(
    request: Request, ctx: Ctx, application_id: int, act: Callable[[], Any]
) -> Response:
    return form_action(
        act,
        f"/applications/{application_id}",
        lambda errors, status: _detail_page(
            request, ctx, application_id, errors=errors, status=status
        ),
    )


@pages.post(
    "/applications/{application_id}/owner", response_class=HTMLResponse, response_model=None
)
def owner_submit(
    request: Request,
    ctx: Decider,
    application_id: ApplicationId,
    owner: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _decide_form(
        request,
        ctx,
        application_id,
        lambda: _own(ctx, application_id, OwnerIn(owner=owner.strip())),
    )


@pages.post(
    "/applications/{application_id}/scores", response_class=HTMLResponse, response_model=None
)
def score_submit(
    request: Request,
    ctx: Decider,
    application_id: ApplicationId,
    criterion: Annotated[str, Form(max_length=80)] = "",
    score: Annotated[str, Form(max_length=8)] = "",
    evidence: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def act() -> apps.Assessment:
        scale = ctx.workspace.config.qualification.scale
        if not score.strip().isdigit():
            raise apps.ApplicationError("score", f"pick a score from 1 to {scale}")
        return apps.score(
            ctx.workspace,
            _judged(ctx, application_id, suggest=False).application.application_id,
            criterion,
            int(score),
            evidence,
            by=ctx.user.name,
            now=_now(),
        )

    return _decide_form(request, ctx, application_id, act)


@pages.post(
    "/applications/{application_id}/approve", response_class=HTMLResponse, response_model=None
)
def approve_submit(
    request: Request,
    ctx: Decider,
    application_id: ApplicationId,
    program_tier: Annotated[str, Form(max_length=64)] = "",
    partner_id: Annotated[str, Form(max_length=64)] = "",
    partner_manager: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def act() -> apps.Application:
        if not program_tier.strip():
            raise apps.ApplicationError("program_tier", "pick the initial program tier")
        given = ApproveIn(
            program_tier=program_tier.strip(),
            partner_id=partner_id.strip() or None,
            partner_manager=partner_manager.strip() or None,
        )
        return _approve(ctx, application_id, given)

    return _decide_form(request, ctx, application_id, act)


@pages.post(
    "/applications/{application_id}/reject", response_class=HTMLResponse, response_model=None
)
def reject_submit(
    request: Request,
    ctx: Decider,
    application_id: ApplicationId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def act() -> apps.Application:
        if not reason.strip():
            raise apps.ApplicationError(
                "reason", "give the reason for the rejection (it is kept with the decision)"
            )
        return _reject(ctx, application_id, RejectIn(reason=reason.strip()))

    return _decide_form(request, ctx, application_id, act)


# ------------------------------------------------------------------ the applicant's form

PARTNER_TYPE_LABELS = PARTNER_TYPES


def _closed(request: Request, exc: apps.InviteError) -> HTMLResponse:
    status = 404 if exc.state == "unknown" else 410
    return page(
        request,
        None,
        "apply_closed.html.j2",
        status=status,
        title="Partner application",
        message=str(exc),
        state=exc.state,
    )


def _too_many(request: Request, wait: int) -> HTMLResponse:
    response = page(
        request,
        None,
        "apply_closed.html.j2",
        status=429,
        title="Partner application",
        message=f"Too many attempts from your address; try again in {wait // 60 + 1} minutes.",
        state="throttled",
    )
    response.headers["retry-after"] = str(wait)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _apply_form(
    request: Request,
    invite: apps.Invite,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    general: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        None,
        "apply.html.j2",
        status=status,
        title="Apply to become a partner",
        apply_csrf=token,
        invite=invite,
        fields=apps.FIELDS,
        values=values,
        field_errors=errors,
        general=general,
        partner_types=PARTNER_TYPE_LABELS,
    )
    set_form_cookie(response, request, APPLY_CSRF_COOKIE, token, "/apply")
    return response


@pages.get("/apply/sent", response_class=HTMLResponse)
def apply_sent(request: Request) -> HTMLResponse:
    """What happens next, after an application was sent (nothing about its assessment)."""
    return page(request, None, "apply_sent.html.j2", title="Thank you for your application")


@pages.get("/apply/{token}", response_class=HTMLResponse)
def apply_page(request: Request, token: Token) -> HTMLResponse:
    """The application form of an invitation link (no account needed)."""
    gate = throttle(request)
    try:
        invite = apps.invite_for(web_state(request).workspace, token, _now())
    except apps.InviteError as exc:
        wait = gate.wait(_client(request), count=exc.state == "unknown")
        return _too_many(request, wait) if wait else _closed(request, exc)
    wait = gate.wait(_client(request), count=False)
    if wait:
        return _too_many(request, wait)
    values = {"company": invite.company or "", "contact_email": invite.email or ""}
    return _apply_form(request, invite, values=values, errors={})


@pages.post("/apply/{token}", response_class=HTMLResponse, response_model=None)
async def apply_submit(request: Request, token: Token) -> Response:
    """Send the application: checked field by field (the form again with each problem next
    to its field), then stored with the link used up."""
    from fastapi.concurrency import run_in_threadpool

    wait = throttle(request).wait(_client(request))
    if wait:
        return _too_many(request, wait)
    form = await request.form()
    values = {
        key: str(form.get(key) or "")[: apps.MAX_TEXT]
        for key, _, _ in apps.FIELDS
        if isinstance(form.get(key) or "", str)
    }
    sent = form.get(CSRF_FIELD)
    workspace = web_state(request).workspace
    try:
        invite = await run_in_threadpool(apps.invite_for, workspace, token, _now())
    except apps.InviteError as exc:
        return _closed(request, exc)
    if not form_cookie_matches(request, APPLY_CSRF_COOKIE, sent):
        return _apply_form(
            request,
            invite,
            values=values,
            errors={},
            general="The form expired before it was sent; check it and send it again.",
            status=403,
        )
    wrong = apps.problems(values)
    if wrong:
        return _apply_form(request, invite, values=values, errors=dict(reversed(wrong)), status=422)
    try:
        await run_in_threadpool(apps.apply, workspace, token, values, now=_now())
    except apps.InviteError as exc:
        return _closed(request, exc)
    except apps.ApplicationError as exc:
        return _apply_form(request, invite, values=values, errors={exc.field: str(exc)}, status=422)
    response = RedirectResponse("/apply/sent", status_code=303)
    response.delete_cookie(APPLY_CSRF_COOKIE, path="/apply")
    return response
