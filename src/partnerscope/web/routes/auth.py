"""Signing in and out, and who the caller is."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from partnerscope.accounts import LoginError, LoginThrottledError, Role
from partnerscope.web.render import page
from partnerscope.web.security import (
    CSRF_FIELD,
    EVERYONE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Ctx,
    allow,
    form_cookie_matches,
    safe_next,
    secure,
    set_form_cookie,
    web_state,
)

pages = APIRouter()
api = APIRouter(tags=["session"])


class Me(BaseModel):
    name: str
    role: Role
    #: a partner user's own partner
    partner_id: str | None
    #: partner ids the caller may see; null: every partner
    partners: list[str] | None
    run_id: int | None


def me(ctx: Ctx) -> Me:
    visible = ctx.visible
    return Me(
        name=ctx.user.name,
        role=ctx.user.role,
        partner_id=ctx.user.partner_id,
        partners=sorted(visible) if visible is not None else None,
        run_id=ctx.served.run_id if ctx.served else None,
    )


@api.get("/me", response_model=Me)
def me_api(ctx: Annotated[Ctx, Depends(allow(*EVERYONE))]) -> Me:
    """The signed-in user, its role and the partners it may see."""
    return me(ctx)


def _login_form(
    request: Request, *, next_: str, name: str = "", error: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        None,
        "login.html.j2",
        status=status,
        title="Sign in",
        login_csrf=token,
        next=safe_next(next_),
        name=name,
        error=error,
    )
    set_form_cookie(response, request, LOGIN_CSRF_COOKIE, token, "/login")
    return response


@pages.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return _login_form(request, next_=next)


@pages.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state = web_state(request)
    if not form_cookie_matches(request, LOGIN_CSRF_COOKIE, csrf_token):
        return _login_form(
            request,
            next_=next,
            name=name,
            error="the sign-in form expired; sign in again",
            status=403,
        )
    client = request.client.host if request.client else ""
    try:
        user = state.accounts.authenticate(name, password, client=client)
    except LoginThrottledError as exc:
        response = _login_form(request, next_=next, name=name, error=str(exc), status=429)
        response.headers["retry-after"] = str(exc.retry_after)
        return response
    except LoginError as exc:
        return _login_form(request, next_=next, name=name, error=str(exc), status=401)
    token, _ = state.accounts.open_session(user)
    target = safe_next(next)  # "/" is every role's own landing page
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure(request, state),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@pages.post("/logout")
def logout(request: Request, ctx: Annotated[Ctx, Depends(allow(*EVERYONE))]) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.state.accounts.close_session(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.get("/portal")
def portal(ctx: Annotated[Ctx, Depends(allow(Role.PARTNER_USER))]) -> Response:
    """A partner user's home: its own scorecard."""
    if not ctx.user.partner_id:
        raise HTTPException(404, "your user has no partner; ask an admin")
    return RedirectResponse(f"/partners/{ctx.user.partner_id}", status_code=303)
