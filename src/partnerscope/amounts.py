"""Money: exact decimals, one rounding rule, amounts as people type them and as they read them."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from partnerscope.errors import PartnerscopeError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | float | int | str) -> Decimal:
    """``value`` rounded to the cent, half away from zero (``ROUND_HALF_UP`` on decimals):
    2.345 → 2.35, −2.345 → −2.35. A float is read by its shortest repr (0.1 → 0.1, not the
    binary 0.1000000000000000055...)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def text(amount: Decimal) -> str:
    """An amount as stored: plain decimal text with two places ("1234.50")."""
    return f"{cents(amount):.2f}"


class AmountError(PartnerscopeError, ValueError):
    """An amount as given that is not one (not a number, or finer than the cent)."""


_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def parse_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """An amount as given (``1234.5``, ``"25,000"``, ``Decimal``), checked to be a finite number
    with at most two decimals: amounts are never rounded silently."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace("_", "")
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise AmountError(
                f"the {what} {value!r} is not an amount; write it like 25000 or 1234.50"
            ) from None
    if not number.is_finite():
        raise AmountError(f"the {what} {value!r} is not an amount; write it like 25000 or 1234.50")
    if cents(number) != number:
        raise AmountError(f"the {what} {value} has more than two decimals; give it to the cent")
    return cents(number)


def money(amount: Decimal | None) -> str:
    """An amount for people: 25,000.00 (— for none)."""
    return "—" if amount is None else f"{cents(amount):,.2f}"


def percent(ratio: Decimal | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:,.0f} %"
