"""MDF requests through their workflow: requested → approved (or rejected) → claimed → paid.

Each step checks its preconditions and refuses with :class:`MdfRefusedError` (the check's
name and, in words, why and how to go on): an approval must fit the partner's budget left
(:mod:`partnerscope.money.mdf.budgets`) and not exceed the amount requested, and sets the claim
deadline (approval date + ``[mdf] claim_days``); a claim needs a proof reference, at most the
approved amount and a date on or before the deadline; a payment pays the claimed amount. A request
is filed against a fiscal year the program has open (:func:`open_years`: the current one and
``[mdf] request_years_back`` / ``request_years_ahead`` around it); the later steps of a request
already filed go on even once its year has closed. Each change is written to the audit log in
the same transaction as the change itself, and moves the request on only from the state it was
read in, so two people acting at once cannot both do it.

Dates (the deadline, "today") are in the workspace's reporting time zone; times are stored in
UTC. Every function takes ``now`` so that tests control the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit, clock, outbox
from partnerscope.amounts import ZERO, AmountError, money, parse_amount, text
from partnerscope.appdb.tables import mdf_requests
from partnerscope.clock import local_date, now_utc
from partnerscope.money.mdf.budgets import compute_budgets
from partnerscope.money.mdf.common import (
    REQUEST_PREFIX,
    ActivityType,
    MdfNotFoundError,
    MdfRefusedError,
    RequestStatus,
    fiscal_year,
)
from partnerscope.warehouse import check_partner, partner_names
from partnerscope.workflow import Workflow

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

OBJECT_TYPE = "mdf_request"
#: the request's steps (workflow.py: text, loading, state, moving on)
REQUESTS = Workflow(mdf_requests.c.request_id, OBJECT_TYPE, "request", MdfRefusedError)


@dataclass(frozen=True)
class MdfRequest:
    request_id: int
    partner_id: str
    fiscal_year: str
    activity_type: ActivityType
    name: str
    requested_amount: Decimal
    status: RequestStatus
    submitted_by: str
    submitted_at: datetime
    approved_amount: Decimal | None
    deadline: date | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    claimed_amount: Decimal | None
    proof_ref: str | None
    claimed_by: str | None
    claimed_at: datetime | None
    paid_amount: Decimal | None
    paid_by: str | None
    paid_at: datetime | None

    @property
    def activity_id(self) -> str:
        """Its id in the canonical ``mdf_activities`` table once exported."""
        return f"{REQUEST_PREFIX}{self.request_id}"

    @property
    def ref(self) -> str:
        return f"MDF request #{self.request_id}"

    def where(self, *, named: bool = True) -> str:
        """Where the request stands, in words; ``named``: with who did the last step (staff
        see that; a partner and every refusal message are not told)."""
        match self.status:
            case RequestStatus.REQUESTED:
                return f"is awaiting approval (requested {money(self.requested_amount)})"
            case RequestStatus.APPROVED:
                by = _by_whom(self.decided_by, named)
                return (
                    f"was approved for {money(self.approved_amount)}{by} on "
                    f"{self.decided_at:%Y-%m-%d}"
                )
            case RequestStatus.REJECTED:
                by = _by_whom(self.decided_by, named)
                return f"was rejected{by} on {self.decided_at:%Y-%m-%d} ({self.reason})"
            case RequestStatus.CLAIMED:
                by = _by_whom(self.claimed_by, named)
                return (
                    f"was claimed for {money(self.claimed_amount)}{by} on "
                    f"{self.claimed_at:%Y-%m-%d}"
                )
            case RequestStatus.PAID:
                by = _by_whom(self.paid_by, named)
                return f"was already paid {money(self.paid_amount)}{by} on {self.paid_at:%Y-%m-%d}"


def _by_whom(name: str | None, named: bool) -> str:
    return f" by {name}" if named and name else ""


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _request(row: Any) -> MdfRequest:
    data = dict(row._mapping)
    for column in ("requested_amount", "approved_amount", "claimed_amount", "paid_amount"):
        data[column] = _amount(data[column])
    data["status"] = RequestStatus(data["status"])
    data["activity_type"] = ActivityType(data["activity_type"])
    return MdfRequest(**data)


def _positive(value: Decimal | int | str, what: str) -> Decimal:
    try:
        amount = parse_amount(value, what)
    except AmountError as exc:
        raise MdfRefusedError("amount", str(exc)) from None
    if amount <= 0:
        raise MdfRefusedError("amount", f"the {what} must be more than 0 (got {money(amount)})")
    return amount


def _load(connection: Connection, request_id: int, *, lock: bool = False) -> MdfRequest:
    """The request (``lock``: read for a step that changes it, see :meth:`Workflow.load`)."""
    missing = MdfNotFoundError(
        f"no MDF request #{request_id}; `partnerscope mdf list` shows the requests"
    )
    return _request(REQUESTS.load(connection, request_id, lock=lock, missing=missing))


def _move(
    connection: Connection,
    found: MdfRequest,
    values: dict[str, Any],
    *,
    by: str,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Move the request on from the state it was read in, and log it."""
    REQUESTS.move(
        connection,
        found,
        found.request_id,
        values,
        by=by,
        action=action,
        object_id=found.request_id,
        detail={"partner_id": found.partner_id, "fiscal_year": found.fiscal_year, **detail},
    )


