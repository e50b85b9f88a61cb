"""``[[schedules]]`` in ``partnerscope.toml``: report distribution as data — what is sent, when
(a cron expression in the workspace time zone) and to whom (docs/notifications.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: what a schedule can send
WHAT = Literal[
    "scorecards",  # each partner's scorecard (PDF) to its users, for the latest period
    "manager_digest",  # to each partner manager: their partners' week (alerts, deals, tasks)
    "executive_summary",  # the executive summary (PDF) to the listed roles and addresses
    "payout_statements",  # each partner's statement of an approved payout ledger
]


class ScheduleSettings(_Strict):
    """One ``[[schedules]]`` entry."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    what: WHAT
    #: five fields: minute hour day-of-month month day-of-week ("0 7 1 * *": the 1st, 07:00)
    cron: str
    #: staff roles to send to (each sees only the partners it may see)
    roles: tuple[str, ...] = ()
    #: partner ids (or "*": every partner) whose users receive it
    partners: tuple[str, ...] = ()
    #: further email addresses (e.g. the leadership list)
    addresses: tuple[str, ...] = ()
    enabled: bool = True
