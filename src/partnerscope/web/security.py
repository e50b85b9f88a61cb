"""Who is asking, and what they may see.

A request is signed in by a session cookie (the browser; forms must then carry the session's
CSRF token) or by an API token in ``Authorization: Bearer ...`` (scripts; no cookie, so no
CSRF). Every route declares the roles it serves with :func:`allow`; a partner the caller may
not see is answered exactly like a partner that does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator

from partnerscope.accounts import Accounts, Role, User, visible_partners

if TYPE_CHECKING:
    from fastapi.responses import Response

    from partnerscope.evaluation.view import RunData
    from partnerscope.web.current import Current, Served
    from partnerscope.workspace import Workspace

SESSION_COOKIE = "partnerscope_session"
LOGIN_CSRF_COOKIE = "partnerscope_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the request scope's key for the caller the body gate (web/gate.py) found: (user, csrf)
CALLER = "partnerscope.caller"
EVERYONE = tuple(Role)
STAFF = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)
ANALYSTS = (Role.ADMIN, Role.ANALYST)
#: who approves and pays payout ledgers and MDF requests
FINANCE = (Role.ADMIN, Role.FINANCE)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


#: A moment in an API answer: the database and manifests keep naive UTC; the API says so.
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class NotSignedInError(Exception):
    """No valid session or token: a page redirects to the sign-in form, the API answers 401."""


@dataclass
class WebState:
    """What the app holds for its whole life (``app.state.web``)."""

    workspace: Workspace
    accounts: Accounts
    current: Current
    #: None: Secure cookies on HTTPS only; True/False: always/never.
    secure_cookies: bool | None = None


@dataclass
class Ctx:
    """One request's caller and the run it reads."""

    state: WebState
    user: User
    #: the session's CSRF token (None when signed in by an API token)
    csrf: str | None
    served: Served | None

    @property
    def workspace(self) -> Workspace:
        return self.state.workspace

    @property
    def run(self) -> Served:
        """The served run; 404 with a hint before the first run."""
        if self.served is None:
            raise HTTPException(404, "no run yet: compute the metrics with `partnerscope run`")
        return self.served

    @property
    def data(self) -> RunData:
        return self.run.data

    @cached_property
    def visible(self) -> frozenset[str] | None:
        """Partner ids the caller may see; None: all of them (worked out once a request)."""
        managers = self.served.data.managers if self.served is not None else {}
        return visible_partners(self.user, managers)

    def can_see(self, partner_id: str) -> bool:
        visible = self.visible
        return visible is None or partner_id in visible

    def acting_for(self, partner_id: str | None, missing: str) -> str:
        """The partner a submission is for: a partner user's own (naming another is 404);
        for anyone else the one named, if they may see it (else 404; none named: 422 saying
        ``missing``)."""
        if self.user.role is Role.PARTNER_USER:
            own = self.user.partner_id
            if own is None or partner_id not in (None, own):
                raise HTTPException(404, f"no partner {partner_id!r}")
            return own
        if not partner_id:
            raise HTTPException(422, f"partner_id: {missing}")
        if not self.can_see(partner_id):
            raise HTTPException(404, f"no partner {partner_id!r}")
        return partner_id

    def choices(self) -> list[str]:
        """The run's partners a form may offer the caller (none to a partner user, who acts
        for its own), by id."""
        if self.user.role is Role.PARTNER_USER or self.served is None:
            return []
        return sorted(p for p in self.data.scorecards.spans if self.can_see(p))

    def partner_names(self) -> Callable[[str], str]:
        """A partner's name from the served run (its id before the first run)."""
        return self.data.partner_name if self.served is not None else str

    def partner(self, partner_id: str) -> str:
        """The partner id if the caller may see it and the run has it, else 404 (the same
        answer either way)."""
        data = self.data
        if not self.can_see(partner_id) or partner_id not in data.scorecards:
            raise HTTPException(404, f"no partner {partner_id!r}")
        return partner_id


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def signed_in(request: Request, state: WebState) -> tuple[User, str | None]:
    """The caller (and its session's CSRF token; None for an API token) from the request's
    headers alone, else :class:`NotSignedInError` saying why. It reads the account database:
    call it in the thread pool."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotSignedInError("use `Authorization: Bearer <token>`")
        user = state.accounts.user_for_token(secret.strip())
        if user is None:
            raise NotSignedInError("the API token is unknown or revoked")
        return user, None
    token = request.cookies.get(SESSION_COOKIE)
    found = state.accounts.session(token) if token else None
    if found is None:
        raise NotSignedInError("sign in first")
    return found


def allow(*roles: Role) -> Callable[[Request], Awaitable[Ctx]]:
    """A dependency: the caller's context if signed in with one of ``roles`` (else 401/403);
    on a POST from a browser, the session's CSRF token must come with it."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Ctx:
        state = web_state(request)
        # a request with a body was signed in by the body gate before its body was read
        found: tuple[User, str | None] | None = request.scope.get(CALLER)
        if found is None:
            # the database lookup runs in the thread pool, not on the event loop all share
            found = await run_in_threadpool(signed_in, request, state)
        user, csrf = found
        if user.role not in allowed:
            raise HTTPException(403, "your role cannot open this page")
        if csrf is not None and request.method in UNSAFE:
            await check_csrf(request, csrf)
        ctx = Ctx(state, user, csrf, state.current.get())
        # the refusal handlers tell an error to this caller (PartnerscopeError.told)
        request.state.ctx = ctx
        return ctx

    return dependency


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(
            403, "the form's security token is missing or stale; reload the page and try again"
        )


def secure(request: Request, state: WebState) -> bool:
    return (
        state.secure_cookies
        if state.secure_cookies is not None
        else (request.url.scheme == "https")
    )


def set_form_cookie(response: Response, request: Request, name: str, token: str, path: str) -> None:
    """The CSRF cookie of a form sent before signing in (the sign-in form, an application
    form): strict, script-proof and only sent back to ``path``."""
    response.set_cookie(
        name,
        token,
        httponly=True,
        samesite="strict",
        secure=secure(request, web_state(request)),
        path=path,
    )


def form_cookie_matches(request: Request, name: str, sent: object) -> bool:
    """Whether the form sent back the token of its cookie ``name``."""
    cookie = request.cookies.get(name, "")
    return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(cookie, sent)


def safe_next(target: Any) -> str:
    """Where to go after signing in: a path on this site only."""
    text = target if isinstance(target, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text
