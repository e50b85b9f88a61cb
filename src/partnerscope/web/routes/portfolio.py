"""The portfolio: dashboard, partner list, tiers and pending moves (with tier overrides),
alerts, runs, data quality and the audit log.

Each page has a JSON twin under ``/api/v1`` built by the same service function, so the page
and the API always show the same figures. Everything is read from the served run's files
(never recomputed); the per-period tables a list needs are built once per served run
(:class:`RunIndex`) and filtered per request, which keeps a list page to a few milliseconds.
A partner manager only ever receives the partners they may see: every list is filtered by
``ctx.visible`` before it is counted, sorted, paginated, exported or searched.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, is_dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from partnerscope.accounts import Role
from partnerscope.cells import csv_cell
from partnerscope.web.render import page
from partnerscope.web.routes.partners import ReportOut, report_out
from partnerscope.web.security import ANALYSTS, STAFF, Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from partnerscope.evaluation.overrides import Override
    from partnerscope.reports.content import Report
    from partnerscope.web.current import Served

pages = APIRouter()
api = APIRouter(tags=["portfolio"])

Period = Annotated[
    str | None,
    Query(max_length=32, description="e.g. FY2026-Q1 (default: the latest scored period)"),
]
Text = Annotated[str | None, Query(max_length=64)]
Search = Annotated[
    str | None, Query(max_length=100, description="part of a partner's id or name, any case")
]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]
#: sqlite stores 64-bit integers: a larger id could not even be looked up
OverrideId = Annotated[int, Path(ge=1, le=2**62)]

SEVERITIES = ("high", "medium", "low")
BUSY = "data is being imported; try again in a moment"


def _num(value: Any) -> float | None:
    """A float for JSON: NaN and infinities (no value) become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _clean(value: Any) -> Any:
    """Report content made JSON-safe: dataclasses as dicts, NaN as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        return _clean(asdict(value))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _is_fragment(request: Request) -> bool:
    """An HTMX swap (not a history restore, which needs the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


# ------------------------------------------------------------------------- per-run index


class RunIndex:
    """What the list pages need of one served run, per period, built on first use and kept by
    the served run (:meth:`Served.built`) for as long as it is served."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.data = served.data
        self._names: dict[str, str] = {}

    def name(self, partner_id: str) -> str:
        if partner_id not in self._names:
            self._names[partner_id] = self.data.partner_name(partner_id)
        return self._names[partner_id]

    def _rows_of(self, table: Any, start: Any) -> list[dict[str, Any]]:
        import pyarrow.compute as pc

        rows: list[dict[str, Any]] = table.filter(
            pc.equal(table["period_start"], start)
        ).to_pylist()
        for row in rows:
            row["name"] = self.name(row["partner_id"])
        return rows

    def tiers(self, start: Any) -> list[dict[str, Any]]:
        """Every partner's tier placements in the period (one row per ruleset)."""
        return self.served.built(
            ("tiers", start), lambda: self._rows_of(self.data.tiers.table, start)
        )

    def alerts(self, start: Any) -> list[dict[str, Any]]:
        def build() -> list[dict[str, Any]]:
            rows = self._rows_of(self.data.alerts.table, start)
            rows.sort(key=lambda a: (_severity_rank(a["severity"]), a["partner_id"]))
            return rows

        return self.served.built(("alerts", start), build)

    def flags(self, start: Any) -> list[dict[str, Any]]:
        return self.served.built(
            ("flags", start), lambda: self._rows_of(self.data.flags.table, start)
        )

    def partners(self, start: Any) -> list[dict[str, Any]]:
        """One row per partner scored in the period: what the partner list shows."""
        return self.served.built(("partners", start), lambda: self._partners(start))

    def _partners(self, start: Any) -> list[dict[str, Any]]:
        import pyarrow.compute as pc

        data = self.data
        periods = [s for s, _ in data.periods]
        i = periods.index(start)
        cards = data.scorecards.table
        now = cards.filter(pc.equal(cards["period_start"], start)).to_pylist()
        previous: dict[str, float | None] = {}
        if i > 0:
            before = cards.filter(pc.equal(cards["period_start"], periods[i - 1]))
            previous = dict(
                zip(
                    before["partner_id"].to_pylist(),
                    (_num(v) for v in before["score"].to_pylist()),
                    strict=True,
                )
            )
        members = data.memberships.table
        members = members.filter(pc.equal(members["period_start"], start)).to_pylist()
        member = {m["partner_id"]: m for m in members}
        placed = {(t["partner_id"], t["ruleset"]): t for t in self.tiers(start)}
        alerts = Counter(a["partner_id"] for a in self.alerts(start))
        flags: dict[str, set[str]] = {}
        for f in self.flags(start):
            flags.setdefault(f["partner_id"], set()).add(f["flag"])
        plans = data.open_plans
        rows = []
        for card in now:
            pid = card["partner_id"]
            m = member.get(pid, {})
            score = _num(card["score"])
            old = previous.get(pid)
            revenue = placed.get((pid, "revenue"), {})
            performance = placed.get((pid, "performance"), {})
            rows.append(
                {
                    "partner_id": pid,
                    "name": self.name(pid),
                    "partner_type": m.get("partner_type"),
                    "region": m.get("region"),
                    "program_tier": m.get("program_tier"),
                    "revenue_tier": revenue.get("effective"),
                    "performance_tier": performance.get("effective"),
                    "revenue_pending": revenue.get("pending"),
                    "performance_pending": performance.get("pending"),
                    "score": score,
                    "score_percentile": _num(card["score_percentile"]),
                    "cohort_percentile": _num(card["cohort_percentile"]),
                    "cohort": card["cohort"],
                    "low_evidence": bool(card["low_evidence"]),
                    "previous_score": old,
                    "change": None if score is None or old is None else score - old,
                    "alerts": alerts.get(pid, 0),
                    "flags": sorted(flags.get(pid, ())),
                    "open_plan": pid in plans,
                }
            )
        return rows

    def executive(self, period: str | None) -> Report:
        """The executive summary of a period (made once: it reads every file of the run)."""
        from partnerscope.reports import content

        _, label = self.data.pick_period(period)
        return self.served.built(("executive", label), lambda: content.executive(self.data, label))


def run_index(ctx: Ctx) -> RunIndex:
    """The served run's index (404 before the first run)."""
    served = ctx.run
    return served.built(("run-index",), lambda: RunIndex(served))


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _visible(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    visible = ctx.visible
    if visible is None:
        return rows
    return [r for r in rows if r["partner_id"] in visible]


def _visible_ids(ctx: Ctx) -> list[str]:
    """The ids of the run's partners the caller may see."""
    return [p for p in ctx.data.scorecards.spans if ctx.can_see(p)]


def _today() -> date:
    return datetime.now(UTC).date()


# ------------------------------------------------------------------------------ dashboard


def dashboard(ctx: Ctx, period: str | None) -> Report:
    """The executive summary of the served run. Portfolio aggregates are shown to every staff
    member; the lists that name partners (risers, decliners, most severe alerts) are made
    from the partners the caller may see only."""
    index = run_index(ctx)
    report = index.executive(period)
    visible = ctx.visible
    if visible is None:
        return report
    from partnerscope.reports import charts as ch
    from partnerscope.reports.content import Figure

    data = ctx.data
    start, _ = data.pick_period(report.period)
    n = data.workspace.config.reports.movers
    changes = sorted(
        (r["change"], r["partner_id"], r["score"], r["previous_score"])
        for r in _visible(ctx, index.partners(start))
        if r["change"] is not None
    )

    def mover(change: float, pid: str, score: float, old: float, direction: str) -> dict[str, Any]:
        return {
            "partner_id": pid,
            "name": index.name(pid),
            "score": Figure("score", score, f"{score:.1f}"),
            "previous": Figure("score", old, f"{old:.1f}"),
            "change": Figure("score_change", change, f"{change:+.1f}"),
            "direction": direction,
        }

    risers = [mover(c, p, s, o, "up") for c, p, s, o in reversed(changes[-n:]) if c > 0]
    decliners = [mover(c, p, s, o, "down") for c, p, s, o in changes[:n] if c < 0]
    keys = ("alert_id", "partner_id", "period", "kind", "metric", "severity", "message", "status")
    alerts = sorted(
        (a for a in data.alerts.table.to_pylist() if a["partner_id"] in visible),
        key=lambda a: _severity_rank(a["severity"]),
    )[:20]
    charts = dict(report.charts)
    charts["movers"] = ch.spec(
        "bars",
        [
            {"label": m["name"], "value": m["change"].value, "group": m["direction"]}
            for m in [*risers, *decliners]
        ],
        title=f"Score change of your partners from the previous period, top {n} each way",
    )
    return replace(
        report,
        sections={
            **report.sections,
            "risers": risers,
            "decliners": decliners,
            "alerts": [
                {**{k: a.get(k) for k in keys}, "partner": index.name(a["partner_id"])}
                for a in alerts
            ],
            # decisions are the analysts' (their signals may name any partner)
            "decisions": {"records": [], "alerts": []},
        },
        charts=charts,
    )


@api.get("/dashboard", response_model=ReportOut)
def dashboard_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None) -> ReportOut:
    """The executive summary: KPIs against goals, tier distribution and moves, risers and
    decliners, alerts, decisions and MDF return."""
    out = report_out(dashboard(ctx, period), ReportOut)
    out.sections = _clean(out.sections)
    out.charts = _clean(out.charts)
    return out


@pages.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None
) -> HTMLResponse:
    report = dashboard(ctx, period)
    return page(request, ctx, "dashboard.html.j2", report=report, periods=ctx.data.periods)


