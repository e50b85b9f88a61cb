"""Account names as compared: the tokens that tell one customer from another.

A name is reduced to its *tokens* (docs/account-identity.md, "Names"):

1. legal forms written in Chinese, Japanese or Korean (株式会社, 有限公司, 주식회사, ...) are
   removed while the name is still in its own script;
2. a web suffix is dropped (``salesforce.com`` → ``salesforce``), every letter is written in
   Latin letters (anyascii: ``Газпром нефть`` → ``gazprom neft``; ``ß`` → ``ss``, ``ø`` → ``o``),
   accents dropped and case folded; dots and apostrophes removed (``L.L.C.`` → ``llc``), other
   punctuation made a space, ``&`` and ``+`` read as "and";
3. abbreviations are spelled out (``Intl`` → ``international``, ``Med Ctr`` → ``medical
   center``, ``Comms`` → ``communications``; :data:`ABBREVIATIONS` and the user's own);
4. legal forms (cleanco's table of every country's forms, :data:`OWN_LEGAL_FORMS` for those it
   misses, and the user's own) and small words are removed from both ends of the name, as often
   as they stand there (``Koch Anlagenbau GmbH & Co. KG`` → ``koch anlagenbau``);
5. a former name at the start of a name is replaced by the current one
   (``Facebook Ireland`` → ``meta platforms ireland``; :func:`load_renames` and the user's own).

A name made only of legal forms and small words keeps its words, so that it still matches itself.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path

from partnerscope.geo import fold

RENAMES_FILE = Path(__file__).parent / "renames.csv"
ALIASES_FILE = Path(__file__).parent / "aliases.csv"

#: legal forms in their own script, removed before the name is written in Latin letters
NATIVE_LEGAL_FORMS: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "（株）",
    "(株)",
    "㈱",
    "주식회사",
    "유한회사",
    "(주)",
    "㈜",
    # Arabic "company" and Hebrew "Ltd", which stand before or after the name
    "شركة",
    'בע"מ',
    "בע״מ",
)

#: "group" and "holdings" in Chinese, Japanese and Korean, written as the English word before the
#: name is written in Latin letters (``阿里巴巴集团`` → ``阿里巴巴 group``), so that they count as
#: the English words do
NATIVE_GROUP_WORDS: Mapping[str, str] = {
    "控股集团": "holdings group",
    "集团": "group",
    "集團": "group",
    "控股": "holdings",
    "ホールディングス": "holdings",
    "グループ": "group",
    "그룹": "group",
    "홀딩스": "holdings",
}

#: legal forms cleanco's table misses or writes otherwise (each a sequence of tokens, once dots
#: are removed and ``&`` is read as "and")
OWN_LEGAL_FORMS: tuple[str, ...] = (
    "sab de cv",
    "sa de cv",
    "s de rl de cv",
    "sapi de cv",
    "sp z o o",
    "sp z oo",
    "spz oo",
    "spzoo",
    "spolka z oo",
    "spolka z ograniczona odpowiedzialnoscia",
    "spolka akcyjna",
    "spol s r o",
    "spol s ro",
    "s r o",
    "a s",
    "gesmbh",
    "ges m b h",
    "gmbh and co kg",
    "gmbh and co kgaa",
    "ag and co kg",
    "and co kg",
    "and co",
    "berhad",
    "sendirian berhad",
    "sdn bhd",
    "pjsc",
    "ojsc",
    "cjsc",
    "jsc",
    "public joint stock company",
    "joint stock company",
    "aktiebolag",
    "aktiebolaget",
    "telefonaktiebolaget",
    "aktieselskab",
    "aksjeselskap",
    "allmennaksjeselskap",
    "osakeyhtio",
    "julkinen osakeyhtio",
    "aktiengesellschaft",
    "kommanditgesellschaft",
    "gesellschaft mit beschrankter haftung",
    "public limited company",
    "private limited company",
    "private limited",
    "pvt ltd",
    "pvt",
    "proprietary limited",
    "pty ltd",
    "pty",
    "company limited",
    "co ltd",
    "limited liability company",
    "limited partnership",
    "kabushiki kaisha",
    "kabushikigaisha",
    "godo kaisha",
    "yugen kaisha",
    "kk",
    "ek",
    "ev",
    "publ",
    "nyrt",
    "zrt",
    "kft",
    "bt",
    "as",
    "asa",
    "ehf",
    "hf",
    "sro",
    "doo",
    "dooel",
    "ood",
    "ooo",
    "oao",
    "zao",
    "pao",
    "ao",
    "sarl",
    "sas",
    "sasu",
    "sa",
    "nv",
    "bv",
    "srl",
    "spa",
    "lda",
    "limitada",
    "ltda",
    "sociedad anonima",
    "societe anonyme",
    "societa per azioni",
    "incorporated",
    "inc",
    "corporation",
    "corp",
    "llc",
    "llp",
    "lp",
    "plc",
    "ltd",
    "limited",
    "co",
    "company",
    "tbk",
    "pt",
    "jsc",
    "ulc",
    "pllc",
    "se",
    "ag",
    "kg",
    "kgaa",
    "gmbh",
    "mbh",
    "oy",
    "oyj",
    "abp",
    "ab",
    "aps",
    "a/s",
)

#: legal forms that stand before a name (``PT Astra``, ``ПАО Газпром``, ``AB Volvo``)
HEAD_FORMS: frozenset[tuple[str, ...]] = frozenset(
    tuple(f.split())
    for f in (
        "pt", "cv", "ooo", "oao", "zao", "pao", "ao", "pjsc", "ojsc", "jsc", "ab",
        "aktiebolaget", "telefonaktiebolaget", "kk", "kabushiki kaisha", "sc", "uab", "as",
    )
)  # fmt: skip

#: tokens a name may carry on top of another and still name the same account ("group" in the
#: names' languages too: ``Grupo``, ``Gruppe``, Greek ``Όμιλος``)
GROUP_WORDS: frozenset[str] = frozenset(
    {"group", "holding", "holdings", "the", "grupo", "groupe", "gruppe", "gruppo", "grupa",
     "groep", "omilos"}
)  # fmt: skip

#: words that do not tell accounts apart, removed wherever they stand ("and" in the name's
#: languages: ``Hoffmann und Söhne`` is ``Hoffmann & Söhne``)
STOP_WORDS: frozenset[str] = frozenset({"the", "and", "of", "und", "et", "for", "og", "och"})
#: one-letter "and" (Spanish, Italian, Portuguese), removed between two words
SHORT_ANDS: frozenset[str] = frozenset({"y", "e", "i"})
#: where a name's division, site or addressee begins: ``Contoso Ltd - Procurement``,
#: ``Fabrikam Inc. (North America)``, ``Litware Inc / IT``, ``Northwind c/o Accounts Payable``
_DIVISION = re.compile(r"\s+[-–—/|]\s+|\s*\(|\s+c/o\s+|\s+attn\.?:?\s+", re.IGNORECASE)

#: abbreviations and their spelled-out word
ABBREVIATIONS: Mapping[str, str] = {
    "intl": "international",
    "int'l": "international",
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
    "eng": "engineering",
    "sys": "systems",
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "ft": "fort",
    "univ": "university",
    "inst": "institute",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holding",
    "elec": "electric",
    "inds": "industries",
    "ind": "industrial",
    "pharma": "pharmaceuticals",
    "pharm": "pharmaceuticals",
    "med": "medical",
    "ctr": "center",
    "cntr": "center",
    "centre": "center",
    "hosp": "hospital",
    "ins": "insurance",
    "comms": "communications",
    "comm": "communications",
    "telecom": "telecommunications",
    "telecomm": "telecommunications",
    "constr": "construction",
    "dist": "distribution",
    "distr": "distribution",
    "fin": "financial",
    "finl": "financial",
    "gen": "general",
    "govt": "government",
    "gov": "government",
    "admin": "administration",
    "acad": "academy",
    "coop": "cooperative",
    "ent": "enterprises",
    "ents": "enterprises",
    "equip": "equipment",
    "prod": "products",
    "prods": "products",
    "res": "research",
    "sci": "scientific",
    "supp": "supply",
    "trans": "transport",
    "transp": "transportation",
    "amer": "american",
    "soc": "societe",
    "cie": "compagnie",
}

#: words many different companies use: they count half as much as the others ("group" and its
#: translations among them: :data:`GROUP_WORDS` but "the", a stop word)
GENERIC_WORDS: frozenset[str] = (GROUP_WORDS - {"the"}) | frozenset(
    [
        "international",
        "global",
        "services",
        "service",
        "solutions",
        "systems",
        "technologies",
        "technology",
        "national",
        "general",
        "american",
        "united",
        "first",
        "consulting",
        "partners",
        "trading",
        "industries",
        "enterprises",
        "bank",
        "insurance",
        "health",
        "healthcare",
        "medical",
        "energy",
        "electric",
        "logistics",
        "management",
        "associates",
        "financial",
        "capital",
        "investments",
        "products",
        "supply",
        "new",
        "worldwide",
        "world",
        "company",
        "center",
        "hospital",
        "university",
        "institute",
        "college",
        "school",
        "hotel",
        "restaurant",
        "clinic",
        "society",
        "foundation",
        "association",
    ]
)

_WEB_SUFFIX = re.compile(r"(?<=[a-z0-9])\.(com|net|org|io)\b")
_DROPPED = re.compile(r"[.'’`´ʼ]")
_AND = re.compile(r"[&+]")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _split(text: str) -> tuple[str, ...]:
    return tuple(_NOT_WORD.sub(" ", _AND.sub(" and ", _DROPPED.sub("", text))).split())


@cache
def _cleanco_forms() -> tuple[tuple[str, ...], ...]:
    """cleanco's legal forms of every country, as token sequences."""
    from cleanco.clean import get_unique_terms  # type: ignore[import-untyped]

    return tuple(t for t in (_split(fold(term)) for term in get_unique_terms()) if t)


