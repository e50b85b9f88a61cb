"""The partner list: every partner the caller may see in a period with its won revenue, quota
attainment, open pipeline, tiers, score, percentile, change from the previous period, alerts
and open plan with its next check-in; filtered, sorted and paginated (an HTMX swap gets the
rows only), and the same list as CSV. A partner manager's home ("My partners",
web/routes/dashboard.py) is the same list of their partners."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from partnerscope.cells import csv_cell
from partnerscope.web.params import FilterText, PageNo, Period, PerPage
from partnerscope.web.render import page
from partnerscope.web.run_index import periods_with_data, run_index, visible_rows
from partnerscope.web.security import STAFF, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["portfolio"])

Search = Annotated[
    str | None, Query(max_length=100, description="part of a partner's id or name, any case")
]


def _is_fragment(request: Request) -> bool:
    """An HTMX swap (not a history restore, which needs the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


class PartnerSort(StrEnum):
    SCORE = "score"
    SCORE_DESC = "-score"
    NAME = "name"
    NAME_DESC = "-name"
    ID = "id"
    ID_DESC = "-id"
    CHANGE = "change"
    CHANGE_DESC = "-change"
    PERCENTILE = "percentile"
    PERCENTILE_DESC = "-percentile"
    ALERTS = "alerts"
    ALERTS_DESC = "-alerts"
    TYPE = "type"
    TYPE_DESC = "-type"
    REGION = "region"
    REGION_DESC = "-region"
    REVENUE = "revenue"
    REVENUE_DESC = "-revenue"
    QUOTA = "quota"
    QUOTA_DESC = "-quota"
    PIPELINE = "pipeline"
    PIPELINE_DESC = "-pipeline"
    PROGRAM = "program"
    PROGRAM_DESC = "-program"
    OPEN_ALERTS = "open_alerts"
    OPEN_ALERTS_DESC = "-open_alerts"
    CHECK_IN = "check_in"
    CHECK_IN_DESC = "-check_in"


_SORT_FIELDS = {
    "score": "score",
    "name": "name",
    "id": "partner_id",
    "change": "change",
    "percentile": "score_percentile",
    "alerts": "alerts",
    "type": "partner_type",
    "region": "region",
    "revenue": "won_revenue",
    "quota": "quota_attainment",
    "pipeline": "open_pipeline",
    "program": "program_tier",
    "check_in": "next_check_in",
    "open_alerts": "open_alerts",
}


class PartnerRow(BaseModel):
    partner_id: str
    name: str
    partner_type: str | None
    region: str | None
    program_tier: str | None
    revenue_tier: str | None
    performance_tier: str | None
    revenue_pending: str | None
    performance_pending: str | None
    score: float | None
    score_percentile: float | None
    cohort_percentile: float | None
    cohort: str | None
    low_evidence: bool
    previous_score: float | None
    #: score minus the previous period's score
    change: float | None
    alerts: int
    flags: list[str]
    open_plan: bool
    #: the period's won revenue, quota attainment (a fraction) and open pipeline
    won_revenue: float | None
    quota_attainment: float | None
    open_pipeline: float | None
    #: the period's alerts not resolved
    open_alerts: int
    #: the open plan's next check-in, and whether every scheduled one has passed
    next_check_in: date | None
    check_in_overdue: bool
    #: whether the partner was scored in the period (inactive, not yet joined: not), and the
    #: scorecard's note: why it was not scored, or on how many measures it was
    scored: bool = True
    note: str | None = None


class PartnerList(BaseModel):
    period: str
    total: int
    page: int
    per_page: int
    rows: list[PartnerRow]


@dataclass(frozen=True)
class PartnerQuery:
    """The partner list's filters, sort and page, as the form and the API take them."""

    period: str | None = None
    sort: PartnerSort = PartnerSort.SCORE_DESC
    type: str | None = None
    region: str | None = None
    tier: str | None = None
    flagged: bool | None = None
    q: str | None = None
    page: int = 1
    per_page: int = 50

    def params(self, **changes: Any) -> str:
        """The query string of this list with ``changes`` (for sort and pager links)."""
        values = {**asdict(self), **changes}
        values["sort"] = str(values["sort"])
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def partner_query(
    period: Period = None,
    sort: Annotated[PartnerSort, Query(description="a column; '-' first: descending")] = (
        PartnerSort.SCORE_DESC
    ),
    type: Annotated[str | None, Query(max_length=64, description="partner type")] = None,
    region: FilterText = None,
    tier: Annotated[
        str | None, Query(max_length=64, description="a revenue or performance tier")
    ] = None,
    flagged: Annotated[
        Literal["true", "false", ""] | None,
        Query(description="true: flagged partners only; false: unflagged only; empty: all"),
    ] = None,
    q: Search = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> PartnerQuery:
    wanted = {"true": True, "false": False}.get(flagged or "")
    return PartnerQuery(period, sort, type, region, tier, wanted, q, page, per_page)


Partners = Annotated[PartnerQuery, Depends(partner_query)]


def _blank(text: str | None) -> str | None:
    return text.strip().casefold() or None if text else None


def _matches(row: dict[str, Any], query: PartnerQuery) -> bool:
    kind, region, tier, q = (
        _blank(query.type),
        _blank(query.region),
        _blank(query.tier),
        _blank(query.q),
    )
    if kind is not None and (row["partner_type"] or "").casefold() != kind:
        return False
    if region is not None and (row["region"] or "").casefold() != region:
        return False
    if tier is not None and tier not in {
        (row["revenue_tier"] or "").casefold(),
        (row["performance_tier"] or "").casefold(),
    }:
        return False
    if query.flagged is not None and bool(row["flags"]) != query.flagged:
        return False
    return q is None or q in row["partner_id"].casefold() or q in row["name"].casefold()


def _sorted(rows: list[dict[str, Any]], sort: PartnerSort) -> list[dict[str, Any]]:
    """Sorted by the column, partners without a value last either way, then by id."""
    descending = sort.value.startswith("-")
    field = _SORT_FIELDS[sort.value.lstrip("-")]

    def key(row: dict[str, Any]) -> Any:
        value = row[field]
        return value.casefold() if isinstance(value, str) else value

    known = sorted((r for r in rows if r[field] is not None), key=lambda r: r["partner_id"])
    known.sort(key=key, reverse=descending)
    return known + sorted((r for r in rows if r[field] is None), key=lambda r: r["partner_id"])


@dataclass
class PartnerPage:
    period: str
    rows: list[dict[str, Any]]
    total: int
    #: every visible row of the period (for the filter choices)
    everyone: list[dict[str, Any]]


def _with_scoring(ctx: Ctx, rows: list[dict[str, Any]], start: Any) -> list[dict[str, Any]]:
    """The rows with whether each partner was scored and its scorecard's note; a partner left
    out of scoring holds no tier (a run stored before ``scored`` existed: all were scored)."""
    cards = ctx.data.scorecards
    out = []
    for row in rows:
        card = cards.rows(row["partner_id"], at=start)
        scored = card[0].get("scored") is not False if card else True
        note = card[0].get("note") if card else None
        extra: dict[str, Any] = {"scored": scored, "note": note}
        if not scored:
            extra |= dict.fromkeys(
                ("revenue_tier", "performance_tier", "revenue_pending", "performance_pending")
            )
        out.append({**row, **extra})
    return out


def partner_list(ctx: Ctx, query: PartnerQuery, *, paginate: bool = True) -> PartnerPage:
    """The visible partners of the period, filtered and sorted (one page of them)."""
    from partnerscope.web.hub import with_figures

    index = run_index(ctx)
    start, label = ctx.data.pick_period(query.period)
    everyone = _with_scoring(
        ctx, with_figures(ctx, visible_rows(ctx, index.partners(start)), start), start
    )
    rows = _sorted([r for r in everyone if _matches(r, query)], query.sort)
    total = len(rows)
    if paginate:
        first = (query.page - 1) * query.per_page
        rows = rows[first : first + query.per_page]
    return PartnerPage(label, rows, total, everyone)


@api.get("/partners", response_model=PartnerList)
def partners_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Partners) -> PartnerList:
    """Every partner you may see in a period with its won revenue, quota attainment, open
    pipeline, tiers, score, percentile, change from the previous period, alert count, open
    plan and its next check-in; filtered, sorted and paginated."""
    found = partner_list(ctx, query)
    return PartnerList(
        period=found.period,
        total=found.total,
        page=query.page,
        per_page=query.per_page,
        rows=[PartnerRow(**r) for r in found.rows],
    )


def _choices(rows: list[dict[str, Any]], *fields: str) -> list[str]:
    return sorted({r[f] for r in rows for f in fields if r[f]})


#: a sort column in words
SORT_LABELS = {
    "score": "score",
    "name": "name",
    "id": "id",
    "change": "score change",
    "percentile": "percentile",
    "alerts": "alerts",
    "type": "type",
    "region": "region",
    "revenue": "won revenue",
    "quota": "quota attainment",
    "pipeline": "open pipeline",
    "program": "program tier",
    "check_in": "next check-in",
    "open_alerts": "open alerts",
}


def _sort_label(sort: PartnerSort) -> str:
    key = sort.value.lstrip("-")
    return f"{SORT_LABELS[key]}, {'high to low' if sort.value.startswith('-') else 'low to high'}"


def list_page(
    request: Request,
    ctx: Ctx,
    query: PartnerQuery,
    *,
    base: str = "/partners",
    title: str = "Partners",
    template: str = "partners.html.j2",
) -> HTMLResponse:
    """The partner list at ``base`` (``/partners``, or ``/`` for a partner manager's home)
    with its filters; an HTMX swap gets the rows only."""
    found = partner_list(ctx, query)
    words = ctx.workspace.words
    values: dict[str, Any] = {
        "title": title,
        "subtitle": f"{words.number(found.total)} of {words.number(len(found.everyone))} "
        f"partners · {found.period}",
        "found": found,
        "query": query,
        "base": base,
        "pages": max(1, math.ceil(found.total / query.per_page)),
        "sorts": [(s.value, _sort_label(s)) for s in PartnerSort],
    }
    if _is_fragment(request):
        return page(request, ctx, "partners_rows.html.j2", **values)
    return page(
        request,
        ctx,
        template,
        periods=periods_with_data(ctx),
        types=_choices(found.everyone, "partner_type"),
        regions=_choices(found.everyone, "region"),
        tiers=_choices(found.everyone, "revenue_tier", "performance_tier"),
        **values,
    )


@pages.get("/partners", response_class=HTMLResponse)
def partners_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Partners
) -> HTMLResponse:
    return list_page(request, ctx, query)


CSV_COLUMNS = (
    "partner_id",
    "name",
    "partner_type",
    "region",
    "won_revenue",
    "quota_attainment",
    "open_pipeline",
    "program_tier",
    "revenue_tier",
    "performance_tier",
    "score",
    "score_percentile",
    "cohort_percentile",
    "previous_score",
    "change",
    "alerts",
    "flags",
    "open_plan",
    "open_alerts",
    "next_check_in",
    "check_in_overdue",
    "note",
)


@pages.get("/partners.csv")
def partners_csv(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Partners) -> Response:
    """The partner list as CSV: every matching partner you may see (no pagination)."""
    found = partner_list(ctx, query, paginate=False)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in found.rows:
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="partners-{found.period}.csv"'},
    )
