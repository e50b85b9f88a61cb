"""Service quality and satisfaction in the web app: ``/service`` (each partner's service
measures in a period against the framework's targets, a chart of critical response, and what
partners wrote in their surveys counted by theme), ``/service.csv`` and ``/api/v1/service``.

Vendor staff: admins, analysts and partner managers (a partner manager sees only the partners
they look after, and the themes of those partners' comments; the "All partners" values are the
portfolio's, naming no one). A partner user sees their own partner's measures against the
targets only: no other partner, no portfolio value, no chart and no comment themes. Finance is
refused (403), and everyone but staff is refused the CSV. The comments themselves are never
shown, only their themes counted.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from partnerscope.accounts import Role
from partnerscope.evaluation.service import (
    COLUMNS,
    TARGETS,
    ServiceRow,
    ServiceTable,
    cell,
    service_table,
)
from partnerscope.web.audience import json_answer
from partnerscope.web.params import Period
from partnerscope.web.render import page
from partnerscope.web.run_index import periods_with_data
from partnerscope.web.security import STAFF, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["service"])

Staff = Annotated[Ctx, Depends(allow(*STAFF))]
#: staff, and a partner user for their own partner
Viewer = Annotated[Ctx, Depends(allow(*STAFF, Role.PARTNER_USER))]
#: partners shown in the chart: those with the lowest critical response
CHART_PARTNERS = 20


class TargetOut(BaseModel):
    metric: str
    label: str
    #: the bound: a share 0–1, hours, or a 0–10 score
    bound: float
    #: true: the value must be at least the bound; false: at most
    at_least: bool
    text: str


class ServiceRowOut(BaseModel):
    partner_id: str
    name: str
    #: metric → value (shares 0–1, hours, ratings 1–5, scores 0–10, NPS −100…100)
    values: dict[str, float | None]
    #: the cases and answers the values rest on
    evidence: dict[str, float | None]
    #: the metrics whose target is missed
    misses: list[str]


class ThemeOut(BaseModel):
    theme: str
    label: str
    #: comments mentioning the theme
    comments: int
    #: share of the comments read, 0–1
    share: float | None


class ServiceOut(BaseModel):
    period: str
    targets: list[TargetOut]
    partners: list[ServiceRowOut]
    #: all partners together (None for a partner user)
    portfolio: ServiceRowOut | None
    #: comments read (of the surveys sent in the period, of the partners the caller may see;
    #: None for a partner user, who is not shown themes)
    comments: int | None
    themes: list[ThemeOut]


def _is_partner(ctx: Ctx) -> bool:
    return ctx.user.role is Role.PARTNER_USER


def _table(ctx: Ctx, period: str | None) -> ServiceTable:
    if _is_partner(ctx):
        own = ctx.user.partner_id
        return service_table(ctx.data, period, lambda p: own is not None and p == own)
    see = None if ctx.visible is None else ctx.can_see
    return service_table(ctx.data, period, see)


def _themes(ctx: Ctx, label: str, found: ServiceTable) -> Any:
    """The themes of the comments of the partners shown (None while the warehouse is busy)."""
    import duckdb

    from partnerscope.errors import WorkspaceBusyError, WorkspaceError
    from partnerscope.evaluation.themes import count_themes, survey_comments, vocabulary

    chosen = ctx.data.calendar.parse(label)
    try:
        warehouse = ctx.workspace.warehouse(read_only=True)
    except (WorkspaceBusyError, duckdb.ConnectionException):
        return None
    except WorkspaceError as exc:
        raise HTTPException(404, str(exc)) from None
    with warehouse:
        try:
            comments = survey_comments(
                warehouse.con, chosen, ctx.workspace.config.workspace.timezone
            )
        except duckdb.CatalogException:  # a warehouse from before partner surveys
            comments = []
    counts = count_themes(comments, vocabulary(ctx.workspace.config.service))
    if ctx.visible is not None:
        counts = counts.only(r.partner_id for r in found.rows)
    return counts


def _row_out(row: ServiceRow) -> ServiceRowOut:
    return ServiceRowOut(
        partner_id=row.partner_id,
        name=row.name,
        values=row.values,
        evidence=row.evidence,
        misses=row.misses,
    )


def _chart(ctx: Ctx, found: ServiceTable) -> dict[str, Any]:
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports.charts import GOOD, WARN, spec

    measured = [r for r in found.rows if r.values["critical_response_rate"] is not None]
    measured.sort(key=lambda r: (r.values["critical_response_rate"] or 0.0, r.name))
    rows = [
        {
            "label": r.name,
            "value": r.values["critical_response_rate"],
            "group": "Every case in 4 h" if r.met("critical_response_rate") else "Some late",
        }
        for r in measured[:CHART_PARTNERS]
    ]
    chart = spec(
        "bars",
        rows,
        unit=Unit.SHARE,
        empty=f"No critical case due a response in {found.period}",
    )
    scale = chart["encoding"]["color"]["scale"]
    scale["range"] = [GOOD if g == "Every case in 4 h" else WARN for g in scale["domain"]]
    return chart


@pages.get("/service", response_class=HTMLResponse)
def service_page(request: Request, ctx: Viewer, period: Period = None) -> HTMLResponse:
    """Service quality and satisfaction per partner against the targets, and the themes of
    the partners' survey comments (a partner user: their own measures only)."""
    found = _table(ctx, period)
    words = ctx.workspace.words
    partner = _is_partner(ctx)
    themes = None if partner else _themes(ctx, found.period, found)
    return page(
        request,
        ctx,
        "service.html.j2",
        title="Service and satisfaction",
        found=found,
        columns=COLUMNS,
        targets=TARGETS,
        periods=periods_with_data(ctx),
        current=found.period,
        show=lambda metric, value: cell(words, metric, value),
        chart=None if partner else _chart(ctx, found),
        own_view=partner,
        themes=themes,
        theme_rows=None if themes is None else themes.rows(),
        top_themes=lambda pid: _top(themes, pid),
    )


