"""The onboarding measures (docs/lifecycle.md, "Onboarding"), for every partner of the warehouse
with a ``joined_at`` on or after the month the deals data begins in (before it, a partner's
firsts are not in the data), whether it has an onboarding plan or not:

- days from joining to the first certification, the first registered deal and the first won
  deal (:func:`partnerscope.lifecycle.onboarding.first_events` says what counts; an event
  before the joining day counts as day 0);
- the onboarding funnel by month of joining: joined → first certification → first registered
  deal → first won deal (each step: partners that reached it by ``today``);
- ramp curves: won revenue per partner by month since joining, per quarter of joining (month 1
  is the partner's first month from its joining day; a month is shown for the partners that
  have lived it whole by ``today``);
- and, for the partners with a plan, the share of each joining cohort (month of joining) on
  schedule in each phase, among the plans whose phase is settled (closed, or due, or late).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from partnerscope.lifecycle.onboarding import first_events, statuses

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the milestones of the funnel and of the time-to-first measures, in their order
MILESTONES = (
    ("certification:any", "First certification"),
    ("registered_deal", "First registered deal"),
    ("won_deal", "First won deal"),
)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months (the 31st becomes the month's last day)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_since(joined: date, day: date) -> int:
    """The month since joining ``day`` falls in: 1 from the joining day to the day before the
    same day of the next month, and so on (0 before joining)."""
    if day < joined:
        return 0
    months = (day.year - joined.year) * 12 + day.month - joined.month
    if add_months(joined, months) > day:
        months -= 1
    return months + 1


def data_begins(workspace: Workspace) -> date | None:
    """The first day of the month the deals data begins in (None: no deal yet). A partner that
    joined before it has its firsts outside the data: the measures leave it out."""
    from partnerscope.warehouse import read_warehouse

    rows = read_warehouse(workspace, "SELECT min(created_at) FROM opportunities")
    if not rows or rows[0][0] is None:
        return None
    first = _day(rows[0][0])
    return first.replace(day=1)


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Joined:
    partner_id: str
    name: str
    joined_on: date
    #: milestone → the day it was first reached (absent: not yet)
    reached: dict[str, date]

    def days_to(self, milestone: str) -> int | None:
        day = self.reached.get(milestone)
        return None if day is None else max(0, (day - self.joined_on).days)


@dataclass(frozen=True)
class TimeTo:
    milestone: str
    label: str
    partners: int
    reached: int
    median_days: float | None


@dataclass(frozen=True)
class FunnelRow:
    month: str
    joined: int
    certified: int
    registered: int
    won: int


@dataclass(frozen=True)
class RampPoint:
    cohort: str
    month: int
    partners: int
    revenue_per_partner: float


@dataclass(frozen=True)
class CohortPhase:
    cohort: str
    phase: str
    judged: int
    on_schedule: int

    @property
    def share(self) -> float | None:
        return self.on_schedule / self.judged if self.judged else None


@dataclass(frozen=True)
class Measures:
    today: date
    partners: tuple[Joined, ...]
    time_to: tuple[TimeTo, ...]
    funnel: tuple[FunnelRow, ...]
    ramp: tuple[RampPoint, ...]
    cohorts: tuple[CohortPhase, ...]

    def median(self, milestone: str) -> float | None:
        for row in self.time_to:
            if row.milestone == milestone:
                return row.median_days
        raise KeyError(milestone)


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def measures(workspace: Workspace, today: date, *, partner_ids: set[str] | None = None) -> Measures:
    """The measures on ``today`` (``partner_ids``: only those partners)."""
    from partnerscope.warehouse import read_warehouse

    since = data_begins(workspace)
    rows = read_warehouse(
        workspace,
        "SELECT partner_id, name, joined_at FROM partners "
        "WHERE joined_at IS NOT NULL AND joined_at <= ? AND joined_at >= ? ORDER BY partner_id",
        [today, since or date.min],
    )
    joined_at = {
        pid: (name or pid, _day(day))
        for pid, name, day in rows
        if partner_ids is None or pid in partner_ids
    }
    events = first_events(workspace, sorted(joined_at), today)
    partners = tuple(
        Joined(
            pid,
            name,
            day,
            {m: e.on for m, e in events.get(pid, {}).items() if m in dict(MILESTONES)},
        )
        for pid, (name, day) in joined_at.items()
    )
    time_to = []
    for milestone, label in MILESTONES:
        days = [d for p in partners if (d := p.days_to(milestone)) is not None]
        time_to.append(
            TimeTo(
                milestone,
                label,
                len(partners),
                len(days),
                float(statistics.median(days)) if days else None,
            )
        )
    return Measures(
        today=today,
        partners=partners,
        time_to=tuple(time_to),
        funnel=_funnel(partners),
        ramp=_ramp(workspace, partners, today),
        cohorts=_cohorts(
            workspace, today, {p.partner_id: p.joined_on for p in partners}, partner_ids
        ),
    )


def _funnel(partners: tuple[Joined, ...]) -> tuple[FunnelRow, ...]:
    months = sorted({p.joined_on.strftime("%Y-%m") for p in partners})
    out = []
    for month in months:
        group = [p for p in partners if p.joined_on.strftime("%Y-%m") == month]
        out.append(
            FunnelRow(
                month,
                len(group),
                sum(1 for p in group if "certification:any" in p.reached),
                sum(1 for p in group if "registered_deal" in p.reached),
                sum(1 for p in group if "won_deal" in p.reached),
            )
        )
    return tuple(out)


def _ramp(workspace: Workspace, partners: tuple[Joined, ...], today: date) -> tuple[RampPoint, ...]:
    from partnerscope.warehouse import read_warehouse

    if not partners:
        return ()
    ids = [p.partner_id for p in partners]
    won = read_warehouse(
        workspace,
        "SELECT partner_id, closed_at, amount FROM opportunities WHERE status = 'won' "
        f"AND partner_id IN ({', '.join('?' for _ in ids)})",
        ids,
    )
    joined = {p.partner_id: p.joined_on for p in partners}
    revenue: dict[tuple[str, int], float] = {}
    for pid, closed, amount in won:
        day = _day(closed)
        month = month_since(joined[pid], day)
        if month >= 1 and day <= today and amount is not None:
            revenue[pid, month] = revenue.get((pid, month), 0.0) + float(amount)
    cohorts: dict[str, list[Joined]] = {}
    for p in partners:
        cohorts.setdefault(quarter_of(p.joined_on), []).append(p)
    points = []
    for cohort in sorted(cohorts):
        month = 1
        while True:
            # the partners that have lived month `month` whole by today
            lived = [p for p in cohorts[cohort] if add_months(p.joined_on, month) <= today]
            if not lived:
                break
            total = sum(revenue.get((p.partner_id, month), 0.0) for p in lived)
            points.append(RampPoint(cohort, month, len(lived), total / len(lived)))
            month += 1
    return tuple(points)


def _cohorts(
    workspace: Workspace, today: date, joined: dict[str, date], partner_ids: set[str] | None
) -> tuple[CohortPhase, ...]:
    counts: dict[tuple[str, str], list[int]] = {}
    order: list[str] = []
    for found in statuses(workspace, today, partner_ids=partner_ids, fresh=False):
        pid = found.plan.partner_id
        cohort = joined.get(pid, found.plan.started_on).strftime("%Y-%m")
        for phase in found.phases:
            if phase.name not in order:
                order.append(phase.name)
            if not phase.judged:
                continue
            cell = counts.setdefault((cohort, phase.name), [0, 0])
            cell[0] += 1
            cell[1] += 1 if phase.state.on_schedule else 0
    return tuple(
        CohortPhase(cohort, phase, judged, on)
        for (cohort, phase), (judged, on) in sorted(
            counts.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))
        )
    )