# --------------------------------------------------------------------------- partner list


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


_SORT_FIELDS = {
    "score": "score",
    "name": "name",
    "id": "partner_id",
    "change": "change",
    "percentile": "score_percentile",
    "alerts": "alerts",
    "type": "partner_type",
    "region": "region",
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
    region: Text = None,
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


def partner_list(ctx: Ctx, query: PartnerQuery, *, paginate: bool = True) -> PartnerPage:
    """The visible partners of the period, filtered and sorted (one page of them)."""
    index = run_index(ctx)
    start, label = ctx.data.pick_period(query.period)
    everyone = _visible(ctx, index.partners(start))
    rows = _sorted([r for r in everyone if _matches(r, query)], query.sort)
    total = len(rows)
    if paginate:
        first = (query.page - 1) * query.per_page
        rows = rows[first : first + query.per_page]
    return PartnerPage(label, rows, total, everyone)


@api.get("/partners", response_model=PartnerList)
def partners_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Partners) -> PartnerList:
    """Every partner you may see in a period with its tiers, score, percentile, change from
    the previous period, alert count and open plan; filtered, sorted and paginated."""
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


@pages.get("/partners", response_class=HTMLResponse)
def partners_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Partners
) -> HTMLResponse:
    found = partner_list(ctx, query)
    values: dict[str, Any] = {
        "title": "Partners",
        "subtitle": f"{found.total:,} of {len(found.everyone):,} partners · {found.period}",
        "found": found,
        "query": query,
        "pages": max(1, math.ceil(found.total / query.per_page)),
        "sorts": [s.value for s in PartnerSort],
    }
    if _is_fragment(request):
        return page(request, ctx, "partners_rows.html.j2", **values)
    return page(
        request,
        ctx,
        "partners.html.j2",
        periods=ctx.data.periods,
        types=_choices(found.everyone, "partner_type"),
        regions=_choices(found.everyone, "region"),
        tiers=_choices(found.everyone, "revenue_tier", "performance_tier"),
        **values,
    )


