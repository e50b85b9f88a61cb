"""Review cadence: an initial review, operating reviews on a fixed rhythm, a post-review.

Each scheduled review is answered by one recorded review (continue, adapt or stop, and why);
a scheduled review not yet answered is due from its date on. A stop ends the schedule, the
post-review closes the decision.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from partnerscope.decisions.record import DecisionRecord, ReviewKind, ReviewPlan, Status


@dataclass(frozen=True)
class Scheduled:
    on: date
    kind: ReviewKind

    def label(self) -> str:
        return f"{self.kind.value} review {self.on:%Y-%m-%d}"


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later, on the month's last day when it has fewer days (unlike
    :func:`partnerscope.metrics.calendar.add_months`, which moves between month starts)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(plan: ReviewPlan) -> list[Scheduled]:
    """Every review the plan asks for, in date order."""
    reviews = [Scheduled(plan.first, ReviewKind.INITIAL)]
    step = 1
    while (on := months_later(plan.first, step * plan.every_months)) < plan.post:
        reviews.append(Scheduled(on, ReviewKind.OPERATING))
        step += 1
    if plan.post > plan.first:
        reviews.append(Scheduled(plan.post, ReviewKind.POST))
    return reviews


def outstanding(record: DecisionRecord) -> list[Scheduled]:
    """Scheduled reviews not yet answered (none once the decision is stopped or closed)."""
    if record.commit is None or record.status is not Status.COMMITTED:
        return []
    answered = {review.scheduled for review in record.reviews}
    return [s for s in schedule(record.commit.review) if s.on not in answered]


def due(record: DecisionRecord, today: date) -> list[Scheduled]:
    return [s for s in outstanding(record) if s.on <= today]


def next_review(record: DecisionRecord) -> Scheduled | None:
    """The review the next recorded review answers: the earliest outstanding one."""
    pending = outstanding(record)
    return pending[0] if pending else None