@cache
def legal_forms(extra: tuple[str, ...] = ()) -> tuple[tuple[str, ...], ...]:
    """Every legal form as a token sequence, the longest first."""
    forms = {*_cleanco_forms(), *(_split(f) for f in OWN_LEGAL_FORMS)}
    forms |= {_split(latin(f)) for f in extra}
    forms.discard(())
    # cleanco's one- and two-letter country words ("uk", "eu") are places, not legal forms,
    # everywhere but at the end of a name; they stay, as they stood in the end of names only
    return tuple(sorted(forms, key=lambda f: (-len(f), f)))


def latin(text: str) -> str:
    """The text in Latin letters, accents dropped, case folded: ``Газпром`` → ``gazprom``,
    ``Straße`` → ``strasse``; Chinese, Japanese and Korean written as anyascii reads them."""
    if text.isascii():
        return text.casefold()
    from anyascii import anyascii

    folded = fold(text)
    if folded.isascii():
        return folded
    spelled = anyascii(folded)
    # anyascii writes each Chinese, Japanese or Korean syllable capitalised: one word per name
    return _CAMEL.sub("", spelled).casefold()


def _strip_native(name: str) -> str:
    """The legal forms in their own script removed and "group" written in English."""
    if name.isascii():
        return name
    for form in NATIVE_LEGAL_FORMS:
        name = name.replace(form, " ")
    for word, english in NATIVE_GROUP_WORDS.items():
        name = name.replace(word, f" {english} ")
    return name


