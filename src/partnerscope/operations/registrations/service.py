"""Deal registrations through their workflow: submitted → protected (approved) or rejected →
won or expired.

Submitting records what the registration conflicts with (other partners' live registrations,
open direct opportunities: :mod:`.conflicts`) and keeps it whatever it finds: the partner is
shown the conflict. Approval checks again, against the data as it is then: the first valid
registration wins, so a registration cannot be approved while an earlier, conflicting
registration of another partner is live (``first_registration``), nor while the vendor's own
team has an open opportunity for the account (``direct_opportunity``). An approved
registration is protected until the approval date + ``[registration] protection_days``; it is
won (optionally linked to its CRM opportunity) within that window, or :func:`sweep` expires it
after, and lists the ones whose window ends within ``warning_days``.

Each step refuses with :class:`RegistrationRefusedError` (the check's name, why, and how to go
on), writes its audit entry in the same transaction as the change, and moves the registration
on only from the state it was read in. Dates are in the workspace's reporting time zone, times
are stored in UTC, and every function takes ``now`` so that tests control the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit, clock
from partnerscope.amounts import AmountError, money, parse_amount, text
from partnerscope.appdb.tables import deal_registration_conflicts, deal_registrations
from partnerscope.clock import now_utc
from partnerscope.operations.registrations import notices
from partnerscope.operations.registrations.conflicts import (
    account_of,
    direct_conflicts,
    live_registrations,
    matcher,
    registration_conflicts,
)
from partnerscope.operations.registrations.matching import DomainError, says_nothing
from partnerscope.operations.registrations.model import (
    Conflict,
    ConflictKind,
    Expiring,
    Registration,
    RegistrationDetail,
    RegistrationNotFoundError,
    RegistrationRefusedError,
    RegistrationStatus,
    SweepResult,
)
from partnerscope.warehouse import check_partner, partner_names
from partnerscope.workflow import MAX_TEXT, Workflow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

OBJECT_TYPE = "deal_registration"
MAX_NAME = 200
MAX_PRODUCTS = 20
#: the registration's steps (workflow.py: text, loading, state, moving on)
REGISTRATIONS = Workflow(
    deal_registrations.c.registration_id, OBJECT_TYPE, "registration", RegistrationRefusedError
)


# ------------------------------------------------------------------------------- checks


def _text(value: str, what: str, hint: str, check: str, limit: int = MAX_TEXT) -> str:
    """A name or reason on one line (runs of white space made one space)."""
    return REGISTRATIONS.text(value, what, hint, check, limit=limit, one_line=True)


def _amount(value: Decimal | int | str) -> Decimal:
    try:
        amount = parse_amount(value, "amount")
    except AmountError as exc:
        raise RegistrationRefusedError("amount", str(exc)) from None
    if amount <= 0:
        raise RegistrationRefusedError(
            "amount", f"the deal's amount must be more than 0 (got {money(amount)})"
        )
    return amount


def _products(products: Iterable[str]) -> tuple[str, ...]:
    named = [_text(p, "a product", "its name", "products", 100) for p in products if p.strip()]
    if len(named) > MAX_PRODUCTS:
        raise RegistrationRefusedError(
            "products", f"{len(named)} products; register at most {MAX_PRODUCTS} on one deal"
        )
    return tuple(dict.fromkeys(named))


# -------------------------------------------------------------------------------- store


def _load(connection: Connection, registration_id: int, *, lock: bool = False) -> Registration:
    """The registration (``lock``: read for a step that changes it, see
    :meth:`Workflow.load`)."""
    missing = RegistrationNotFoundError(
        f"no registration #{registration_id}; `partnerscope registrations list` shows them"
    )
    return Registration.from_row(
        REGISTRATIONS.load(connection, registration_id, lock=lock, missing=missing)
    )


def _move(
    connection: Connection,
    found: Registration,
    values: dict[str, Any],
    *,
    by: str,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Move the registration on from the state it was read in, and log it."""
    REGISTRATIONS.move(
        connection,
        found,
        found.registration_id,
        values,
        by=by,
        action=action,
        object_id=found.registration_id,
        detail={"partner_id": found.partner_id, "account_name": found.account_name, **detail},
    )


