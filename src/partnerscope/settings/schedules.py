"""``[[schedules]]`` in ``partnerscope.toml``: report distribution as data — what is sent, when
(a cron expression in the workspace time zone) and to whom (docs/notifications.md).

The cron expression is the standard one (minute hour day-of-month month day-of-week; Sunday is
0 or 7, or write ``mon``-``sun``), read here into an APScheduler trigger (whose own weekday
numbers start on Monday: :func:`trigger` turns the standard ones into names first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: what a schedule can send
WHAT = Literal[
    "scorecards",  # each partner's scorecard (PDF) to its users, for the latest period
    "manager_digest",  # to each partner manager: their partners' week (alerts, deals, tasks)
    "executive_summary",  # the executive summary (PDF) to the listed roles and addresses
    "payout_statements",  # each partner's statement of an approved payout ledger
]

#: the staff roles a schedule may send to (partner users get what concerns their partner)
STAFF_ROLES = ("admin", "analyst", "partner_manager", "finance")

#: the standard cron's weekday numbers (0 and 7: Sunday) and names
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class ScheduleSettings(_Strict):
    """One ``[[schedules]]`` entry."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    what: WHAT
    #: five fields: minute hour day-of-month month day-of-week ("0 7 1 * *": the 1st, 07:00),
    #: in the workspace time zone
    cron: str
    #: staff roles to send to (each sees only the partners it may see); a manager digest goes
    #: to each user of these roles (default: partner managers)
    roles: tuple[str, ...] = ()
    #: partner ids whose users receive it ("*" or none: every partner)
    partners: tuple[str, ...] = ()
    #: further email addresses (e.g. the leadership list)
    addresses: tuple[str, ...] = ()
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> ScheduleSettings:
        problems = []
        try:
            trigger(self.cron, "UTC")
        except ValueError as exc:
            problems.append(
                f"cron {self.cron!r} is not a cron expression ({exc}); write five fields, "
                "minute hour day-of-month month day-of-week, e.g. '0 7 1 * *' (the 1st of "
                "every month at 07:00)"
            )
        unknown = [role for role in self.roles if role not in STAFF_ROLES]
        if unknown:
            problems.append(
                f"roles: no staff role {', '.join(map(repr, unknown))}; one of "
                f"{', '.join(STAFF_ROLES)} (a partner's users get what concerns their partner "
                "through partners)"
            )
        bad = [a for a in self.addresses if "@" not in a.strip("@") or any(c.isspace() for c in a)]
        if bad:
            problems.append(
                f"addresses: {', '.join(map(repr, bad))} is not an email address "
                "(write name@example.com)"
            )
        if self.what == "executive_summary" and not (self.roles or self.addresses):
            problems.append(
                "an executive summary names its readers: give roles (e.g. ['admin']) or "
                "addresses (the leadership list)"
            )
        if problems:
            raise ValueError(f"schedule {self.name!r}: " + "; ".join(problems))
        return self

    @property
    def every_partner(self) -> bool:
        return not self.partners or "*" in self.partners


def trigger(cron: str, timezone: str) -> CronTrigger:
    """The APScheduler trigger of a standard cron expression in ``timezone``; a ValueError
    says what is wrong with it."""
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"it has {len(fields)} fields, not 5")
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=weekdays(weekday),
            timezone=ZoneInfo(timezone),
        )
    except (TypeError, KeyError) as exc:  # APScheduler's own messages for odd input
        raise ValueError(str(exc)) from None


def weekdays(field: str) -> str:
    """A standard cron day-of-week field as day names (``1-5`` → ``mon,tue,wed,thu,fri``):
    APScheduler 3 counts its numbers from Monday, cron from Sunday."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text, "step") if step_text else 1
        if step < 1:
            raise ValueError(f"day-of-week step {step_text!r} is not a positive number")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = _day(start), _day(end)
            if last == 0 and first > 0:  # "5-7", "fri-sun": up to Sunday
                last = 7
        else:
            first = last = _day(span)
            if step_text:
                last = 6
        if first > last:
            raise ValueError(f"day-of-week range {span!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(DAYS[d] for d in sorted(days))


def _day(text: str) -> int:
    if text in DAYS:
        return DAYS.index(text)
    number = _number(text, "day of the week")
    if not 0 <= number <= 7:
        raise ValueError(f"day of the week {text!r} is not 0-7 (0 and 7: Sunday) or sun-sat")
    return number % 7


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None


def check_names(schedules: tuple[ScheduleSettings, ...]) -> list[str]:
    """Problems of the schedules together: a name used twice."""
    seen: dict[str, int] = {}
    problems = []
    for index, schedule in enumerate(schedules):
        if schedule.name in seen:
            problems.append(
                f"schedules.{index}.name: {schedule.name!r} is the name of schedules."
                f"{seen[schedule.name]} too; give each schedule its own name"
            )
        seen.setdefault(schedule.name, index)
    return problems
