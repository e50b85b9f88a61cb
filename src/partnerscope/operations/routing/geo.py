"""Where leads and partners are: countries by ISO code or English name, their centroids
(``countries.csv``, approximate, enough to tell near from far), and great-circle distances."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

COUNTRIES_FILE = Path(__file__).parent / "countries.csv"
EARTH_RADIUS_KM = 6371.0088
#: names people write for a country beside the table's own
ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "uae": "AE",
    "czech republic": "CZ",
    "korea": "KR",
    "republic of korea": "KR",
    "the netherlands": "NL",
    "holland": "NL",
    "türkiye": "TR",
    "viet nam": "VN",
    "russian federation": "RU",
}


@cache
def _table() -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """(name or code, lower case → ISO code), (ISO code → (latitude, longitude))."""
    codes: dict[str, str] = dict(ALIASES)
    where: dict[str, tuple[float, float]] = {}
    with COUNTRIES_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            codes[row["code"].lower()] = row["code"]
            codes[row["name"].lower()] = row["code"]
            where[row["code"]] = (float(row["latitude"]), float(row["longitude"]))
    return codes, where


def country_code(text: str | None) -> str | None:
    """The ISO 3166 alpha-2 code of a country written as a code or an English name; text the
    table does not know comes back upper-cased, so that two spellings of it still match."""
    if text is None or not text.strip():
        return None
    cleaned = " ".join(text.split())
    return _table()[0].get(cleaned.lower(), cleaned.upper())


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
