"""The demo's applications (docs/lifecycle.md, "Applications and qualification").

- The partners of the data that joined most recently (the last six months before ``today``,
  else the three newest; at most five) came in by application: each is an approved application
  with its assessment (every criterion scored with evidence by its partner manager), decided on its
  joining day with its program tier and partner id. The CRM already has these partners, so the
  warehouse is unchanged (:func:`~partnerscope.lifecycle.applications.joined_partners` leaves
  out a partner id the CRM has), and no onboarding plan is started here: the onboarding story
  starts the plans of the partners that joined, linked to these applications by partner id.
- Three applications await a decision, in countries and verticals of the data: one assessed
  and ready, one whose market fit has no score with evidence yet (it cannot be approved), one
  just sent by an invitation link and not assessed.
- One application was rejected with its reason; one invitation link is still unused.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

ACTOR = "demo"
#: how far back a partner counts as recently joined
WINDOW_DAYS = 183
#: at most this many joined partners are given their application
MOST_JOINED = 5

#: evidence a channel team would write for each default criterion (score ≥ 4, score ≤ 3)
EVIDENCE = {
    "technical_capability": (
        "Two certified architects; three implementations of comparable size shown",
        "One trained engineer; no implementation of the product yet",
    ),
    "sales_capability": (
        "Eight account executives; pipeline of comparable deals reviewed",
        "Two sellers, mostly transactional resale",
    ),
    "service_capability": (
        "24/7 service desk with contractual service levels",
        "Business-hours support only",
    ),
    "market_fit": (
        "Strong in the territory and vertical (market map reviewed)",
        "Overlaps partners we already have in the territory",
    ),
    "cultural_fit": (
        "Executive sponsor committed to the program; joint values workshop held",
        "No executive sponsor named yet",
    ),
    "financial_stability": (
        "Audited accounts for three years, profitable; credit check A",
        "Thin margins; credit check C",
    ),
    "references": (
        "Two customer references called, both positive",
        "One reference given, not reachable",
    ),
}

#: the applicants awaiting a decision and the one rejected (company, contact, type)
APPLICANTS = (
    ("Brightpath Solutions", "Nadia Brandt", "si"),
    ("Kestrel Data Services", "Tomás Ortega", "msp"),
    ("Orchard Lane Systems", "Priya Raman", "var"),
    ("Quickship Resale", "Lars Nygaard", "retailer"),
)


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour))


def _joined(ws: Workspace, today: date) -> list[tuple[Any, ...]]:
    """(id, name, type, region, country, tier, manager, joined) of the partners that joined
    most recently."""
    from partnerscope.warehouse import read_warehouse

    rows = read_warehouse(
        ws,
        "SELECT partner_id, name, partner_type, region, country, program_tier, "
        "partner_manager, joined_at FROM partners WHERE joined_at IS NOT NULL AND joined_at < ? "
        "ORDER BY joined_at DESC, partner_id LIMIT ?",
        [today, MOST_JOINED],
    )
    recent = [r for r in rows if r[7] > today - timedelta(days=WINDOW_DAYS)]
    return recent if len(recent) >= 2 else rows[:3]


def _cells(ws: Workspace) -> list[tuple[str, str]]:
    """(country, vertical) pairs of the data: the accounts' countries and industries."""
    from partnerscope.warehouse import read_warehouse

    try:
        rows = read_warehouse(
            ws,
            "SELECT trim(country), trim(industry), count(*) FROM accounts "
            "WHERE nullif(trim(country), '') IS NOT NULL "
            "AND nullif(trim(industry), '') IS NOT NULL GROUP BY ALL ORDER BY 3 DESC, 1, 2",
        )
    except Exception:  # a demo without accounts: plain defaults
        rows = []
    return [(r[0], r[1]) for r in rows] or [("DE", "Manufacturing"), ("US", "Retail")]


def _assess(
    ws: Workspace,
    application_id: int,
    by: str,
    scores: dict[str, int],
    on: datetime,
) -> None:
    from partnerscope.lifecycle import applications as apps

    for step, (criterion, value) in enumerate(scores.items()):
        good, weak = EVIDENCE.get(criterion, ("Checked", "Checked"))
        apps.score(
            ws,
            application_id,
            criterion,
            value,
            good if value >= 4 else weak,
            by=by,
            now=on + timedelta(hours=step),
        )


def _scores(ws: Workspace, rng: random.Random, low: int, high: int) -> dict[str, int]:
    return {k: rng.randint(low, high) for k in ws.config.qualification.criteria}


