"""Pages: Jinja templates of the web app, with the report templates behind them.

The loader looks in ``web/templates`` first and ``reports/templates`` second, so a report's
template (``scorecard.html.j2``, ``qbr.html.j2``, ``executive.html.j2``) rendered here extends
the web app's ``_base.html.j2`` (navigation, scripts) instead of the report's own, and its
charts are drawn in the browser from their Vega-Lite specs (``live_charts``): a partner page
and a partner's scorecard report show the same content from the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from partnerscope import __version__
from partnerscope.accounts import Role
from partnerscope.present import Words
from partnerscope.web.security import CSRF_FIELD, CSRF_HEADER

if TYPE_CHECKING:
    import jinja2
    from fastapi import Request

    from partnerscope.web.security import Ctx

#: the words of a page shown before sign-in (no workspace read yet)
DEFAULT_WORDS = Words()

#: (path, label, roles) of the navigation bar.
NAV: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("/", "Dashboard", (Role.ADMIN, Role.ANALYST)),
    ("/", "My partners", (Role.PARTNER_MANAGER,)),
    ("/dashboard", "Dashboard", (Role.PARTNER_MANAGER,)),
    ("/", "Home", (Role.PARTNER_USER, Role.FINANCE)),
    ("/partners", "Partners", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/tiers", "Tiers", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/alerts", "Alerts", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/predictions", "Predictions", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    (
        "/service",
        "Service",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    ("/retention", "Retention", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/leads", "Leads", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)),
    (
        "/registrations",
        "Registrations",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    ("/payouts", "Payouts", tuple(Role)),
    ("/mdf", "MDF", tuple(Role)),
    ("/market", "Market map", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/coverage", "Coverage", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/applications", "Applications", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    (
        "/onboarding",
        "Onboarding",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    (
        "/enablement",
        "Certifications",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    (
        "/business-plans",
        "Business plans",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    (
        "/compliance",
        "Compliance",
        (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER),
    ),
    ("/awards", "Awards", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/decisions", "Decisions", (Role.ADMIN, Role.ANALYST)),
    ("/scenarios", "Scenarios", (Role.ADMIN, Role.ANALYST)),
    ("/runs", "Runs", (Role.ADMIN, Role.ANALYST)),
    ("/quality", "Data quality", (Role.ADMIN, Role.ANALYST)),
    ("/identity", "Account identity", (Role.ADMIN, Role.ANALYST)),
    ("/audit", "Audit log", (Role.ADMIN,)),
    ("/portal", "My scorecard", (Role.PARTNER_USER,)),
    ("/tasks", "Tasks", (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)),
    ("/notifications", "Notifications", tuple(Role)),
    ("/admin/outbox", "Outbox", (Role.ADMIN,)),
)
#: the navigation's sections (label → paths of NAV), in order: the bar shows each section as a
#: group of links, and a phone's menu as a titled list; a path in no section comes first, alone
NAV_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Portfolio",
        (
            "/",
            "/dashboard",
            "/partners",
            "/tiers",
            "/alerts",
            "/tasks",
            "/predictions",
            "/service",
            "/retention",
        ),
    ),
    ("Pipeline", ("/leads", "/registrations")),
    ("Money", ("/payouts", "/mdf")),
    (
        "Program",
        (
            "/market",
            "/coverage",
            "/applications",
            "/onboarding",
            "/enablement",
            "/business-plans",
            "/compliance",
            "/awards",
        ),
    ),
    ("Planning", ("/decisions", "/scenarios")),
    ("Data", ("/runs", "/quality", "/identity", "/audit")),
    ("Inbox", ("/notifications", "/admin/outbox")),
)
#: the bar's link to the notification centre, with its unread count as a badge (every page of a
#: signed-in user loads static/live.js, which keeps it up to date and tells of a new run)
INBOX = "/notifications"


def sections(nav: Sequence[tuple[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """A user's links of the bar (``nav``: path, label) in their sections, an empty section left
    out; links in no section first, under an empty title."""
    where = {path: title for title, paths in NAV_SECTIONS for path in paths}
    grouped: dict[str, list[tuple[str, str]]] = {"": []}
    grouped.update({title: [] for title, _ in NAV_SECTIONS})
    for path, label in nav:
        grouped[where.get(path, "")].append((path, label))
    return [(title, links) for title, links in grouped.items() if links]


def located(errors: Sequence[Any]) -> list[str]:
    """Each validation error as ``field: message`` (a request's own ``body``/``query``/``path``
    prefix left out): how a form or the API says what to fix."""
    where = (
        ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")) for e in errors
    )
    return [f"{w}: {e['msg']}" if w else str(e["msg"]) for w, e in zip(where, errors, strict=True)]


@cache
def environment() -> jinja2.Environment:
    import jinja2

    from partnerscope.scenarios import inputs

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("partnerscope.web", "templates"),
                jinja2.PackageLoader("partnerscope.reports", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    #: how a scenario input's value is written (``words.in_kind(value, input_kind(name))``)
    env.globals["input_kind"] = inputs.kind
    return env


def fragment(template: str, **values: Any) -> Markup:
    """A template rendered on its own, the same for every caller (charts drawn in the
    browser): a part of a page that is built once and kept."""
    template_ = environment().get_template(template)
    return Markup(template_.render(live_charts=True, images={}, **values))


def page(
    request: Request,
    ctx: Ctx | None,
    template: str,
    *,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A whole page (or, for an HTMX request of a fragment template, just the fragment)."""
    user = ctx.user if ctx is not None else None
    nav: list[tuple[str, str]] = [
        (path, label) for path, label, roles in NAV if user is not None and user.role in roles
    ]
    if ctx is not None:
        nav = [(p, inbox_link(ctx) if p == INBOX else label) for p, label in nav]
    body = (
        environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            #: a partner user: the page shows the partner view of everything (web/audience.py)
            partner_view=user is not None and user.role is Role.PARTNER_USER,
            csrf=ctx.csrf if ctx is not None else None,
            csrf_field=CSRF_FIELD,
            csrf_header=CSRF_HEADER,
            nav=nav,
            nav_sections=sections(nav),
            #: the run the page shows, for the live updates' script (static/live.js); None: a
            #: page without a signed-in user has none
            live_run=None if ctx is None else (ctx.served.run_id if ctx.served else ""),
            path=request.url.path,
            version=__version__,
            #: how numbers, money, dates and names are written (partnerscope.present)
            words=ctx.workspace.words if ctx is not None else DEFAULT_WORDS,
            live_charts=True,
            images={},
            **values,
        )
    )
    return HTMLResponse(body, status_code=status)