CSV_COLUMNS = (
    "partner_id",
    "name",
    "partner_type",
    "region",
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


# ---------------------------------------------------------------------------------- tiers


class TierCount(BaseModel):
    ruleset: str
    tier: str
    partners: int
    up: int
    down: int
    pending: int


class TierRow(BaseModel):
    partner_id: str
    name: str
    ruleset: str
    placed: str
    effective: str
    moved: str | None
    pending: str | None
    pending_periods: int
    reason: str


class OverrideOut(BaseModel):
    override_id: int
    partner_id: str
    name: str
    ruleset: str
    tier: str
    reason: str
    until: date | None
    created_at: UtcDateTime
    created_by: str
    removed_at: UtcDateTime | None
    removed_by: str | None


class TiersOut(BaseModel):
    period: str
    #: each ruleset's tiers, top first
    rulesets: dict[str, list[str]]
    distribution: list[TierCount]
    moves: list[TierRow]
    pending: list[TierRow]
    overrides: list[OverrideOut]


def _override_out(index: RunIndex, o: Override) -> OverrideOut:
    return OverrideOut(**asdict(o), name=index.name(o.partner_id))


def active_overrides(ctx: Ctx) -> list[OverrideOut]:
    from partnerscope.evaluation import overrides

    index = run_index(ctx)
    found = overrides.active(ctx.state.accounts.engine, _today())
    return [_override_out(index, o) for o in found if ctx.can_see(o.partner_id)]


def tiers_view(ctx: Ctx, period: str | None) -> TiersOut:
    """The visible partners' tiers in the period: how many in each tier, who moved, whose
    downgrade is pending, and the overrides in force."""
    from partnerscope.evaluation.overrides import tier_names

    index = run_index(ctx)
    start, label = ctx.data.pick_period(period)
    rows = _visible(ctx, index.tiers(start))
    names = tier_names(ctx.workspace.config.tiers)
    distribution = []
    for ruleset, tiers in names.items():
        mine = [r for r in rows if r["ruleset"] == ruleset]
        for tier in tiers:
            here = [r for r in mine if r["effective"] == tier]
            distribution.append(
                TierCount(
                    ruleset=ruleset,
                    tier=tier,
                    partners=len(here),
                    up=sum(r["moved"] == "up" for r in here),
                    down=sum(r["moved"] == "down" for r in here),
                    pending=sum(r["pending"] is not None for r in here),
                )
            )
    fields = TierRow.model_fields

    def out(row: dict[str, Any]) -> TierRow:
        return TierRow(**{k: row[k] for k in fields})

    ordered = sorted(rows, key=lambda r: (r["ruleset"], r["partner_id"]))
    return TiersOut(
        period=label,
        rulesets=names,
        distribution=distribution,
        moves=[out(r) for r in ordered if r["moved"] in ("up", "down")],
        pending=[out(r) for r in ordered if r["pending"] is not None],
        overrides=active_overrides(ctx),
    )


@api.get("/tiers", response_model=TiersOut)
def tiers_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None) -> TiersOut:
    """Tier distribution and moves of a period, pending downgrades and active overrides."""
    return tiers_view(ctx, period)


