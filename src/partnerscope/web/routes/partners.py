"""A partner's page: its scorecard explained, trends, tiers and next-tier gap, alerts and
improvement plan; the partner portal shows a partner user exactly this page of its own."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel

from partnerscope.accounts import Role
from partnerscope.errors import PartnerscopeError
from partnerscope.reports.content import Report
from partnerscope.web.audience import partner_view
from partnerscope.web.current import CACHE_SIZE
from partnerscope.web.params import Period
from partnerscope.web.render import fragment, page
from partnerscope.web.run_index import periods_with_data
from partnerscope.web.security import EVERYONE, STAFF, Ctx, allow

if TYPE_CHECKING:
    from partnerscope.web.current import Served

pages = APIRouter()
api = APIRouter(tags=["partners"])


class PartnerStamp(BaseModel):
    run_id: int
    as_of: str


class Stamp(PartnerStamp):
    config_hash: str
    definitions_version: str
    engine: str


class PartnerReportOut(BaseModel):
    """A partner's own scorecard as the partner sees it (reports/partner.py lists what is in
    it; docs/web.md, "What a partner user sees")."""

    kind: str
    title: str
    subtitle: str
    period: str
    partner_id: str | None
    stamp: PartnerStamp
    sections: dict[str, Any]
    #: Vega-Lite specs
    charts: dict[str, dict[str, Any]]


class ReportOut(PartnerReportOut):
    """A report's content as data: figures carry the metric, the raw value and its text."""

    stamp: Stamp


Out = TypeVar("Out", bound=PartnerReportOut)


@dataclass(frozen=True)
class PartnerPage:
    """A partner's scorecard in one period as served: built once per run and kept, so a
    request only checks who asks and lays the page out around it."""

    #: the report without its sections: what the page's header shows
    head: Report
    #: the scorecard's content, rendered
    body: Markup
    #: the API's answer, encoded
    json: bytes


def build_page(
    served: Served, partner_id: str, period: str, *, for_partner: bool = False
) -> PartnerPage:
    """The partner's page and JSON in ``period`` (a label of the run's periods): the full
    scorecard, or ``for_partner`` the partner's own edition of it (reports/partner.py)."""
    from partnerscope.reports import scorecard as scorecards
    from partnerscope.reports.partner import partner_scorecard

    def build() -> PartnerPage:
        report = scorecards.scorecard(served.data, partner_id, period, medians=served.medians)
        if not for_partner:
            return _build(report, "_scorecard_body.html.j2", report_out(report, ReportOut))
        edition = partner_scorecard(report, served.data.workspace.config.tiers.shown_to_partners)
        return _build(
            edition, "_partner_scorecard_body.html.j2", report_out(edition, PartnerReportOut)
        )

    return served.built(_key(partner_id, period, for_partner), build)


def _key(partner_id: str, period: str, for_partner: bool) -> tuple[str, str, str, bool]:
    return ("partner", partner_id, period, for_partner)


def _build(report: Report, template: str, json: BaseModel) -> PartnerPage:
    return PartnerPage(
        head=replace(report, sections={}, charts={}),
        body=fragment(template, report=report),
        json=json.model_dump_json().encode(),
    )


async def scorecard(ctx: Ctx, partner_id: str, period: str | None) -> PartnerPage:
    """The partner's scorecard of the served run, if the caller may see it: as built, or built
    now in the thread pool (not on the event loop every request shares)."""
    pid = ctx.partner(partner_id)
    _, label = ctx.data.pick_period(period)
    mine = partner_view(ctx)
    built: PartnerPage | None = ctx.run.get(_key(pid, label, mine))
    if built is None:
        built = await run_in_threadpool(
            functools.partial(build_page, ctx.run, pid, label, for_partner=mine)
        )
    return built


