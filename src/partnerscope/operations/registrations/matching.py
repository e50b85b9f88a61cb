"""Whether a registration's account is another's: the one account-matching engine of
:mod:`partnerscope.identity` (docs/account-identity.md), with ``[registration]``'s threshold and
legal forms. What deal registration, channel conflict and lead de-duplication call the same
customer is the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from partnerscope.identity import (
    Account,
    Decision,
    DomainError,
    MatchedOn,
    Rules,
    compare,
    normalize_country,
    normalize_domain,
    normalize_name,
)
from partnerscope.identity import account as identity_account
from partnerscope.identity.domains import registered_domain, says_nothing
from partnerscope.identity.names import name_tokens
from partnerscope.settings.registrations import DEFAULT_THRESHOLD

__all__ = [
    "Account",
    "DomainError",
    "Match",
    "MatchedOn",
    "Matcher",
    "name_tokens",
    "normalize_country",
    "normalize_domain",
    "normalize_name",
    "registered_domain",
    "says_nothing",
    "similarity",
]


def similarity(a: str, b: str, extra_legal_forms: tuple[str, ...] = ()) -> float:
    """Similarity in [0, 1] of two account names: the identity engine's score of two accounts
    known by their names only (0 when the names say they are in two countries:
    ``Vodafone UK``, ``Vodafone Germany``)."""
    rules = Rules(legal_forms=tuple(extra_legal_forms))
    x, y = identity_account(a, rules=rules), identity_account(b, rules=rules)
    return compare(x, y, rules).score


@dataclass(frozen=True)
class Match:
    matched_on: MatchedOn
    score: float


@dataclass(frozen=True)
class Matcher:
    """Decides whether two accounts are the same, as :func:`partnerscope.identity.compare`
    does with ``threshold`` as the score from which names are the same account: the same
    registered domain in one country is the same account; two known countries that differ are
    not (a group's companies in two countries are separate accounts); otherwise the names
    decide."""

    threshold: float = DEFAULT_THRESHOLD
    extra_legal_forms: tuple[str, ...] = field(default=())
    #: ``[identity]``'s tables (renames, abbreviations, mail domains, legal forms)
    identity: Rules = field(default_factory=Rules)
    #: a person's decisions on pairs (the identity review queue)
    decisions: dict[frozenset[str], Decision] | None = field(default=None, compare=False)

    @cached_property
    def rules(self) -> Rules:
        return replace(
            self.identity,
            same_from=self.threshold,
            review_from=min(self.identity.review_from, self.threshold),
            legal_forms=(*self.identity.legal_forms, *self.extra_legal_forms),
        )

    def account(self, name: str, domain: str | None = None, country: str | None = None) -> Account:
        """Normalize what was typed (raises :class:`DomainError` for a bad domain)."""
        return identity_account(name, domain, country, self.rules)

    def match(self, a: Account, b: Account) -> Match | None:
        verdict = compare(a, b, self.rules, self.decisions)
        if not verdict.same:
            return None
        on = MatchedOn.DOMAIN if verdict.matched_on is MatchedOn.DOMAIN else MatchedOn.NAME
        return Match(on, verdict.score)
