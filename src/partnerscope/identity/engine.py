"""Whether two accounts are the same customer: a score with its reasons, and a decision.

The order of the rules (docs/account-identity.md, "How two accounts are compared"):

1. A person's decision on the pair (the review queue) is final.
2. Two known countries that differ: different accounts, whatever the names and domains
   (a group's companies in two countries are separate accounts).
3. The same registered web domain (not a mail provider's, not a public suffix): the same.
4. The same name once a former name is replaced by the current one (``Statoil`` →
   ``Equinor``): the same.
5. The names' similarity: equal tokens count fully, tokens a typo apart nearly (long tokens
   only, and in a one-word name only from 8 letters: ``Equinix`` is not ``Equinox``), generic
   words (``global``, ``services``) half; a name that is the other plus a country or "group"
   scores as the shorter; a one-word name that is the other's initials (``IBM``) is never more
   than uncertain, since initials clash (``Integrated Building Maintenance``).

From :attr:`Rules.same_from` the accounts are the same, below :attr:`Rules.review_from` they
are different, and in between a person decides (the review queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache

from partnerscope.geo import country_key, country_names, lookup_country
from partnerscope.identity.domains import (
    DomainError,
    normalize_domain,
    registered_domain,
    says_nothing,
)
from partnerscope.identity.names import (
    GENERIC_WORDS,
    GROUP_WORDS,
    current_name,
    division_of,
    latin,
    legal_form_countries,
    legal_forms_of,
    load_aliases,
    load_renames,
    name_tokens,
    named_country,
    rename_table,
    single_legal_forms,
    token_weight,
)

#: score from which two accounts are the same
SAME_FROM = 0.9
#: score from which a person decides (below: different)
REVIEW_FROM = 0.75
#: score of a one-word name that is the other's initials: uncertain
INITIALS_SCORE = 0.8
#: what a token a typo apart counts for, per edit
TYPO_PENALTY = 0.05


class Decision(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    REVIEW = "review"


class MatchedOn(StrEnum):
    """Why two accounts are taken for the same: their domains, their names or a person."""

    DOMAIN = "domain"
    NAME = "name"
    RENAME = "rename"
    PERSON = "person"


@dataclass(frozen=True)
class Rules:
    """What users add to the built-in tables (``[identity]`` in partnerscope.toml) and the
    thresholds."""

    same_from: float = SAME_FROM
    review_from: float = REVIEW_FROM
    legal_forms: tuple[str, ...] = ()
    abbreviations: tuple[tuple[str, str], ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    mail_domains: tuple[str, ...] = ()
    not_mail_domains: tuple[str, ...] = ()

    @cached_property
    def rename_map(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        """Former names and the aliases in Latin letters (tokens) → the current name's
        tokens."""
        latin_aliases = [(alias, name) for alias, name in load_aliases() if alias.isascii()]
        return rename_table((*latin_aliases, *load_renames(), *self.renames))

    @cached_property
    def script_aliases(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        """The aliases in other scripts (their tokens in Latin letters) → the name's tokens,
        renames applied. Only names typed in another script look them up: ``ソニー`` reads
        ``soni``, and a company named Soni is not Sony."""
        table = {}
        for alias, name in load_aliases():
            if not alias.isascii():
                table[name_tokens(alias)] = current_name(name_tokens(name), self.rename_map)[0]
        return table

    @cached_property
    def alias_names(self) -> frozenset[tuple[str, ...]]:
        """The tokens of the built-in aliases: other writings of a name, not former names."""
        return frozenset(name_tokens(alias) for alias, _ in load_aliases())


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Account:
    """An account as compared: what was typed, and its normalized parts."""

    name: str
    tokens: tuple[str, ...]
    domain: str | None = None
    country: str | None = None
    #: the tokens with a former name replaced by the current one
    current: tuple[str, ...] = ()
    #: the former name replaced, if any
    renamed_from: tuple[str, ...] | None = None
    #: the country the name ends with (``Vodafone Germany``), when it names one
    name_country: str | None = None
    #: what the name says after its division mark (``- Dallas``, ``(North America)``)
    division: tuple[str, ...] = ()
    #: the countries the name's legal form belongs to, when it belongs to few (``GmbH``)
    form_countries: frozenset[str] | None = None

    @property
    def key(self) -> str:
        return " ".join(self.tokens)

    @property
    def fingerprint(self) -> str:
        """What a person's decision is stored under: the name as compared and the country."""
        return f"{' '.join(self.current or self.tokens)}|{self.country or ''}"