@lru_cache(maxsize=131072)
def words(name: str, abbreviations: tuple[tuple[str, str], ...] = ()) -> tuple[str, ...]:
    """The name's words, written in Latin letters with abbreviations spelled out, before legal
    forms and small words are removed."""
    text = latin(_strip_native(name))
    text = _WEB_SUFFIX.sub("", text)
    own = dict(abbreviations)
    out: list[str] = []
    for w in _split(text):
        spelled = own.get(w) or ABBREVIATIONS.get(w, w)
        out.extend(spelled.split())
    return tuple(out)


@cache
def _forms_by_end(
    forms: tuple[tuple[str, ...], ...],
) -> tuple[dict[str, list[tuple[str, ...]]], dict[str, list[tuple[str, ...]]]]:
    """The forms by their last token, and the head forms by their first (longest first)."""
    by_last: dict[str, list[tuple[str, ...]]] = {}
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for form in forms:
        by_last.setdefault(form[-1], []).append(form)
        if form in HEAD_FORMS:
            by_first.setdefault(form[0], []).append(form)
    return by_last, by_first


def _strip_ends(
    tokens: list[str], forms: tuple[tuple[str, ...], ...], removed: list[tuple[str, ...]]
) -> list[str]:
    """Legal forms and small words removed from both ends, as often as they stand there (the
    legal forms removed are added to ``removed``)."""
    by_last, by_first = _forms_by_end(forms)
    changed = True
    while changed and tokens:
        changed = False
        for form in by_last.get(tokens[-1], ()):
            n = len(form)
            if n <= len(tokens) and tuple(tokens[-n:]) == form:
                del tokens[-n:]
                removed.append(form)
                changed = True
                break
        if tokens and not changed:
            for form in by_first.get(tokens[0], ()):
                n = len(form)
                if n < len(tokens) and tuple(tokens[:n]) == form:
                    del tokens[:n]
                    removed.append(form)
                    changed = True
                    break
        if tokens and not changed and (tokens[-1] in STOP_WORDS or tokens[0] in STOP_WORDS):
            del tokens[-1 if tokens[-1] in STOP_WORDS else 0]
            changed = True
        if tokens and not changed and _misspelt_legal_form(tokens[-1]):
            del tokens[-1]
            changed = True
    return tokens


