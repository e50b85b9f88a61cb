"""The demo's joint business plans (docs/lifecycle.md, "Joint business plans").

Five partners get a plan for the fiscal year of the data's last complete quarter: the partners
the web tests sign in as (P0001, P0002, P0003), the first of the planted decliners and the
first of the planted risers (``data/planted.json``). Their won revenue and won deals milestones
of the year's last two quarters have targets set from the partner's own values of those
quarters in the warehouse × a factor, so that the outcome is known before the run: 0.8–0.9
(met) for most, 1.25–1.5 (missed) for the decliner and for one quarter of P0003. Each plan
also gets a won revenue milestone for the first quarter of the next fiscal year, the year in
progress (upcoming: the demo's run is as of that quarter's first day, so no quarter is under
way to be at risk). Some plans are agreed, and P0001's has a target changed after it was
agreed (a version with what changed). The warehouse is not changed: plans are workspace state.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

ACTOR = "demo"
#: (role in the story, won revenue factors of the year's last two quarters, won deals factor of
#: the last quarter, agreed)
STORIES = {
    "own": ((0.9, 0.85), 0.8, True),
    "foreign": ((0.9, 0.9), None, False),
    "assigned": ((0.9, 1.25), None, False),
    "decliner": ((1.3, 1.3), 1.5, True),
    "riser": ((0.8, 0.8), None, True),
}
#: a missed target is at least this (a partner without deals would meet a target of 0)
FLOOR = 10_000.0


def _partners(ws: Workspace, names: dict[str, str]) -> dict[str, str]:
    """role → partner id: the web tests' partners and the first planted decliner and riser."""
    chosen = {"own": "P0001", "foreign": "P0002", "assigned": "P0003"}
    planted = ws.root / "data" / "planted.json"
    if planted.is_file():
        found = json.loads(planted.read_text(encoding="utf-8"))
        for role, key in (("decliner", "decliners"), ("riser", "risers")):
            ids = [p for p in found.get(key, []) if p in names and p not in chosen.values()]
            if ids:
                chosen[role] = ids[0]
    return {role: pid for role, pid in chosen.items() if pid in names}


def _won(
    ws: Workspace, partners: list[str], quarters: list[tuple[date, date]]
) -> dict[tuple[str, date], tuple[float, int]]:
    """Each partner's won revenue and won deals closed in each quarter [start, end), by
    (partner, start): one query."""
    from partnerscope.warehouse import read_warehouse

    if not partners or not quarters:
        return {}
    bounds = " UNION ALL ".join("SELECT ?::DATE AS q0, ?::DATE AS q1" for _ in quarters)
    rows = read_warehouse(
        ws,
        f"SELECT o.partner_id, q.q0, coalesce(sum(o.amount), 0)::DOUBLE, count(*) "
        f"FROM opportunities o JOIN ({bounds}) q ON o.closed_at >= q.q0 AND o.closed_at < q.q1 "
        f"WHERE o.status = 'won' AND o.partner_id IN ({', '.join('?' for _ in partners)}) "
        "GROUP BY ALL",
        [d for pair in quarters for d in pair] + partners,
    )
    return {(pid, start): (float(revenue), int(deals)) for pid, start, revenue, deals in rows}