@dataclass(frozen=True)
class Verdict:
    """A comparison's outcome: the decision, the score (0–1) and the reasons, in words."""

    decision: Decision
    score: float
    reasons: tuple[str, ...]
    matched_on: MatchedOn | None = None

    @property
    def same(self) -> bool:
        return self.decision is Decision.SAME


def account(
    name: str,
    domain: str | None = None,
    country: str | None = None,
    rules: Rules = DEFAULT_RULES,
    *,
    lenient: bool = False,
) -> Account:
    """Normalize what was typed (raises :class:`DomainError` for a bad domain unless
    ``lenient``, which leaves such a domain out)."""
    try:
        dom = normalize_domain(domain)
    except DomainError:
        if not lenient:
            raise
        dom = None
    tokens = name_tokens(name, rules.legal_forms, rules.abbreviations)
    current, former = current_name(tokens, rules.rename_map)
    if former is None and not name.isascii():
        current, former = current_name(tokens, rules.script_aliases)
    return Account(
        name=name,
        tokens=tokens,
        domain=dom,
        country=normalize_country(country),
        name_country=named_country(name),
        current=current,
        renamed_from=former,
        division=division_of(name),
        form_countries=legal_form_countries(
            legal_forms_of(name, rules.legal_forms, rules.abbreviations)
        ),
    )


def normalize_country(value: str | None) -> str | None:
    """A country as compared: its ISO 3166 alpha-2 code when the name or code is known
    (``Deutschland``, ``DEU``, ``Hong Kong SAR`` → ``DE``, ``DE``, ``HK``), else the folded
    text; ``None`` when empty."""
    if value is None or not value.strip():
        return None
    return lookup_country(value) or country_key(value)


def country_label(code: str) -> str:
    names = country_names().get(code)
    return names[0].title() if names else code


# ------------------------------------------------------------------------------- names


def _edits(a: str, b: str, limit: int) -> int:
    from rapidfuzz.distance import OSA

    return int(OSA.distance(a, b, score_cutoff=limit))


def _umlaut(token: str) -> str:
    """German umlauts written out (``mueller``) read as the bare letter (``muller``), and
    ``ks`` as ``x`` (``Aleksandrov``, ``Alexandrov``: two ways of writing Cyrillic кс)."""
    return token.replace("ae", "a").replace("oe", "o").replace("ue", "u").replace("ks", "x")


def _stem(token: str) -> str:
    """A crude stem: plural and past endings dropped (``associates``/``associated``)."""
    if len(token) > 4:
        for end in ("ies", "s", "ed", "e"):
            if token.endswith(end):
                token = token[: -len(end)] + ("y" if end == "ies" else "")
                if end == "s" and token.endswith("e") and len(token) > 4:
                    token = token[:-1]
                break
    return token


def typo_allowance(token: str, size: int) -> int:
    """Edits the longer of two tokens may be apart from the other and still match, in names of
    ``size`` words (the shorter name's): none with a digit; in a one-word name none below 8
    letters, in two words none below 7, from three words none below 4 letters; one up to 9
    letters, two from 10."""
    least = 8 if size == 1 else 7 if size == 2 else 4
    if any(c.isdigit() for c in token) or len(token) < least:
        return 0
    return 1 if len(token) <= 9 else 2


@lru_cache(maxsize=1 << 18)
def _token_score(a: str, b: str, size: int) -> float:
    if a == b or _umlaut(a) == _umlaut(b) or (len(a) > 4 and _stem(a) == _stem(b)):
        return 1.0
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    limit = typo_allowance(longer, size) if not any(c.isdigit() for c in shorter) else 0
    if limit == 0 or abs(len(a) - len(b)) > limit or _other_family(a, b):
        return 0.0
    edits = _edits(_umlaut(a), _umlaut(b), limit)
    return 1.0 - TYPO_PENALTY * edits if edits <= limit else 0.0


