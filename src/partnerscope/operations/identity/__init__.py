"""The account identity of a workspace: its accounts grouped into customers, and the review
queue — the pairs the engine is unsure of, for a person to decide (docs/account-identity.md).

A person's decision is an entry of the audit log (object ``account_pair``, action
``identity.same`` or ``identity.different``, the pair's accounts, score, reasons and the
person's reason in its detail): the log is the store and its trail at once, and the latest
entry of a pair is the decision in force. :func:`resolve_accounts` applies them."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from partnerscope import audit
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.identity import (
    Account,
    AccountRecord,
    Decision,
    Rules,
    Verdict,
    account,
    candidate_pairs,
    compare,
    resolve,
    worth_comparing,
)
from partnerscope.warehouse import read_warehouse

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "account_pair"
ACTIONS = {Decision.SAME: "identity.same", Decision.DIFFERENT: "identity.different"}

ACCOUNTS = "SELECT account_id, name, domain, country FROM accounts ORDER BY account_id"


class IdentityError(PartnerscopeError, ValueError):
    """A review decision that cannot be taken as given."""


@dataclass(frozen=True)
class Pair:
    """Two accounts of the accounts data and what the engine (or a person) says of them."""

    pair_id: str
    a: AccountRecord
    b: AccountRecord
    verdict: Verdict
    fingerprints: tuple[str, str]
    #: a person's decision in force, if any, and who took it
    decided: Decision | None = None
    decided_by: str | None = None
    reason: str | None = None


def rules_of(workspace: Workspace) -> Rules:
    return workspace.config.identity.rules()


def records(workspace: Workspace) -> list[AccountRecord]:
    """The accounts of the warehouse."""
    rows = read_warehouse(workspace, ACCOUNTS)
    return [AccountRecord(str(i), str(n or ""), d or None, c or None) for i, n, d, c in rows if n]


def pair_id(fingerprints: tuple[str, str]) -> str:
    """A short stable id of a pair: the same two accounts (as compared) have the same id."""
    a, b = sorted(fingerprints)
    return hashlib.sha256(f"{a}\n{b}".encode()).hexdigest()[:10]


def decisions(workspace: Workspace) -> dict[frozenset[str], Decision]:
    """The decisions in force: each pair's latest."""
    return {k: v[0] for k, v in _decided(workspace).items()}


def _decided(
    workspace: Workspace,
) -> dict[frozenset[str], tuple[Decision, str, str | None, str]]:
    """Pair → (decision, who, reason, pair id), the latest entry of each pair."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import audit_log

    query = (
        select(audit_log.c.actor, audit_log.c.action, audit_log.c.object_id, audit_log.c.detail)
        .where(audit_log.c.object_type == OBJECT_TYPE)
        .order_by(audit_log.c.entry_id)
    )
    found: dict[frozenset[str], tuple[Decision, str, str | None, str]] = {}
    with appdb.connect(workspace).connect() as connection:
        for actor, action, object_id, detail in connection.execute(query):
            pair = frozenset(detail.get("fingerprints", ()))
            decision = Decision.SAME if action == ACTIONS[Decision.SAME] else Decision.DIFFERENT
            found[pair] = (decision, actor, detail.get("reason"), object_id)
    return found


def resolve_accounts(workspace: Workspace) -> dict[str, str]:
    """Each account id of the warehouse → its customer's id (the smallest account id of the
    records taken for one customer), with the review queue's decisions applied."""
    return resolve(records(workspace), rules_of(workspace), decisions(workspace))


def rebuild(workspace: Workspace) -> tuple[int, int]:
    """Resolve the warehouse's accounts again and store their identities (what channel conflict
    reads): (account records, customers). The next run recomputes every period."""
    from partnerscope.metrics.entities_market import IDENTITY_TABLE, rebuild_account_identities

    with workspace.lock("ingest"), workspace.warehouse() as warehouse, warehouse.transaction():
        written = rebuild_account_identities(
            warehouse.con, rules_of(workspace), decisions(workspace)
        )
        (customers,) = warehouse.con.execute(
            f'SELECT count(DISTINCT identity_id) FROM "{IDENTITY_TABLE}"'
        ).fetchall()[0]
    return written, int(customers)


