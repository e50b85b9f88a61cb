"""Whether two accounts are the same: normalized names, domains and countries, and a
similarity score between names. Pure functions, no database.

A name is reduced to its *tokens*: Unicode NFKD, accents dropped, letters that do not decompose
transliterated (ł, ø, æ, ß, ...), case folded; dots and apostrophes removed (``L.L.C.`` →
``llc``, ``L'Oréal`` → ``loreal``), a web suffix dropped (``salesforce.com`` → ``salesforce``),
other punctuation made a space; ``&`` and ``+`` read as "and"; abbreviations spelled out
(``Intl`` → ``international``, ``St.`` → ``saint``); then legal forms (Inc, GmbH, S.p.A., Oyj,
Kabushiki Kaisha, ...) and small words ("the", "and", "of", ...) removed wherever they stand.

Two names are compared token against token, in any order: equal tokens match, and so do tokens
a typo apart (one edit for 4–8 letters, two from 9; a swap of neighbours is one edit) with a
small penalty. The score is the share of both names' tokens that matched (Dice); names equal
once spaces are removed score 1, and so does a name whose extra tokens are all country names
(``Contoso Ltd (Australia)``) or ``group``/``holding``. A single token of 3+ letters that is
the initials of the other name scores :data:`ACRONYM_SCORE` (``IBM``). See docs/registrations.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from partnerscope.geo import country_key, country_names, fold, lookup_country
from partnerscope.settings.registrations import DEFAULT_THRESHOLD


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: legal forms across languages, as tokens once dots are removed (``S.p.A.`` → ``spa``)
LEGAL_FORMS: frozenset[str] = _set(
    """
    inc incorporated corp corporation co company cos companies llc llp lp ltd limited plc
    gmbh mbh ag aktiengesellschaft kg kgaa ohg ug se sa sas sasu sarl snc sca spa srl sl
    slu sau sapi bv nv vof cv oy oyj ab abp publ as asa aps kk kabushiki kaisha gk yk
    pty pte sdn bhd tbk pt ltda eireli sro spol zrt kft nyrt ooo oao zao pao doo
    sp zoo ulc pllc
    """
)

#: legal forms of more than one token, removed before the single ones
LEGAL_PHRASES: tuple[tuple[str, ...], ...] = (
    ("kabushiki", "kaisha"),
    ("godo", "kaisha"),
    ("sp", "z", "oo"),
    ("s", "de", "rl"),
    ("sa", "de", "cv"),
    ("a", "s"),
)

#: words that do not tell accounts apart
STOP_WORDS: frozenset[str] = _set("the and of und et for")

#: abbreviations and their spelled-out word
ABBREVIATIONS: dict[str, str] = {
    "intl": "international",
    "mfg": "manufacturing",
    "svc": "services",
    "svcs": "services",
    "tech": "technology",
    "techs": "technologies",
    "bros": "brothers",
    "assoc": "associates",
    "assocs": "associates",
    "lab": "laboratory",
    "labs": "laboratories",
    "dept": "department",
    "mgmt": "management",
    "natl": "national",
    "chem": "chemical",
    "engrg": "engineering",
    "sys": "systems",
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "univ": "university",
    "inst": "institute",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holding",
    "elec": "electric",
    "inds": "industries",
    "pharma": "pharmaceuticals",
    "pharm": "pharmaceuticals",
}

#: tokens a name may carry on top of another and still name the same account
GROUP_WORDS: frozenset[str] = frozenset({"group", "holding", "holdings"})

_WEB_SUFFIX = re.compile(r"(?<=[a-z0-9])\.(com|net|org|io)\b")
_DROPPED = re.compile(r"[.'’`´]")
_AND = re.compile(r"[&+]")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")

#: score of a one-token name that is the other name's initials (``IBM``)
ACRONYM_SCORE = 0.9
#: what a token a typo apart counts for, per edit
TYPO_PENALTY = 0.05
#: default similarity from which two names are taken for the same account


#: every word of a country's names (``germany``, ``deutschland``, ``united``, ``kingdom``)
_COUNTRY_WORDS = frozenset(
    word for names in country_names().values() for name in names for word in name.split()
)


def _remove_phrases(words: list[str], phrases: Iterable[tuple[str, ...]]) -> list[str]:
    out = list(words)
    for phrase in phrases:
        size = len(phrase)
        i = 0
        while i + size <= len(out):
            if tuple(out[i : i + size]) == phrase:
                del out[i : i + size]
            else:
                i += 1
    return out


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    """The name's words before legal forms and small words are removed."""
    text = _WEB_SUFFIX.sub("", fold(name))
    text = _DROPPED.sub("", text)
    text = _AND.sub(" and ", text)
    text = _NOT_WORD.sub(" ", text)
    return tuple(ABBREVIATIONS.get(w, w) for w in text.split())