#: endings of family names made from a father's name (``Hansen``, ``Peterson``, ``Karlsson``)
_PATRONYMIC = ("sen", "son", "sson", "ssen", "sohn", "zen")


def _other_family(a: str, b: str) -> bool:
    """Two words that are not one word mistyped but two family names: they differ in the
    first letter (``Carlsen``, ``Karlsen``: people seldom mistype a name's first letter, and
    many names exist in both spellings) or only in a patronymic ending (``Hansen``,
    ``Hanssen``; ``Peterson``, ``Petersen``)."""
    if a[0] != b[0]:
        return True
    stems = [_without_patronymic(a), _without_patronymic(b)]
    return None not in stems and stems[0] == stems[1]


def _without_patronymic(word: str) -> str | None:
    """The word without its longest patronymic ending, None when it has none."""
    ends = [e for e in _PATRONYMIC if word.endswith(e)]
    return word[: -len(max(ends, key=len))] if ends else None


def _join_split(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """``a`` with neighbouring tokens joined where ``b`` writes them as one (``north star`` →
    ``northstar``)."""
    wanted = set(b)
    out: list[str] = []
    i = 0
    while i < len(a):
        if i + 1 < len(a) and a[i] + a[i + 1] in wanted:
            out.append(a[i] + a[i + 1])
            i += 2
        else:
            out.append(a[i])
            i += 1
    return tuple(out)


def _align(
    a: tuple[str, ...], b: tuple[str, ...]
) -> tuple[float, list[str], list[str], list[tuple[str, str]]]:
    """Greedy best-first pairing of the tokens: the matched weight, the tokens of each side
    left without a partner and the pairs matched with a typo."""
    size = min(len(a), len(b))
    pairs = sorted(
        ((_token_score(x, y, size), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched = 0.0
    typos = []
    for score, i, j in pairs:
        if score <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched += score * (token_weight(a[i]) + token_weight(b[j])) / 2
        if score < 1:
            typos.append((a[i], b[j]))
    left_a = [x for i, x in enumerate(a) if i not in used_a]
    left_b = [y for j, y in enumerate(b) if j not in used_b]
    return matched, left_a, left_b, typos


def _only_qualifiers(tokens: list[str]) -> bool:
    """Tokens that only say where or which part of a group: a country's name, "group"."""
    rest = [t for t in tokens if t not in GROUP_WORDS and t not in single_legal_forms()]
    return not rest or lookup_country(" ".join(rest)) is not None


def _initials(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return len(short) == 1 and 2 <= len(short[0]) <= 5 and short[0] == _initials_of(long)


def _initials_of(tokens: tuple[str, ...]) -> str:
    """The initials of a name of two words or more (``international business machines`` →
    ``ibm``), empty for a shorter one."""
    return "".join(t[0] for t in tokens) if len(tokens) >= 2 else ""


def _letters(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """A name of single letters as one word (``P & G`` → ``pg``)."""
    return ("".join(tokens),) if len(tokens) > 1 and all(len(t) == 1 for t in tokens) else tokens


def initials_of_other(a: tuple[str, ...], b: tuple[str, ...]) -> str | None:
    """The one-word name that is the other name's initials (``ibm`` beside ``international
    business machines``), if one is."""
    a, b = _letters(a), _letters(b)
    if _initials(a, b):
        return a[0]
    return b[0] if _initials(b, a) else None


def _order(tokens: tuple[str, ...]) -> list[str]:
    """The distinctive words in their order (``garcia fernandez``), stemmed."""
    return [_stem(_umlaut(t)) for t in tokens if t not in GENERIC_WORDS]


def _swapped(x: list[str], y: list[str]) -> bool:
    """Two distinctive words in the other order (``Palmer Reed``, ``Reed Palmer``): often two
    partners' firms, not one."""
    return len(x) == 2 and x == y[::-1] and x != y


def name_score(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]]:
    """Similarity in [0, 1] of two names' tokens, with its reasons."""
    if not a or not b:
        return 0.0, ["a name is empty"]
    if a == b:
        return 1.0, ["the names are the same once legal forms and spelling are set aside"]
    if "".join(a) == "".join(b):
        return 1.0, ["the names are the same but for spaces"]
    a, b = _letters(a), _letters(b)
    if _initials(a, b) or _initials(b, a):
        short, long = (a, b) if len(a) == 1 else (b, a)
        return INITIALS_SCORE, [
            f"{short[0].upper()} could be the initials of {' '.join(long).title()}, "
            "but initials are often shared: a person should decide"
        ]
    a, b = _join_split(a, b), _join_split(b, a)
    matched, left_a, left_b, typos = _align(a, b)
    reasons = [f"{x!r} and {y!r} are a typo apart" for x, y in typos]
    weight_a = sum(token_weight(t) for t in a)
    weight_b = sum(token_weight(t) for t in b)
    if matched and bool(left_a) != bool(left_b) and _only_qualifiers(left_a or left_b):
        extra = " ".join(left_a or left_b)
        reasons.append(f"one name is the other with {extra!r}, which says where or which part")
        return matched / min(weight_a, weight_b), reasons
    score = 2 * matched / (weight_a + weight_b)
    if not left_a and not left_b and _swapped(_order(a), _order(b)) and score >= REVIEW_FROM:
        reasons.append("the same words in another order: often another firm")
        score = min(score, INITIALS_SCORE)
    if left_a or left_b:
        unmatched = " / ".join(" ".join(side) for side in (left_a, left_b) if side)
        reasons.append(f"words only one name has: {unmatched}")
    if not matched:
        reasons.append("the names share no word")
    return score, reasons


def similarity(a: str, b: str, rules: Rules = DEFAULT_RULES) -> float:
    """Similarity in [0, 1] of two account names (renames applied)."""
    x, y = account(a, rules=rules), account(b, rules=rules)
    return name_score(x.current, y.current)[0]


# ------------------------------------------------------------------------------ accounts


def _places(codes: Iterable[str]) -> str:
    return ", ".join(sorted(country_label(c) for c in codes))


def _as_typed(label: str) -> str:
    """A domain label as it reads: an IDNA label (``xn--mller-kva``) decoded to its letters
    (``müller``), written in Latin letters with umlauts as the bare letter and without hyphens,
    so that ``müller-bau.de`` and ``mueller-bau.de``, ``fußball.de`` and ``fussball.de`` read
    alike."""
    if label.startswith("xn--"):
        import idna

        try:
            label = idna.decode(label)
        except idna.IDNAError:
            return label
    return _umlaut(latin(label).replace("-", ""))


def _label(domain: str) -> str:
    """The registered name without its public suffix or hyphens (``adventure-works``), as it
    reads."""
    return _as_typed(registered_domain(domain).split(".", 1)[0])


def _related_domains(a: str, b: str, names: Iterable[tuple[str, ...]]) -> bool:
    """Domains of one organisation by their look: the same name under another ending
    (``relecloud.com``, ``relecloud.io``) or in another writing (``müller-bau.de``,
    ``mueller-bau.de``), one name the start of the other (``datum.com``, ``datumcorp.com``),
    one's name a label of the other's host (``toyota.co.jp``, ``global.toyota``: a brand's own
    ending), or one's name the initials of one of the ``names`` compared (``se.com`` of
    Schneider Electric)."""
    x, y = _label(a), _label(b)
    if x.startswith(y) or y.startswith(x):
        return True
    if x in {_as_typed(p) for p in b.split(".")} or y in {_as_typed(p) for p in a.split(".")}:
        return True
    return bool({x, y} & {_initials_of(tokens) for tokens in names} - {""})


def _branch(a: Account, b: Account) -> tuple[str, str] | None:
    """``a``'s host is a subdomain whose label is a word of ``a``'s name that ``b``'s name lacks
    (``mobility.siemens.com`` for Siemens Mobility beside Siemens AG): a part of the group."""
    if not a.domain or not b.domain or a.domain == b.domain:
        return None
    registered = registered_domain(a.domain)
    if a.domain == registered:
        return None
    labels = a.domain[: -len(registered) - 1].split(".")
    for label in labels:
        if label in a.tokens and label not in b.tokens:
            return a.domain, a.name
    return None


def _group_companies(a: Account, b: Account, domain: str) -> bool:
    """Both names carry the name of their shared ``domain`` as a word and each a word of its own
    that says neither where nor "group" (``Deloitte Tax`` and ``Deloitte Consulting`` on
    deloitte.com): two companies of the group that owns the domain, more often than one."""
    label = _label(domain)
    x, y = a.current or a.tokens, b.current or b.tokens
    if label not in {_umlaut(t) for t in x} or label not in {_umlaut(t) for t in y}:
        return False
    _, left_a, left_b, _ = _align(x, y)
    return bool(left_a and left_b) and not (_only_qualifiers(left_a) or _only_qualifiers(left_b))


def _initials_domain(a: Account, b: Account, domains: Iterable[str]) -> str | None:
    """Of the accounts' own ``domains``, the one that is written with the initials one name is
    of the other (``ibm.com`` beside ``IBM`` and ``International Business Machines``), if any."""
    short = initials_of_other(a.current or a.tokens, b.current or b.tokens)
    if short is None:
        return None
    return next((registered_domain(d) for d in domains if _label(d) == short), None)


def _decide(score: float, rules: Rules) -> Decision:
    if score >= rules.same_from:
        return Decision.SAME
    return Decision.REVIEW if score >= rules.review_from else Decision.DIFFERENT


def worth_comparing(a: Account, b: Account) -> bool:
    """A quick test (rapidfuzz, in C) that leaves out pairs :func:`compare` would surely call
    different: names far apart that are not initials, on no shared domain."""
    from rapidfuzz import fuzz

    if a.domain and b.domain and registered_domain(a.domain) == registered_domain(b.domain):
        return True
    x, y = a.current or a.tokens, b.current or b.tokens
    if (len(x) == 1 and len(x[0]) <= 5) or (len(y) == 1 and len(y[0]) <= 5):
        return True
    if a.renamed_from or b.renamed_from:
        return True
    if set(x) & set(y) - GENERIC_WORDS:
        return True
    own_x = "".join(t for t in x if t not in GENERIC_WORDS) or "".join(x)
    own_y = "".join(t for t in y if t not in GENERIC_WORDS) or "".join(y)
    return fuzz.ratio(own_x, own_y, score_cutoff=70) > 0


def compare(
    a: Account,
    b: Account,
    rules: Rules = DEFAULT_RULES,
    decisions: Mapping[frozenset[str], Decision] | None = None,
) -> Verdict:
    """Whether ``a`` and ``b`` are the same customer (see the module's docstring)."""
    if decisions:
        decided = decisions.get(frozenset((a.fingerprint, b.fingerprint)))
        if decided is not None:
            said = "the same" if decided is Decision.SAME else "different"
            return Verdict(
                decided,
                1.0 if decided is Decision.SAME else 0.0,
                (f"a person decided these are {said} accounts",),
                MatchedOn.PERSON if decided is Decision.SAME else None,
            )
    where_a, where_b = a.country or a.name_country, b.country or b.name_country
    if where_a and where_b and where_a != where_b:
        return Verdict(
            Decision.DIFFERENT,
            0.0,
            (
                f"in two countries ({country_label(where_a)}, {country_label(where_b)}): "
                "a group's companies in two countries are separate accounts",
            ),
        )
    reasons: list[str] = []
    for side in (a, b):
        if side.domain and says_nothing(side.domain, rules.mail_domains, rules.not_mail_domains):
            reasons.append(
                f"{side.domain} is a mail provider's or a shared domain: it says nothing "
                "about the company"
            )
    for one, other in ((a, b), (b, a)):
        if one.country or one.name_country or not one.form_countries:
            continue
        # against a known country only: two legal forms of two countries may still be one
        # company's names in two languages
        there = other.country or other.name_country
        theirs = {there} if there and lookup_country(there) else None
        if theirs and not one.form_countries & theirs:
            return Verdict(
                Decision.DIFFERENT,
                0.0,
                (
                    f"{one.name!r} has a legal form of "
                    f"{_places(one.form_countries)}, not of "
                    f"{_places(theirs)}: "
                    "a group's companies in two countries are separate accounts",
                ),
            )
    real = [
        side.domain
        for side in (a, b)
        if side.domain and not says_nothing(side.domain, rules.mail_domains, rules.not_mail_domains)
    ]
    if len(real) == 2 and registered_domain(real[0]) == registered_domain(real[1]):
        reasons.append(f"the same web domain ({registered_domain(real[0])})")
        branch = _branch(a, b) or _branch(b, a)
        if not branch and _group_companies(a, b, real[0]):
            reasons.append(
                f"but both names are the group's ({_label(real[0])}) with words of their own: "
                "two of its companies share its domain, a person should decide"
            )
            return Verdict(Decision.REVIEW, INITIALS_SCORE, tuple(reasons))
        if branch:
            reasons.append(
                f"but {branch[0]} is the host of {branch[1]!r}, a part of the organisation: "
                "a person should decide"
            )
            return Verdict(Decision.REVIEW, INITIALS_SCORE, tuple(reasons))
        return Verdict(Decision.SAME, 1.0, tuple(reasons), MatchedOn.DOMAIN)
    if (a.renamed_from or b.renamed_from) and a.current == b.current:
        for side in (a, b):
            if side.renamed_from in rules.alias_names:
                reasons.append(
                    f"{side.name!r} is how {' '.join(side.current).title()} is also written"
                )
            elif side.renamed_from:
                reasons.append(
                    f"{' '.join(side.renamed_from).title()} is the former name of "
                    f"{' '.join(side.current).title()}"
                )
        return Verdict(Decision.SAME, 1.0, tuple(reasons), MatchedOn.RENAME)
    score, why = name_score(a.current, b.current)
    reasons.extend(why)
    decision = _decide(score, rules)
    matched_on: MatchedOn | None = MatchedOn.NAME
    initials_domain = _initials_domain(a, b, real) if where_a and where_a == where_b else None
    if initials_domain and decision is Decision.REVIEW:
        reasons.append(
            f"and {initials_domain} is written with those initials, in the same country: "
            "the initials are the company's own"
        )
        return Verdict(Decision.SAME, rules.same_from, tuple(reasons), MatchedOn.DOMAIN)
    if len(real) == 2 and decision is Decision.REVIEW and _label(real[0]) == _label(real[1]):
        reasons.append(
            f"and their web domains are one name under two endings ({registered_domain(real[0])}, "
            f"{registered_domain(real[1])}): the names are one organisation's"
        )
        decision, matched_on = Decision.SAME, MatchedOn.DOMAIN
        score = max(score, rules.same_from)
    if a.division and b.division and a.division != b.division and decision is Decision.SAME:
        reasons.append(
            f"but one is {' '.join(a.division).title()!r} and the other "
            f"{' '.join(b.division).title()!r}: a person should decide"
        )
        decision, score = Decision.REVIEW, min(score, INITIALS_SCORE)
    names = (a.current or a.tokens, b.current or b.tokens)
    if (
        len(real) == 2
        and decision is Decision.SAME
        and not _related_domains(real[0], real[1], names)
    ):
        reasons.append(
            f"but their web domains differ ({registered_domain(real[0])}, "
            f"{registered_domain(real[1])}): a person should decide"
        )
        decision, score = Decision.REVIEW, min(score, INITIALS_SCORE)
    if decision is not Decision.SAME:
        matched_on = None
    return Verdict(decision, round(score, 4), tuple(reasons), matched_on)


def check(
    name_a: str,
    name_b: str,
    *,
    domain_a: str | None = None,
    domain_b: str | None = None,
    country_a: str | None = None,
    country_b: str | None = None,
    rules: Rules = DEFAULT_RULES,
    decisions: Mapping[frozenset[str], Decision] | None = None,
) -> Verdict:
    """Compare two accounts as typed (bad domains are left out)."""
    a = account(name_a, domain_a, country_a, rules, lenient=True)
    b = account(name_b, domain_b, country_b, rules, lenient=True)
    return compare(a, b, rules, decisions)


def accounts(
    rows: Iterable[tuple[str, str | None, str | None]], rules: Rules = DEFAULT_RULES
) -> list[Account]:
    return [account(n, d, c, rules, lenient=True) for n, d, c in rows]


__all__ = [
    "Account",
    "Decision",
    "DomainError",
    "MatchedOn",
    "Rules",
    "Verdict",
    "account",
    "check",
    "compare",
    "similarity",
]
