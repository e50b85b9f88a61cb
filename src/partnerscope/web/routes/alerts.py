"""Alerts and flags: the served run's alerts (most severe first) and flags of a period, of
the partners the caller may see, filtered by severity, kind, metric, partner and flag, and by
where each alert's work stands (state, owner: :mod:`partnerscope.operations.alert_work`).

Admins, analysts and partner managers (for the partners they may see) acknowledge, assign,
snooze, resolve and reopen an alert, by a form per alert or the API; partner users never see
alerts (they are the vendor's judgements)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope import clock
from partnerscope.operations import alert_work as work
from partnerscope.web.params import Day, FilterText, Period
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import (
    SEVERITIES,
    json_float,
    periods_with_data,
    run_index,
    visible_rows,
)
from partnerscope.web.security import STAFF, Ctx, UtcDateTime, allow, safe_next

pages = APIRouter()
api = APIRouter(tags=["portfolio"])


class EscalationStepOut(BaseModel):
    level: int
    name: str
    owners: list[str]
    reached: UtcDateTime | None
    due: UtcDateTime | None


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
    #: "new" in this run, or "ongoing" (raised by an earlier run too)
    status: str | None
    first_seen_run: int | None
    #: where its work stands: open, acknowledged, snoozed (until ``snoozed_until``), resolved
    state: str = "open"
    owner: str | None = None
    snoozed_until: date | None = None
    #: what was done (a resolved alert)
    note: str | None = None
    #: its escalation path ([escalation]): each level, its owners, when the alert reached it
    #: or, for the next level, when it will if nobody acts
    escalation: list[EscalationStepOut] = Field(default_factory=list)


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
    #: open, acknowledged, snoozed, resolved; None: open and acknowledged, awake today
    state: str | None = None
    #: "me", "unassigned", or None (anyone)
    owner: str | None = None


def alert_query(
    period: Period = None,
    severity: Annotated[
        Literal["high", "medium", "low", ""] | None, Query(description="empty: all")
    ] = None,
    kind: Annotated[str | None, Query(max_length=64, description="e.g. anomaly_own")] = None,
    metric: FilterText = None,
    partner: Annotated[str | None, Query(max_length=64, description="a partner id")] = None,
    flag: Annotated[str | None, Query(max_length=64, description="e.g. exit")] = None,
    state: Annotated[
        Literal["open", "acknowledged", "snoozed", "resolved", ""] | None,
        Query(description="empty: open and acknowledged alerts not snoozed today"),
    ] = None,
    owner: Annotated[
        Literal["me", "unassigned", "anyone", ""] | None, Query(description="empty: anyone")
    ] = None,
) -> AlertQuery:
    return AlertQuery(
        period,
        severity or None,
        kind,
        metric,
        partner,
        flag,
        state or None,
        None if owner in (None, "", "anyone") else owner,
    )


Alerts = Annotated[AlertQuery, Depends(alert_query)]


@dataclass
class AlertsPage:
    out: AlertsOut
    kinds: list[str]
    metrics: list[str]
    flag_kinds: list[str]
    #: who an alert may be assigned to (active staff)
    owners: list[str] = field(default_factory=list)
    #: alerts per work state among those of the other filters
    states: dict[str, int] = field(default_factory=dict)


def alerts_view(ctx: Ctx, query: AlertQuery) -> AlertsPage:
    """The run's alerts and flags of the period, of the partners the caller may see."""
    index = run_index(ctx)
    start, label = ctx.data.pick_period(query.period)
    alerts = visible_rows(ctx, index.alerts(start))
    flags = visible_rows(ctx, index.flags(start))
    kinds = sorted({a["kind"] for a in alerts})
    metrics = sorted({a["metric"] for a in alerts if a["metric"]})
    flag_kinds = sorted({f["flag"] for f in flags})
    partner = (query.partner or "").strip().casefold() or None

    def wanted(row: dict[str, Any]) -> bool:
        return partner is None or row["partner_id"].casefold() == partner

    filtered = [
        a
        for a in alerts
        if wanted(a)
        and (query.severity is None or a["severity"] == query.severity)
        and (not query.kind or a["kind"] == query.kind)
        and (not query.metric or a["metric"] == query.metric)
    ]
    stored = work.states(ctx.workspace, (a["alert_id"] for a in filtered))
    today = clock.today(ctx.workspace)
    held = {
        a["alert_id"]: stored.get(a["alert_id"]) or work.untouched(a["alert_id"]) for a in filtered
    }
    by_state = Counter(held[a["alert_id"]].shown(today) for a in filtered)
    chosen = [
        a
        for a in filtered
        if work.wanted(
            held[a["alert_id"]], today, state=query.state, owner=query.owner, me=ctx.user.name
        )
    ]
    flagged = [f for f in flags if wanted(f) and (not query.flag or f["flag"] == query.flag)]
    counts = Counter(a["severity"] for a in chosen)
    paths = escalation_paths(ctx, [a["alert_id"] for a in chosen])
    out = AlertsOut(
        period=label,
        counts={s: counts.get(s, 0) for s in SEVERITIES},
        alerts=[
            AlertOut(
                **{k: a[k] for k in AlertOut.model_fields if k in _STORED},
                value=json_float(a["value"]),
                reference=json_float(a["reference"]),
                z=json_float(a["z"]),
                **_work(held[a["alert_id"]], today),
                escalation=paths.get(a["alert_id"], []),
            )
            for a in chosen
        ],
        flags=[FlagOut(**{k: f[k] for k in FlagOut.model_fields}) for f in flagged],
    )
    return AlertsPage(
        out,
        kinds,
        metrics,
        flag_kinds,
        owners=owner_choices(ctx),
        states={s: by_state.get(s, 0) for s in work.LIST_STATES},
    )