def _conflicts(connection: Connection, registration_id: int) -> tuple[Conflict, ...]:
    from sqlalchemy import select

    table = deal_registration_conflicts
    query = (
        select(table)
        .where(table.c.registration_id == registration_id)
        .order_by(table.c.kind.desc(), table.c.other_id)
    )
    return tuple(Conflict.from_row(row) for row in connection.execute(query))


def _later(connection: Connection, registration_id: int) -> tuple[Registration, ...]:
    """The registrations that found this one as a conflict when they were submitted."""
    from sqlalchemy import select

    table = deal_registration_conflicts
    ids = (
        select(table.c.registration_id)
        .where(table.c.kind == ConflictKind.REGISTRATION.value)
        .where(table.c.other_id == str(registration_id))
    )
    query = (
        select(deal_registrations)
        .where(deal_registrations.c.registration_id.in_(ids))
        .order_by(deal_registrations.c.registration_id)
    )
    return tuple(Registration.from_row(row) for row in connection.execute(query))


def _detail(connection: Connection, found: Registration) -> RegistrationDetail:
    return RegistrationDetail(
        found,
        _conflicts(connection, found.registration_id),
        _later(connection, found.registration_id),
    )


# ----------------------------------------------------------------------------- workflow


def submit(
    workspace: Workspace,
    partner_id: str,
    *,
    account_name: str,
    amount: Decimal | int | str,
    expected_close: date,
    by: str,
    domain: str | None = None,
    country: str | None = None,
    products: Iterable[str] = (),
    now: datetime | None = None,
) -> RegistrationDetail:
    """Register a deal of ``partner_id`` for an account: its name, web domain and country, the
    amount (base currency), the expected close date and the products. The conflicts found are
    recorded with it (and returned); they do not stop the submission."""
    moment = now or now_utc()
    name = _text(
        account_name, "the account's name", "who is the customer?", "account_name", MAX_NAME
    )
    value = _amount(amount)
    listed = _products(products)
    today = clock.today(workspace, moment)
    if expected_close < today:
        raise RegistrationRefusedError(
            "expected_close",
            f"the expected close date {expected_close} is before today ({today}); a deal that "
            "has closed is not registered: give the date it is expected to close",
        )
    match = matcher(workspace)
    try:
        account = match.account(name, domain, country)
    except DomainError as exc:
        raise RegistrationRefusedError("domain", str(exc)) from None
    if account.domain is not None and says_nothing(account.domain):
        raise RegistrationRefusedError(
            "domain",
            f"{account.domain} is a mail provider's or a web platform's domain, not the "
            "account's; give the account's own web domain or leave it empty",
        )
    names = partner_names(workspace)
    check_partner(names, partner_id, RegistrationRefusedError)
    direct = direct_conflicts(workspace, account, match)
    with appdb.connect(workspace).begin() as connection:
        # submissions and approvals one at a time: an id is given at insert and a row seen
        # by others at commit, so "earlier" is only the order submissions commit in this way
        appdb.serialize(connection, deal_registrations)
        others = live_registrations(connection, other_than=partner_id)
        conflicts = [c for _, c in registration_conflicts(account, others, match)] + direct
        registration_id = connection.execute(
            deal_registrations.insert().values(
                partner_id=partner_id,
                account_name=name,
                account_key=account.key,
                domain=account.domain,
                country=account.country,
                amount=text(value),
                expected_close=expected_close,
                products=list(listed),
                status=RegistrationStatus.SUBMITTED.value,
                submitted_by=by,
                submitted_at=moment,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        if conflicts:
            connection.execute(
                deal_registration_conflicts.insert(),
                [
                    {
                        "registration_id": registration_id,
                        "kind": c.kind.value,
                        "other_id": c.other_id,
                        "other_partner_id": c.other_partner_id,
                        "other_name": c.other_name,
                        "matched_on": c.matched_on.value,
                        "score": c.score,
                    }
                    for c in conflicts
                ],
            )
        audit.record(
            connection,
            actor=by,
            action="submit",
            object_type=OBJECT_TYPE,
            object_id=registration_id,
            detail={
                "partner_id": partner_id,
                "account_name": name,
                "domain": account.domain,
                "country": account.country,
                "amount": text(value),
                "expected_close": expected_close.isoformat(),
                "products": list(listed),
                "conflicts": [c.describe() for c in conflicts],
            },
        )
        found = _load(connection, registration_id)
        notices.submitted(connection, workspace.words, found, conflicts, names, now=moment)
        return _detail(connection, found)


def approve(
    workspace: Workspace, registration_id: int, *, by: str, now: datetime | None = None
) -> Registration:
    """Approve a submitted registration: it is protected until today + ``protection_days``.
    Refused while an earlier conflicting registration of another partner is live, or an open
    direct opportunity is for the same account."""
    moment = now or now_utc()
    settings = workspace.config.registration
    match = matcher(workspace)
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, registration_id, lock=True)
        REGISTRATIONS.require(found, RegistrationStatus.SUBMITTED, "approved")
        account = account_of(found, match)
        earlier = registration_conflicts(
            account,
            live_registrations(
                connection, other_than=found.partner_id, before=found.registration_id
            ),
            match,
        )
        if earlier:
            first, conflict = earlier[0]
            raise RegistrationRefusedError(
                "first_registration",
                f"{found.ref} conflicts with {conflict.describe()}, submitted earlier, which "
                f"{first.where()}: the first valid registration wins; reject this one, or "
                f"approve it once registration #{first.registration_id} is rejected or expires",
                names=frozenset([first.partner_id]),
                redacted=f"{found.ref} conflicts with {conflict.redacted().describe()}, which "
                "is still live: the first valid registration wins; reject this one, or approve "
                "it once the earlier registration is rejected or expires",
            )
        direct = direct_conflicts(workspace, account, match)
        if direct:
            raise RegistrationRefusedError(
                "direct_opportunity",
                f"{found.ref} conflicts with {direct[0].describe()}: the vendor's direct team "
                "works this account; reject the registration, or close or hand over that "
                "opportunity in the CRM, ingest again and approve it then",
            )
        until = clock.today(workspace, moment) + timedelta(days=settings.protection_days)
        _move(
            connection,
            found,
            {
                "status": RegistrationStatus.PROTECTED.value,
                "decided_by": by,
                "decided_at": moment,
                "protected_until": until,
            },
            by=by,
            action="approve",
            detail={"protected_until": until.isoformat()},
        )
        done = _load(connection, registration_id)
        notices.decided(connection, workspace.words, done, {}, now=moment)
        return done


def reject(
    workspace: Workspace,
    registration_id: int,
    *,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> Registration:
    """Reject a submitted registration, with the reason the partner is told."""
    why = _text(
        reason, "a reason", "the partner is told why its registration was rejected", "reason"
    )
    moment = now or now_utc()
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, registration_id, lock=True)
        REGISTRATIONS.require(found, RegistrationStatus.SUBMITTED, "rejected")
        _move(
            connection,
            found,
            {
                "status": RegistrationStatus.REJECTED.value,
                "reason": why,
                "decided_by": by,
                "decided_at": moment,
            },
            by=by,
            action="reject",
            detail={"reason": why},
        )
        done = _load(connection, registration_id)
        notices.decided(connection, workspace.words, done, _others(workspace), now=moment)
        return done


def _others(workspace: Workspace) -> dict[str, str] | None:
    """Every partner's name (a decline's reason must not name another partner), or None when
    the warehouse cannot be read."""
    from partnerscope.errors import PartnerscopeError

    try:
        return partner_names(workspace)
    except (PartnerscopeError, OSError):
        return None


def mark_won(
    workspace: Workspace,
    registration_id: int,
    *,
    by: str,
    crm_opportunity_id: str | None = None,
    now: datetime | None = None,
) -> Registration:
    """Record that a protected registration's deal was won, within its window; with the id of
    the CRM opportunity that holds the deal when there is one (the metrics then count that
    opportunity and not the registration: :mod:`.rows`)."""
    from sqlalchemy import select

    moment = now or now_utc()
    crm_id = (
        _text(
            crm_opportunity_id, "the CRM opportunity id", "or leave it out", "crm_opportunity", 64
        )
        if crm_opportunity_id is not None
        else None
    )
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, registration_id, lock=True)
        REGISTRATIONS.require(found, RegistrationStatus.PROTECTED, "marked won")
        assert found.protected_until is not None
        today = clock.today(workspace, moment)
        if today > found.protected_until:
            raise RegistrationRefusedError(
                "window",
                f"{found.ref} was protected until {found.protected_until} and today is {today}: "
                "its protection has ended (`partnerscope registrations sweep` expires it); the "
                "partner can register the deal again",
            )
        if crm_id is not None:
            other = connection.execute(
                select(deal_registrations.c.registration_id, deal_registrations.c.partner_id).where(
                    deal_registrations.c.crm_opportunity_id == crm_id
                )
            ).first()
            if other is not None:
                again = "one opportunity is won by one registration: check the id"
                raise RegistrationRefusedError(
                    "crm_opportunity",
                    f"CRM opportunity {crm_id} is already the deal of registration "
                    f"#{other.registration_id} ({other.partner_id}); {again}",
                    names=frozenset([other.partner_id]),
                    redacted=f"CRM opportunity {crm_id} is already the deal of another "
                    f"partner's registration; {again}",
                )
        _move(
            connection,
            found,
            {
                "status": RegistrationStatus.WON.value,
                "closed_by": by,
                "closed_at": moment,
                "crm_opportunity_id": crm_id,
            },
            by=by,
            action="won",
            detail={"crm_opportunity_id": crm_id},
        )
        return _load(connection, registration_id)