def name_tokens(name: str, extra_legal_forms: Iterable[str] = ()) -> tuple[str, ...]:
    """The tokens of an account name that tell it apart (see the module's docstring).

    A name made only of legal forms and small words keeps its words, so that it still
    matches itself (``The Company``)."""
    words = list(_words(name))
    legal = LEGAL_FORMS | {w for extra in extra_legal_forms for w in _words(extra)}
    phrases = [
        *LEGAL_PHRASES,
        *(p for p in (_words(extra) for extra in extra_legal_forms) if len(p) > 1),
    ]
    kept = [
        w
        for w in _remove_phrases(words, phrases)
        if w not in legal and w not in STOP_WORDS and not _misspelt_legal_form(w)
    ]
    return tuple(kept or words)


@lru_cache(maxsize=4096)
def _misspelt_legal_form(word: str) -> bool:
    """A long legal form with a typo (``Compnay``), which would otherwise count as a word."""
    if len(word) < 6 or word in _COUNTRY_WORDS:
        return False
    return any(
        len(form) >= 6 and _edits(word, form, 1) <= 1
        for form in LEGAL_FORMS
        if abs(len(form) - len(word)) <= 1
    )


def normalize_name(name: str, extra_legal_forms: Iterable[str] = ()) -> str:
    """The account name as compared: its tokens joined by spaces."""
    return " ".join(name_tokens(name, extra_legal_forms))


# --------------------------------------------------------------------------- domains