def open_years(workspace: Workspace, now: datetime | None = None) -> list[str]:
    """The fiscal years new requests may be filed against on the day of ``now`` (in the
    reporting time zone), oldest first: ``[mdf] request_years_back`` years before the current
    one, the current one and ``request_years_ahead`` years after it."""
    from partnerscope.metrics.calendar import Grain, Period, add_months

    settings = workspace.config.mdf
    current = fiscal_year(workspace, None, clock.today(workspace, now or now_utc()))
    return [
        Period(
            Grain.YEAR, add_months(current.start, 12 * shift), current.fiscal_year_start_month
        ).label
        for shift in range(-settings.request_years_back, settings.request_years_ahead + 1)
    ]


def _either(labels: list[str]) -> str:
    """``FY2026``, ``FY2026 or FY2027``, ``FY2025, FY2026 or FY2027``, ``any year from FY2024 to
    FY2028``."""
    if len(labels) == 1:
        return labels[0]
    if len(labels) > 3:
        return f"any year from {labels[0]} to {labels[-1]}"
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def _check_open(workspace: Workspace, label: str, moment: datetime) -> None:
    """Refuse a new request against a fiscal year the program does not have open."""
    years = open_years(workspace, moment)
    if label not in years:
        raise MdfRefusedError(
            "fiscal_year",
            f"{label} is not open for MDF requests; requests can be filed "
            f"{'only ' if len(years) == 1 else ''}for {_either(years)}",
        )


def submit(
    workspace: Workspace,
    partner_id: str,
    *,
    activity_type: ActivityType | str,
    name: str,
    amount: Decimal | int | str,
    by: str,
    year: str | int | None = None,
    now: datetime | None = None,
) -> MdfRequest:
    """A new request of the partner for an activity, against the budget of ``year`` (default:
    the fiscal year of today), which must be one of :func:`open_years`."""
    from partnerscope.errors import did_you_mean

    moment = now or now_utc()
    try:
        kind = ActivityType(str(activity_type).strip().lower())
    except ValueError:
        kinds = [t.value for t in ActivityType]
        hint = did_you_mean(str(activity_type), kinds)
        raise MdfRefusedError(
            "activity_type",
            f"{activity_type!r} is not an MDF activity type; use one of {', '.join(kinds)}{hint}",
        ) from None
    title = REQUESTS.text(name, "the activity's name", "what is the money for?", "name")
    requested = _positive(amount, "requested amount")
    period = fiscal_year(workspace, year, clock.today(workspace, moment))
    _check_open(workspace, period.label, moment)
    names = partner_names(workspace)
    check_partner(names, partner_id, MdfRefusedError)
    with appdb.connect(workspace).begin() as connection:
        request_id = connection.execute(
            mdf_requests.insert().values(
                partner_id=partner_id,
                fiscal_year=period.label,
                activity_type=kind.value,
                name=title,
                requested_amount=text(requested),
                status=RequestStatus.REQUESTED.value,
                submitted_by=by,
                submitted_at=moment,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        audit.record(
            connection,
            actor=by,
            action="submit",
            object_type=OBJECT_TYPE,
            object_id=request_id,
            detail={
                "partner_id": partner_id,
                "fiscal_year": period.label,
                "activity_type": kind.value,
                "name": title,
                "requested_amount": text(requested),
            },
        )
        words = workspace.words
        outbox.enqueue(
            connection,
            key=f"approval:mdf:{request_id}",
            kind="approval",
            title=f"{names[partner_id]} asks for {words.money(requested)} of MDF",
            lines=[
                f"{names[partner_id]} requested {words.money(requested)} for {title} "
                f"({kind.value.replace('_', ' ')}, fiscal year {period.label}).",
                "Approve or reject the request.",
            ],
            partner_id=partner_id,
            link=f"/mdf/requests/{request_id}",
            object_type=OBJECT_TYPE,
            object_id=str(request_id),
            now=moment,
        )
        return _load(connection, request_id)


def approve(
    workspace: Workspace,
    request_id: int,
    *,
    by: str,
    amount: Decimal | int | str | None = None,
    now: datetime | None = None,
) -> MdfRequest:
    """Approve the request for ``amount`` (default: the amount requested), at most what was
    requested and what is left of the partner's budget that year; the claim deadline is the
    approval date + ``[mdf] claim_days``."""
    from partnerscope.metrics.calendar import FiscalCalendar

    moment = now or now_utc()
    settings = workspace.config.mdf
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, request_id, lock=True)
        REQUESTS.require(found, RequestStatus.REQUESTED, "approved")
        granted = found.requested_amount if amount is None else _positive(amount, "approved amount")
        if granted > found.requested_amount:
            raise MdfRefusedError(
                "over_requested",
                f"{found.ref}: the approved amount {money(granted)} is more than the "
                f"{money(found.requested_amount)} requested; approve at most that, or ask "
                "for a new request",
            )
        year = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month).parse(
            found.fiscal_year
        )
        budget = compute_budgets(
            workspace, connection, year, [found.partner_id], partner_id=found.partner_id
        )[0]
        if granted > budget.left:
            left = max(budget.left, ZERO)
            raise MdfRefusedError(
                "budget_left",
                f"{found.ref} for {money(granted)} is refused: {found.partner_id} has "
                f"{money(budget.left)} left of its {found.fiscal_year} budget of "
                f"{money(budget.amount)} ({money(budget.committed)} committed in approved "
                f"requests, {money(budget.imported_spend)} paid in imported activities); "
                + (
                    f"approve at most {money(left)} with --amount, or raise the budget with "
                    "`partnerscope mdf budget set`"
                    if left > 0
                    else "raise the budget with `partnerscope mdf budget set` or reject it"
                ),
            )
        deadline = clock.today(workspace, moment) + timedelta(days=settings.claim_days)
        _move(
            connection,
            found,
            {
                "status": RequestStatus.APPROVED.value,
                "approved_amount": text(granted),
                "deadline": deadline,
                "decided_by": by,
                "decided_at": moment,
            },
            by=by,
            action="approve",
            detail={
                "approved_amount": text(granted),
                "requested_amount": text(found.requested_amount),
                "deadline": deadline.isoformat(),
                "budget_left_before": text(budget.left),
            },
        )
        return _load(connection, request_id)