@pages.get("/tiers", response_class=HTMLResponse)
def tiers_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None
) -> HTMLResponse:
    view = tiers_view(ctx, period)
    return page(
        request,
        ctx,
        "tiers.html.j2",
        title="Tiers",
        subtitle=f"{view.period} · tiers of the run; overrides are kept beside them",
        view=view,
        periods=ctx.data.periods,
        can_override=ctx.user.role in ANALYSTS,
        partner_ids=sorted(_visible_ids(ctx)),
        today=_today().isoformat(),
    )


class OverrideIn(BaseModel):
    partner_id: str = Field(min_length=1, max_length=64)
    ruleset: str = Field(min_length=1, max_length=64)
    tier: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    until: date | None = None


class RemoveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def add_override(ctx: Ctx, change: OverrideIn) -> OverrideOut:
    from partnerscope.evaluation import overrides

    partners = _visible_ids(ctx)
    made = overrides.add(
        ctx.state.accounts.engine,
        tiers=ctx.workspace.config.tiers,
        partners=partners,
        partner_id=change.partner_id.strip(),
        ruleset=change.ruleset.strip(),
        tier=change.tier.strip(),
        reason=change.reason,
        until=change.until,
        actor=ctx.user.name,
        today=_today(),
    )
    return _override_out(run_index(ctx), made)


def remove_override(ctx: Ctx, override_id: int, reason: str) -> OverrideOut:
    from partnerscope.evaluation import overrides

    done = overrides.remove(
        ctx.state.accounts.engine, override_id, reason=reason, actor=ctx.user.name
    )
    return _override_out(run_index(ctx), done)


@api.get("/tiers/overrides", response_model=list[OverrideOut])
def overrides_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))]) -> list[OverrideOut]:
    """The tier overrides in force today (of the partners you may see)."""
    return active_overrides(ctx)


