"""What the MDF modules share: activity types, request states, errors, amounts and fiscal
years as people type them, the clock, and the warehouse read."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.metrics.calendar import Period
    from partnerscope.workspace import Workspace

#: activity ids of the workflow's own requests once exported to ``mdf_activities``
REQUEST_PREFIX = "MDF-REQ-"


class ActivityType(StrEnum):
    """The kinds of activity the canonical ``mdf_activities`` table allows."""

    EVENT = "event"
    DIGITAL = "digital"
    CONTENT = "content"
    TRAINING = "training"
    TELEMARKETING = "telemarketing"
    OTHER = "other"


class RequestStatus(StrEnum):
    """Where a request stands: requested → approved (or rejected) → claimed → paid."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLAIMED = "claimed"
    PAID = "paid"


class MdfError(PartnerscopeError, ValueError):
    """An MDF budget or request that cannot be set, found or moved on as asked."""


class MdfRefusedError(MdfError):
    """A workflow step refused by one of its checks; ``check`` names the check (``budget_left``,
    ``over_approved``, ``deadline``, ``proof``, ``state``, ...), the message says why and how
    to go on."""

    def __init__(self, check: str, message: str) -> None:
        self.check = check
        super().__init__(message)


class MdfNotFoundError(PartnerscopeError, LookupError):
    """No MDF request with that id."""


def fiscal_year(workspace: Workspace, year: str | int | None, today: date) -> Period:
    """The fiscal year ``year`` (``FY2026``, ``2026``), or the one ``today`` falls in."""
    from partnerscope.metrics.calendar import FiscalCalendar, Grain

    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    if year is None:
        return calendar.period_of(today, Grain.YEAR)
    try:
        period = calendar.parse(str(year))
    except ValueError:  # a PeriodError, or a year no date can hold (FY0000)
        period = None
    # the year before and after must have dates too (the budget's tier, its end): not FY9999
    if period is None or period.grain is not Grain.YEAR or not 1 < period.start.year < 9998:
        raise MdfError(f"{year!r} is not a fiscal year; write it like FY{today.year}")
    return period