#: mail providers' domains: they say nothing about whose account it is
FREE_MAIL_DOMAINS: frozenset[str] = _set(
    """
    gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com ymail.com
    aol.com icloud.com me.com mac.com proton.me protonmail.com tutanota.com fastmail.com
    gmx.de gmx.net gmx.at gmx.ch web.de t-online.de freenet.de mail.de mail.com mail.ru
    yandex.ru yandex.com rambler.ru orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it
    virgilio.it tiscali.it alice.it btinternet.com sky.com talktalk.net virginmedia.com
    ntlworld.com blueyonder.co.uk comcast.net verizon.net att.net sbcglobal.net cox.net
    earthlink.net bigpond.com optusnet.com.au shaw.ca rogers.com sympatico.ca qq.com 163.com
    126.com sina.com naver.com daum.net hanmail.net seznam.cz wp.pl o2.pl onet.pl interia.pl
    rediffmail.com zoho.com
    """
)
#: providers whose mail domains exist under many countries' endings (hotmail.co.uk, yahoo.es)
_FREE_MAIL_NAMES = frozenset(
    {"gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "ymail", "gmx"}
)
#: hosts under which each customer gets a name of its own (``shop.myshopify.com``: the
#: private section of the Public Suffix List, the ones met in CRM exports): the customer's name
#: is the label before them, and the host alone says nothing about whose account it is
PLATFORMS: frozenset[str] = _set(
    """
    myshopify.com wixsite.com squarespace.com wordpress.com blogspot.com github.io
    herokuapp.com azurewebsites.net cloudapp.net netlify.app vercel.app pages.dev web.app
    firebaseapp.com appspot.com sharepoint.com godaddysites.com weebly.com webflow.io
    business.site carrd.co square.site
    """
)


#: second-level labels under which a country's registry gives out names (``acme.co.uk``)
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ltd", "plc", "ne"})
_DOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


class DomainError(ValueError):
    """Not a domain."""


def normalize_domain(value: str | None) -> str | None:
    """The domain of a web address or e-mail address as compared: lower case, without scheme,
    user, ``www.``, port, path or a trailing dot (``https://WWW.Acme.com:443/about`` →
    ``acme.com``); ``None`` for an empty value. Raises :class:`DomainError` for anything that is
    not a domain."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]
    text = text.split(":", 1)[0].rstrip(".")
    text = re.sub(r"^www\d*\.", "", text)
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise DomainError(f"{value!r} is not a domain") from None
    if not _DOMAIN.fullmatch(text) or text.rsplit(".", 1)[-1].isdigit():
        raise DomainError(f"{value!r} is not a domain; write it like acme.com")
    return text


def registered_domain(domain: str) -> str:
    """The name an organization registered (``emea.acme.co.uk`` → ``acme.co.uk``): the last two
    labels, or three under a country's second level (``co.uk``, ``com.au``) or a platform
    (``shop.myshopify.com``), four under a US school district (``town.k12.il.us``)."""
    labels = domain.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in PLATFORMS:
        return ".".join(labels[-3:])
    if len(labels) >= 4 and labels[-1] == "us" and labels[-3] == "k12":
        return ".".join(labels[-4:])
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def says_nothing(domain: str) -> bool:
    """Whether a domain tells nothing of whose account it is: a mail provider's (at any
    country's ending, or a subdomain of it) or a platform's own."""
    registered = registered_domain(domain)
    return (
        registered in FREE_MAIL_DOMAINS
        or registered.split(".", 1)[0] in _FREE_MAIL_NAMES
        or registered in PLATFORMS
    )


def normalize_country(value: str | None) -> str | None:
    """A country as compared: its ISO 3166 code when the name or code is known (``Deutschland``,
    ``de``, ``DE`` → ``DE``: :func:`~partnerscope.geo.lookup_country`), else
    the folded text; ``None`` when empty."""
    if value is None or not value.strip():
        return None
    return lookup_country(value) or country_key(value)


# ------------------------------------------------------------------------- similarity


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), or ``limit + 1``
    when it is larger than ``limit``."""
    from rapidfuzz.distance import OSA

    return int(OSA.distance(a, b, score_cutoff=limit))


def typo_allowance(token: str) -> int:
    """Edits a token may be apart from another and still match: none below 4 characters or
    with a digit, one up to 8, two from 9."""
    if len(token) < 4 or any(c.isdigit() for c in token):
        return 0
    return 1 if len(token) <= 8 else 2


def _token_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    limit = min(typo_allowance(a), typo_allowance(b))
    if limit == 0 or abs(len(a) - len(b)) > limit:
        return 0.0
    edits = _edits(a, b, limit)
    return 1.0 - TYPO_PENALTY * edits if edits <= limit else 0.0


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str], list[str]]:
    """Greedy best-first pairing of the tokens: the matched weight and the tokens of each
    side left without a partner."""
    pairs = sorted(
        ((_token_score(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched = 0.0
    for score, i, j in pairs:
        if score <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched += score
    left_a = [x for i, x in enumerate(a) if i not in used_a]
    left_b = [y for j, y in enumerate(b) if j not in used_b]
    return matched, left_a, left_b


def _only_qualifiers(tokens: list[str]) -> bool:
    """Tokens that only say where or which part of a group: country names, "group"."""
    return all(t in _COUNTRY_WORDS or t in GROUP_WORDS for t in tokens)


def _is_acronym(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    if len(short) != 1 or len(short[0]) < 3 or len(long) < 3:
        return False
    return short[0] == "".join(t[0] for t in long)


def token_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Similarity in [0, 1] of two names' tokens (:func:`name_tokens`)."""
    if not a or not b:
        return 0.0
    if a == b or "".join(a) == "".join(b):
        return 1.0
    if _is_acronym(a, b) or _is_acronym(b, a):
        return ACRONYM_SCORE
    matched, left_a, left_b = _align(a, b)
    if matched and (not left_a or not left_b) and _only_qualifiers(left_a or left_b):
        # one name is the other plus where it is ("Fabrikam Canada") or "Group"
        size = min(len(a), len(b))
        return matched / size
    return 2 * matched / (len(a) + len(b))


def similarity(a: str, b: str, extra_legal_forms: Iterable[str] = ()) -> float:
    """Similarity in [0, 1] of two account names."""
    extra = tuple(extra_legal_forms)
    return token_similarity(name_tokens(a, extra), name_tokens(b, extra))


# --------------------------------------------------------------------------- accounts


class MatchedOn(StrEnum):
    """Why two accounts are taken for the same: their domains or their names."""

    DOMAIN = "domain"
    NAME = "name"


@dataclass(frozen=True)
class Account:
    """An account as a registration or an opportunity names it, normalized."""

    name: str
    tokens: tuple[str, ...]
    domain: str | None = None
    country: str | None = None

    @property
    def key(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class Match:
    matched_on: MatchedOn
    score: float


@dataclass(frozen=True)
class Matcher:
    """Decides whether two accounts are the same.

    Same registered domain: the same account, whatever the names and countries. Otherwise the
    names must score at least ``threshold``, and the countries must agree when both are known
    (a group's companies in two countries are separate accounts)."""

    threshold: float = DEFAULT_THRESHOLD
    extra_legal_forms: tuple[str, ...] = field(default=())

    def account(self, name: str, domain: str | None = None, country: str | None = None) -> Account:
        """Normalize what was typed (raises :class:`DomainError` for a bad domain)."""
        return Account(
            name=name,
            tokens=name_tokens(name, self.extra_legal_forms),
            domain=normalize_domain(domain),
            country=normalize_country(country),
        )

    def match(self, a: Account, b: Account) -> Match | None:
        if (
            a.domain
            and b.domain
            and not says_nothing(a.domain)
            and registered_domain(a.domain) == registered_domain(b.domain)
        ):
            return Match(MatchedOn.DOMAIN, 1.0)
        if a.country and b.country and a.country != b.country:
            return None
        score = token_similarity(a.tokens, b.tokens)
        return Match(MatchedOn.NAME, score) if score >= self.threshold else None
