"""What the partner hub and the landing pages gather about a partner: its key figures of a
period (won revenue, quota attainment, open pipeline), its deals by stage, leads,
registrations, MDF, payouts and improvement plan, and the work waiting for finance.

Everything is read for the caller: a partner user gets the partner view (web/audience.py) of
its own partner only (no plan, manager, alerts, flags, percentiles or draft ledgers); staff
get the partners they may see. Amounts stay numbers here; the templates write them with
``words`` (partnerscope.present).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from partnerscope import clock
from partnerscope.accounts import Role
from partnerscope.web.audience import partner_view

if TYPE_CHECKING:
    from partnerscope.evaluation.plans import Plan
    from partnerscope.web.security import Ctx

#: the metrics the partner lists and the hub show beside the score
FIGURES = ("won_revenue", "quota_attainment", "open_pipeline")
ZERO = Decimal(0)


def figures(ctx: Ctx, start: Any) -> dict[str, dict[str, float | None]]:
    """Each partner's FIGURES in the period starting ``start`` (built once per served run)."""
    served = ctx.run

    def build() -> dict[str, dict[str, float | None]]:
        import math

        import pyarrow.compute as pc

        table = served.data.results().table
        table = table.filter(pc.equal(table["period_start"], start))
        columns = {m: table[m].to_pylist() for m in FIGURES if m in table.column_names}
        out: dict[str, dict[str, float | None]] = {}
        for i, pid in enumerate(table["group_key"].to_pylist()):
            values: dict[str, float | None] = {}
            for metric in FIGURES:
                value = columns[metric][i] if metric in columns else None
                number = None if value is None else float(value)
                values[metric] = number if number is not None and math.isfinite(number) else None
            out[pid] = values
        return out

    return served.built(("hub-figures", start), build)


def check_in(plan: Plan | None, today: date) -> tuple[date | None, bool]:
    """The open plan's next check-in and whether it is overdue: every scheduled check-in has
    passed and none is planned (check-ins are dates on the plan, not records of a meeting)."""
    if plan is None or plan.status != "open" or not plan.check_ins:
        return None, False
    upcoming = [d for d in plan.check_ins if d >= today]
    if upcoming:
        return upcoming[0], False
    return plan.check_ins[-1], True


def open_alerts(ctx: Ctx, alerts: list[dict[str, Any]]) -> Counter[str]:
    """How many of ``alerts`` (rows of the run's alerts) are not resolved, by partner."""
    from partnerscope.operations import alert_work

    done = {
        alert_id
        for alert_id, state in alert_work.states(
            ctx.workspace, [a["alert_id"] for a in alerts]
        ).items()
        if state.status == alert_work.AlertStatus.RESOLVED
    }
    return Counter(a["partner_id"] for a in alerts if a["alert_id"] not in done)


def with_figures(ctx: Ctx, rows: list[dict[str, Any]], start: Any) -> list[dict[str, Any]]:
    """The partner list's rows with FIGURES, open alerts and the open plan's check-in."""
    from partnerscope.web.run_index import run_index

    values = figures(ctx, start)
    plans = ctx.data.open_plans
    shown = {r["partner_id"] for r in rows}
    alerts = open_alerts(ctx, [a for a in run_index(ctx).alerts(start) if a["partner_id"] in shown])
    today = clock.today(ctx.workspace)
    out = []
    for row in rows:
        due, overdue = check_in(plans.get(row["partner_id"]), today)
        out.append(
            {
                **row,
                **values.get(row["partner_id"], dict.fromkeys(FIGURES)),
                "open_alerts": alerts.get(row["partner_id"], 0),
                "next_check_in": due,
                "check_in_overdue": overdue,
            }
        )
    return out


# ------------------------------------------------------------------------------ the hub


@dataclass
class Hub:
    """One partner's hub: what the partner page shows around its scorecard."""

    partner_id: str
    name: str
    period: str
    #: the membership of the period: partner_type, region, program_tier (None: not a member)
    member: dict[str, Any]
    #: None for a partner user (who at the vendor works on it is not shown to partners)
    manager: str | None
    score: float | None
    previous_score: float | None
    #: (period label, score) of the last periods, oldest first
    history: list[tuple[str, float | None]]
    figures: dict[str, float | None]
    #: open deals by stage: (stage, deals, amount), largest amount first
    stages: list[tuple[str, int, Decimal]]
    won: tuple[int, Decimal]
    lost: tuple[int, Decimal]
    leads: dict[str, int]
    registrations: dict[str, int]
    mdf: dict[str, Any]
    payouts: list[dict[str, Any]]
    #: staff only: the partner's open or latest plan, and whether the caller may edit it
    plan: Plan | None = None
    alerts: int = 0
    flags: list[str] = field(default_factory=list)
    staff: bool = True
    #: staff only: the forecast, risk and scored open deals (:func:`predictions`)
    predictions: dict[str, Any] | None = None
    #: the partner's joint business plan of the current fiscal year (or its latest) as the
    #: caller may see it, and its page (None: it has none)
    business_plan: Any = None
    business_plan_href: str | None = None
    #: staff only, with an open improvement plan: the business plan's missed milestones
    #: (``[business_plans] improvement_plan``), in words
    missed_milestones: list[str] = field(default_factory=list)


