"""Retention and product mix in the web app: ``/retention`` (each partner's renewal rate, gross
and net revenue retention, expansion revenue and customer churn in a period with a chart, and
the product mix: revenue share by product family as stacked bars, diversity and portfolio
coverage) and ``/api/v1/retention``.

Vendor staff only: admins, analysts and partner managers (a partner manager sees only the
partners they look after; the "All partners" values are the portfolio's, naming no one).
Finance and partner users are refused (403): the page sets partners beside each other.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from partnerscope.evaluation.retention import (
    MIX_COLUMNS,
    RENEWAL_GOAL,
    RETENTION_COLUMNS,
    FamilyShare,
    RetentionRow,
    RetentionTable,
    cell,
    family_revenue,
    retention_table,
)
from partnerscope.web.audience import json_answer
from partnerscope.web.params import Period
from partnerscope.web.render import page
from partnerscope.web.run_index import periods_with_data
from partnerscope.web.security import STAFF, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["retention"])

Staff = Annotated[Ctx, Depends(allow(*STAFF))]
#: partners shown in each chart: those with the most recurring value due, the most won revenue
CHART_PARTNERS = 20


class FamilyOut(BaseModel):
    family: str
    #: won revenue in the base currency
    revenue: float
    #: share of the partner's won revenue with a family, 0–1
    share: float


class RetentionRowOut(BaseModel):
    partner_id: str
    name: str
    #: metric → value (shares 0–1, money in the base currency, counts)
    values: dict[str, float | None]
    #: the renewal rate is under the 95 % goal
    below_renewal_goal: bool
    #: the partner's won revenue by product family in the period (empty for the portfolio)
    families: list[FamilyOut]


class RetentionOut(BaseModel):
    period: str
    currency: str
    renewal_goal: float
    partners: list[RetentionRowOut]
    portfolio: RetentionRowOut


def _table(ctx: Ctx, period: str | None) -> RetentionTable:
    see = None if ctx.visible is None else ctx.can_see
    return retention_table(ctx.data, period, see)


def _families(ctx: Ctx, found: RetentionTable) -> dict[str, list[FamilyShare]] | None:
    """Each shown partner's revenue by family (None while the warehouse is busy)."""
    import duckdb

    from partnerscope.errors import WorkspaceBusyError, WorkspaceError

    chosen = ctx.data.calendar.parse(found.period)
    try:
        warehouse = ctx.workspace.warehouse(read_only=True)
    except (WorkspaceBusyError, duckdb.ConnectionException):
        return None
    except WorkspaceError as exc:
        raise HTTPException(404, str(exc)) from None
    with warehouse:
        try:
            shares = family_revenue(
                warehouse.con,
                chosen,
                ctx.workspace.config.workspace.timezone,
                [r.partner_id for r in found.rows],
            )
        except duckdb.CatalogException:  # a warehouse from before product families
            shares = []
    out: dict[str, list[FamilyShare]] = {}
    for share in shares:
        out.setdefault(share.partner_id, []).append(share)
    return out


def _retention_chart(ctx: Ctx, found: RetentionTable) -> dict[str, Any]:
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports.charts import GOOD, WARN, spec

    measured = [r for r in found.rows if r.values["renewal_rate"] is not None]
    measured.sort(key=lambda r: (-(r.values["recurring_value_due"] or 0.0), r.name))
    shown = sorted(measured[:CHART_PARTNERS], key=lambda r: (r.values["renewal_rate"], r.name))
    rows = [
        {
            "label": r.name,
            "value": r.values["renewal_rate"],
            "group": "Below 95 %" if r.below_goal else "95 % or more",
        }
        for r in shown
    ]
    chart = spec(
        "bars", rows, unit=Unit.SHARE, empty=f"No subscription term decided in {found.period}"
    )
    scale = chart["encoding"]["color"]["scale"]
    scale["range"] = [WARN if g == "Below 95 %" else GOOD for g in scale["domain"]]
    return chart


def _mix_chart(
    ctx: Ctx, found: RetentionTable, families: dict[str, list[FamilyShare]] | None
) -> dict[str, Any]:
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports.charts import spec

    names = {r.partner_id: r.name for r in found.rows}
    totals = {pid: sum(s.revenue for s in shares) for pid, shares in (families or {}).items()}
    largest = sorted(totals, key=lambda p: (-totals[p], names.get(p, p)))[:CHART_PARTNERS]
    order = sorted({s.family for p in largest for s in (families or {})[p]})
    rows = [
        {
            "period": names.get(pid, pid),
            "category": s.family,
            "count": s.share,
            "rank": order.index(s.family),
        }
        for pid in largest
        for s in (families or {})[pid]
    ]
    chart = spec(
        "stacked",
        rows,
        unit=Unit.SHARE,
        categories=order,
        empty=f"No won revenue of a product with a family in {found.period}",
    )
    chart["encoding"]["y"]["title"] = "share of won revenue"
    chart["encoding"]["tooltip"] = [
        {"field": "period", "type": "ordinal", "title": "partner"},
        {"field": "category", "type": "nominal", "title": "product family"},
        {"field": "count", "type": "quantitative", "title": "share", "format": ".0%"},
    ]
    return chart


@pages.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request, ctx: Staff, period: Period = None) -> HTMLResponse:
    """Retention and product mix per partner in a period."""
    found = _table(ctx, period)
    words = ctx.workspace.words
    families = _families(ctx, found)
    return page(
        request,
        ctx,
        "retention.html.j2",
        title="Retention and product mix",
        found=found,
        retention_columns=RETENTION_COLUMNS,
        mix_columns=MIX_COLUMNS,
        periods=periods_with_data(ctx),
        current=found.period,
        show=lambda metric, value: cell(words, metric, value),
        retention_chart=_retention_chart(ctx, found),
        mix_chart=_mix_chart(ctx, found, families),
        families=families,
        mix_words=lambda pid: _mix_words(words, families, pid),
    )


def _mix_words(words: Any, families: dict[str, list[FamilyShare]] | None, pid: str) -> str:
    if families is None or pid not in families:
        return "—"
    return ", ".join(f"{s.family} {words.share(s.share, digits=0)}" for s in families[pid])


def _row_out(row: RetentionRow, families: list[FamilyShare]) -> RetentionRowOut:
    return RetentionRowOut(
        partner_id=row.partner_id,
        name=row.name,
        values=row.values,
        below_renewal_goal=row.below_goal,
        families=[
            FamilyOut(family=s.family, revenue=round(s.revenue, 2), share=s.share) for s in families
        ],
    )


@api.get("/retention", response_model=RetentionOut)
def retention_api(ctx: Staff, period: Period = None) -> Response:
    """Each partner's retention and product mix measures in the period, its won revenue by
    product family, and the portfolio's measures."""
    found = _table(ctx, period)
    families = _families(ctx, found) or {}
    return json_answer(
        RetentionOut(
            period=found.period,
            currency=ctx.workspace.words.currency,
            renewal_goal=RENEWAL_GOAL,
            partners=[_row_out(r, families.get(r.partner_id, [])) for r in found.rows],
            portfolio=_row_out(found.portfolio, []),
        )
    )
