"""Notifications in the web app (docs/notifications.md, "The notification centre and live
updates"):

- ``/notifications``: everyone's own centre, newest first, unread marked; mark one or all read;
- ``/settings/notifications``: the user's cadence per kind (a partner user: the kinds that
  reach partners);
- ``/unsubscribe/<token>``: the link in every email, without signing in; opening it shows a
  button, only posting it unsubscribes (a mail scanner that opens links changes nothing);
- ``/admin/outbox``: the dead letters with their errors and a retry (admins);
- ``/events``: the server-sent events of an open page (the unread count, a new run);
- their JSON twins under ``/api/v1/notifications`` and ``/api/v1/admin/outbox``.

A user reads and marks only their own notifications; another's id is answered like a missing
one (404).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from partnerscope.accounts import Role
from partnerscope.errors import PartnerscopeError
from partnerscope.notify import inbox, live, preferences, unsubscribe, worker
from partnerscope.outbox import CADENCES, KINDS
from partnerscope.web.render import page
from partnerscope.web.security import (
    CSRF_FIELD,
    EVERYONE,
    Ctx,
    UtcDateTime,
    allow,
    form_cookie_matches,
    safe_next,
    set_form_cookie,
    web_state,
)

pages = APIRouter()
api = APIRouter(tags=["notifications"])

Anyone = Annotated[Ctx, Depends(allow(*EVERYONE))]
Admin = Annotated[Ctx, Depends(allow(Role.ADMIN))]
NotificationId = Annotated[int, Path(ge=1, le=2**62)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
#: the unsubscribe form's own CSRF cookie (whoever opens the link has no session)
UNSUBSCRIBE_CSRF_COOKIE = "partnerscope_unsubscribe_csrf"
#: dead letters shown on one page
DEAD_SHOWN = 200


# --------------------------------------------------------------------------- answers


class NotificationOut(BaseModel):
    notification_id: int
    kind: str
    #: the kind as people read it ("New alerts")
    kind_label: str
    title: str
    lines: list[str]
    facts: list[tuple[str, str]]
    #: the page it is about (a path of the web app)
    link: str | None
    created_at: UtcDateTime
    read_at: UtcDateTime | None
    unread: bool


class InboxOut(BaseModel):
    notifications: list[NotificationOut]
    unread: int
    total: int
    page: int
    #: the next page's number (None: this is the last)
    next_page: int | None


class ReadOut(BaseModel):
    #: how many were marked read now
    marked: int
    unread: int


class KindPreference(BaseModel):
    kind: str
    label: str
    description: str
    cadence: str
    #: the cadence when the user has not chosen
    default: str


class PreferencesOut(BaseModel):
    #: the user's default for the kinds not chosen (None: each kind's own default)
    default: str | None
    kinds: list[KindPreference]
    cadences: list[str]


class PreferencesIn(BaseModel):
    """{kind: cadence} for the kinds to change ("*": the user's default)."""

    cadences: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=16)]] = (
        Field(default_factory=dict, max_length=len(KINDS) + 1)
    )


class DeadLetterOut(BaseModel):
    delivery_id: int
    notification_id: int
    kind_label: str
    title: str
    channel: str
    #: a user's name, an email address or a webhook's name
    recipient: str
    attempts: int
    last_error: str | None
    created_at: UtcDateTime


class RetryIn(BaseModel):
    delivery_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=10_000
    )
    #: every dead letter
    all: bool = False


class RetryOut(BaseModel):
    requeued: int


def _out(item: inbox.Item) -> NotificationOut:
    return NotificationOut(
        notification_id=item.notification_id,
        kind=item.kind,
        kind_label=item.kind_label,
        title=item.title,
        lines=list(item.lines),
        facts=list(item.facts),
        link=item.link,
        created_at=item.created_at,
        read_at=item.read_at,
        unread=item.unread,
    )