@lru_cache(maxsize=8192)
def _misspelt_legal_form(word: str) -> bool:
    """A long legal form with a typo (``Compnay``), which would otherwise count as a word."""
    if len(word) < 6:
        return False
    from rapidfuzz.distance import OSA

    return any(
        OSA.distance(word, form, score_cutoff=1) <= 1
        for form in ("company", "corporation", "incorporated", "limited", "gesellschaft")
        if abs(len(form) - len(word)) <= 1
    )


@lru_cache(maxsize=131072)
def name_tokens(
    name: str,
    extra_legal_forms: tuple[str, ...] = (),
    abbreviations: tuple[tuple[str, str], ...] = (),
) -> tuple[str, ...]:
    """The tokens of an account name that tell it apart (see the module's docstring), before
    renames are applied."""
    return _parts(name, extra_legal_forms, abbreviations)[0]


@lru_cache(maxsize=131072)
def _parts(
    name: str,
    extra_legal_forms: tuple[str, ...] = (),
    abbreviations: tuple[tuple[str, str], ...] = (),
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    head = _DIVISION.split(name, maxsplit=1)[0]
    found = list(words(head if head.strip() else name, abbreviations))
    removed: list[tuple[str, ...]] = []
    kept = _strip_ends(list(found), legal_forms(tuple(extra_legal_forms)), removed)
    kept = [
        w
        for i, w in enumerate(kept)
        if w not in STOP_WORDS and not (w in SHORT_ANDS and 0 < i < len(kept) - 1)
    ]
    return tuple(kept or found), tuple(removed)


@lru_cache(maxsize=131072)
def named_country(name: str) -> str | None:
    """The country a name ends with (``Vodafone Germany``, ``Nestlé UK Ltd``), if any: its
    ISO code."""
    from partnerscope.geo import lookup_country

    found = list(words(_DIVISION.split(name, maxsplit=1)[0] or name))
    while found and found[-1] in _TAIL_WORDS:
        found = found[:-1]
    for size in (3, 2, 1):
        if len(found) > size:
            key = " ".join(found[-size:])
            if len(key) >= 4 or key in ("uk", "usa"):
                code = lookup_country(key)
                if code is not None:
                    return code
    return None


#: one-token legal forms that end a name (``ltd``, ``gmbh``)
_TAIL_WORDS = frozenset(
    ("ltd", "limited", "gmbh", "ag", "inc", "llc", "plc", "sa", "bv", "nv", "ab")
)


@cache
def single_legal_forms() -> frozenset[str]:
    """Every legal form of one token (``corporation``, ``gmbh``)."""
    return frozenset(f[0] for f in legal_forms() if len(f) == 1)


def division_of(name: str) -> tuple[str, ...]:
    """The words after a name's division mark (``Premier Auto Repair - Dallas`` → ``dallas``),
    legal forms left out."""
    parts = _DIVISION.split(name, maxsplit=1)
    if len(parts) < 2 or not parts[0].strip():
        return ()
    rest = _strip_ends(list(words(parts[1])), legal_forms(), [])
    return tuple(w for w in rest if w not in STOP_WORDS)


def legal_forms_of(
    name: str,
    extra_legal_forms: tuple[str, ...] = (),
    abbreviations: tuple[tuple[str, str], ...] = (),
) -> tuple[tuple[str, ...], ...]:
    """The legal forms removed from a name (``Acme GmbH & Co. KG`` → ``gmbh and co kg``)."""
    return _parts(name, extra_legal_forms, abbreviations)[1]


@cache
def _form_countries() -> dict[tuple[str, ...], frozenset[str]]:
    """cleanco's legal forms of one country or a few → their ISO codes."""
    from cleanco.termdata import terms_by_country  # type: ignore[import-untyped]

    from partnerscope.geo import lookup_country

    found: dict[tuple[str, ...], set[str]] = {}
    for country, terms in terms_by_country.items():
        code = lookup_country(country.split("/")[0]) or lookup_country(
            {"Columbia": "Colombia", "Luxemborg": "Luxembourg"}.get(country, country)
        )
        if code is None:
            continue
        for term in terms:
            found.setdefault(_split(fold(term)), set()).add(code)
    return {form: frozenset(codes) for form, codes in found.items() if form}


#: legal forms in English, which companies of every country use in their English names
#: (``KONE Corporation`` is ``Kone Oyj``): they tell no country
ENGLISH_FORMS: frozenset[str] = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "cos",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "pty",
        "pvt",
        "private",
        "pte",
        "public",
        "unlimited",
        "holdings",
        "group",
    ]
)