def _email(contact: str, company: str) -> str:
    first = contact.split()[0].lower().replace("á", "a").replace("í", "i")
    domain = company.split()[0].lower()
    return f"{first}@{domain}.example"


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo plants (before its run), one line each."""
    from sqlalchemy import select

    from partnerscope import appdb, audit
    from partnerscope.appdb.tables import applications
    from partnerscope.lifecycle import applications as apps

    rng = random.Random(seed * 104_729 + 28)
    with appdb.connect(ws).connect() as connection:
        if connection.execute(select(applications.c.application_id)).first() is not None:
            return ["applications were planted already"]
    joined = _joined(ws, today)
    cells = _cells(ws)
    criteria = ws.config.qualification.criteria
    # the partners that joined: approved applications, decided on their joining day
    for pid, name, kind, region, country, tier, manager, day in joined:
        sent = _moment(day - timedelta(days=rng.randint(21, 42)), 9)
        owner = manager or "Channel team"
        found = apps.submit(
            ws,
            {
                "company": name,
                "contact_name": "Partner contact",
                "contact_email": f"partners@{pid.lower()}.example",
                "country": country or "",
                "region": region or "",
                "vertical": cells[rng.randrange(len(cells))][1],
                "partner_type": kind or "other",
                "description": f"{name} applied to join the program",
            },
            by=ACTOR,
            source=apps.Source.IMPORT,
            now=sent,
        )
        n = found.application_id
        apps.set_owner(ws, n, owner, by=ACTOR, now=sent + timedelta(days=1))
        _assess(ws, n, owner, _scores(ws, rng, 3, 5), sent + timedelta(days=7))
        decided = _moment(day, 15)
        # decided before partnerscope knew the partner: the CRM has it, so no onboarding plan
        # is started here and the partner id is the CRM's
        with appdb.connect(ws).begin() as connection:
            connection.execute(
                applications.update()
                .where(applications.c.application_id == n)
                .values(
                    status=apps.Status.APPROVED.value,
                    decided_at=decided,
                    decided_by=owner,
                    program_tier=tier,
                    partner_id=pid,
                    details={"partner_manager": owner},
                    updated_at=decided,
                )
            )
            audit.record(
                connection,
                actor=owner,
                action="application.approved",
                object_type=apps.OBJECT_TYPE,
                object_id=n,
                detail={"company": name, "partner_id": pid, "program_tier": tier},
            )
    # the applicants: two assessed (one without its market fit), one fresh, one rejected
    lines = [
        f"{len(joined)} approved applications for the partners that joined most recently "
        f"({', '.join(r[0] for r in joined)}), assessed with evidence and decided on their "
        "joining day (the CRM has these partners: the warehouse is unchanged)"
    ]
    staff = "Marco Rossi"
    start = _moment(today - timedelta(days=20), 9)
    made: list[int] = []
    for i, (company, contact, kind) in enumerate(APPLICANTS):
        country, vertical = cells[(i * 3) % len(cells)]
        raw = {
            "company": company,
            "contact_name": contact,
            "contact_email": _email(contact, company),
            "website": f"www.{company.split()[0].lower()}.example",
            "country": country,
            "vertical": vertical,
            "partner_type": kind,
            "description": f"{company}: {kind.upper()} serving {vertical.lower()} in {country}",
            "employees": str(rng.randint(12, 240)),
            "references": "Two customers in the vertical",
        }
        if i == 2:
            link = apps.invite(ws, by=staff, company=company, email=raw["contact_email"], now=start)
            made.append(
                apps.apply(ws, link.token, raw, now=start + timedelta(days=15)).application_id
            )
        else:
            made.append(
                apps.submit(
                    ws, raw, by=staff, source=apps.Source.CLI, now=start + timedelta(days=i)
                ).application_id
            )
    ready, gap, _fresh, rejected = made
    on = start + timedelta(days=5)
    apps.set_owner(ws, ready, staff, by=staff, now=on)
    _assess(ws, ready, staff, _scores(ws, rng, 4, 5), on)
    apps.set_owner(ws, gap, staff, by=staff, now=on)
    _assess(
        ws, gap, staff, {k: v for k, v in _scores(ws, rng, 3, 4).items() if k != "market_fit"}, on
    )
    apps.set_owner(ws, rejected, "Jordan Lee", by=staff, now=on)
    _assess(ws, rejected, "Jordan Lee", _scores(ws, rng, 1, 2), on)
    apps.reject(
        ws,
        rejected,
        by="Jordan Lee",
        reason="Transactional resale only, no services or certified people; weak references",
        now=on + timedelta(days=2),
    )
    apps.invite(ws, by=staff, company="Harbor & Finch Consulting", now=_moment(today, 8))
    lines += [
        f"3 applications await a decision: #{ready} assessed and ready, #{gap} without a "
        f"market-fit score, #{_fresh} sent by an invitation link and not assessed yet",
        f"1 application rejected with its reason (#{rejected}); 1 invitation link not used yet",
    ]
    if len(criteria) != 7:
        lines.append(f"assessed against the {len(criteria)} criteria of [qualification]")
    return lines


def found(ws: Workspace) -> list[str]:
    """What the product found of it (after the run), one line each."""
    from partnerscope.lifecycle import applications as apps

    waiting = apps.listing(ws, apps.Status.SUBMITTED)
    judged = [apps.assessment(ws, a.application_id, suggest=False) for a in waiting]
    lines = []
    if waiting:
        blocked = [j for j in judged if j.missing and j.weighted is not None]
        fresh = [j for j in judged if j.weighted is None]
        ready = [j for j in judged if not j.missing]
        line = f"{len(waiting)} application{'s' * (len(waiting) != 1)} await a decision"
        parts = []
        for j in ready:
            parts.append(
                f"#{j.application.application_id} {j.application.company}: {j.recommendation}"
            )
        for j in blocked:
            parts.append(
                f"#{j.application.application_id} cannot be approved yet: " + "; ".join(j.missing)
            )
        if fresh:
            parts.append(f"{len(fresh)} not assessed yet")
        lines.append(line + (": " + ", ".join(parts) if parts else ""))
    if blocked_market := [
        j
        for j in judged
        if j.weighted is not None and any(m.startswith("Market fit") for m in j.missing)
    ]:
        application = blocked_market[0].application
        hint = apps.market_suggestion(ws, application)
        if hint:
            lines.append(
                f"the market map suggests for #{application.application_id}'s market fit "
                f"({application.country}, {application.vertical}): {hint}"
            )
    approved = apps.listing(ws, apps.Status.APPROVED)
    rows = apps.joined_rows(ws, "state/applications/joined-partners.csv")
    lines.append(
        f"{len(approved)} approved applicant{'s' * (len(approved) != 1)} are partners the CRM "
        f"already has; {len(rows)} posted by the run as new partners"
    )
    rejected = apps.listing(ws, apps.Status.REJECTED)
    if rejected:
        lines.append(f"{len(rejected)} rejected with its reason")
    return lines
