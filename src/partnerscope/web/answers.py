"""How a refusal is answered: ``{"detail": ...}`` JSON under ``/api/v1``, the message page
everywhere else (the API's Swagger page included: it is a page).

Shared by the app's exception handlers (web/app.py) and the gate that refuses a request before
its body is read (web/gate.py), so that both answer alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import Request

API = "/api/v1"
#: the OpenAPI document and its Swagger UI page (signed-in users only)
OPENAPI = f"{API}/openapi.json"
DOCS = f"{API}/docs"
#: what the client of an unexpected error is told (the traceback goes to the server's log)
SERVER_ERROR = "the server could not answer; the error is in the server's log"

TITLES = {
    400: "That cannot be done",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
    422: "Check the request",
    429: "Too many attempts",
    500: "Something went wrong",
}


def is_api(path: str) -> bool:
    """Whether ``path`` is answered in JSON (the API) rather than with a page."""
    return (path == API or path.startswith(API + "/")) and path != DOCS


def refusal(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """``{"detail": ...}`` for the API, else the message page saying ``detail``."""
    from partnerscope.web.render import page

    if is_api(request.url.path):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    response = page(
        request,
        None,
        "message.html.j2",
        status=status,
        title=TITLES.get(status, "Something is wrong"),
        message=detail,
        kind="bad",
        back="/",
    )
    if headers:
        response.headers.update(headers)
    return response


def sign_in_first(request: Request, reason: object) -> Response:
    """Not signed in: the API answers 401 (``www-authenticate: Bearer``), a page goes to the
    sign-in form, which comes back here afterwards."""
    if is_api(request.url.path):
        return JSONResponse(
            {"detail": f"not signed in: {reason}"},
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def server_error(request: Request) -> Response:
    """An unexpected error: a generic answer, never a traceback."""
    try:
        return refusal(request, 500, SERVER_ERROR)
    except Exception:  # the message page itself failed: say it plainly
        return PlainTextResponse(SERVER_ERROR, status_code=500)
