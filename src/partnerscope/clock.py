"""The clock: times are kept as naive UTC everywhere (the warehouse, the transactional store,
run manifests); a day is the reporting time zone's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def now_utc(*, whole_seconds: bool = False) -> datetime:
    """Now, as naive UTC (to the second with ``whole_seconds``, as a form or the API shows)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=0) if whole_seconds else now


def local_date(moment: datetime, timezone: str) -> date:
    """The reporting time zone's date of an instant stored as naive UTC."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


def today(workspace: Workspace, moment: datetime | None = None) -> date:
    """The workspace's date (its reporting time zone) at ``moment`` (default: now)."""
    return local_date(moment or now_utc(), workspace.config.workspace.timezone)
