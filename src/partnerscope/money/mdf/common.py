"""What the MDF modules share: activity types, request states, errors, amounts and fiscal
years as people type them, the clock, and the warehouse read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from partnerscope.errors import PartnerscopeError
from partnerscope.money.amounts import cents

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def local_date(moment: datetime, timezone: str) -> date:
    """The reporting time zone's date of an instant stored as naive UTC."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def parse_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """An amount as given (``1234.5``, ``"25,000"``, ``Decimal``), checked to be a finite number
    with at most two decimals: amounts are never rounded silently."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace("_", "")
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise MdfError(
                f"the {what} {value!r} is not an amount; write it like 25000 or 1234.50"
            ) from None
    if not number.is_finite():
        raise MdfError(f"the {what} {value!r} is not an amount; write it like 25000 or 1234.50")
    if cents(number) != number:
        raise MdfError(f"the {what} {value} has more than two decimals; give it to the cent")
    return cents(number)


def money(amount: Decimal | None) -> str:
    """An amount for people: 25,000.00 (— for none)."""
    return "—" if amount is None else f"{cents(amount):,.2f}"


def percent(ratio: Decimal | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:,.0f} %"


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


def read_warehouse(workspace: Workspace, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of ``sql`` on the warehouse, opened read-only for this one query."""
    with workspace.warehouse(read_only=True) as warehouse:
        return warehouse.con.execute(sql, list(params)).fetchall()


def partner_names(workspace: Workspace) -> dict[str, str]:
    """Every partner of the warehouse: id → name."""
    rows = read_warehouse(workspace, "SELECT partner_id, name FROM partners ORDER BY partner_id")
    return {pid: name or pid for pid, name in rows}


def check_partner(
    names: dict[str, str],
    partner_id: str,
    refused: Callable[[str, str], Exception] = MdfRefusedError,
) -> None:
    """Refuse (``refused(check, message)``, the workflow's own error) a partner id that is not
    in the warehouse, with the nearest id that is."""
    from partnerscope.metrics.definition import did_you_mean

    if partner_id not in names:
        raise refused(
            "partner",
            f"no partner {partner_id!r} in the warehouse (load it with `partnerscope ingest` or "
            f"check the id){did_you_mean(partner_id, names)}",
        )