def _inbox(ctx: Ctx, number: int) -> InboxOut:
    engine = ctx.state.accounts.engine
    found = inbox.items(engine, ctx.user, page=number)
    total = inbox.total(engine, ctx.user)
    return InboxOut(
        notifications=[_out(i) for i in found],
        unread=inbox.unread(engine, ctx.user),
        total=total,
        page=number,
        next_page=number + 1 if number * inbox.PAGE_SIZE < total else None,
    )


def _read(ctx: Ctx, notification_id: int) -> ReadOut:
    engine = ctx.state.accounts.engine
    done = inbox.mark_read(engine, ctx.user, notification_id)
    if done is None:
        raise HTTPException(404, f"no notification {notification_id}")
    return ReadOut(marked=int(done), unread=inbox.unread(engine, ctx.user))


def _read_all(ctx: Ctx) -> ReadOut:
    engine = ctx.state.accounts.engine
    marked = inbox.mark_all_read(engine, ctx.user)
    return ReadOut(marked=marked, unread=inbox.unread(engine, ctx.user))


def _preferences(ctx: Ctx) -> PreferencesOut:
    with ctx.state.accounts.engine.connect() as connection:
        chosen = preferences.chosen(connection, ctx.user.user_id)
        taken = preferences.preferences(connection, ctx.user.user_id)
    default = chosen.get("*")
    return PreferencesOut(
        default=default,
        kinds=[
            KindPreference(
                kind=kind,
                label=KINDS[kind].label,
                description=KINDS[kind].description,
                cadence=taken[kind],
                default=default or KINDS[kind].cadence,
            )
            for kind in preferences.kinds_for(ctx.user)
        ],
        cadences=list(CADENCES),
    )


def _dead(ctx: Ctx) -> list[DeadLetterOut]:
    rows = worker.letters(ctx.workspace, dead=True, limit=DEAD_SHOWN)
    return [
        DeadLetterOut(
            delivery_id=r.delivery_id,
            notification_id=r.notification_id,
            kind_label=KINDS[r.kind].label if r.kind in KINDS else str(r.kind),
            title=r.title,
            channel=r.channel,
            recipient=" · ".join(x for x in (r.name, r.address) if x) or "—",
            attempts=r.attempts,
            last_error=r.last_error,
            created_at=r.created_at,
        )
        for r in rows
    ]


def _retry(ctx: Ctx, given: RetryIn) -> RetryOut:
    ids = [d.delivery_id for d in _dead(ctx)] if given.all else given.delivery_ids
    if not ids:
        raise HTTPException(
            422, "delivery_ids: name the dead letters to send again, or all: true for every one"
        )
    return RetryOut(requeued=worker.retry(ctx.workspace, ids, ctx.user.name))


# ------------------------------------------------------------------------------- API


@api.get("/notifications", response_model=InboxOut)
def notifications_api(ctx: Anyone, page: PageNumber = 1) -> InboxOut:
    """Your notifications, newest first (``page``: 25 a page), and how many are unread."""
    return _inbox(ctx, page)


@api.get("/notifications/preferences", response_model=PreferencesOut)
def preferences_api(ctx: Anyone) -> PreferencesOut:
    """How you take each kind of notification: immediately, daily, weekly or off."""
    return _preferences(ctx)


@api.post("/notifications/preferences", response_model=PreferencesOut)
def set_preferences_api(ctx: Anyone, given: PreferencesIn) -> PreferencesOut:
    """Change your cadence of some kinds (``{"cadences": {"alert": "daily"}}``; kind "*" is
    your default); an unknown kind or cadence changes nothing (400 saying which)."""
    preferences.set_preferences(ctx.workspace, ctx.user, given.cadences, by=ctx.user.name)
    return _preferences(ctx)


@api.post("/notifications/read-all", response_model=ReadOut)
def read_all_api(ctx: Anyone) -> ReadOut:
    """Mark all your notifications read."""
    return _read_all(ctx)


@api.post("/notifications/{notification_id}/read", response_model=ReadOut)
def read_api(ctx: Anyone, notification_id: NotificationId) -> ReadOut:
    """Mark one of your notifications read (another's is 404, like a missing one)."""
    return _read(ctx, notification_id)