@api.post("/tiers/overrides", response_model=OverrideOut, status_code=201)
def add_override_api(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], change: OverrideIn
) -> OverrideOut:
    """Hold a partner at a tier of a ruleset, with a reason (and optionally an end date)."""
    return add_override(ctx, change)


@api.post("/tiers/overrides/{override_id}/remove", response_model=OverrideOut)
def remove_override_api(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], override_id: OverrideId, change: RemoveIn
) -> OverrideOut:
    """End a tier override now, with a reason."""
    return remove_override(ctx, override_id, change.reason)


def _back(period: str | None) -> str:
    return "/tiers" + (f"?{urlencode({'period': period})}" if period else "") + "#overrides"


@pages.post("/tiers/overrides")
def add_override_form(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))],
    partner_id: Annotated[str, Form(min_length=1, max_length=64)],
    ruleset: Annotated[str, Form(min_length=1, max_length=64)],
    tier: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    until: Annotated[date | None, Form()] = None,
    period: Annotated[str | None, Form(max_length=32)] = None,
) -> RedirectResponse:
    add_override(
        ctx,
        OverrideIn(partner_id=partner_id, ruleset=ruleset, tier=tier, reason=reason, until=until),
    )
    return RedirectResponse(_back(period), status_code=303)


@pages.post("/tiers/overrides/{override_id}/remove")
def remove_override_form(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))],
    override_id: OverrideId,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    period: Annotated[str | None, Form(max_length=32)] = None,
) -> RedirectResponse:
    remove_override(ctx, override_id, reason)
    return RedirectResponse(_back(period), status_code=303)


# --------------------------------------------------------------------------------- alerts


class AlertOut(BaseModel):
    alert_id: str
    partner_id: str
    name: str
    period: str
    kind: str
    metric: str | None
    severity: str
    value: float | None
    reference: float | None
    z: float | None
    message: str
    status: str | None
    first_seen_run: int | None


class FlagOut(BaseModel):
    partner_id: str
    name: str
    period: str
    flag: str
    criterion: str
    evidence: str


class AlertsOut(BaseModel):
    period: str
    #: alerts per severity among those listed
    counts: dict[str, int]
    alerts: list[AlertOut]
    flags: list[FlagOut]


@dataclass(frozen=True)
class AlertQuery:
    period: str | None = None
    severity: str | None = None
    kind: str | None = None
    metric: str | None = None
    partner: str | None = None
    flag: str | None = None


def alert_query(
    period: Period = None,
    severity: Annotated[
        Literal["high", "medium", "low", ""] | None, Query(description="empty: all")
    ] = None,
    kind: Annotated[str | None, Query(max_length=64, description="e.g. anomaly_own")] = None,
    metric: Text = None,
    partner: Annotated[str | None, Query(max_length=64, description="a partner id")] = None,
    flag: Annotated[str | None, Query(max_length=64, description="e.g. exit")] = None,
) -> AlertQuery:
    return AlertQuery(period, severity or None, kind, metric, partner, flag)


Alerts = Annotated[AlertQuery, Depends(alert_query)]


@dataclass
class AlertsPage:
    out: AlertsOut
    kinds: list[str]
    metrics: list[str]
    flag_kinds: list[str]


def alerts_view(ctx: Ctx, query: AlertQuery) -> AlertsPage:
    """The run's alerts and flags of the period, of the partners the caller may see."""
    index = run_index(ctx)
    start, label = ctx.data.pick_period(query.period)
    alerts = _visible(ctx, index.alerts(start))
    flags = _visible(ctx, index.flags(start))
    kinds = sorted({a["kind"] for a in alerts})
    metrics = sorted({a["metric"] for a in alerts if a["metric"]})
    flag_kinds = sorted({f["flag"] for f in flags})
    partner = (query.partner or "").strip().casefold() or None

    def wanted(row: dict[str, Any]) -> bool:
        return partner is None or row["partner_id"].casefold() == partner

    chosen = [
        a
        for a in alerts
        if wanted(a)
        and (query.severity is None or a["severity"] == query.severity)
        and (not query.kind or a["kind"] == query.kind)
        and (not query.metric or a["metric"] == query.metric)
    ]
    flagged = [f for f in flags if wanted(f) and (not query.flag or f["flag"] == query.flag)]
    counts = Counter(a["severity"] for a in chosen)
    out = AlertsOut(
        period=label,
        counts={s: counts.get(s, 0) for s in SEVERITIES},
        alerts=[
            AlertOut(
                **{k: a[k] for k in AlertOut.model_fields if k not in ("value", "reference", "z")},
                value=_num(a["value"]),
                reference=_num(a["reference"]),
                z=_num(a["z"]),
            )
            for a in chosen
        ],
        flags=[FlagOut(**{k: f[k] for k in FlagOut.model_fields}) for f in flagged],
    )
    return AlertsPage(out, kinds, metrics, flag_kinds)