def pairs(workspace: Workspace, *, include_decided: bool = True) -> list[Pair]:
    """The pairs of accounts the engine leaves to a person (its uncertain band), the most
    likely first, with the decisions taken on them; ``include_decided`` False: the open ones
    only (the queue)."""
    listed = records(workspace)
    decided = _decided(workspace)
    out = []
    for i, j, verdict, prints in _review_band(tuple(listed), rules_of(workspace)):
        taken = decided.get(frozenset(prints))
        if taken is not None and not include_decided:
            continue
        out.append(
            Pair(
                pair_id=pair_id(prints),
                a=listed[i],
                b=listed[j],
                verdict=verdict,
                fingerprints=prints,
                decided=taken[0] if taken else None,
                decided_by=taken[1] if taken else None,
                reason=taken[2] if taken else None,
            )
        )
    out.sort(key=lambda p: (-p.verdict.score, p.a.account_id, p.b.account_id))
    return out


@functools.lru_cache(maxsize=4)
def _review_band(
    listed: tuple[AccountRecord, ...], rules: Rules
) -> tuple[tuple[int, int, Verdict, tuple[str, str]], ...]:
    """The pairs of ``listed`` (their positions) the engine leaves to a person, its verdict and
    the two accounts' fingerprints. A second of comparisons for a few thousand accounts, which
    every page and decision of the review asks for: kept while the accounts and rules are the
    same (decisions do not change it)."""
    items: list[Account] = [
        account(r.name, r.domain, r.country, rules, lenient=True) for r in listed
    ]
    band = []
    for i, j in sorted(candidate_pairs(items)):
        if not worth_comparing(items[i], items[j]):
            continue
        verdict = compare(items[i], items[j], rules)
        if verdict.decision is Decision.REVIEW:
            band.append((i, j, verdict, (items[i].fingerprint, items[j].fingerprint)))
    return tuple(band)


def decide(
    workspace: Workspace,
    found_id: str,
    decision: Decision | str,
    *,
    by: str,
    reason: str | None = None,
) -> Pair:
    """Record a person's decision on a pair of the review queue (or change one taken): the
    two accounts are the same customer, or two. Audited; the stored identities are resolved
    again with it, so the next run's channel conflict follows it."""
    try:
        chosen: Decision | None = Decision(str(decision).strip().casefold())
    except ValueError:
        chosen = None
    if chosen is None or chosen not in ACTIONS:
        raise IdentityError(
            f"decide {found_id}: {decision!r} is not a decision; write same or different"
        )
    listed = {p.pair_id: p for p in pairs(workspace)}
    pair = listed.get(found_id.strip())
    if pair is None:
        raise IdentityError(
            f"no pair {found_id!r} in the review queue; see `partnerscope identity review`"
            + did_you_mean(found_id, listed)
        )
    from partnerscope import appdb

    with appdb.connect(workspace).begin() as connection:
        audit.record(
            connection,
            actor=by,
            action=ACTIONS[chosen],
            object_type=OBJECT_TYPE,
            object_id=pair.pair_id,
            detail={
                "fingerprints": list(pair.fingerprints),
                "accounts": [pair.a.account_id, pair.b.account_id],
                "names": [pair.a.name, pair.b.name],
                "score": pair.verdict.score,
                "reasons": list(pair.verdict.reasons),
                "reason": (reason or "").strip() or None,
            },
        )
    rebuild(workspace)
    return Pair(
        pair.pair_id,
        pair.a,
        pair.b,
        pair.verdict,
        pair.fingerprints,
        chosen,
        by,
        (reason or "").strip() or None,
    )