Stage = tuple[str, int, Decimal]
Total = tuple[int, Decimal]


def _stages(ctx: Ctx, pid: str) -> tuple[list[Stage], Total, Total]:
    """The partner's deals by stage as the served run found them (the run, not the warehouse:
    a new ingest or run may be writing it)."""
    rows = ctx.data.stages.get(pid, [])
    open_ = sorted(
        ((str(s), int(n), Decimal(a)) for s, status, n, a in rows if status == "open"),
        key=lambda r: (-r[2], r[0]),
    )

    def total(status: str) -> tuple[int, Decimal]:
        mine = [(int(n), Decimal(a)) for _, s, n, a in rows if s == status]
        return sum(n for n, _ in mine), sum((a for _, a in mine), ZERO)

    return open_, total("won"), total("lost")


def _mdf(ctx: Ctx, pid: str) -> dict[str, Any]:
    from partnerscope.errors import PartnerscopeError
    from partnerscope.money import mdf

    try:
        budget = mdf.budget(ctx.workspace, pid)
    except PartnerscopeError:
        budget = None
    requests = mdf.requests(ctx.workspace, pid)
    year = budget.fiscal_year if budget is not None else None
    return {
        "year": year,
        "budget": budget.amount if budget is not None else None,
        "committed": budget.committed if budget is not None else None,
        "spent": budget.imported_spend if budget is not None else None,
        "left": budget.left if budget is not None else None,
        "requests": Counter(str(r.status) for r in requests),
        #: approved requests to claim, soonest deadline first
        "to_claim": sorted(
            (r for r in requests if r.status == mdf.RequestStatus.APPROVED),
            key=lambda r: (r.deadline or date.max, r.request_id),
        ),
        "list": requests,
    }


def _payouts(ctx: Ctx, pid: str, *, estimates: bool = False) -> list[dict[str, Any]]:
    """The partner's total in each ledger, newest first: approved and paid ledgers, and for
    staff the drafts too; a partner user is shown a draft only as an estimate, on its own page
    where ``[incentives] show_estimates`` allows it (``estimates``; docs/web.md)."""
    from partnerscope.money.payouts import LOCKED, Payouts

    ledgers = Payouts(ctx.workspace)
    mine = partner_view(ctx)
    out = []
    for head in reversed(ledgers.periods()):
        if mine and head.status not in LOCKED and not estimates:
            continue
        lines = [ln for ln in ledgers.ledger(head.period).lines if ln.partner_id == pid]
        out.append(
            {
                "period": head.period,
                "status": head.status,
                "total": sum((ln.amount for ln in lines), ZERO),
                "lines": len(lines),
            }
        )
    return out


def partner_hub(ctx: Ctx, pid: str, period: str | None) -> Hub:
    """The hub of partner ``pid`` (already checked visible to the caller) in ``period``."""
    from partnerscope.operations import registrations as regs
    from partnerscope.operations.routing import service

    data = ctx.data
    start, label = data.pick_period(period)
    mine = partner_view(ctx)
    members = data.memberships.rows(pid, at=start)
    member = members[0] if members else {}
    cards = data.scorecards.rows(pid)
    history = [(r["period"], _float(r["score"])) for r in cards if r["period_start"] <= start]
    score = history[-1][1] if history and cards and _at(cards, start) else None
    previous = history[-2][1] if len(history) > 1 else None
    stages, won, lost = _stages(ctx, pid)
    leads = Counter(
        str(a.status) for a in service.assignments(ctx.workspace, partner_id=pid, limit=None)
    )
    registrations = Counter(str(r.status) for r in regs.registrations(ctx.workspace, pid))
    hub = Hub(
        partner_id=pid,
        name=data.partner_name(pid),
        period=label,
        member=member,
        manager=None if mine else data.managers.get(pid),
        score=score,
        previous_score=previous,
        history=history[-6:],
        figures=figures(ctx, start).get(pid, dict.fromkeys(FIGURES)),
        stages=stages,
        won=won,
        lost=lost,
        leads=dict(leads),
        registrations=dict(registrations),
        mdf=_mdf(ctx, pid),
        payouts=_payouts(ctx, pid),
        staff=not mine,
    )
    if not mine:
        from partnerscope.evaluation import plans

        book = plans.load(ctx.workspace.state_dir)
        hub.plan = book.open_plan(pid) or next(
            (p for p in reversed(book.plans) if p.partner_id == pid), None
        )
        hub.alerts = open_alerts(ctx, data.alerts.rows(pid, at=start)).get(pid, 0)
        hub.flags = sorted({f["flag"] for f in data.flags.rows(pid, at=start)})
        hub.predictions = predictions(ctx, pid)
    from partnerscope.web.routes.business_plans import hub_milestones, missed_milestones

    hub.business_plan, hub.business_plan_href = hub_milestones(ctx, pid, label)
    if not mine and hub.plan is not None and hub.plan.status == "open":
        hub.missed_milestones = missed_milestones(ctx, pid)
    return hub