@api.get("/admin/outbox", response_model=list[DeadLetterOut])
def outbox_api(ctx: Admin) -> list[DeadLetterOut]:
    """The dead letters (deliveries given up after their last attempt), newest first."""
    return _dead(ctx)


@api.post("/admin/outbox/retry", response_model=RetryOut)
def retry_api(ctx: Admin, given: RetryIn) -> RetryOut:
    """Send dead letters again (``delivery_ids``, or ``all``); audited."""
    return _retry(ctx, given)


# ----------------------------------------------------------------------------- pages


def _centre(request: Request, ctx: Ctx, number: int, *, status: int = 200) -> HTMLResponse:
    view = _inbox(ctx, number)
    return page(
        request,
        ctx,
        "notifications.html.j2",
        status=status,
        title="Notifications",
        subtitle=f"{ctx.workspace.words.number(view.unread)} unread",
        view=view,
        links={
            n.notification_id: safe_next(n.link) if n.link else None for n in view.notifications
        },
    )


@pages.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, ctx: Anyone, page: PageNumber = 1) -> HTMLResponse:
    return _centre(request, ctx, page)


@pages.post("/notifications/read-all", response_model=None)
def read_all_submit(ctx: Anyone) -> Response:
    _read_all(ctx)
    return RedirectResponse("/notifications", status_code=303)


@pages.post("/notifications/{notification_id}/read", response_model=None)
def read_submit(
    ctx: Anyone,
    notification_id: NotificationId,
    open_: Annotated[str, Form(alias="open", max_length=1)] = "",
) -> Response:
    """Mark it read; with ``open``, go on to the page it is about."""
    _read(ctx, notification_id)
    target = "/notifications"
    if open_:
        item = inbox.find(ctx.state.accounts.engine, ctx.user, notification_id)
        if item is not None and item.link:
            target = safe_next(item.link)
    return RedirectResponse(target, status_code=303)


def _settings(
    request: Request, ctx: Ctx, *, errors: list[str], saved: bool = False, status: int = 200
) -> HTMLResponse:
    return page(
        request,
        ctx,
        "notification_settings.html.j2",
        status=status,
        title="Notification settings",
        subtitle="how you are told of each kind of notification",
        view=_preferences(ctx),
        labels=preferences.CADENCE_LABELS,
        email=ctx.user.email,
        errors=errors,
        saved=saved,
    )


@pages.get("/settings/notifications", response_class=HTMLResponse)
def settings_page(request: Request, ctx: Anyone, saved: bool = False) -> HTMLResponse:
    return _settings(request, ctx, errors=[], saved=saved)


@pages.post("/settings/notifications", response_class=HTMLResponse, response_model=None)
async def settings_submit(request: Request, ctx: Anyone) -> Response:
    """One select per kind (``kind.<kind>``) and the default (``kind.*``); only what changed
    is recorded."""
    form = await request.form()
    choices: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("kind.") and isinstance(value, str) and value:
            choices[key.removeprefix("kind.")[:40]] = value[:16]
    try:
        await run_in_threadpool(
            preferences.set_preferences, ctx.workspace, ctx.user, choices, ctx.user.name
        )
    except PartnerscopeError as exc:
        return _settings(request, ctx, errors=[str(exc)], status=400)
    return RedirectResponse("/settings/notifications?saved=true", status_code=303)


@pages.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    ctx: Admin,
    requeued: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> HTMLResponse:
    return page(
        request,
        ctx,
        "outbox.html.j2",
        title="Outbox",
        subtitle="notifications that could not be delivered after their last attempt",
        dead=_dead(ctx),
        requeued=requeued,
        shown=DEAD_SHOWN,
    )


