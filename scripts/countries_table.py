"""Writes ``src/partnerscope/countries.csv``: every ISO 3166-1 country (pycountry) with a centre
point and the other names it goes by. Run by hand when the sources change; the CSV is what
partnerscope reads (``partnerscope.geo``), so neither source is needed at run time.

Sources, in order of precedence (docs/account-identity.md, "Countries"):
  * the names: ISO 3166-1 through pycountry (code, alpha-3, name, official and common names);
  * the rows this table had before issue 30 (93 countries: their centre points and aliases are
    kept as they were, so that routing's distances do not move);
  * centre points of the others: the ``latlng`` of the countryinfo package (1.0.1, MIT; its
    data comes from the REST Countries project), and for the 12 territories it has none,
    :data:`BY_HAND` (approximate centres read off a map);
  * ``also``: our aliases (the old table's and :data:`OWN_ALIASES`); ``iso_names``: the others,
    ISO's and countryinfo's ``altSpellings`` and German, Spanish, French and Italian names. A
    name two countries share is left out.

    pip install --target /tmp/countryinfo countryinfo
    PYTHONPATH=/tmp/countryinfo .venv/bin/python scripts/countries_table.py
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pycountry

from partnerscope.geo import COUNTRIES_FILE, country_key

#: centre points the sources lack (latitude, longitude)
BY_HAND: dict[str, tuple[float, float]] = {
    "AX": (60.2, 19.9),
    "AQ": (-75.0, 0.0),
    "BQ": (12.2, -68.3),
    "BL": (17.9, -62.83),
    "BV": (-54.42, 3.36),
    "CW": (12.17, -68.98),
    "MF": (18.08, -63.05),
    "SX": (18.04, -63.07),
    "TC": (21.75, -71.58),
    "UM": (19.3, 166.6),
    "VG": (18.43, -64.62),
    "VI": (18.34, -64.9),
}

#: names people write that ISO does not give (or gives in another order)
OWN_ALIASES: dict[str, tuple[str, ...]] = {
    "HK": ("hong kong sar", "hong kong china", "hong kong sar china", "hksar"),
    "MO": ("macao sar", "macau", "macau sar", "macao china"),
    "CI": ("ivory coast", "cote divoire"),
    "CD": (
        "dr congo",
        "drc",
        "congo kinshasa",
        "democratic republic of congo",
        "democratic republic of the congo",
        "congo dr",
    ),
    "CG": ("congo brazzaville", "republic of the congo", "republic of congo", "congo republic"),
    "MM": ("burma",),
    "SZ": ("swaziland",),
    "MK": ("macedonia", "fyrom", "republic of north macedonia"),
    "CZ": ("czech republic", "cesko"),
    "TR": ("turkiye", "turkey"),
    "GB": (
        "uk",
        "u k",
        "great britain",
        "britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
    ),
    "US": ("usa", "us", "u s", "america", "united states of america"),
    "KR": ("south korea", "korea", "republic of korea", "korea south"),
    "KP": ("north korea", "korea north", "dprk"),
    "RU": ("russia", "russian federation"),
    "IR": ("iran",),
    "SY": ("syria",),
    "LA": ("laos",),
    "VN": ("vietnam", "viet nam"),
    "TW": ("taiwan", "chinese taipei", "republic of china"),
    "BO": ("bolivia",),
    "VE": ("venezuela",),
    "TZ": ("tanzania",),
    "MD": ("moldova",),
    "PS": ("palestine",),
    "VA": ("vatican", "vatican city", "holy see"),
    "CV": ("cape verde",),
    "TL": ("east timor",),
    "GM": ("the gambia", "gambia"),
    "BS": ("the bahamas", "bahamas"),
    "NL": ("holland", "the netherlands", "nederland"),
    "AE": ("uae", "emirates"),
    "SA": ("ksa",),
    "FM": ("micronesia",),
    "BN": ("brunei",),
    "FK": ("falklands", "falkland islands"),
    "VG": ("british virgin islands", "bvi"),
    "VI": ("us virgin islands", "usvi"),
    "CH": ("schweiz", "suisse", "svizzera"),
    "DE": ("deutschland",),
}


#: the table as it was before issue 30 (its 93 rows), kept in git history: 2ae7880
OLD_TABLE = Path(__file__).parent / "countries_before_issue30.csv"


def _countryinfo() -> dict[str, dict[str, object]]:
    import countryinfo  # type: ignore[import-not-found,import-untyped,unused-ignore]

    found: dict[str, dict[str, object]] = {}
    for path in (Path(countryinfo.__file__).parent / "data").glob("*.json"):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        code = (data.get("ISO") or {}).get("alpha2")
        if code:
            found[code] = data
    return found


def main() -> None:
    old = {r["code"]: r for r in csv.DictReader(OLD_TABLE.open(encoding="utf-8"))}
    info = _countryinfo()
    rows = []
    seen: dict[str, set[str]] = {}
    wanted: dict[str, list[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        data = info.get(code, {})
        names: list[str] = []
        if code in old:
            names += [n for n in old[code]["also"].split(";") if n]
        names += OWN_ALIASES.get(code, ())
        short = {country_key(n) for n in names}
        for attr in ("name", "official_name", "common_name"):
            if hasattr(country, attr):
                names.append(getattr(country, attr))
        names.append(country.alpha_3)
        names += [str(s) for s in data.get("altSpellings", []) or []]  # type: ignore[attr-defined]
        translations = data.get("translations") or {}
        names += [str(translations[k]) for k in ("de", "es", "fr", "it") if k in translations]  # type: ignore[index,operator]
        keys = []
        for name in names:
            key = country_key(name)
            if key and (len(key) > 2 or key in short) and key not in keys:
                keys.append(key)
        wanted[code] = keys
        for key in keys:
            seen.setdefault(key, set()).add(code)
    own = {country_key(a): c for c, aliases in OWN_ALIASES.items() for a in aliases}
    for country in pycountry.countries:
        code = country.alpha_2
        english = (
            old[code]["name"] if code in old else getattr(country, "common_name", country.name)
        )
        if "," in english and info.get(code, {}).get("name"):
            english = str(info[code]["name"])
        if code in old:
            lat, lon = float(old[code]["latitude"]), float(old[code]["longitude"])
        elif info.get(code, {}).get("latlng"):
            lat, lon = info[code]["latlng"]  # type: ignore[misc]
        else:
            lat, lon = BY_HAND[code]
        taken = [
            k
            for k in wanted[code]
            if k != country_key(english)
            and (own.get(k) == code or (k not in own and len(seen[k]) == 1))
        ]
        ours = {country_key(n) for n in old[code]["also"].split(";") if n} if code in old else set()
        ours |= {country_key(n) for n in OWN_ALIASES.get(code, ())}
        also = [k for k in taken if k in ours]
        other = [k for k in taken if k not in ours]
        rows.append(
            [
                code,
                english,
                round(float(lat), 2),
                round(float(lon), 2),
                ";".join(also),
                ";".join(other),
            ]
        )
    rows.append(["XK", "Kosovo", 42.6, 20.9, "kosova", "republic of kosovo"])
    with COUNTRIES_FILE.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["code", "name", "latitude", "longitude", "also", "iso_names"])
        out.writerows(sorted(rows))
    print(f"{len(rows)} countries written to {COUNTRIES_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