def _target(actual: float, factor: float) -> float:
    """A round target: above 1 a miss (at least FLOOR), below it a hit."""
    if factor > 1:
        return float(round(max(actual * factor, FLOOR), -3))
    return float(int(actual * factor / 1000) * 1000)


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo plants (before its run), one line each."""
    from partnerscope.lifecycle import business_plans as bp

    year = bp.current_year(ws, today - timedelta(days=1))
    # the year's last two complete quarters
    quarters = [q for q in (1, 2, 3, 4) if bp.quarter_period(ws, year, q)[2] <= today][-2:]
    if not quarters:
        return []
    from partnerscope.warehouse import partner_names

    names = partner_names(ws)
    chosen = _partners(ws, names)
    existing = {(p.partner_id, p.fiscal_year) for p in bp.plans(ws)}
    spans = [bp.quarter_period(ws, year, q)[1:] for q in sorted({1, *quarters})]
    won = _won(ws, list(chosen.values()), spans)
    made = 0
    for role, partner_id in chosen.items():
        if (partner_id, year) in existing:
            continue
        factors, deals_factor, agreed = STORIES[role]
        bp.create(
            ws,
            partner_id,
            year,
            by=ACTOR,
            names=names,
            vendor_owner="Marco Rossi",
            partner_owner="Partner sales lead",
            content={
                "target_markets": ["Manufacturing", "Retail"],
                "target_products": ["Platform", "Analytics add-on"],
                "vendor_commitments": [
                    "Two presales engineers for joint opportunities",
                    "Quarterly enablement workshop",
                ],
                "partner_commitments": [
                    "Two certified sales people by mid-year",
                    "One co-marketing event per quarter",
                ],
                "mdf_amount": 25_000,
                "presales_days": 20,
                "internal_note": "Watch the renewal pipeline; escalate if Q3 slips.",
            },
        )
        last = None
        for quarter, factor in zip(quarters, factors, strict=False):
            _, start, _ = bp.quarter_period(ws, year, quarter)
            revenue, deals = won.get((partner_id, start), (0.0, 0))
            bp.set_milestone(
                ws,
                partner_id,
                year,
                quarter=quarter,
                metric="won_revenue",
                target=_target(revenue, factor),
                owner="Partner sales lead",
                by=ACTOR,
                adding=True,
            )
            last = (quarter, deals)
        if deals_factor is not None and last is not None:
            quarter, deals = last
            target = deals * deals_factor
            target = float(max(int(target) + (deals_factor > 1), 1 if deals_factor > 1 else 0))
            bp.set_milestone(
                ws,
                partner_id,
                year,
                quarter=quarter,
                metric="won_deals",
                target=target,
                owner="Partner sales lead",
                by=ACTOR,
                adding=True,
            )
        # next year's first quarter: the trailing year's same quarter × 1.1 (upcoming)
        _, start, _ = bp.quarter_period(ws, year, 1)
        revenue, _ = won.get((partner_id, start), (0.0, 0))
        bp.create(ws, partner_id, year + 1, by=ACTOR, names=names, vendor_owner="Marco Rossi")
        bp.set_milestone(
            ws,
            partner_id,
            year + 1,
            quarter=1,
            metric="won_revenue",
            target=_target(revenue, 1.1),
            by=ACTOR,
            adding=True,
        )
        if agreed:
            bp.agree(ws, partner_id, year, by=ACTOR)
        made += 1
    own = chosen.get("own")
    if own is not None and made:
        # a change after the plan was agreed: a new version, a draft again
        plan = bp.get_plan(ws, own, year)
        m = plan.milestones[-1]
        bp.set_milestone(
            ws,
            own,
            year,
            quarter=m.quarter,
            metric=m.metric,
            target=m.target * 0.95,
            by="Marco Rossi",
            adding=False,
        )
    roles = ", ".join(f"{pid} ({role})" for role, pid in chosen.items())
    return [
        f"{made} business plans for FY{year} (and FY{year + 1}'s first quarter): {roles}; "
        f"won revenue and won deals milestones of Q{quarters[0]}–Q{quarters[-1]}, the "
        "decliner's and one of P0003's set to be missed"
    ]


def found(ws: Workspace) -> list[str]:
    """What the product found of it (after the run), one line each."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.lifecycle import business_plans as bp
    from partnerscope.runs import latest_run

    every = bp.plans(ws)
    if not every or latest_run(ws) is None:
        return []
    tracked = bp.statuses(ws, every)
    counts = {s: sum(p.count(s) for p in tracked) for s in bp.STATUS_WORDS}
    alerts = RunData(ws).alerts.table
    raised = sum(kind == bp.ALERT_KIND for kind in alerts["kind"].to_pylist())
    partners = len({p.partner_id for p in every})
    return [
        f"{len(every)} plans of {partners} partners: {counts[bp.MET]} milestones met, "
        f"{counts[bp.MISSED]} missed, {counts[bp.AT_RISK]} at risk, "
        f"{counts[bp.UPCOMING]} upcoming; {raised} milestone alerts raised"
    ]