@api.get("/alerts", response_model=AlertsOut)
def alerts_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts) -> AlertsOut:
    """The run's alerts (most severe first) and flags of a period, filtered."""
    return alerts_view(ctx, query).out


@pages.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts
) -> HTMLResponse:
    view = alerts_view(ctx, query)
    return page(
        request,
        ctx,
        "alerts.html.j2",
        title="Alerts and flags",
        subtitle=f"{view.out.period} · {len(view.out.alerts)} alerts, {len(view.out.flags)} flags",
        view=view,
        query=query,
        periods=ctx.data.periods,
        severities=SEVERITIES,
    )


# ----------------------------------------------------------------------------------- runs


class RunOut(BaseModel):
    run_id: int
    served: bool
    started_at: str
    finished_at: str
    as_of: str
    mode: str
    reason: str
    seconds: float
    rows: int
    config_hash: str
    metrics_hash: str
    definitions_version: str
    engine: dict[str, str]
    first_month: str | None
    last_month: str
    #: the scorecard period, partners and partners scored, alerts raised (from the evaluation)
    period: str | None
    partners: int | None
    scored: int | None
    alerts: int | None


class InputFile(BaseModel):
    source: str
    file: str
    fingerprint: str
    import_id: int | None


class RunDetail(RunOut):
    recomputed_from: str | None
    digest: str
    metrics: list[str]
    notes: list[str]
    input_rows: dict[str, int]
    inputs: list[InputFile]
    evaluation: dict[str, Any]
    decisions: dict[str, Any]


def _run_out(run: Any, served: int | None) -> dict[str, Any]:
    evaluation = run.evaluation or {}
    alerts = evaluation.get("alerts")
    return {
        "run_id": run.run_id,
        "served": run.run_id == served,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "as_of": run.as_of,
        "mode": run.mode,
        "reason": run.reason,
        "seconds": run.seconds,
        "rows": run.rows,
        "config_hash": run.config_hash,
        "metrics_hash": run.metrics_hash,
        "definitions_version": run.definitions_version,
        "engine": {str(k): str(v) for k, v in run.engine.items()},
        "first_month": run.first_month,
        "last_month": run.last_month,
        "period": evaluation.get("period"),
        "partners": evaluation.get("partners"),
        "scored": evaluation.get("scored"),
        "alerts": sum(alerts.values()) if isinstance(alerts, dict) else None,
    }


def runs_view(ctx: Ctx) -> list[RunOut]:
    """Every finished run, newest first."""
    from partnerscope.runs import list_runs

    served = ctx.served.run_id if ctx.served is not None else None
    return [RunOut(**_run_out(r, served)) for r in reversed(list_runs(ctx.workspace))]


def run_detail(ctx: Ctx, run_id: int) -> RunDetail:
    """One run's manifest: what it read (each input file's fingerprint), how, and its notes."""
    from partnerscope.runs import RunNotFoundError, get_run

    try:
        run = get_run(ctx.workspace, run_id)
    except RunNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    inputs = run.inputs or {}
    files = []
    for source, listed in sorted((inputs.get("files") or {}).items()):
        for f in listed or []:
            files.append(
                InputFile(
                    source=source,
                    file=str(f.get("file", "")),
                    fingerprint=str(f.get("fingerprint", "")),
                    import_id=f.get("import_id"),
                )
            )
    served = ctx.served.run_id if ctx.served is not None else None
    return RunDetail(
        **_run_out(run, served),
        recomputed_from=run.recomputed_from,
        digest=run.digest,
        metrics=list(run.metrics),
        notes=list(run.notes),
        input_rows={str(k): int(v) for k, v in (inputs.get("rows") or {}).items()},
        inputs=files,
        evaluation=_clean(run.evaluation),
        decisions=_clean(run.decisions),
    )


