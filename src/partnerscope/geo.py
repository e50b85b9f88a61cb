"""Where leads, partners and accounts are: countries by ISO code or name, their centroids
(``countries.csv``, approximate, enough to tell near from far), and great-circle distances.

``countries.csv`` is the one country table of partnerscope: every ISO 3166-1 country (249, from
pycountry, and Kosovo) with its alpha-2 code, English name, centre point and the other names it
goes by (``also``: its alpha-3 code, ISO's official and common names, names in its own and other
languages, and our aliases such as ``Hong Kong SAR`` or ``Ivory Coast``), all looked up by
:func:`lookup_country`, for lead routing as for account identity (:mod:`partnerscope.identity`).
``scripts/countries_table.py`` writes it and says where each column comes from
(docs/account-identity.md, "Countries"). A code or name pycountry knows that the table does not
is looked up there too."""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

COUNTRIES_FILE = Path(__file__).parent / "countries.csv"
EARTH_RADIUS_KM = 6371.0088

#: letters NFKD leaves whole, and what they are written as without their mark
_TRANSLITERATE = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ß": "ss",
    }
)
_DROPPED = re.compile(r"[.'’`´]")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")


def fold(text: str) -> str:
    """Case folded, accents dropped and non-decomposing letters transliterated."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_TRANSLITERATE)


def country_key(text: str) -> str:
    """A country as written, folded to words: ``U.S.A.`` → ``usa``, ``Österreich`` →
    ``osterreich``, ``  united  kingdom`` → ``united kingdom``."""
    return " ".join(_NOT_WORD.sub(" ", _DROPPED.sub("", fold(text))).split())


@cache
def _table() -> tuple[dict[str, str], dict[str, tuple[float, float]], dict[str, tuple[str, ...]]]:
    """(code or name as a key → ISO code), (ISO code → (latitude, longitude)), (ISO code → its
    English name and our aliases as keys, the English one first; ISO's other names are looked
    up but not listed)."""
    codes: dict[str, str] = {}
    where: dict[str, tuple[float, float]] = {}
    names: dict[str, tuple[str, ...]] = {}
    with COUNTRIES_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"]
            known = [country_key(row["name"]), *(n for n in row["also"].split(";") if n)]
            names[code] = tuple(known)
            codes[code.lower()] = code
            for name in (*known, *(n for n in row["iso_names"].split(";") if n)):
                codes.setdefault(country_key(name), code)
            where[code] = (float(row["latitude"]), float(row["longitude"]))
    return codes, where, names


def lookup_country(text: str | None) -> str | None:
    """The ISO 3166 alpha-2 code of a country written as its code or one of its names (any
    case, accents and dots: ``de``, ``DEU``, ``Deutschland``, ``U.S.A.``, ``Côte d'Ivoire``,
    ``Hong Kong SAR``); None when empty or unknown."""
    if text is None or not text.strip():
        return None
    key = country_key(text)
    return _table()[0].get(key) or _pycountry(key)


@cache
def _pycountry(key: str) -> str | None:
    """What pycountry knows beyond the table (a numeric code, a former name), if it is a
    country the table has."""
    import pycountry

    try:
        found = pycountry.countries.lookup(key)
    except LookupError:
        return None
    code = str(found.alpha_2)
    return code if code in _table()[1] else None


def country_names() -> dict[str, tuple[str, ...]]:
    """ISO code → the names the country goes by, as :func:`country_key` writes them."""
    return _table()[2]


def country_code(text: str | None) -> str | None:
    """The ISO 3166 alpha-2 code of a country written as a code or a name; text the table does
    not know comes back upper-cased, so that two spellings of it still match."""
    if text is None or not text.strip():
        return None
    return lookup_country(text) or " ".join(text.split()).upper()


def centroid(code: str | None) -> tuple[float, float] | None:
    return _table()[1].get(code) if code else None


def known(code: str) -> bool:
    return code in _table()[1]


def distance_km(
    lat1: float | np.ndarray[Any, Any],
    lon1: float | np.ndarray[Any, Any],
    lat2: float | np.ndarray[Any, Any],
    lon2: float | np.ndarray[Any, Any],
) -> Any:
    """Great-circle (haversine) distance in km; numpy arrays broadcast."""
    import numpy as np

    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
