"""The FastAPI application: ``create_app(workspace)``.

Every response carries security headers (a strict Content-Security-Policy: scripts and styles
from this site only, no framing), errors and refusals included: they are added outside the
whole middleware stack. A request with a body passes the body gate first (web/gate.py: signed
in before its body is read, and no larger than its route takes). Errors a caller can cause
become a page or a JSON ``{"detail": ...}`` with the right status; an unexpected error a
generic 500, never a traceback (that goes to the server's log).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from partnerscope import __version__
from partnerscope.accounts import Accounts
from partnerscope.errors import PartnerscopeError
from partnerscope.web.answers import API, DOCS, OPENAPI, refusal, server_error, sign_in_first
from partnerscope.web.audience import no_one
from partnerscope.web.current import Current
from partnerscope.web.gate import BodyGate
from partnerscope.web.security import EVERYONE, Ctx, NotSignedInError, WebState, allow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from partnerscope.workspace import Workspace

__all__ = ["API", "create_app", "from_environment"]
#: Scripts from this site only, no eval (charts use vega's expression interpreter); vega-embed
#: sets element styles, hence 'unsafe-inline' for styles only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
STATIC = Path(__file__).parent / "static"
#: uvicorn's settings for the app (``partnerscope serve``, and the tests' live server): no
#: ``server`` header naming the software (the ``date`` header stays: HTTP asks for it)
UVICORN: dict[str, Any] = {"server_header": False}
#: any signed-in user (the OpenAPI document and its Swagger page)
SignedIn = Annotated[Ctx, Depends(allow(*EVERYONE))]


class Problem(BaseModel):
    """Every refusal: what is wrong and how to fix it."""

    detail: str


#: The refusals every API operation may answer (documented for clients and the fuzzer).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The request cannot be done as asked"},
    401: {"model": Problem, "description": "Not signed in: send `Authorization: Bearer <token>`"},
    403: {"model": Problem, "description": "The caller's role may not do this"},
    404: {"model": Problem, "description": "No such object, or not one the caller may see"},
    422: {"model": Problem, "description": "A parameter or the body is not valid"},
}
REPORT_CSS = Path(__file__).parents[1] / "reports" / "templates" / "report.css"


class Health(BaseModel):
    """Whether this server process is ready (for a load balancer's or a script's probe)."""

    status: str
    #: a finished run is served
    run_served: bool
    #: this process has built the latest period's partner pages of the served run
    pages_built: bool


def create_app(
    workspace: Workspace | Path | str,
    *,
    secure_cookies: bool | None = None,
    warm: bool = True,
    schedule: bool = False,
) -> FastAPI:
    """The web app of a workspace (its latest run, its users and decisions). With ``warm``,
    each partner's page of the latest period is built in the background as soon as a run is
    served (at start and after each new run), so that no visitor waits for it. With
    ``schedule``, the process runs the notification scheduler (``partnerscope.notify.scheduler``)
    while it serves."""
    from contextlib import asynccontextmanager

    from partnerscope.notify import scheduler as notify_scheduler
    from partnerscope.web.routes import (
        alerts,
        applications,
        audit,
        auth,
        awards,
        business_plans,
        compliance,
        coverage,
        dashboard,
        decision_steps,
        decisions,
        enablement,
        identity,
        leads,
        market,
        mdf,
        notifications,
        onboarding,
        partner_list,
        partners,
        payouts,
        plans,
        predictions,
        quality,
        registrations,
        retention,
        runs,
        scenarios,
        service,
        tasks,
        tiers,
    )
    from partnerscope.workspace import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(Path(workspace))
    current = Current(ws, partners.warm if warm else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current.get()  # serve the latest run (and start building its pages) before any request
        scheduler = notify_scheduler.start(ws) if schedule else None
        try:
            yield
        finally:
            if scheduler is not None:
                notify_scheduler.stop(scheduler)

    app = App(
        lifespan=lifespan,
        title="partnerscope",
        version=__version__,
        summary="Channel-partner scorecards, tiers, alerts and decisions of a workspace.",
        # served below to signed-in users only, from the bundled Swagger UI
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.web = WebState(ws, Accounts.open(ws), current, secure_cookies)
    app.add_middleware(BodyGate)
    css = REPORT_CSS.read_text(encoding="utf-8")

    @app.get(OPENAPI, include_in_schema=False)
    def openapi_document(ctx: SignedIn) -> JSONResponse:
        """The OpenAPI document, for any signed-in user."""
        return JSONResponse(app.openapi())

    @app.get(DOCS, include_in_schema=False, response_class=HTMLResponse)
    def api_docs(request: Request, ctx: SignedIn) -> HTMLResponse:
        """The OpenAPI document in Swagger UI (vendored; started by static/api-docs.js)."""
        from partnerscope.web.render import page

        return page(request, ctx, "api_docs.html.j2", title="REST API", openapi=OPENAPI)

    @app.get(f"{API}/health", tags=["service"], response_model=Health)
    def health() -> Health:
        """Public: is a run served, and are its partner pages built in this process."""
        served = current.get()
        return Health(
            status="ok",
            run_served=served is not None,
            pages_built=served is not None and served.warm.is_set(),
        )

    @app.get("/static/report.css", include_in_schema=False)
    def report_css() -> Response:
        return PlainTextResponse(css, media_type="text/css", headers=_CACHE)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        auth,
        partners,
        plans,
        dashboard,
        partner_list,
        tiers,
        alerts,
        runs,
        quality,
        audit,
        decisions,
        decision_steps,
        scenarios,
        payouts,
        mdf,
        leads,
        registrations,
        predictions,
        market,
        applications,
        onboarding,
        enablement,
        business_plans,
        notifications,
        tasks,
        service,
        retention,
        coverage,
        compliance,
        awards,
        identity,
    ):
        app.include_router(module.pages, include_in_schema=False)
        app.include_router(module.api, prefix=API, responses=ERRORS)
    _errors(app)
    return app


def from_environment() -> FastAPI:
    """The app of ``$PARTNERSCOPE_WORKSPACE`` (the factory ``partnerscope serve`` gives uvicorn)."""
    secure = os.environ.get("PARTNERSCOPE_SECURE_COOKIES")
    return create_app(
        os.environ.get("PARTNERSCOPE_WORKSPACE", "."),
        secure_cookies=None if not secure else secure == "1",
        schedule=os.environ.get("PARTNERSCOPE_SCHEDULER", "1") == "1",
    )


_CACHE = {"cache-control": "public, max-age=3600"}


class App(FastAPI):
    """FastAPI with the security headers outside the whole middleware stack: Starlette's
    ServerErrorMiddleware, outermost in FastAPI's own stack, sends a 500 past every middleware
    added with ``add_middleware``."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


class SecurityHeaders:
    """Adds the security headers to every response (plain ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotSignedInError)
    async def not_signed_in(request: Request, exc: NotSignedInError) -> Response:
        return sign_in_first(request, exc)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return refusal(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", None) or "there is no such page"
        return refusal(request, 404, str(detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        from partnerscope.web.render import located

        problems = "; ".join(located(exc.errors()))
        return refusal(request, 422, problems or "the request is not valid")

    @app.exception_handler(PartnerscopeError)
    async def refused(request: Request, exc: PartnerscopeError) -> Response:
        status = 404 if isinstance(exc, LookupError) else 400
        # as told to the caller: a refusal naming a partner it may not see says it without
        # (told to no one in particular when the caller is unknown)
        ctx: Ctx | None = getattr(request.state, "ctx", None)
        return refusal(request, status, exc.told(ctx.can_see if ctx else no_one))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # (Starlette's ServerErrorMiddleware answers with this, then raises the error again
        # for the server to log with its traceback)
        return server_error(request)
