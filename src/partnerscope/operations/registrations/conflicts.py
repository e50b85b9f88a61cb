"""Finding what a registration conflicts with: other partners' live registrations (app
database) and open direct opportunities (warehouse: opportunities without a partner, whose
account is read from ``accounts``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from partnerscope.operations.registrations.matching import Account, DomainError, Matcher
from partnerscope.operations.registrations.model import (
    Conflict,
    ConflictKind,
    Registration,
    RegistrationStatus,
)
from partnerscope.warehouse import read_warehouse

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

#: open opportunities without a partner, with their account's name, domain and country
DIRECT_OPPORTUNITIES = """
SELECT o.opportunity_id, a.name, a.domain, a.country
FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
WHERE o.partner_id IS NULL AND o.status = 'open'
ORDER BY o.opportunity_id
"""


def matcher(workspace: Workspace) -> Matcher:
    from partnerscope.operations.identity import decisions

    settings = workspace.config.registration
    return Matcher(
        settings.similarity_threshold,
        tuple(settings.legal_forms),
        workspace.config.identity.rules(),
        # a person's decisions on the identity's review queue count here too
        decisions(workspace),
    )


def account_of(found: Registration, match: Matcher) -> Account:
    return match.account(found.account_name, found.domain, found.country)


def _lenient(match: Matcher, name: str, domain: str | None, country: str | None) -> Account:
    """An account of the warehouse: a domain that is not one is left out rather than refused."""
    try:
        return match.account(name, domain, country)
    except DomainError:
        return match.account(name, None, country)


def live_registrations(
    connection: Connection, *, other_than: str, before: int | None = None
) -> list[Registration]:
    """Live registrations (submitted or protected) of partners other than ``other_than``,
    submitted before registration ``before`` when given."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import deal_registrations as table

    query = (
        select(table)
        .where(table.c.status.in_([s.value for s in RegistrationStatus if s.live]))
        .where(table.c.partner_id != other_than)
        .order_by(table.c.registration_id)
    )
    if before is not None:
        query = query.where(table.c.registration_id < before)
    return [Registration.from_row(row) for row in connection.execute(query)]


def registration_conflicts(
    account: Account, others: Iterable[Registration], match: Matcher
) -> list[tuple[Registration, Conflict]]:
    found = []
    for other in others:
        hit = match.match(account, account_of(other, match))
        if hit is not None:
            found.append(
                (
                    other,
                    Conflict(
                        kind=ConflictKind.REGISTRATION,
                        other_id=str(other.registration_id),
                        other_partner_id=other.partner_id,
                        other_name=other.account_name,
                        matched_on=hit.matched_on,
                        score=round(hit.score, 4),
                    ),
                )
            )
    return found


def direct_conflicts(workspace: Workspace, account: Account, match: Matcher) -> list[Conflict]:
    """Open direct opportunities for the same account (none when ``[registration]
    check_direct_opportunities`` is off)."""
    if not workspace.config.registration.check_direct_opportunities:
        return []
    found = []
    for opportunity_id, name, domain, country in read_warehouse(workspace, DIRECT_OPPORTUNITIES):
        hit = match.match(account, _lenient(match, name, domain, country))
        if hit is not None:
            found.append(
                Conflict(
                    kind=ConflictKind.OPPORTUNITY,
                    other_id=opportunity_id,
                    other_partner_id=None,
                    other_name=name,
                    matched_on=hit.matched_on,
                    score=round(hit.score, 4),
                )
            )
    return found


def warehouse_accounts(workspace: Workspace) -> list[tuple[str, Account]]:
    """Every account of the warehouse: (account_id, normalized account)."""
    match = matcher(workspace)
    return [
        (account_id, _lenient(match, name, domain, country))
        for account_id, name, domain, country in read_warehouse(
            workspace, "SELECT account_id, name, domain, country FROM accounts ORDER BY account_id"
        )
    ]
