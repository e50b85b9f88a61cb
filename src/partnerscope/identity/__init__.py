"""One account identity: whether two account records (a registration, an opportunity's account,
a lead) name the same customer, and which records of the accounts data are one customer.

Pure functions over names, domains and countries; no database (docs/account-identity.md).
:func:`check` and :func:`compare` answer for a pair, with a score, the reasons in words and a
decision (same, different, or review: a person decides); :func:`resolve` groups the records of
the accounts data into customers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from partnerscope.identity.domains import DomainError, normalize_domain, registered_domain
from partnerscope.identity.engine import (
    DEFAULT_RULES,
    Account,
    Decision,
    MatchedOn,
    Rules,
    Verdict,
    account,
    check,
    compare,
    normalize_country,
    similarity,
    worth_comparing,
)
from partnerscope.identity.names import GENERIC_WORDS, normalize_name

__all__ = [
    "DEFAULT_RULES",
    "Account",
    "AccountRecord",
    "Decision",
    "DomainError",
    "MatchedOn",
    "Rules",
    "Verdict",
    "account",
    "candidate_pairs",
    "check",
    "compare",
    "normalize_country",
    "normalize_domain",
    "normalize_name",
    "resolve",
    "similarity",
    "worth_comparing",
]

#: a blocking key shared by more records than this says too little to compare them all
BLOCK_LIMIT = 60


@dataclass(frozen=True)
class AccountRecord:
    """An account as the accounts data holds it."""

    account_id: str
    name: str
    domain: str | None = None
    country: str | None = None


def _keys(a: Account) -> set[str]:
    """Blocking keys: records that share none are never compared."""
    keys = set()
    where = a.country or ""
    tokens = a.current or a.tokens
    if a.domain:
        keys.add("d:" + registered_domain(a.domain))
    keys.add(f"j:{where}:{''.join(tokens)}")
    for t in tokens:
        if len(t) >= 3 and t not in GENERIC_WORDS:
            keys.add(f"t:{where}:{t}")
            keys.add(f"p:{where}:{t[:4]}")
    # initials of three letters or more beside a one-word name of them (IBM)
    if len(tokens) >= 3:
        keys.add(f"i:{where}:{''.join(t[0] for t in tokens)}")
    elif len(tokens) == 1 and 3 <= len(tokens[0]) <= 5:
        keys.add(f"i:{where}:{tokens[0]}")
    return keys


def candidate_pairs(items: list[Account]) -> set[tuple[int, int]]:
    """Pairs of indices worth comparing: they share a blocking key that not too many share."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(items):
        for key in _keys(a):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > BLOCK_LIMIT:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                pairs.add((i, j) if i < j else (j, i))
    return pairs


def resolve(
    records: Iterable[AccountRecord],
    rules: Rules = DEFAULT_RULES,
    decisions: Mapping[frozenset[str], Decision] | None = None,
) -> dict[str, str]:
    """Each account id → the id of its identity: the smallest account id among the records
    taken for the same customer (a record alone is its own identity). Records are compared only
    within blocks (same domain, a shared word or initials in one country), so that 100,000
    accounts resolve in seconds; a person's decisions (the review queue) are applied."""
    listed = list(records)
    items = [account(r.name, r.domain, r.country, rules, lenient=True) for r in listed]
    parent = list(range(len(listed)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in sorted(candidate_pairs(items)):
        if not worth_comparing(items[i], items[j]) and not (
            decisions and frozenset((items[i].fingerprint, items[j].fingerprint)) in decisions
        ):
            continue
        if compare(items[i], items[j], rules, decisions).same:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    smallest: dict[int, str] = {}
    for i, r in enumerate(listed):
        root = find(i)
        if root not in smallest or r.account_id < smallest[root]:
            smallest[root] = r.account_id
    return {r.account_id: smallest[find(i)] for i, r in enumerate(listed)}