def inbox_link(ctx: Ctx) -> Markup:
    """The label of the bar's link to the notification centre: "Notifications" and the unread
    count as a badge (hidden at none; static/live.js keeps it up to date)."""
    from partnerscope.notify import inbox

    count = inbox.unread(ctx.state.accounts.engine, ctx.user)
    # (the badge style's display would show an element only ``hidden``)
    hidden = "" if count else ' hidden style="display: none"'
    return Markup(
        'Notifications <span class="badge unread" id="unread-badge" data-unread="{count}" '
        'aria-label="{count} unread"{hidden}>{count}</span>'
    ).format(count=count, hidden=Markup(hidden))


def form_action(
    act: Callable[[], Any],
    target: str | Callable[[Any], str],
    again: Callable[[list[str], int], HTMLResponse],
    *,
    sees: Callable[[str], bool] | None = None,
) -> Response:
    """Do a page form's action: on success go to ``target`` (303; a function of the action's
    result, e.g. the page of what it created); else show the page again (``again(errors,
    status)``) with what to fix: 422 for a field, 400 for a refusal with its reason, as told
    to a viewer who ``sees`` those partners (default: none, so a refusal naming another
    partner is shown without it). A missing object or partner still answers 404."""
    from fastapi import HTTPException
    from pydantic import ValidationError

    from partnerscope.errors import PartnerscopeError
    from partnerscope.web.audience import no_one

    try:
        done = act()
    except ValidationError as exc:
        return again(located(exc.errors()), 422)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        return again([str(exc.detail)], exc.status_code)
    except PartnerscopeError as exc:
        if isinstance(exc, LookupError):
            raise
        return again([exc.told(sees or no_one)], 400)
    return RedirectResponse(target if isinstance(target, str) else target(done), status_code=303)