def warm(served: Served, stop: Callable[[], bool]) -> None:
    """Build each partner's page in the latest period (up to half the cache) until ``stop()``
    says the run is no longer served: run in the background when a run is switched in."""
    if not served.data.periods:
        return
    _, label = served.data.periods[-1]
    for pid in list(served.data.scorecards.spans)[: CACHE_SIZE // 2]:
        if stop():
            return
        try:
            build_page(served, pid, label)
        except PartnerscopeError:
            continue  # not a member in the latest period
        time.sleep(0)  # let the requests waiting for the interpreter go first


def report_out(report: Report, model: type[Out]) -> Out:
    """The report as data, in ``model``: ``ReportOut`` (all of it) or the partner's
    ``PartnerReportOut`` (its stamp without the run's internals)."""
    stamp = PartnerStamp if model is PartnerReportOut else Stamp
    fields = {k: v for k, v in asdict(report.stamp).items() if k in stamp.model_fields}
    return model(
        kind=report.kind,
        title=report.title,
        subtitle=report.subtitle,
        period=report.period,
        partner_id=report.partner_id,
        stamp=stamp(**fields),
        sections=report.sections,
        charts=report.charts,
    )


@api.get("/partners/{partner_id}", response_model=ReportOut | PartnerReportOut)
async def partner_api(
    ctx: Annotated[Ctx, Depends(allow(*EVERYONE))], partner_id: str, period: Period = None
) -> Response:
    """A partner's scorecard: score and its explanation, tiers, metrics with trend and cohort
    median, alerts, flags and the improvement plan; a partner user gets its own scorecard's
    partner edition (no flags, alerts, peer ranks or medians, plan)."""
    built = await scorecard(ctx, partner_id, period)
    return Response(built.json, media_type="application/json")


@pages.get("/partners/{partner_id}", response_class=HTMLResponse)
async def partner_page(
    request: Request,
    ctx: Annotated[Ctx, Depends(allow(*EVERYONE))],
    partner_id: str,
    period: Period = None,
) -> HTMLResponse:
    """The partner's hub: overview, deals by stage, leads, registrations, MDF, payouts, the
    improvement plan (staff) and the downloads, around its scorecard."""
    from partnerscope.web.hub import partner_hub

    built = await scorecard(ctx, partner_id, period)
    pid = ctx.partner(partner_id)
    hub = await run_in_threadpool(partner_hub, ctx, pid, built.head.period)
    scored, note = scoring(ctx, pid, built.head.period)
    return page(
        request,
        ctx,
        "partner.html.j2",
        report=built.head,
        body=built.body,
        periods=periods_with_data(ctx),
        hub=hub,
        may_edit_plan=ctx.user.role in STAFF,
        scored=scored,
        # the scorecard below says the note already (the staff's and the partner's edition);
        # a partner not scored is said so in place of its score too
        scoring_note=note if not scored else None,
    )


def scoring(ctx: Ctx, pid: str, period: str) -> tuple[bool, str | None]:
    """Whether the partner was scored in the period, and its scorecard's note: why it was not
    ("Inactive — not scored"), or on how many measures it was. Both are the partner's own, so
    the partner view shows them too (the note in its scorecard edition, reports/partner.py)."""
    start, _ = ctx.data.pick_period(period)
    cards = ctx.data.scorecards.rows(pid, at=start)
    if not cards:
        return True, None
    note = cards[0].get("note")
    return cards[0].get("scored") is not False, str(note) if note else None


# ---------------------------------------------------------------- downloads

#: who may download a partner's workbook and QBR: everyone at the vendor (not partner users:
#: both hold the cohort's figures, alerts and the plan)
VENDOR = tuple(role for role in EVERYONE if role is not Role.PARTNER_USER)

#: the partner edition of a scorecard as a printable page (reports/templates)
PARTNER_PRINT = (
    '{% extends "_base.html.j2" %}{% block content %}'
    '{% include "_partner_scorecard_body.html.j2" %}{% endblock %}'
)


def _download(content: bytes, media: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _pdf(page_html: str) -> bytes:
    from fastapi import HTTPException

    from partnerscope.reports import render
    from partnerscope.reports.content import ReportError

    try:
        return render.pdf(page_html)
    except ReportError as exc:
        raise HTTPException(503, str(exc)) from None


def _scorecard_pdf(ctx: Ctx, pid: str, period: str | None) -> bytes:
    from partnerscope.reports import render
    from partnerscope.reports import scorecard as scorecards
    from partnerscope.reports.charts import data_uri
    from partnerscope.reports.partner import partner_scorecard

    _, label = ctx.data.pick_period(period)
    report = scorecards.scorecard(ctx.data, pid, label, medians=ctx.run.medians)
    if not partner_view(ctx):
        return _pdf(render.html(report))
    edition = partner_scorecard(report, ctx.workspace.config.tiers.shown_to_partners)
    images = {name: data_uri(spec) for name, spec in edition.charts.items()}
    printable = render.environment().from_string(PARTNER_PRINT)
    return _pdf(printable.render(report=edition, images=images))


@pages.get("/partners/{partner_id}/scorecard.pdf")
async def scorecard_pdf(
    ctx: Annotated[Ctx, Depends(allow(*EVERYONE))], partner_id: str, period: Period = None
) -> Response:
    """The partner's scorecard as PDF (a partner user: its own scorecard's partner edition)."""
    pid = ctx.partner(partner_id)
    _, label = ctx.data.pick_period(period)
    content = await run_in_threadpool(_scorecard_pdf, ctx, pid, label)
    return _download(content, "application/pdf", f"scorecard-{pid}-{label}.pdf")


def _workbook(ctx: Ctx, pid: str, label: str) -> bytes:
    import tempfile
    from pathlib import Path

    from partnerscope.reports.workbook import write_workbook

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scorecard.xlsx"
        write_workbook(ctx.data, path, label, partners=[pid])
        return path.read_bytes()


@pages.get("/partners/{partner_id}/scorecard.xlsx")
async def scorecard_xlsx(
    ctx: Annotated[Ctx, Depends(allow(*VENDOR))], partner_id: str, period: Period = None
) -> Response:
    """The partner's figures as an Excel workbook (not for partner users: it holds the cohort's
    figures)."""
    pid = ctx.partner(partner_id)
    _, label = ctx.data.pick_period(period)
    content = await run_in_threadpool(_workbook, ctx, pid, label)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(content, media, f"scorecard-{pid}-{label}.xlsx")


def _qbr_pdf(ctx: Ctx, pid: str, period: str | None) -> tuple[str, bytes]:
    from fastapi import HTTPException

    from partnerscope.reports import render
    from partnerscope.reports.content import ReportError
    from partnerscope.reports.qbr import qbr

    try:
        report = qbr(ctx.data, pid, period)
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from None
    return report.period, _pdf(render.html(report))


@pages.get("/partners/{partner_id}/qbr.pdf")
async def qbr_pdf(
    ctx: Annotated[Ctx, Depends(allow(*VENDOR))], partner_id: str, period: Period = None
) -> Response:
    """The partner's quarterly business review as PDF (not for partner users: it holds the plan
    and alerts)."""
    pid = ctx.partner(partner_id)
    label, content = await run_in_threadpool(_qbr_pdf, ctx, pid, period)
    return _download(content, "application/pdf", f"qbr-{pid}-{label}.pdf")