RunId = Annotated[int, Path(ge=1, le=999_999)]


@api.get("/runs", response_model=list[RunOut])
def runs_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))]) -> list[RunOut]:
    """Every finished run, newest first."""
    return runs_view(ctx)


@api.get("/runs/{run_id}", response_model=RunDetail)
def run_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], run_id: RunId) -> RunDetail:
    """One run's manifest: inputs and their fingerprints, timings, evaluation counts, notes."""
    return run_detail(ctx, run_id)


@pages.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))]) -> HTMLResponse:
    runs = runs_view(ctx)
    return page(request, ctx, "runs.html.j2", title="Runs", subtitle=f"{len(runs)} runs", runs=runs)


@pages.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], run_id: RunId
) -> HTMLResponse:
    run = run_detail(ctx, run_id)
    return page(
        request,
        ctx,
        "runs.html.j2",
        title=f"Run {run.run_id}",
        subtitle=f"as of {run.as_of} UTC · {run.mode} · {run.reason}",
        run=run,
        evaluation=json.dumps(run.evaluation, indent=1, default=str),
    )


# -------------------------------------------------------------------------------- quality


class ImportOut(BaseModel):
    import_id: int
    batch_id: int | None
    source: str
    file: str
    fingerprint: str | None
    rows_in: int | None
    loaded: int | None
    quarantined: int | None
    inserted: int | None
    updated: int | None
    unchanged: int | None
    superseded: int | None
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class QuarantineCount(BaseModel):
    source: str
    rule: str
    column: str | None
    rows: int


class QuarantineRow(BaseModel):
    import_id: int
    source: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str


class QualityOut(BaseModel):
    #: the latest imports, newest first
    imports: list[ImportOut]
    #: rows not loaded by the latest import of each file, counted by reason
    summary: list[QuarantineCount]
    total: int
    page: int
    per_page: int
    rows: list[QuarantineRow]


@dataclass(frozen=True)
class QualityQuery:
    file: str | None = None
    rule: str | None = None
    source: str | None = None
    page: int = 1
    per_page: int = 50

    def params(self, **changes: Any) -> str:
        values = {**asdict(self), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def quality_query(
    file: Annotated[str | None, Query(max_length=500, description="a file as listed")] = None,
    rule: Annotated[str | None, Query(max_length=64, description="e.g. not_date")] = None,
    source: Text = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> QualityQuery:
    return QualityQuery(file or None, rule or None, source or None, page, per_page)


Quality = Annotated[QualityQuery, Depends(quality_query)]
IMPORTS_SHOWN = 100
_IMPORT_COLUMNS = tuple(ImportOut.model_fields)
_QUARANTINE_COLUMNS = ("import_id", "source", "file", "row", "column", "value", "rule", "message")


def quality_view(ctx: Ctx, query: QualityQuery) -> QualityOut:
    """The import ledger and the rows the latest import of each file did not load, read from
    the warehouse opened read-only for this request (the web never writes it). While an
    ingest or run holds the warehouse, answer 503: it frees it within moments."""
    import duckdb

    from partnerscope.errors import WorkspaceBusyError, WorkspaceError

    try:
        warehouse = ctx.workspace.warehouse(read_only=True)
    except WorkspaceBusyError:
        raise HTTPException(503, BUSY, headers={"retry-after": "5"}) from None
    except duckdb.ConnectionException:
        # this process holds a writing connection to it (e.g. a command run in-process)
        raise HTTPException(503, BUSY, headers={"retry-after": "5"}) from None
    except WorkspaceError as exc:
        raise HTTPException(404, str(exc)) from None
    from partnerscope.warehouse import latest_quarantine

    everything, _ = latest_quarantine()
    base, params = latest_quarantine(file=query.file, rule=query.rule, source=query.source)
    quoted = ", ".join(f'"{c}"' for c in _IMPORT_COLUMNS)
    with warehouse:
        con = warehouse.con
        imports = con.execute(
            f"SELECT {quoted} FROM _imports ORDER BY import_id DESC LIMIT ?", [IMPORTS_SHOWN]
        ).fetchall()
        summary = con.execute(
            f'SELECT source, rule, "column", count(*) {everything} '
            "GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3"
        ).fetchall()
        total = con.execute(f"SELECT count(*) {base}", params).fetchone()
        cells = ", ".join(f'q."{c}"' for c in _QUARANTINE_COLUMNS)
        rows = con.execute(
            f'SELECT {cells} {base} ORDER BY q.source, q.file, q."row", q."column" '
            "LIMIT ? OFFSET ?",
            [*params, query.per_page, (query.page - 1) * query.per_page],
        ).fetchall()
    return QualityOut(
        imports=[ImportOut(**dict(zip(_IMPORT_COLUMNS, r, strict=True))) for r in imports],
        summary=[QuarantineCount(source=s, rule=r, column=c, rows=n) for s, r, c, n in summary],
        total=int(total[0]) if total else 0,
        page=query.page,
        per_page=query.per_page,
        rows=[QuarantineRow(**dict(zip(_QUARANTINE_COLUMNS, r, strict=True))) for r in rows],
    )


@api.get("/quality", response_model=QualityOut)
def quality_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], query: Quality) -> QualityOut:
    """The import ledger and the quarantine (rows not loaded, with file, row, column, value
    and reason); 503 while data is being imported."""
    return quality_view(ctx, query)


