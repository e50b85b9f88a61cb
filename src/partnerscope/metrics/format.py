"""How metric values are written for people: one place for the CLI, reports and the web."""

from __future__ import annotations

from partnerscope.metrics.definition import Direction, Unit

MISSING = "—"


def format_value(value: float | None, unit: Unit, currency: str = "") -> str:
    """A value in its unit; undefined values are "—", never 0."""
    if value is None or value != value:  # None or NaN
        return MISSING
    match unit:
        case Unit.MONEY:
            return f"{value:,.0f} {currency}".strip()
        case Unit.MONEY_PER_DAY:
            return f"{value:,.0f} {currency}/day".replace("  ", " ")
        case Unit.COUNT:
            return f"{value:,.0f}"
        case Unit.SHARE:
            return f"{100 * value:.1f} %"
        case Unit.RATIO:
            return f"{value:.2f}×"
        case Unit.DAYS:
            return f"{value:.1f} d"
        case Unit.HOURS:
            return f"{value:.2f} h"
        case Unit.SCORE:
            return f"{value:.1f}"
        case Unit.RATING:
            return f"{value:.2f}"
        case Unit.NUMBER:
            return f"{value:,.2f}"


def change_marker(
    value: float | None, previous: float | None, direction: Direction
) -> tuple[str, str]:
    """(arrow, rich style) for the change from the previous period: green when it is better."""
    if value is None or previous is None or value != value or previous != previous:
        return "", ""
    if value == previous:
        return "=", "dim"
    up = value > previous
    arrow = "▲" if up else "▼"
    if direction is Direction.NONE:
        return arrow, "dim"
    better = up == (direction is Direction.HIGHER)
    return arrow, "green" if better else "red"