def reject(
    workspace: Workspace,
    request_id: int,
    *,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> MdfRequest:
    """Reject a request awaiting approval, with the reason the partner will be told."""
    why = REQUESTS.text(
        reason, "a reason", "the partner is told why its request was rejected", "reason"
    )
    moment = now or now_utc()
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, request_id, lock=True)
        REQUESTS.require(found, RequestStatus.REQUESTED, "rejected")
        _move(
            connection,
            found,
            {
                "status": RequestStatus.REJECTED.value,
                "reason": why,
                "decided_by": by,
                "decided_at": moment,
            },
            by=by,
            action="reject",
            detail={"reason": why},
        )
        return _load(connection, request_id)


def claim(
    workspace: Workspace,
    request_id: int,
    *,
    amount: Decimal | int | str,
    proof: str,
    by: str,
    now: datetime | None = None,
) -> MdfRequest:
    """Claim an approved request: the amount spent (at most the approved amount), with a
    reference to its proof (invoice number, document link), on or before the deadline."""
    moment = now or now_utc()
    claimed = _positive(amount, "claimed amount")
    reference = REQUESTS.text(
        proof, "a proof reference", "an invoice number or a link to the proof of spend", "proof"
    )
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, request_id, lock=True)
        REQUESTS.require(found, RequestStatus.APPROVED, "claimed")
        assert found.approved_amount is not None and found.deadline is not None
        if claimed > found.approved_amount:
            raise MdfRefusedError(
                "over_approved",
                f"{found.ref}: the claim of {money(claimed)} is more than the "
                f"{money(found.approved_amount)} approved; claim at most that",
            )
        today = clock.today(workspace, moment)
        if today > found.deadline:
            raise MdfRefusedError(
                "deadline",
                f"{found.ref}: the claim deadline was {found.deadline.isoformat()} "
                f"({workspace.config.mdf.claim_days} days after approval) and today is "
                f"{today.isoformat()}; it can no longer be claimed (submit a new request)",
            )
        _move(
            connection,
            found,
            {
                "status": RequestStatus.CLAIMED.value,
                "claimed_amount": text(claimed),
                "proof_ref": reference,
                "claimed_by": by,
                "claimed_at": moment,
            },
            by=by,
            action="claim",
            detail={"claimed_amount": text(claimed), "proof_ref": reference},
        )
        return _load(connection, request_id)


