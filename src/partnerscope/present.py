"""How partnerscope writes what people read, one place for the web app, the reports, the
workbooks, the CLI and the sentences a run stores (alerts, flags, tier reasons).

Numbers, money, percentages and dates are formatted by Babel in the workspace's locale
(``[workspace] locale``, default ``en_US``), money always with the workspace's currency:
compact in tiles and chart axes (``$52.3M``), whole in tables (``$583,088``), to the cent where
cents matter (a payout line). A share is a percentage (``6.2%``), a change of a share is in
points (``+1.2 pts``), a multiple is ``5.9×``. A missing value is "—", never 0. Metrics are
called by their catalog label, partner types, payout rules, flags and alert kinds by their
names in words; nothing here prints a catalog key, a z-score, a hash or a raw fraction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from partnerscope.metrics.definition import Direction, Unit

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from babel import Locale

    from partnerscope.metrics.definition import Catalog
    from partnerscope.workspace import Workspace

MISSING = "—"
DEFAULT_LOCALE = "en_US"

#: partner types (the canonical partners.partner_type) in words
PARTNER_TYPES = {
    "var": "Value-added reseller",
    "si": "System integrator",
    "distributor": "Distributor",
    "oem": "OEM partner",
    "msp": "Managed service provider",
    "retailer": "Retailer",
    "referral": "Referral partner",
    "other": "Other partner",
}
#: payout rules (money.rules) in words
RULES = {
    "bonus_bands": "Quarterly bonus",
    "new_customers": "New-customer bonus",
    "large_deal": "Large-deal bonus",
    "satisfaction": "Satisfaction bonus",
    "certifications": "Certification bonus",
    "club": "Partner club award",
    "tier_uplift": "Tier uplift",
    "partner_cap": "Cap per partner",
    "min_payout": "Minimum payout",
    "milestones": "Milestone bonus",
    "adjustment": "Adjustment",
}
FLAGS = {
    "exit": "Exit review",
    "improvement": "Needs improvement",
    "high_potential": "High potential",
}
#: flag criteria (evaluation.flags) in words
CRITERIA = {
    "below_quota": "Below quota for months on end",
    "repeated_csat": "Repeated low customer satisfaction",
    "compliance": "Compliance violation",
    "bottom_of_cohort": "Bottom of its peer group",
    "declining": "Score declining",
    "declining_score": "Score declining",
    "declining_revenue": "Revenue declining",
    "rising_score": "Score rising",
    "rising_revenue": "Revenue rising",
}
#: values tier rules, flags and alerts may name beside the catalog's metrics (the scorecard's),
#: with their labels and units ("percentile": a rank among peers, 0–1)
FIELDS: dict[str, tuple[str, Unit | str]] = {
    "score": ("Score", Unit.SCORE),
    "score_percentile": ("Rank among all partners", "percentile"),
    "cohort_percentile": ("Rank in its peer group", "percentile"),
    "evidence_coverage": ("Evidence coverage", Unit.SHARE),
    "annual_revenue": ("Annual revenue", Unit.MONEY),
}
#: decimals each unit is written with
DIGITS: dict[Unit | str, int] = {
    Unit.MONEY: 0,
    Unit.MONEY_PER_DAY: 0,
    Unit.COUNT: 0,
    Unit.SHARE: 1,
    Unit.RATIO: 1,
    Unit.DAYS: 1,
    Unit.HOURS: 1,
    Unit.SCORE: 1,
    Unit.RATING: 2,
    Unit.NUMBER: 2,
    "percentile": 0,
}
ALERT_KINDS = {
    "threshold": "Past a threshold",
    "anomaly_own": "Unusual for this partner",
    "anomaly_cohort": "Unusual among its peers",
    "signal_fired": "Reversal signal fired",
    "review_due": "Review due",
    "risk": "Risk of falling short",
    "milestone": "Business plan milestone missed",
}

#: how each outcome of a scenario is written
SCENARIO_OUTCOMES = {
    "revenue": "money",
    "margin": "money",
    "coverage": "share",
    "control": "score",
    "partners": "count",
}


def finite(value: Any) -> float | None:
    """A value as a float, or None when it is no number to show (None, NaN, ±infinity)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _number(value: Any) -> float | None:
    """A value as a float, or None when it has none (None, NaN)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Words:
    """A workspace's way of writing numbers, money, dates and names."""

    locale: str = DEFAULT_LOCALE
    currency: str = "USD"
    catalog: Catalog | None = None

    @classmethod
    def of(cls, workspace: Workspace) -> Words:
        """A workspace's words (kept as ``workspace.words``)."""
        settings = workspace.config.workspace
        return cls(settings.locale, settings.base_currency, workspace.catalog)

    @cached_property
    def _locale(self) -> Locale:
        from babel import Locale

        return Locale.parse(self.locale)

    @cached_property
    def _decimal(self) -> str:
        from babel.numbers import get_decimal_symbol

        return str(get_decimal_symbol(self._locale))

    # ---------------------------------------------------------------------------- numbers

    def money(self, amount: Any, *, cents: bool = False, compact: bool = False) -> str:
        """``$583,088`` (``cents``: ``$583,088.00``; ``compact``: ``$583.1K``)."""
        number = _number(amount)
        if number is None:
            return MISSING
        if compact and abs(number) >= 1000:
            from babel.numbers import format_compact_currency

            return str(
                format_compact_currency(
                    number, self.currency, locale=self._locale, fraction_digits=1
                )
            )
        return self._written("money", 2 if cents else 0)(number)

    def number(self, value: Any, *, digits: int = 0, compact: bool = False) -> str:
        number = _number(value)
        if number is None:
            return MISSING
        if compact and abs(number) >= 10_000:
            from babel.numbers import format_compact_decimal

            return str(format_compact_decimal(number, locale=self._locale, fraction_digits=1))
        return self._written("number", digits)(number)

    def share(self, value: Any, *, digits: int = 1) -> str:
        """A fraction as a percentage: 0.0624 → ``6.2%``."""
        number = _number(value)
        return MISSING if number is None else self._written("share", digits)(number)

    def _written(self, kind: str, digits: int) -> Callable[[float], str]:
        """A function writing numbers of ``kind`` (money, share, number) with ``digits``
        decimals by the locale's pattern and symbols (Babel's data), rounded half away from
        zero as amounts are kept (``amounts.cents``). Made once per kind and digits: a run
        writes hundreds of thousands of values into its reasons."""
        key = (kind, digits)
        found = self._writers.get(key)
        if found is None:
            found = self._writers[key] = self._writer(kind, digits)
        return found

    @cached_property
    def _writers(self) -> dict[tuple[str, int], Callable[[float], str]]:
        return {}

    def _writer(self, kind: str, digits: int) -> Callable[[float], str]:
        from babel.numbers import (
            get_currency_symbol,
            get_decimal_symbol,
            get_group_symbol,
            get_minus_sign_symbol,
        )

        locale = self._locale
        pattern = {
            "money": locale.currency_formats["standard"],
            "share": locale.percent_formats[None],
            "number": locale.decimal_formats[None],
        }[kind]
        scale = 100.0 if kind == "share" else 1.0
        if pattern.grouping != (3, 3):
            return self._babel_writer(kind, digits)
        symbol = get_currency_symbol(self.currency, locale) if kind == "money" else ""
        minus = get_minus_sign_symbol(locale)
        prefixes: tuple[str, str] = pattern.prefix
        suffixes: tuple[str, str] = pattern.suffix
        plus_prefix, plus_suffix = (a.replace("¤", symbol) for a in (prefixes[0], suffixes[0]))
        minus_prefix, minus_suffix = (
            a.replace("¤", symbol).replace("-", minus) for a in (prefixes[1], suffixes[1])
        )
        symbols = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
        step = 10.0**digits

        def write(value: float) -> str:
            amount = value * scale
            rounded = math.floor(abs(amount) * step + 0.5 + 1e-9) / step
            text = f"{rounded:,.{digits}f}".translate(symbols)
            if amount < 0 and rounded:
                return minus_prefix + text + minus_suffix
            return plus_prefix + text + plus_suffix

        return write

    def _babel_writer(self, kind: str, digits: int) -> Callable[[float], str]:
        """Babel itself, for a locale whose digits are not grouped by threes (en_IN)."""
        from babel.numbers import format_currency, format_decimal, format_percent

        places = "." + "0" * digits if digits else ""

        def write(value: float) -> str:
            exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
            if kind == "money":
                money = self._locale.currency_formats["standard"].pattern.split(";")[0]
                return str(
                    format_currency(
                        exact,
                        self.currency,
                        format=money.replace(".00", places),
                        locale=self._locale,
                        currency_digits=False,
                    )
                )
            if kind == "share":
                share = str(self._locale.percent_formats[None].pattern).split(";")[0]
                last = share.rindex("0")
                share = share[: last + 1] + places + share[last + 1 :]
                return str(format_percent(float(exact), format=share, locale=self._locale))
            return str(format_decimal(exact, format="#,##0" + places, locale=self._locale))

        return write

    def points(self, delta: Any, *, digits: int = 1) -> str:
        """A change of a share, in percentage points: 0.012 → ``+1.2 pts``."""
        number = _number(delta)
        if number is None:
            return MISSING
        return f"{self._signed(100 * number, digits)} pts"

    def percentile(self, value: Any, *, digits: int = 0) -> str:
        """A rank among peers, 0–1, in words: 0.1 → ``10th percentile``."""
        number = _number(value)
        if number is None:
            return MISSING
        if digits:
            return f"{self.number(100 * number, digits=digits)}th percentile"
        n = math.floor(100 * number + 0.5)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} percentile"

    def excel_money(self, *, cents: bool = False) -> str:
        """The number format a spreadsheet writes money with, the currency's symbol where the
        locale puts it: ``"$"#,##0`` (en_US), ``#,##0 "€"`` (de_DE); ``cents``: ``.00``."""
        from babel.numbers import get_currency_symbol

        symbol = str(get_currency_symbol(self.currency, self._locale)).replace('"', "")
        pattern = self._locale.currency_formats["standard"]
        number = "#,##0.00" if cents else "#,##0"
        prefix, suffix = str(pattern.prefix[0]), str(pattern.suffix[0])
        if "¤" in suffix or "¤" not in prefix:
            return f'{number} "{symbol}"'
        space = " " if prefix.endswith(("\xa0", " ", "\u202f")) else ""
        return f'"{symbol}{space}"{number}'

    def times(self, value: Any) -> str:
        """A multiple: 5.934 → ``5.9×``."""
        number = _number(value)
        return MISSING if number is None else f"{self.number(number, digits=1)}×"

    def input_name(self, key: str) -> str:
        """A scenario input by name: ``mdf_spend`` → ``MDF spend``, ``churn.Gold`` →
        ``Churn (Gold)``."""
        head, _, tier = key.partition(".")
        name = head.replace("_", " ").capitalize().replace("Mdf", "MDF")
        return f"{name} ({tier})" if tier else name

    def in_kind(self, value: Any, kind: str, *, compact: bool = False) -> str:
        """A scenario input or outcome in its kind (``partnerscope.scenarios.inputs.kind``,
        :data:`SCENARIO_OUTCOMES`): money (``compact``: ``$52.3M``), a share as a percentage,
        a score to one decimal, a count, or a plain number."""
        match kind:
            case "money":
                return self.money(value, compact=compact)
            case "share":
                return self.share(value)
            case "score":
                return self.number(value, digits=1)
            case "count":
                return self.number(value)
        return self.value(value, Unit.NUMBER)

    def override(self, kind: str, given: Mapping[str, Any]) -> str:
        """How an option changes a scenario input of ``kind``, in words (``1.3× the base
        value``, ``between $10,000 and $20,000``)."""

        def v(name: str) -> str:
            return self.in_kind(given.get(name), kind)

        if given.get("scale") is not None:
            return f"{self.times(given['scale'])} the base value"
        match given.get("dist"):
            case "fixed":
                return v("value")
            case "normal":
                return f"about {v('mean')} (± {v('sd')})"
            case "lognormal":
                spread = self.number(given.get("sigma"), digits=2)
                return f"about {v('median')} (spread {spread})"
            case "uniform":
                return f"between {v('low')} and {v('high')}"
            case "triangular":
                return f"between {v('low')} and {v('high')}, most likely {v('mode')}"
        return MISSING

    def outcome(self, name: str, value: Any) -> str:
        """A scenario outcome (revenue, margin, coverage, control, partners) in its kind."""
        return self.in_kind(value, SCENARIO_OUTCOMES.get(name, "money"), compact=True)

    def _signed(self, number: float, digits: int) -> str:
        text = self.number(abs(number), digits=digits)
        return ("−" if number < 0 else "+") + text if round(number, digits) else text

    def value(self, value: Any, unit: Unit | str, *, compact: bool = False, extra: int = 0) -> str:
        """A value in its unit (``extra`` decimals beyond the unit's own)."""
        number = _number(value)
        if number is None:
            return MISSING
        digits = DIGITS.get(unit, 2) + extra
        if unit in (Unit.MONEY, Unit.MONEY_PER_DAY) and extra:
            digits += 1  # to the cent first
        match unit:
            case Unit.MONEY:
                if compact:
                    return self.money(number, compact=True)
                return self._written("money", digits)(number)
            case Unit.MONEY_PER_DAY:
                money = self.money(number, compact=True) if compact else None
                return f"{money or self._written('money', digits)(number)} a day"
            case Unit.COUNT:
                return self.number(number, digits=digits, compact=compact)
            case Unit.SHARE:
                return self.share(number, digits=digits)
            case Unit.RATIO:
                return f"{self.number(number, digits=digits)}×"
            case Unit.DAYS:
                return f"{self.number(number, digits=digits)} days"
            case Unit.HOURS:
                return f"{self.number(number, digits=digits)} h"
            case "percentile":
                return self.percentile(number, digits=digits)
            case Unit.NUMBER if not extra:
                # a plain number: up to 2 decimals, as many as it has
                text = self.number(number, digits=digits if abs(number) < 100 else 0)
                point = self._decimal
                return text.rstrip("0").rstrip(point) if point in text else text
            case _:
                return self.number(number, digits=digits)

    def unit(self, metric: str) -> Unit | str:
        """The unit of a catalog metric or a scorecard field (NUMBER for anything else)."""
        if self.catalog is not None and metric in self.catalog:
            return self.catalog[metric].spec.unit
        return FIELDS[metric][1] if metric in FIELDS else Unit.NUMBER

    def of_metric(self, metric: str, value: Any, *, compact: bool = False, extra: int = 0) -> str:
        """A value of ``metric`` (a catalog metric or a scorecard field) in its unit."""
        return self.value(value, self.unit(metric), compact=compact, extra=extra)

    def column(self, metric: str, values: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
        """Every value of ``metric`` written (None where NaN), each distinct written value
        formatted once: a run writes hundreds of thousands of them into its reasons."""
        import numpy as np

        unit = self.unit(metric)
        scale = 100.0 if unit in (Unit.SHARE, "percentile") else 1.0
        step = 10.0 ** DIGITS.get(unit, 2)
        texts = np.full(len(values), None, dtype=object)
        finite = np.isfinite(values)
        some = values[finite]
        # rounded as the writers round (half away from zero), so each rounded value reads as
        # every value it stands for
        rounded = np.sign(some) * np.floor(np.abs(some) * scale * step + 0.5 + 1e-9) / step / scale
        distinct, inverse = np.unique(rounded, return_inverse=True)
        written = [self.value(v, unit) for v in distinct.tolist()]
        texts[finite] = np.array(written, dtype=object)[inverse.reshape(-1)]
        return texts

    def beside(self, metric: str, value: float, bound: float) -> tuple[str, str]:
        """``value`` and the ``bound`` it is compared with, written with as many decimals as
        it takes for the bound to read exactly and the value to read apart from it: never
        "80.0%, needs at least 80.0%"."""
        unit = self.unit(metric)
        scaled = bound * (100.0 if unit in (Unit.SHARE, "percentile") else 1.0)
        exact = next(
            (
                extra
                for extra in range(4)
                if abs(scaled * 10 ** (DIGITS.get(unit, 2) + extra) % 1 - 0.5) > 0.5 - 1e-6
            ),
            4,
        )
        bound_text = self.of_metric(metric, bound, extra=exact)
        if value == bound:
            return bound_text, bound_text
        for extra in range(7):
            text = self.of_metric(metric, value, extra=extra)
            if text != self.of_metric(metric, bound, extra=extra):
                return text, bound_text
        return self.of_metric(metric, value, extra=7), bound_text

    def needs(self, metric: str, bound: str, required: float, current: float | None) -> str:
        """An unmet condition of a tier: ``Quota attainment 6.2% (needs at least 80.0%)``
        (``bound`` "min" or "max"), as the tier reasons write it."""
        wanted = "needs at least" if bound == "min" else "needs at most"
        number = _number(current)
        if number is None:
            now, then = "not known", self.beside(metric, required, required)[1]
        else:
            now, then = self.beside(metric, number, required)
        return f"{self.metric(metric)} {now} ({wanted} {then})"

    def change(self, metric: str, now: Any, before: Any) -> str:
        """The change of ``metric`` from ``before`` to ``now``: in points for a share, else in
        percent of before (``new`` from nothing)."""
        a, b = _number(now), _number(before)
        if a is None or b is None:
            return MISSING
        if self.unit(metric) is Unit.SHARE:
            return self.points(a - b)
        if b == 0:
            return "new" if a else "="
        return self._signed(100 * (a - b) / abs(b), 0) + "%"

    def better(self, metric: str, now: float, before: float) -> bool | None:
        """Whether ``now`` is better than ``before`` by the metric's direction (None: no
        direction, or the same)."""
        if now == before or self.catalog is None or metric not in self.catalog:
            return None
        direction = self.catalog[metric].spec.direction
        if direction is Direction.NONE:
            return None
        return (now > before) == (direction is Direction.HIGHER)

    # ------------------------------------------------------------------------------ dates

    def date(self, value: date | datetime | str | None) -> str:
        """``Dec 6, 2026`` (the locale's medium date)."""
        from babel.dates import format_date

        if value is None or value == "":
            return MISSING
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return str(format_date(value, format="medium", locale=self._locale))

    def moment(self, value: datetime | None) -> str:
        """``Dec 6, 2026, 14:05`` (a time of the UTC the store keeps, marked as such)."""
        from babel.dates import format_date, format_time

        if value is None:
            return MISSING
        # the medium date and a 24-hour time: the medium date-time of en_US ends in AM/PM
        day = format_date(value, format="medium", locale=self._locale)
        return f"{day}, {format_time(value, 'HH:mm', locale=self._locale)} UTC"

    # ------------------------------------------------------------------------------ names

    def metric(self, key: str) -> str:
        """A metric's label, or a scorecard field's (the key made readable for anything
        else)."""
        if self.catalog is not None and key in self.catalog:
            return self.catalog[key].label
        if key in FIELDS:
            return FIELDS[key][0]
        return key.replace("_", " ").capitalize()

    def cohort(self, key: object) -> str:
        """A peer group by its key: a partner type in words, the portfolio, a band or region
        as it is."""
        if key is None or key == "":
            return "no peer group"
        if key == "portfolio":
            return "all partners"
        return PARTNER_TYPES.get(str(key), str(key))

    @staticmethod
    def partner_type(key: str | None) -> str:
        return PARTNER_TYPES.get(key or "", (key or "").replace("_", " ").capitalize() or MISSING)

    @staticmethod
    def rule(key: str) -> str:
        return RULES.get(key, key.replace("_", " ").capitalize())

    @staticmethod
    def flag(key: str) -> str:
        return FLAGS.get(key, key.replace("_", " ").capitalize())

    @staticmethod
    def criterion(key: str) -> str:
        return CRITERIA.get(key, key.replace("_", " ").capitalize())

    @staticmethod
    def alert_kind(key: str) -> str:
        return ALERT_KINDS.get(key, key.replace("_", " ").capitalize())


def check_locale(value: str) -> str:
    """``value`` if Babel knows the locale, else a ValueError saying how to write one."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(
            f"{value!r} is not a locale; write a language and country like en_US, en_GB, "
            "de_DE or fr_FR"
        ) from None
    return value