def legal_form_countries(forms: Iterable[tuple[str, ...]]) -> frozenset[str] | None:
    """The countries whose legal forms these are (the forms of few countries only, not in
    English: ``gmbh``, ``sarl``, ``kk``), None when no form tells."""
    table = _form_countries()
    out: frozenset[str] | None = None
    for form in forms:
        if any(word in ENGLISH_FORMS for word in form):
            continue
        codes = table.get(form)
        if codes is not None and len(codes) <= 6:
            out = codes if out is None else out & codes
    return out


def normalize_name(name: str, extra_legal_forms: Iterable[str] = ()) -> str:
    """The account name as compared: its tokens joined by spaces."""
    return " ".join(name_tokens(name, tuple(extra_legal_forms)))


# ---------------------------------------------------------------------------------- renames


@cache
def load_renames(path: Path = RENAMES_FILE) -> tuple[tuple[str, str], ...]:
    """The built-in renames: (former name, current name)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple((row["former"], row["current"]) for row in csv.DictReader(fh))


@cache
def load_aliases(path: Path = ALIASES_FILE) -> tuple[tuple[str, str], ...]:
    """The built-in aliases: (another name, the name), where the other name is how a widely
    known company is also written, in another script (``ソニー`` for Sony) or as the initials it
    goes by (``IBM``). Applied like renames, as they change no more than how a name is
    written."""
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple((row["alias"], row["name"]) for row in csv.DictReader(fh))


def rename_table(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Former name's tokens → current name's tokens, followed to the end of a chain
    (``Standard Oil Company of New Jersey`` → ``Exxon`` → ``ExxonMobil``)."""
    table = {name_tokens(a): name_tokens(b) for a, b in pairs}
    table = {a: b for a, b in table.items() if a != b}
    out = {}
    for former, current in table.items():
        seen = {former}
        while current in table and current not in seen:
            seen.add(current)
            current = table[current]
        out[former] = current
    return out


def current_name(
    tokens: tuple[str, ...], renames: Mapping[tuple[str, ...], tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The tokens with a former name replaced by the current one, and the former name that was
    replaced (None when none was): the whole name, or the name followed by where it is or by
    "group" (``Facebook Ireland`` → ``meta platforms ireland``), never a name that merely starts
    the same (``Hewlett Packard Enterprise`` is not ``HP``). The former name may be written with
    or without spaces (``Accor Hotels``, ``AccorHotels``)."""
    from partnerscope.geo import lookup_country

    for size in range(len(tokens), 0, -1):
        head = tokens[:size]
        rest = tokens[size:]
        if rest and not set(rest) <= GROUP_WORDS and lookup_country(" ".join(rest)) is None:
            continue
        for written in (head, ("".join(head),)):
            if written in renames:
                return renames[written] + rest, head
    return tokens, None


def token_weight(token: str) -> float:
    return 0.5 if token in GENERIC_WORDS else 1.0
