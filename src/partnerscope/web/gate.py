"""The gate in front of every request body: who may send one, and how large it may be.

FastAPI reads and parses a request's body before the route's dependencies run, so
:func:`security.allow` alone would authenticate the caller only after an anonymous client had
made the server read and parse whatever it sent. :class:`BodyGate` (plain ASGI, inside the
security headers, outside FastAPI) runs first:

- a request that may carry a body (POST, PUT, PATCH, DELETE) to any route but the sign-in form
  must be signed in (session cookie or ``Authorization: Bearer``) before a byte of the body is
  read; else it is answered as the routes answer it (the API 401, a page the sign-in form), and
  the caller it found is kept on the request for ``allow`` (no second look-up);
- no body may be larger than its route's limit (:data:`LIMITS`, else :data:`DEFAULT_LIMIT`):
  a ``Content-Length`` over it is refused (413) at once, and a streamed (chunked) body is
  counted as it arrives and refused as soon as it passes the limit; the rest is never read.

A refusal sent before the whole body was read says ``connection: close`` (the server stops
reading the connection instead of draining the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from partnerscope.web.answers import API, refusal, sign_in_first
from partnerscope.web.routes.leads import MAX_UPLOAD
from partnerscope.web.security import CALLER, UNSAFE, NotSignedInError, signed_in, web_state

if TYPE_CHECKING:
    from fastapi.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
MIB = 1024 * KIB
#: The largest body each route takes, in bytes ((method, path) → limit); every other route
#: takes :data:`DEFAULT_LIMIT`.
LIMITS: dict[tuple[str, str], int] = {
    # a name, a password of up to 1,024 characters, the form's token and where to go next
    ("POST", "/login"): 64 * KIB,
    # up to 10,000 leads: about 2.3 MB with every column of a routing file filled in, 9.2 MB
    # with every text at its longest, indented (tests/test_web_gate.py measures both)
    ("POST", f"{API}/leads/route"): 16 * MIB,
    # a routing file of up to MAX_UPLOAD bytes, with the multipart framing and the form's token
    ("POST", "/leads/route"): MAX_UPLOAD + MIB,
}
#: any other body: a JSON document or a form (the largest, a scenario spec, is 20,000 characters)
DEFAULT_LIMIT = MIB
#: the routes that take a body from a caller who is not signed in: the sign-in form, the
#: application form of an invitation link (``/apply/<token>``: protected by its own CSRF
#: cookie, the link's token and a rate limit, web/routes/applications.py), and the button of
#: an email's unsubscribe link (``/unsubscribe/<token>``: its own CSRF cookie and the link's
#: signed token, web/routes/notifications.py)
PUBLIC = frozenset({("POST", "/login")})
PUBLIC_PREFIXES = (("POST", "/apply/"), ("POST", "/unsubscribe/"))


def public(method: str, path: str) -> bool:
    """Whether ``method path`` takes a body from a caller who is not signed in."""
    return (method, path) in PUBLIC or any(
        method == m and path.startswith(p) for m, p in PUBLIC_PREFIXES
    )


def limit(method: str, path: str) -> int:
    """The largest body ``method path`` takes, in bytes."""
    return LIMITS.get((method, path), DEFAULT_LIMIT)


def _size(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit // KIB} KiB"


def too_large(request: Request, limit: int) -> Response:
    """413, saying the limit."""
    return refusal(
        request,
        413,
        f"the request is too large: {request.method} {request.url.path} takes at most "
        f"{_size(limit)} ({limit:,} bytes)",
    )


class _BodyTooLargeError(Exception):
    """Raised into the app when a streamed body passes its limit (the 413 is already sent)."""


def _declared(scope: Scope) -> tuple[int | None, bool]:
    """(the ``Content-Length``, whether a body follows at all)."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return length, chunked or bool(length)


class BodyGate:
    """Authenticates a request with a body before reading it, and keeps the body within its
    route's limit (see the module's description)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        method, path = scope["method"], scope["path"]
        declared, pending = _declared(scope)

        async def answer(response: Response) -> None:
            if pending:
                response.headers["connection"] = "close"
            await response(scope, receive, send)

        if not public(method, path):
            try:
                # the database look-up runs in the thread pool, not on the shared event loop
                scope[CALLER] = await run_in_threadpool(signed_in, request, web_state(request))
            except NotSignedInError as exc:
                await answer(sign_in_first(request, exc))
                return
        most = limit(method, path)
        if declared is not None and declared > most:
            await answer(too_large(request, most))
            return
        received = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > most:
                    refused = True
                    if not started:
                        await answer(too_large(request, most))
                    raise _BodyTooLargeError
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return  # the 413 went out instead of what the app answers to a cut body
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            # whatever the app made of its cut body (FastAPI turns the error into a 400) is
            # dropped: the 413 was the answer
            if not refused or started:
                raise