def sweep(workspace: Workspace, *, by: str, now: datetime | None = None) -> SweepResult:
    """Expire the protected registrations whose window has passed (the day after
    ``protected_until``), and list those whose window ends within ``warning_days``."""
    moment = now or now_utc()
    today = clock.today(workspace, moment)
    warning = workspace.config.registration.warning_days
    expired: list[Registration] = []
    expiring: list[Expiring] = []
    with appdb.connect(workspace).begin() as connection:
        for found in _select(connection, status=RegistrationStatus.PROTECTED, lock=True):
            assert found.protected_until is not None
            days_left = (found.protected_until - today).days
            if days_left < 0:
                _move(
                    connection,
                    found,
                    {
                        "status": RegistrationStatus.EXPIRED.value,
                        "closed_by": by,
                        "closed_at": moment,
                    },
                    by=by,
                    action="expire",
                    detail={"protected_until": found.protected_until.isoformat()},
                )
                expired.append(_load(connection, found.registration_id))
                notices.expired(connection, workspace.words, expired[-1], now=moment)
            elif days_left <= warning:
                expiring.append(Expiring(found, days_left))
    return SweepResult(tuple(expired), tuple(expiring))


# ------------------------------------------------------------------------------ reading


def _status(status: RegistrationStatus | str) -> RegistrationStatus:
    try:
        return RegistrationStatus(str(status).strip().lower())
    except ValueError:
        states = ", ".join(s.value for s in RegistrationStatus)
        raise RegistrationRefusedError(
            "status", f"{status!r} is not a registration status; use one of {states}"
        ) from None