def pay(
    workspace: Workspace, request_id: int, *, by: str, now: datetime | None = None
) -> MdfRequest:
    """Record the payment of a claimed request: the claimed amount."""
    moment = now or now_utc()
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, request_id, lock=True)
        REQUESTS.require(found, RequestStatus.CLAIMED, "paid")
        assert found.claimed_amount is not None
        _move(
            connection,
            found,
            {
                "status": RequestStatus.PAID.value,
                "paid_amount": text(found.claimed_amount),
                "paid_by": by,
                "paid_at": moment,
            },
            by=by,
            action="pay",
            detail={"paid_amount": text(found.claimed_amount)},
        )
        return _load(connection, request_id)


def request(workspace: Workspace, request_id: int) -> MdfRequest:
    with appdb.connect(workspace).connect() as connection:
        return _load(connection, request_id)


def requests(
    workspace: Workspace,
    partner: str | None = None,
    year: str | int | None = None,
    status: RequestStatus | str | None = None,
) -> list[MdfRequest]:
    """The requests, oldest first, of one partner, fiscal year or status when given."""
    from sqlalchemy import select

    query = select(mdf_requests).order_by(mdf_requests.c.request_id)
    if partner is not None:
        query = query.where(mdf_requests.c.partner_id == partner)
    if year is not None:
        label = fiscal_year(workspace, year, now_utc().date()).label
        query = query.where(mdf_requests.c.fiscal_year == label)
    if status is not None:
        try:
            wanted = RequestStatus(str(status).strip().lower())
        except ValueError:
            states = ", ".join(s.value for s in RequestStatus)
            raise MdfRefusedError(
                "status", f"{status!r} is not a request status; use one of {states}"
            ) from None
        query = query.where(mdf_requests.c.status == wanted.value)
    with appdb.connect(workspace).connect() as connection:
        return [_request(row) for row in connection.execute(query)]


# ------------------------------------------------------------------------------- export

#: the canonical ``mdf_activities`` columns the export fills, in this order
EXPORT_COLUMNS = (
    "activity_id",
    "partner_id",
    "activity_type",
    "name",
    "status",
    "requested_amount",
    "approved_amount",
    "paid_amount",
    "currency",
    "requested_at",
    "paid_at",
    "updated_at",
)


def _activity_status(status: RequestStatus) -> str:
    """The canonical ``mdf_activities.status`` of a request's state."""
    match status:
        case RequestStatus.REQUESTED:
            return "requested"
        case RequestStatus.APPROVED:
            return "approved"
        case RequestStatus.REJECTED:
            return "rejected"
        case RequestStatus.CLAIMED:
            return "claimed"
        case RequestStatus.PAID:
            return "paid"


def activity_row(found: MdfRequest, currency: str, timezone: str) -> dict[str, str]:
    """One request as a row of the canonical ``mdf_activities`` table (amounts in the base
    currency, dates in the reporting time zone, ``updated_at`` in UTC with its offset)."""
    approved = found.status in (RequestStatus.APPROVED, RequestStatus.CLAIMED, RequestStatus.PAID)
    stamps = [
        t for t in (found.submitted_at, found.decided_at, found.claimed_at, found.paid_at) if t
    ]
    return {
        "activity_id": found.activity_id,
        "partner_id": found.partner_id,
        "activity_type": found.activity_type.value,
        "name": found.name,
        "status": _activity_status(found.status),
        "requested_amount": text(found.requested_amount),
        "approved_amount": text(found.approved_amount)
        if approved and found.approved_amount is not None
        else "",
        "paid_amount": text(found.paid_amount) if found.paid_amount is not None else "",
        "currency": currency,
        "requested_at": local_date(found.submitted_at, timezone).isoformat(),
        "paid_at": local_date(found.paid_at, timezone).isoformat() if found.paid_at else "",
        "updated_at": max(stamps).isoformat(timespec="seconds") + "+00:00",
    }


def activities_csv(workspace: Workspace) -> tuple[str, int]:
    """Every request as a row of the canonical ``mdf_activities`` table: the CSV text (those
    column names) and the number of rows."""
    from partnerscope.cells import csv_text

    config = workspace.config.workspace
    rows = [activity_row(r, config.base_currency, config.timezone) for r in requests(workspace)]
    return csv_text(EXPORT_COLUMNS, rows), len(rows)


def export_activities(workspace: Workspace, path: Path) -> int:
    """Write every request as a row of the canonical ``mdf_activities`` table (CSV with those
    column names) to ``path``; ingested as an ``mdf_activities`` source, the MDF metrics count
    them (``partnerscope run`` also posts them itself: :mod:`partnerscope.money.posting`).
    Returns the number of rows written."""
    from partnerscope.atomic import write_bytes

    content, count = activities_csv(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, content.encode("utf-8"))
    return count