def predictions(ctx: Ctx, pid: str) -> dict[str, Any]:
    """The partner's predictions as its page shows them (staff only: they are the vendor's
    judgements): won revenue by quarter with the forecast band, the forecast's skill in a
    sentence, the risk with its factors, and the open deals by expected value."""
    from partnerscope.web import predictions as pr

    p = pr.of(ctx.run)
    if not p.present:
        return {"present": False, "none_yet": pr.NONE_YET}
    words = ctx.workspace.words
    rows = p.series("partner", pid)
    quarters = [
        (str(r["label"]), _float(r.get("won_revenue")))
        for r in ctx.data.results("quarter").rows(pid)
        if r.get("complete") is not False
    ][-8:]
    chart = pr.forecast_chart(
        quarters,
        rows,
        currency=words.currency,
        title="Won revenue by quarter, and its forecast",
    )
    risk = p.risk.get(pid)
    deals = p.deals(pid)
    nxt = pr.next_quarter(rows)
    return {
        "present": True,
        "forecast": [r for r in rows if r["forecast"] is not None],
        "sentence": pr.forecast_sentence(rows, p, words),
        "chart": chart,
        "risk": pr.risk_words(risk, ctx.workspace.config.predict, words) if risk else None,
        "deals": [{**d, "top": pr.top_factor(d)} for d in deals[: pr.DEALS_SHOWN]],
        "deals_total": len(deals),
        "pipeline": sum(d["amount"] or 0.0 for d in deals),
        "expected": sum(d["expected_value"] or 0.0 for d in deals),
        "deals_skill": all(d["skill"] for d in deals),
        "next": nxt,
    }


def _at(cards: list[dict[str, Any]], start: Any) -> bool:
    return any(r["period_start"] == start for r in cards)


def _float(value: Any) -> float | None:
    import math

    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------- the landing pages


@dataclass
class Todo:
    """A sentence of what to do next, with the page that does it."""

    text: str
    href: str