def _top(themes: Any, partner_id: str) -> str:
    if themes is None or partner_id not in themes.by_partner:
        return "—"
    counts = themes.by_partner[partner_id]
    return ", ".join(f"{themes.label(k)} ({n})" for k, n in counts.most_common(3)) or "—"


@pages.get("/service.csv")
def service_csv(ctx: Staff, period: Period = None) -> Response:
    """The table as CSV, values as shown on the page."""
    found = _table(ctx, period)
    words = ctx.workspace.words
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Partner", *(h for _, h in COLUMNS), "Targets missed"])
    for row in [*found.rows, found.portfolio]:
        writer.writerow(
            [
                row.name,
                *(cell(words, m, row.values[m]) for m, _ in COLUMNS),
                "; ".join(words.metric(m) for m in row.misses),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="service-{found.period}.csv"'},
    )


@api.get("/service", response_model=ServiceOut)
def service_api(ctx: Viewer, period: Period = None) -> Response:
    """Each partner's service measures in the period with the targets they miss, the
    portfolio's, and the themes of the partners' survey comments (a partner user: their own
    measures only)."""
    found = _table(ctx, period)
    words = ctx.workspace.words
    partner = _is_partner(ctx)
    themes = None if partner else _themes(ctx, found.period, found)
    return json_answer(
        ServiceOut(
            period=found.period,
            targets=[
                TargetOut(
                    metric=t.metric,
                    label=words.metric(t.metric),
                    bound=t.bound,
                    at_least=t.higher,
                    text=t.text,
                )
                for t in TARGETS.values()
            ],
            partners=[_row_out(r) for r in found.rows],
            portfolio=None if partner else _row_out(found.portfolio),
            comments=None if themes is None else sum(themes.comments.values()),
            themes=[] if themes is None else [ThemeOut(**r) for r in themes.rows()],
        )
    )
