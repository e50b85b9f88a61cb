"""The demo's onboarding (docs/lifecycle.md, "Onboarding").

Every partner of the data that joined in the last nine months before ``today`` gets a plan
started on its joining day (unless the applications' story started one already). The data
closes what it shows (certifications, sourced and won deals); the other tasks are completed by
hand, through the service, with evidence, on plausible days: most partners on time or a little
late, about one in four stalled (nothing closed for weeks), some with tasks overdue. The
warehouse is not changed: plans are workspace state.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.lifecycle.onboarding import Plan
    from partnerscope.workspace import Workspace

ACTOR = "demo"
#: how far back partners count as onboarding
WINDOW_DAYS = 270
#: what a person would write as the evidence of each hand task of the default template
EVIDENCE = {
    "kickoff": "Kickoff call held; notes in the partner folder",
    "agreement": "Partner agreement signed (DocuSign envelope)",
    "assessment": "Capability and market assessment reviewed with the partner",
    "portal": "Portal accounts created for the partner's team",
    "systems": "Deal registration and CRM access configured and tested",
    "business_plan": "Joint business plan signed off by both sides",
    "sales_training": "Sales team completed the product training (LMS report)",
    "demo_environment": "Demo environment provisioned and sales kit shared",
    "launch_plan": "Launch plan agreed with the first 20 target accounts",
    "review": "90-day review held with the partner's leadership",
}


def _joined(ws: Workspace, today: date) -> list[tuple[str, date]]:
    """The partners that joined in the last nine months; if fewer than three did, the newest
    that joined since the deals data begins (at most eight)."""
    from partnerscope.lifecycle.onboarding_measures import data_begins
    from partnerscope.warehouse import read_warehouse

    rows = read_warehouse(
        ws,
        "SELECT partner_id, joined_at FROM partners WHERE joined_at IS NOT NULL "
        "AND joined_at >= ? AND joined_at < ? ORDER BY joined_at DESC, partner_id",
        [data_begins(ws) or today - timedelta(days=WINDOW_DAYS), today],
    )
    recent = [(pid, day) for pid, day in rows if day > today - timedelta(days=WINDOW_DAYS)]
    return sorted(recent if len(recent) >= 3 else rows[:8], key=lambda r: (r[1], r[0]))


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo plants (before its run), one line each."""
    from partnerscope.lifecycle import onboarding as ob

    rng = random.Random(seed * 7919 + 3)
    existing = {p.partner_id for p in ob.plans(ws)}
    joined = [(pid, day) for pid, day in _joined(ws, today) if pid not in existing]
    # each kind of story at least once, in an order the seed picks
    kinds = ["on time", "late", "stalled"]
    rng.shuffle(kinds)
    profiles = kinds * 3
    applied = _applications(ws)
    started = stalled = late = 0
    for (pid, day), profile in zip(joined, profiles, strict=False):
        ob.start_plan(ws, pid, started_on=day, by=ACTOR, application_id=applied.get(pid))
        started += 1
        ob.refresh(ws, today, pid)
        stalled += profile == "stalled"
        late += profile == "late"
        _work(ws, ob.plan(ws, pid), today, profile, rng)
    first = min((day for _, day in joined), default=today)
    if not started:
        return ["no partner joined since the data begins: no onboarding plan"]
    return [
        f"{started} onboarding plans started on the partners' joining days (since {first})",
        f"tasks done by hand with evidence, on plausible days: {started - stalled - late} "
        f"on time, {late} late, {stalled} stalled for weeks",
        "certifications and first deals close their tasks from the data",
    ]


def _applications(ws: Workspace) -> dict[str, int]:
    """partner → the approved application it came from (the applications' story)."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import applications

    query = select(applications.c.partner_id, applications.c.application_id).where(
        applications.c.partner_id.is_not(None)
    )
    with appdb.connect(ws).connect() as connection:
        return {str(row[0]): int(row[1]) for row in connection.execute(query)}


def _work(ws: Workspace, plan: Plan, today: date, profile: str, rng: random.Random) -> None:
    """Complete the plan's hand tasks in their order, each on a plausible day before today; a
    stalled partner stops a month or more before today."""
    from partnerscope.lifecycle import onboarding as ob

    stop = today - timedelta(days=rng.randint(30, 60)) if profile == "stalled" else today
    # a stalled partner also stops after a few tasks, however long ago it started
    left = rng.randint(2, 5) if profile == "stalled" else len(plan.tasks)
    closed: dict[str, date] = {
        t.key: t.completed_at.date() for t in plan.tasks if t.completed_at is not None
    }
    for task in plan.tasks:
        if not task.is_open or task.outcome not in (None, "business_plan"):
            continue
        if any(r not in closed for r in task.requires if plan.has(r)):
            continue  # waits on what the data has not shown yet
        if profile == "on time":
            day = task.due_on - timedelta(days=rng.randint(0, 5))
        else:
            day = task.due_on + timedelta(days=rng.randint(1, 16))
        day = max([day, plan.started_on, *(closed[r] for r in task.requires if r in closed)])
        if day >= stop or day >= today or left <= 0:
            if profile != "on time":
                break  # a late or stalled partner does not run ahead
            continue
        ob.complete(
            ws,
            plan.partner_id,
            task.key,
            evidence=EVIDENCE.get(task.key, f"{task.title}: done"),
            by=ACTOR,
            now=datetime.combine(day, time(10, rng.randint(0, 59))),
        )
        closed[task.key] = day
        left -= 1


def found(ws: Workspace) -> list[str]:
    """What the product found of it (after the run), one line each."""
    from partnerscope.lifecycle import onboarding as ob
    from partnerscope.lifecycle.onboarding_measures import measures

    today = ob.judged_on(ws)
    statuses = ob.statuses(ws, today)
    if not statuses:
        return ["no onboarding plan"]
    median = measures(ws, today).median("won_deal")
    finished = sum(1 for s in statuses if s.finished)
    stalled = sum(1 for s in statuses if s.stalled)
    overdue = sum(1 for s in statuses if s.overdue)
    line = (
        f"{len(statuses)} onboarding plans on {today}: {finished} finished, {stalled} stalled, "
        f"{overdue} with overdue tasks"
    )
    if median is not None:
        line += f"; median {median:.0f} days from joining to a first won deal"
    return [line]