def escalation_paths(ctx: Ctx, alert_ids: list[str]) -> dict[str, list[EscalationStepOut]]:
    """Each alert's escalation path (none with ``[escalation] enabled = false``)."""
    from partnerscope.notify import escalations

    if not alert_ids or not ctx.workspace.config.escalation.enabled:
        return {}
    found = escalations.path(ctx.workspace, "alert", alert_ids)
    return {
        alert_id: [
            EscalationStepOut(
                level=s.level, name=s.name, owners=list(s.owners), reached=s.reached, due=s.due
            )
            for s in steps
        ]
        for alert_id, steps in found.items()
    }


#: the fields of an alert read from the run as they are
_STORED = frozenset(
    [
        "alert_id",
        "partner_id",
        "name",
        "period",
        "kind",
        "metric",
        "severity",
        "message",
        "status",
        "first_seen_run",
    ]
)


def _work(found: work.AlertState, today: date) -> dict[str, Any]:
    return {
        "state": found.shown(today),
        "owner": found.owner,
        "snoozed_until": found.snoozed_until if found.asleep(today) else None,
        "note": found.note if found.status is work.AlertStatus.RESOLVED else None,
    }


def owner_choices(ctx: Ctx) -> list[str]:
    """The names of the active admins, analysts and partner managers."""
    return sorted(
        u.name
        for u in ctx.state.accounts.everyone()
        if u.active and u.role.value in work.OWNER_ROLES
    )


# --------------------------------------------------------------------------------- the work


AlertId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F]+$")]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: a user name; empty or null: nobody
    owner: str | None = Field(default=None, max_length=64)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: the day it comes back; null: wake it now
    until: Day | None = None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)


class AlertWorkOut(BaseModel):
    alert_id: str
    partner_id: str
    state: str
    owner: str | None
    snoozed_until: date | None
    note: str | None
    updated_by: str | None


def alert_ref(ctx: Ctx, alert_id: str) -> work.AlertRef:
    """The served run's alert with that id, if the caller may see its partner (else 404, the
    same answer as for an unknown id)."""
    wanted = alert_id.lower()
    index = ctx.run.built(("alerts_by_id",), lambda: _by_id(ctx))
    row = index.get(wanted)
    if row is None or not ctx.can_see(row["partner_id"]):
        raise HTTPException(404, f"no alert {alert_id!r}")
    return work.AlertRef.of(row)