@pages.post("/admin/outbox/retry", response_model=None)
async def retry_submit(request: Request, ctx: Admin) -> Response:
    """A button per dead letter (``delivery_id``) or one for all (``all``)."""
    form = await request.form()
    ids = [int(v) for v in form.getlist("delivery_id") if isinstance(v, str) and v.isdigit()][
        :10_000
    ]
    given = RetryIn(delivery_ids=[i for i in ids if 1 <= i <= 2**62], all=bool(form.get("all")))
    try:
        done = await run_in_threadpool(_retry, ctx, given)
    except HTTPException as exc:
        return page(
            request,
            ctx,
            "outbox.html.j2",
            status=exc.status_code,
            title="Outbox",
            subtitle="notifications that could not be delivered after their last attempt",
            dead=_dead(ctx),
            requeued=None,
            shown=DEAD_SHOWN,
            errors=[str(exc.detail)],
        )
    return RedirectResponse(f"/admin/outbox?requeued={done.requeued}", status_code=303)


# ------------------------------------------------------------------------ unsubscribe

Token = Annotated[str, Path(min_length=1, max_length=300)]


def _unsubscribe_page(
    request: Request, token: str, *, status: int = 200, done: bool = False, problem: str = ""
) -> HTMLResponse:
    state = web_state(request)
    request_: unsubscribe.Request | None = None
    name = ""
    if not problem:
        try:
            request_ = unsubscribe.verify(state.workspace, token)
        except PartnerscopeError as exc:
            problem, status = str(exc), 404
    if request_ is not None:
        found = [u for u in state.accounts.everyone() if u.user_id == request_.user_id]
        if not found:
            problem, status = "this unsubscribe link is for a user who no longer exists", 404
        else:
            name = found[0].name
    form_token = secrets.token_urlsafe(32)
    response = page(
        request,
        None,
        "unsubscribe.html.j2",
        status=status,
        title="Unsubscribe",
        request_=request_ if not problem else None,
        name=name,
        token=token,
        done=done,
        problem=problem,
        form_csrf=form_token,
    )
    if not done and not problem:
        set_form_cookie(response, request, UNSUBSCRIBE_CSRF_COOKIE, form_token, "/unsubscribe")
    return response


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: Token) -> HTMLResponse:
    """What the link turns off, and the button that does it (no sign-in)."""
    return _unsubscribe_page(request, token)


@pages.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_submit(request: Request, token: Token) -> HTMLResponse:
    form = await request.form()
    if not form_cookie_matches(request, UNSUBSCRIBE_CSRF_COOKIE, form.get(CSRF_FIELD)):
        return _unsubscribe_page(
            request,
            token,
            status=403,
            problem="The page expired before the button was pressed; open the link again.",
        )
    try:
        await run_in_threadpool(unsubscribe.apply, web_state(request).workspace, token)
    except PartnerscopeError as exc:
        return _unsubscribe_page(request, token, status=404, problem=str(exc))
    response = _unsubscribe_page(request, token, done=True)
    response.delete_cookie(UNSUBSCRIBE_CSRF_COOKIE, path="/unsubscribe")
    return response


# ----------------------------------------------------------------------------- events


@pages.get("/events", response_model=None)
async def events(
    request: Request,
    ctx: Anyone,
    run: Annotated[int | None, Query(ge=0, le=2**62, description="the run the page shows")] = None,
    seconds: Annotated[
        float, Query(ge=0, le=live.LIFETIME, description="how long to stay open")
    ] = live.LIFETIME,
) -> StreamingResponse:
    """Server-sent events for an open page: ``unread`` (your unread count) and ``run`` (a new
    run is served, if ``run`` is the one the page shows). A client that does not ask for an
    event stream (``Accept: text/event-stream``, as a browser's ``EventSource`` does) gets
    one look, and the answer ends."""
    engine, user, current = ctx.state.accounts.engine, ctx.user, ctx.state.current
    if "text/event-stream" not in request.headers.get("accept", ""):
        seconds = 0

    def served() -> int | None:
        found = current.get()
        return found.run_id if found is not None else None

    body = live.stream(
        unread=lambda: inbox.unread(engine, user),
        run=served,
        page_run=run,
        disconnected=request.is_disconnected,
        lifetime=seconds,
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