def _select(
    connection: Connection,
    *,
    partner: str | None = None,
    status: RegistrationStatus | None = None,
    lock: bool = False,
) -> list[Registration]:
    from sqlalchemy import select

    if lock:
        appdb.serialize(connection, deal_registrations)  # (see _load)
    query = select(deal_registrations).order_by(deal_registrations.c.registration_id)
    if partner is not None:
        query = query.where(deal_registrations.c.partner_id == partner)
    if status is not None:
        query = query.where(deal_registrations.c.status == status.value)
    return [Registration.from_row(row) for row in connection.execute(query)]


def registrations(
    workspace: Workspace,
    partner: str | None = None,
    status: RegistrationStatus | str | None = None,
) -> list[Registration]:
    """The registrations, oldest first, of one partner and in one status when given."""
    wanted = None if status is None else _status(status)
    with appdb.connect(workspace).connect() as connection:
        return _select(connection, partner=partner, status=wanted)


def detail(
    workspace: Workspace, registration_id: int, *, partner: str | None = None
) -> RegistrationDetail:
    """One registration with its conflicts. With ``partner`` (what a partner user sees): only
    that partner's own registration, its conflicts without the other partner's or the
    opportunity's identity, and no list of later registrations."""
    with appdb.connect(workspace).connect() as connection:
        found = _load(connection, registration_id)
        if partner is not None and found.partner_id != partner:
            raise RegistrationNotFoundError(f"no registration #{registration_id} of {partner}")
        shown = _detail(connection, found)
    if partner is None:
        return shown
    return RegistrationDetail(found, tuple(c.redacted() for c in shown.conflicts), ())
