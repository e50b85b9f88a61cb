"""One account identity: whether two account records (a registration, an opportunity's account,
a lead) name the same customer, and which records of the accounts data are one customer.

Pure functions over names, domains and countries; no database (docs/account-identity.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountRecord:
    """An account as the accounts data holds it."""

    account_id: str
    name: str
    domain: str | None = None
    country: str | None = None


def resolve(records: Iterable[AccountRecord]) -> dict[str, str]:
    """Each account id → the id of its identity: the smallest account id among the records
    taken for the same customer (a record alone is its own identity)."""
    return {r.account_id: r.account_id for r in records}
