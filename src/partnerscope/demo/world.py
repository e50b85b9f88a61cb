"""The demo world's fixed calendar, sizes, FX rates, partners and accounts.

Everything is drawn from per-stream generators (:func:`rng_for`) so that the output depends only on
the seed and the scale, never on the current date or on the order streams are drawn in.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from partnerscope.demo.vocabulary import (
    ACCOUNT_WORDS_1,
    ACCOUNT_WORDS_2,
    ACCOUNT_WORDS_3,
    COUNTRY_DOMAINS,
    INDUSTRIES,
    LEGAL_FORMS,
    MANAGERS,
    PARTNER_WORDS_1,
    PARTNER_WORDS_2,
    PARTNER_WORDS_3,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DAY = 86_400
EPOCH = date(1970, 1, 1)
WINDOW_START = date(2023, 10, 1)
WINDOW_END = date(2026, 9, 30)
N_QUARTERS = 12
#: Deals are also created in two warm-up quarters before the window, so that the deals closing in
#: its first quarters are at steady state instead of ramping up from nothing.
WARMUP = 2
QUARTER_STARTS = tuple(date(2023 + (3 + 3 * i) // 12, (3 + 3 * i) % 12 + 1, 1) for i in range(15))
#: FX rates start this long before the window: deals of the warm-up quarters need a rate too.
FX_START = date(2023, 1, 2)


def day_number(d: date) -> int:
    """Days since 1970-01-01 (what date32 stores)."""
    return (d - EPOCH).days


#: The moment the exports were taken (seconds since the epoch, UTC): the day after the window.
AS_OF = day_number(date(2026, 10, 1)) * DAY
QUARTER_SEC: IntArray = np.array([day_number(d) * DAY for d in QUARTER_STARTS], dtype=np.int64)
WINDOW_START_SEC = int(QUARTER_SEC[WARMUP])


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent generator per data stream; adding a stream does not shift the others."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def season(window_quarter: IntArray) -> FloatArray:
    """Relative deal volume by calendar quarter: year-end pushes, a slow first quarter."""
    # window quarter 0 is Oct–Dec; Python's modulo keeps the warm-up quarters (-2, -1) right
    factors = np.array([1.30, 0.78, 0.94, 0.98])
    return factors[np.mod(window_quarter, 4)]


def close_season(window_quarter: IntArray) -> FloatArray:
    """Factor on win rates by the quarter a deal closes in: the year-end push wins more deals
    that quarter, and the quarter after it is slow (mean 1)."""
    factors = np.array([1.35, 0.70, 0.95, 1.0])
    out: FloatArray = factors[np.mod(window_quarter, 4)]
    return out


@dataclass(frozen=True)
class Sizes:
    """Row volumes; per-partner volumes are fixed so small scales keep realistic partners."""

    partners: int

    @property
    def accounts(self) -> int:
        return 20 * self.partners

    @property
    def partner_opportunities(self) -> int:
        return 415 * self.partners

    @property
    def direct_opportunities(self) -> int:
        return 46 * self.partners

    @property
    def leads(self) -> int:
        return 2_000 * self.partners

    @property
    def surveys(self) -> int:
        return 100 * self.partners

    @property
    def mdf_activities(self) -> int:
        return 15 * self.partners


def sizes_for(scale: float) -> Sizes:
    if not scale > 0:
        raise ValueError(f"scale must be greater than 0 (got {scale})")
    # below ~40 partners a 3 % pattern would round to nobody
    return Sizes(partners=max(40, round(1_000 * scale)))


# ---------------------------------------------------------------- FX rates

CURRENCIES = ("USD", "EUR", "GBP")
USD, EUR, GBP = 0, 1, 2


@dataclass(frozen=True)
class FxRates:
    """Published business-day rates, and a forward-filled daily view for conversions."""

    days: IntArray  # day numbers of business days
    rates: FloatArray  # (2, len(days)): USD per EUR, USD per GBP
    daily: FloatArray  # (3, calendar days from FX_START): USD per USD, EUR, GBP

    def usd_per_unit(self, currency: IntArray, day: IntArray) -> FloatArray:
        i = np.clip(day - day_number(FX_START), 0, self.daily.shape[1] - 1)
        out: FloatArray = self.daily[currency, i]
        return out


def make_fx(seed: int) -> FxRates:
    rng = rng_for(seed, "fx")
    first, last = day_number(FX_START), day_number(WINDOW_END)
    all_days = np.arange(first, last + 1, dtype=np.int64)
    # 1970-01-01 was a Thursday: weekday 0 = Monday
    business = all_days[(all_days + 3) % 7 < 5]
    rates = np.empty((2, len(business)))
    for row, (level, vol) in enumerate([(1.08, 0.0035), (1.26, 0.0035)]):
        # mean-reverting log random walk around a plausible level
        log_rate = np.empty(len(business))
        x = 0.0
        shocks = rng.normal(0.0, vol, len(business))
        for i, shock in enumerate(shocks):
            x = 0.985 * x + shock
            log_rate[i] = x
        rates[row] = np.round(level * np.exp(log_rate), 6)
    daily = np.ones((3, len(all_days)))
    filled = np.searchsorted(business, all_days, side="right") - 1
    daily[1:] = rates[:, np.maximum(filled, 0)]
    return FxRates(days=business, rates=rates, daily=daily)


# ---------------------------------------------------------------- partners

REGIONS = ("North America", "EMEA", "APAC", "LATAM")
#: (country, region, currency, latitude, longitude, weight within region); several US cities.
COUNTRIES: tuple[tuple[str, int, int, float, float, float], ...] = (
    ("United States", 0, USD, 40.7, -74.0, 0.22),
    ("United States", 0, USD, 41.9, -87.6, 0.16),
    ("United States", 0, USD, 32.8, -96.8, 0.16),
    ("United States", 0, USD, 37.8, -122.4, 0.18),
    ("United States", 0, USD, 33.7, -84.4, 0.13),
    ("Canada", 0, USD, 43.7, -79.4, 0.15),
    ("Germany", 1, EUR, 50.1, 8.7, 0.22),
    ("United Kingdom", 1, GBP, 51.5, -0.1, 0.22),
    ("France", 1, EUR, 48.9, 2.4, 0.14),
    ("Netherlands", 1, EUR, 52.4, 4.9, 0.09),
    ("Spain", 1, EUR, 40.4, -3.7, 0.08),
    ("Italy", 1, EUR, 45.5, 9.2, 0.08),
    ("Sweden", 1, EUR, 59.3, 18.1, 0.06),
    ("United Arab Emirates", 1, USD, 25.2, 55.3, 0.06),
    ("South Africa", 1, USD, -26.2, 28.0, 0.05),
    ("Australia", 2, USD, -33.9, 151.2, 0.30),
    ("Japan", 2, USD, 35.7, 139.7, 0.25),
    ("Singapore", 2, USD, 1.35, 103.8, 0.25),
    ("India", 2, USD, 19.1, 72.9, 0.20),
    ("Brazil", 3, USD, -23.5, -46.6, 0.40),
    ("Mexico", 3, USD, 19.4, -99.1, 0.30),
    ("Argentina", 3, USD, -34.6, -58.4, 0.15),
    ("Chile", 3, USD, -33.4, -70.6, 0.15),
)
REGION_WEIGHTS = (0.40, 0.32, 0.18, 0.10)
TYPE_LABELS = (
    "Value Added Reseller",
    "System Integrator",
    "Distributor",
    "OEM",
    "Managed Service Provider",
)
TYPE_CODES = ("var", "si", "distributor", "oem", "msp")
TYPE_WEIGHTS = (0.40, 0.18, 0.07, 0.10, 0.25)
#: Typical deal size of each partner type relative to a reseller's.
TYPE_DEAL_SIZE = np.array([1.0, 1.3, 0.7, 1.5, 0.9])
PROGRAM_TIERS = ("Platinum", "Gold", "Silver", "Registered")
STRATEGIC, MID, SMALL, DORMANT = 0, 1, 2, 3


@dataclass(frozen=True)
class Partners:
    """One row per partner; arrays are aligned by partner index."""

    ids: list[str]
    names: list[str]
    type_code: IntArray
    country: IntArray  # index into COUNTRIES
    band: IntArray  # STRATEGIC, MID, SMALL or DORMANT
    program_tier: IntArray  # index into PROGRAM_TIERS
    annual_revenue: FloatArray  # planned won revenue per year, USD
    win_rate: FloatArray
    deal_size: FloatArray  # mean deal size, USD
    growth: FloatArray  # drift of deal volume per quarter
    joined_day: IntArray
    manager: list[str]
    latitude: FloatArray
    longitude: FloatArray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def region(self) -> IntArray:
        return np.array([COUNTRIES[c][1] for c in self.country], dtype=np.int64)

    @property
    def currency(self) -> IntArray:
        return np.array([COUNTRIES[c][2] for c in self.country], dtype=np.int64)

    @property
    def active(self) -> BoolArray:
        out: BoolArray = self.band != DORMANT
        return out


def _combined_names(
    rng: np.random.Generator, n: int, parts: tuple[tuple[str, ...], ...]
) -> list[str]:
    """n distinct names from the product of word lists; a counter separates overflowing ones."""
    sizes = [len(p) for p in parts]
    total = int(np.prod(sizes))
    picks = rng.permutation(total)[: min(n, total)]
    names = []
    for i in range(n):
        code = int(picks[i % total])
        words = []
        for part, size in zip(parts, sizes, strict=True):
            words.append(part[code % size])
            code //= size
        suffix = f" {i // total + 1}" if i >= total else ""
        names.append(" ".join(words) + suffix)
    return names


def _in_proportion(rng: np.random.Generator, n: int, weights: tuple[float, ...]) -> IntArray:
    """n category codes in the given proportions, shuffled: small samples keep every category."""
    counts = np.maximum(np.floor(np.array(weights) * n).astype(np.int64), 1)
    counts[np.argmax(weights)] += n - counts.sum()
    codes: IntArray = rng.permutation(np.repeat(np.arange(len(weights)), counts))
    return codes


def _place(rng: np.random.Generator, n: int) -> tuple[IntArray, FloatArray, FloatArray]:
    """Country index and jittered head-office coordinates."""
    region = _in_proportion(rng, n, REGION_WEIGHTS)
    country = np.empty(n, dtype=np.int64)
    for r in range(len(REGIONS)):
        options = [i for i, c in enumerate(COUNTRIES) if c[1] == r]
        weights = np.array([COUNTRIES[i][5] for i in options])
        mask = region == r
        country[mask] = rng.choice(options, int(mask.sum()), p=weights / weights.sum())
    lat: FloatArray = np.array([COUNTRIES[c][3] for c in country]) + rng.uniform(-1.5, 1.5, n)
    lon: FloatArray = np.array([COUNTRIES[c][4] for c in country]) + rng.uniform(-1.5, 1.5, n)
    return country, np.round(lat, 4), np.round(lon, 4)


def make_partners(sizes: Sizes, seed: int) -> Partners:
    rng = rng_for(seed, "partners")
    n = sizes.partners
    width = max(4, len(str(n)))
    ids = [f"P{i + 1:0{width}d}" for i in range(n)]
    country, lat, lon = _place(rng, n)
    type_code = _in_proportion(rng, n, TYPE_WEIGHTS)

    # three revenue bands of very different size, plus registered partners that never transact
    n_strategic, n_mid, n_dormant = max(2, round(0.03 * n)), round(0.17 * n), round(0.04 * n)
    band = np.full(n, SMALL, dtype=np.int64)
    order = rng.permutation(n)
    band[order[:n_strategic]] = STRATEGIC
    band[order[n_strategic : n_strategic + n_mid]] = MID
    band[order[n_strategic + n_mid : n_strategic + n_mid + n_dormant]] = DORMANT
    low = np.array([12e6, 2e6, 0.1e6, 0.0])[band]
    high = np.array([60e6, 10e6, 2e6, 0.0])[band]
    revenue = np.where(
        band == DORMANT,
        0.0,
        np.exp(rng.uniform(np.log(np.maximum(low, 1)), np.log(np.maximum(high, 1)))),
    )
    tier = np.select(
        [band == STRATEGIC, band == MID, (band == SMALL) & (revenue > 0.8e6)],
        [0, np.where(rng.random(n) < 0.2, 0, 1), np.where(rng.random(n) < 0.7, 2, 3)],
        default=3,
    ).astype(np.int64)
    win_rate = 0.18 + 0.22 * rng.beta(2.5, 2.5, n)
    # bigger partners sell bigger deals, in proportion to their revenue: a small partner closes
    # as many deals a quarter as a big one, so its revenue too has a level, a trend and a season
    # that show through the luck of which deals are won
    deal_size = (
        np.maximum(revenue, 1e5) / 1e6 * TYPE_DEAL_SIZE[type_code] * rng.lognormal(0.0, 0.15, n)
    )
    # deal sizes are rescaled so that the deal count matches the size while revenue stays as drawn
    weight = np.where(band == DORMANT, 0.0, revenue / (win_rate * deal_size))
    deal_size = deal_size * 3 * weight.sum() / sizes.partner_opportunities

    joined = rng.integers(day_number(date(2012, 1, 1)), day_number(date(2023, 3, 31)), n)
    names = _combined_names(rng, n, (PARTNER_WORDS_1, PARTNER_WORDS_2, PARTNER_WORDS_3))
    names = [
        f"{name} {LEGAL_FORMS[COUNTRIES[c][0]]}" if COUNTRIES[c][0] in LEGAL_FORMS else name
        for name, c in zip(names, country, strict=True)
    ]
    manager = [
        MANAGERS[COUNTRIES[c][1]][int(k) % len(MANAGERS[COUNTRIES[c][1]])]
        for c, k in zip(country, rng.integers(0, 12, n), strict=True)
    ]
    return Partners(
        ids=ids,
        names=names,
        type_code=type_code,
        country=country,
        band=band,
        program_tier=tier,
        annual_revenue=revenue,
        win_rate=win_rate,
        deal_size=deal_size,
        growth=np.clip(rng.normal(0.012, 0.02, n), -0.03, 0.05),
        joined_day=joined.astype(np.int64),
        manager=manager,
        latitude=lat,
        longitude=lon,
    )


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Accounts:
    ids: list[str]
    names: list[str]
    domains: list[str]
    country: IntArray
    region: IntArray
    industry: IntArray
    employees: IntArray
    annual_revenue: FloatArray
    is_target: BoolArray
    #: Accounts partners can reach; the rest only ever buy direct (this is the coverage gap).
    reachable: BoolArray


def make_accounts(sizes: Sizes, seed: int) -> Accounts:
    rng = rng_for(seed, "accounts")
    n = sizes.accounts
    width = max(6, len(str(n)))
    country, _, _ = _place(rng, n)
    names = _combined_names(rng, n, (ACCOUNT_WORDS_1, ACCOUNT_WORDS_2, ACCOUNT_WORDS_3))
    # names are distinct, so their letters make distinct domains
    domains = [
        "".join(ch for ch in name.lower() if ch.isalnum())
        + "."
        + COUNTRY_DOMAINS.get(COUNTRIES[c][0], "com")
        for name, c in zip(names, country, strict=True)
    ]
    employees = np.round(rng.lognormal(np.log(800), 1.6, n)).astype(np.int64) + 5
    revenue = np.round(employees * rng.lognormal(np.log(220_000), 0.4, n), -3)
    reachable = rng.random(n) < 0.75
    return Accounts(
        ids=[f"A{i + 1:0{width}d}" for i in range(n)],
        names=names,
        domains=domains,
        country=country,
        region=np.array([COUNTRIES[c][1] for c in country], dtype=np.int64),
        industry=rng.integers(0, len(INDUSTRIES), n).astype(np.int64),
        employees=employees,
        annual_revenue=revenue,
        is_target=rng.random(n) < 0.18,
        reachable=reachable,
    )