def partner_home(ctx: Ctx) -> dict[str, Any]:
    """A partner user's landing page: its tiers and what the next one needs (of the rule
    sets shown to partners), incentives earned, MDF balance and requests, leads and
    registrations to act on, and what to do next."""
    from datetime import datetime, timedelta

    from partnerscope.errors import PartnerscopeError
    from partnerscope.operations import registrations as regs
    from partnerscope.operations.routing import service
    from partnerscope.operations.routing.store import Status

    words = ctx.workspace.words
    pid = ctx.user.partner_id
    assert pid is not None
    data = ctx.data
    shown = set(ctx.workspace.config.tiers.shown_to_partners)
    tiers: list[dict[str, Any]] = []
    label = data.periods[-1][1] if data.periods else ""
    member: dict[str, Any] = {}
    score = None
    if pid in data.scorecards:
        try:
            view = data.scorecard(pid)
        except PartnerscopeError:
            view = None
        if view is not None:
            label = view.period
            score = _float(view.card["score"])
            for p in view.placements:
                if p.ruleset not in shown:
                    continue
                gaps = []
                nxt = None
                if p.next_tier:
                    nxt, missing = p.next_tier
                    gaps = [words.needs(g.metric, g.bound, g.required, g.current) for g in missing]
                tiers.append({"ruleset": p.ruleset, "tier": p.effective, "next": nxt, "gaps": gaps})
        start, _ = data.pick_period(label)
        members = data.memberships.rows(pid, at=start)
        member = members[0] if members else {}
    from partnerscope.money.payouts import LOCKED

    ledgers = _payouts(ctx, pid, estimates=ctx.workspace.config.incentives.show_estimates)
    payouts = [p for p in ledgers if p["status"] in LOCKED]
    #: draft ledgers' totals, shown as estimates (only where the program allows it)
    estimates = [p for p in ledgers if p["status"] not in LOCKED]
    earned = sum((p["total"] for p in payouts), ZERO)
    paid = sum((p["total"] for p in payouts if p["status"] == "paid"), ZERO)
    money = _mdf(ctx, pid)
    now = clock.now_utc()
    assigned = [
        a
        for a in service.assignments(ctx.workspace, partner_id=pid, limit=None)
        if a.status in (Status.ASSIGNED, Status.TOUCHED)
    ]
    assigned.sort(key=lambda a: (a.sla_due_at or datetime.max, a.lead_id))
    registrations = regs.registrations(ctx.workspace, pid)
    soon = clock.today(ctx.workspace) + timedelta(days=30)
    expiring = [
        r
        for r in registrations
        if r.status == regs.RegistrationStatus.PROTECTED
        and r.protected_until is not None
        and r.protected_until <= soon
    ]
    waiting = [r for r in registrations if r.status == regs.RegistrationStatus.SUBMITTED]
    todo: list[Todo] = []
    untouched = [a for a in assigned if a.status == Status.ASSIGNED]
    if untouched:
        first = untouched[0]
        due = (
            f"; the first is due {words.moment(first.sla_due_at)}"
            if first.sla_due_at is not None
            else ""
        )
        late = " (overdue)" if first.sla_due_at is not None and first.sla_due_at < now else ""
        todo.append(
            Todo(
                f"Contact {_count(len(untouched), 'new lead')}{due}{late}.",
                "/leads?status=assigned",
            )
        )
    touched = [a for a in assigned if a.status == Status.TOUCHED]
    if touched:
        todo.append(
            Todo(
                f"Record the outcome of {_count(len(touched), 'lead')} you have contacted.",
                "/leads?status=touched",
            )
        )
    for request in money["to_claim"]:
        deadline = f" by {words.date(request.deadline)}" if request.deadline else ""
        todo.append(
            Todo(
                f"Claim {request.ref} ({request.name}, approved "
                f"{words.money(request.approved_amount)}){deadline} with its proof.",
                f"/mdf/requests/{request.request_id}",
            )
        )
    for r in expiring:
        todo.append(
            Todo(
                f"Your protection of {r.account_name} ends {words.date(r.protected_until)}: "
                "close the deal or ask your partner manager to extend it.",
                f"/registrations/{r.registration_id}",
            )
        )
    if money["left"] is not None and money["left"] > 0 and not money["list"]:
        todo.append(
            Todo(
                f"You have {words.money(money['left'])} of MDF left for {money['year']}: "
                "request funds for your next campaign.",
                "/mdf",
            )
        )
    for t in tiers:
        if t["next"] and t["gaps"]:
            todo.append(Todo(f"To reach {t['next']}: {'; '.join(t['gaps'])}.", f"/partners/{pid}"))
    from partnerscope.web.routes.business_plans import hub_milestones

    business_plan, business_plan_href = hub_milestones(ctx, pid, label)
    if business_plan is not None and business_plan_href is not None:
        for m in business_plan.milestones:
            if m.status in ("at_risk", "missed"):
                todo.append(
                    Todo(
                        f"Business plan: Q{m.quarter} {m.measure} is {m.status_text.lower()} "
                        f"({m.measured}).",
                        business_plan_href,
                    )
                )
    return {
        "partner_id": pid,
        "name": data.partner_name(pid) if pid in data.scorecards else pid,
        "period": label,
        "member": member,
        "score": score,
        "tiers": tiers,
        "payouts": payouts,
        "estimates": estimates,
        "earned": earned,
        "paid": paid,
        "mdf": money,
        "leads": assigned,
        "registrations_waiting": waiting,
        "registrations_expiring": expiring,
        "todo": todo,
        "business_plan": business_plan,
        "business_plan_href": business_plan_href,
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def finance_home(ctx: Ctx) -> dict[str, Any]:
    """Finance's landing page: draft ledgers awaiting approval, approved ledgers to pay, MDF
    requests to decide and claims to pay, with their totals."""
    from partnerscope.money import mdf
    from partnerscope.money.payouts import APPROVED, DRAFT, Payouts

    assert ctx.user.role in (Role.FINANCE, Role.ADMIN)
    ledgers = Payouts(ctx.workspace)
    heads = list(reversed(ledgers.periods()))
    drafts = [ledgers.ledger(h.period) for h in heads if h.status == DRAFT]
    unpaid = [ledgers.ledger(h.period) for h in heads if h.status == APPROVED]
    requests = mdf.requests(ctx.workspace)
    claims = [r for r in requests if r.status == mdf.RequestStatus.CLAIMED]
    asked = [r for r in requests if r.status == mdf.RequestStatus.REQUESTED]
    return {
        "drafts": drafts,
        "unpaid": unpaid,
        "claims": claims,
        "asked": asked,
        "drafts_total": sum((ledger.total for ledger in drafts), ZERO),
        "unpaid_total": sum((ledger.total for ledger in unpaid), ZERO),
        "claims_total": sum((r.claimed_amount or ZERO for r in claims), ZERO),
        "asked_total": sum((r.requested_amount for r in asked), ZERO),
        "name": ctx.partner_names(),
    }