def _by_id(ctx: Ctx) -> dict[str, dict[str, Any]]:
    table = ctx.data.alerts.table.select(
        ["alert_id", "partner_id", "kind", "metric", "period_start"]
    )
    return {row["alert_id"]: row for row in table.to_pylist()}


def act_on(ctx: Ctx, alert_id: str, step: str, given: Any = None) -> work.AlertState:
    """Take one step on an alert the caller may see, as the caller."""
    ref = alert_ref(ctx, alert_id)
    ws, by = ctx.workspace, ctx.user.name
    match step:
        case "acknowledge":
            return work.acknowledge(ws, ref, by=by)
        case "assign":
            owner = (given.owner or "").strip() or None
            if owner is not None:
                _check_owner(ctx, owner, ref.partner_id)
            return work.assign(ws, ref, owner, by=by)
        case "snooze":
            return work.snooze(ws, ref, given.until, by=by)
        case "resolve":
            return work.resolve(ws, ref, given.note, by=by)
        case "reopen":
            return work.reopen(ws, ref, by=by)
    raise HTTPException(404, f"no step {step!r}")


def _check_owner(ctx: Ctx, owner: str, partner_id: str) -> None:
    """A partner manager may own only an alert of a partner they may see."""
    from partnerscope.accounts import AccountError, Role, visible_partners

    try:
        user = ctx.state.accounts.get(owner)
    except AccountError:
        return  # the store refuses an unknown owner with its reason
    if user.role is Role.PARTNER_MANAGER:
        visible = visible_partners(user, ctx.data.managers)
        if visible is not None and partner_id not in visible:
            raise work.AlertWorkError(
                "owner",
                f"{owner} does not look after this partner; assign the alert to one of its "
                "managers, an analyst or an admin",
            )


def work_out(ctx: Ctx, ref: work.AlertRef, found: work.AlertState) -> AlertWorkOut:
    today = clock.today(ctx.workspace)
    return AlertWorkOut(
        alert_id=ref.alert_id,
        partner_id=ref.partner_id,
        updated_by=found.updated_by,
        **_work(found, today),
    )


def _api_step(ctx: Ctx, alert_id: str, step: str, given: Any = None) -> AlertWorkOut:
    found = act_on(ctx, alert_id, step, given)
    return work_out(ctx, alert_ref(ctx, alert_id), found)


@api.post("/alerts/{alert_id}/acknowledge", response_model=AlertWorkOut)
def acknowledge_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], alert_id: AlertId) -> AlertWorkOut:
    """Open → acknowledged."""
    return _api_step(ctx, alert_id, "acknowledge")


@api.post("/alerts/{alert_id}/assign", response_model=AlertWorkOut)
def assign_api(
    ctx: Annotated[Ctx, Depends(allow(*STAFF))], alert_id: AlertId, given: AssignIn
) -> AlertWorkOut:
    """Give the alert an owner (a user name), or none."""
    return _api_step(ctx, alert_id, "assign", given)


@api.post("/alerts/{alert_id}/snooze", response_model=AlertWorkOut)
def snooze_api(
    ctx: Annotated[Ctx, Depends(allow(*STAFF))], alert_id: AlertId, given: SnoozeIn
) -> AlertWorkOut:
    """Hide the alert from the default list until a later day (null: wake it now)."""
    return _api_step(ctx, alert_id, "snooze", given)


@api.post("/alerts/{alert_id}/resolve", response_model=AlertWorkOut)
def resolve_api(
    ctx: Annotated[Ctx, Depends(allow(*STAFF))], alert_id: AlertId, given: ResolveIn
) -> AlertWorkOut:
    """Open or acknowledged → resolved, with a note."""
    return _api_step(ctx, alert_id, "resolve", given)


