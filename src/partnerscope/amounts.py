"""Money arithmetic: exact decimals, one rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

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