@pages.get("/quality", response_class=HTMLResponse)
def quality_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], query: Quality
) -> HTMLResponse:
    view = quality_view(ctx, query)
    return page(
        request,
        ctx,
        "quality.html.j2",
        title="Data quality",
        subtitle=f"{len(view.imports)} latest imports · {view.total:,} quarantined rows shown",
        view=view,
        query=query,
        pages=max(1, math.ceil(view.total / query.per_page)),
        files=sorted({i.file for i in view.imports}),
        rules=sorted({s.rule for s in view.summary}),
    )


# ------------------------------------------------------------------------------ audit log


class AuditEntry(BaseModel):
    entry_id: int
    at: UtcDateTime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


class AuditOut(BaseModel):
    entries: list[AuditEntry]
    #: pass as ``before`` for the next (older) page; None: no older entry
    next_before: int | None


@dataclass(frozen=True)
class AuditQuery:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    before: int | None = None
    limit: int = 50

    def params(self, **changes: Any) -> str:
        values = {**asdict(self), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def audit_query(
    object_type: Annotated[
        str | None, Query(max_length=32, description="e.g. tier_override, decision, user")
    ] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Text = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="only entries older than this entry id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditQuery:
    return AuditQuery(object_type or None, object_id or None, actor or None, before, limit)


AuditFilter = Annotated[AuditQuery, Depends(audit_query)]


def audit_view(ctx: Ctx, query: AuditQuery) -> AuditOut:
    """The audit log, newest first, one page (``before`` pages back)."""
    from partnerscope import audit

    found = audit.entries(
        ctx.state.accounts.engine,
        object_type=query.object_type,
        object_id=query.object_id,
        actor=query.actor,
        before=query.before,
        limit=query.limit + 1,
    )
    more = len(found) > query.limit
    found = found[: query.limit]
    return AuditOut(
        entries=[AuditEntry(**_clean(asdict(e))) for e in found],
        next_before=found[-1].entry_id if more and found else None,
    )


@api.get("/audit", response_model=AuditOut)
def audit_api(ctx: Annotated[Ctx, Depends(allow(Role.ADMIN))], query: AuditFilter) -> AuditOut:
    """Who changed what: decisions, tier overrides, plans, users and tokens, newest first."""
    return audit_view(ctx, query)


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(Role.ADMIN))], query: AuditFilter
) -> HTMLResponse:
    view = audit_view(ctx, query)
    return page(
        request,
        ctx,
        "audit.html.j2",
        title="Audit log",
        subtitle="every change to decisions, tier overrides, plans, users and tokens",
        view=view,
        query=query,
        details={e.entry_id: json.dumps(e.detail, default=str) for e in view.entries},
    )