@api.post("/alerts/{alert_id}/reopen", response_model=AlertWorkOut)
def reopen_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], alert_id: AlertId) -> AlertWorkOut:
    """Resolved → open."""
    return _api_step(ctx, alert_id, "reopen")


def _form(request: Request, ctx: Ctx, alert_id: str, step: str, given: Any, back: str) -> Response:
    """A step from the alert list's form; back to the list as it was filtered."""
    target = safe_next(back)
    if not target.startswith("/alerts"):
        target = "/alerts"

    def act() -> work.AlertState:
        alert_ref(ctx, alert_id)  # an alert the caller may not see: 404 before anything else
        return act_on(ctx, alert_id, step, given() if callable(given) else given)

    return form_action(
        act,
        f"{target}#alert-{alert_id.lower()}",
        lambda errors, status: _page(request, ctx, AlertQuery(), errors=errors, status=status),
        sees=ctx.can_see,
    )


Staff = Annotated[Ctx, Depends(allow(*STAFF))]
Back = Annotated[str, Form(max_length=2000)]


@pages.post("/alerts/{alert_id}/acknowledge", response_class=HTMLResponse, response_model=None)
def acknowledge_submit(
    request: Request, ctx: Staff, alert_id: AlertId, back: Back = "/alerts"
) -> Response:
    return _form(request, ctx, alert_id, "acknowledge", None, back)


@pages.post("/alerts/{alert_id}/assign", response_class=HTMLResponse, response_model=None)
def assign_submit(
    request: Request,
    ctx: Staff,
    alert_id: AlertId,
    owner: Annotated[str, Form(max_length=64)] = "",
    back: Back = "/alerts",
) -> Response:
    return _form(request, ctx, alert_id, "assign", AssignIn(owner=owner.strip() or None), back)


@pages.post("/alerts/{alert_id}/snooze", response_class=HTMLResponse, response_model=None)
def snooze_submit(
    request: Request,
    ctx: Staff,
    alert_id: AlertId,
    until: Annotated[str, Form(max_length=10)] = "",
    back: Back = "/alerts",
) -> Response:
    # validated inside the action, so a bad date is shown on the page (422)
    given = lambda: SnoozeIn(until=until.strip() or None)  # type: ignore[arg-type]  # noqa: E731
    return _form(request, ctx, alert_id, "snooze", given, back)


@pages.post("/alerts/{alert_id}/resolve", response_class=HTMLResponse, response_model=None)
def resolve_submit(
    request: Request,
    ctx: Staff,
    alert_id: AlertId,
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Back = "/alerts",
) -> Response:
    return _form(request, ctx, alert_id, "resolve", lambda: ResolveIn(note=note.strip()), back)


@pages.post("/alerts/{alert_id}/reopen", response_class=HTMLResponse, response_model=None)
def reopen_submit(
    request: Request, ctx: Staff, alert_id: AlertId, back: Back = "/alerts"
) -> Response:
    return _form(request, ctx, alert_id, "reopen", None, back)


@api.get("/alerts", response_model=AlertsOut)
def alerts_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts) -> AlertsOut:
    """The run's alerts (most severe first) and flags of a period, filtered."""
    return alerts_view(ctx, query).out


@pages.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts
) -> HTMLResponse:
    return _page(request, ctx, query, errors=[], status=200)


def _page(
    request: Request, ctx: Ctx, query: AlertQuery, *, errors: list[str], status: int
) -> HTMLResponse:
    view = alerts_view(ctx, query)
    words = ctx.workspace.words
    return page(
        request,
        ctx,
        "alerts.html.j2",
        status=status,
        title="Alerts and flags",
        subtitle=f"{view.out.period} · {words.number(len(view.out.alerts))} alerts, "
        f"{words.number(len(view.out.flags))} flags",
        view=view,
        query=query,
        periods=periods_with_data(ctx),
        severities=SEVERITIES,
        list_states=work.LIST_STATES,
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        tomorrow=(clock.today(ctx.workspace) + timedelta(days=1)).isoformat(),
        errors=errors,
    )
