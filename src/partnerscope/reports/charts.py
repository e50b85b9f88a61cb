"""The reports' charts: Vega-Lite specs built once (altair), filled with each report's rows and
rendered to SVG by vl-convert, so HTML, PDF and the web draw the same chart from the same spec.

A template is built on first use and kept; a chart is a copy of it with the rows (and title and
axis format) put in, which costs microseconds; vl-convert's rendering, about 60 ms on one core,
is most of a report's cost (bench/reports.py). Sparklines, one per metric row of a scorecard,
are drawn as an SVG path directly (:func:`sparkline`), about 300 times faster than through
Vega: a dozen of them per scorecard through Vega would cost as much as the rest of the page.

What a chart shows is written as the reports write it (present.py): money axes in compact
currency (``$52M``, by a ``labelExpr``), shares as percentages, multiples as ``2.0×``. Rows
without a value are left out (an axis never reads "NaN"); a chart with no value at all is
marked empty (``usermeta.empty``) and a report says "No data for FY2026-Q4" in its place.
Each tier keeps its colour in every period (from the tier order in the configuration); a
chart of one series has no legend; a good flag or mover is green or blue, an exit or a
decline red. Specs are as wide as their container (``width: "container"``, autosize fit) for
the web; :func:`svg` fixes a width for the HTML/PDF reports' images.
"""

from __future__ import annotations

import base64
import copy
import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from partnerscope.metrics.definition import Unit

Rows = Sequence[dict[str, Any]]

#: Colours, shared with the HTML templates' stylesheet.
INK = "#1f2933"
ACCENT = "#2563eb"
GOOD = "#15803d"
BAD = "#b91c1c"
MUTED = "#9aa5b1"
LEADING = "#0ea5e9"
LAGGING = "#6366f1"
WARN = "#b45309"

#: Colours of the groups a bar chart may have: calm for good news, red for bad.
GROUP_COLOURS = {
    "Leading": LEADING,
    "Lagging": LAGGING,
    "leading": LEADING,
    "lagging": LAGGING,
    "Risers": GOOD,
    "Decliners": BAD,
    "up": GOOD,
    "down": BAD,
    "High potential": GOOD,
    "Needs improvement": WARN,
    "Exit review": BAD,
    "high_potential": GOOD,
    "improvement": WARN,
    "exit": BAD,
}
#: Colours of any other groups, in turn.
PALETTE = ["#2563eb", "#0ea5e9", "#6366f1", "#14b8a6", "#a855f7", "#64748b", "#f59e0b"]
#: Colours of the tiers, from the top tier of the configuration's order down.
TIER_PALETTE = ["#1e3a8a", "#2563eb", "#60a5fa", "#93c5fd", "#cbd5e1", "#e2e8f0", "#94a3b8"]
#: Width of a chart rendered to an image (HTML and PDF reports); the image scales down.
IMAGE_WIDTH = 420

#: d3-format of an axis in each unit.
AXIS_FORMAT = {
    Unit.SHARE: ".0%",
    Unit.MONEY: "~s",
    Unit.MONEY_PER_DAY: "~s",
    Unit.COUNT: "~s",
    Unit.RATIO: ".1f",
    Unit.DAYS: ".0f",
    Unit.HOURS: ".1f",
    Unit.SCORE: ".0f",
    Unit.RATING: ".1f",
    Unit.NUMBER: "~s",
}

_CONFIG = {
    # Liberation Sans has Arial's metrics: vl-convert measures labels with it, and a browser
    # with Arial or Helvetica (or the Debian package fonts-liberation) draws them the same width
    "font": "Liberation Sans, Arial, Helvetica, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelColor": INK, "titleColor": INK, "gridColor": "#e4e7eb", "labelFontSize": 10},
    "title": {"anchor": "start", "fontSize": 12, "color": INK},
    "legend": {"labelFontSize": 10, "titleFontSize": 10},
}


def _line() -> Any:
    """A value per period with an optional goal line; datasets ``values`` and ``goal``."""
    import altair as alt

    x = alt.X("period:O", sort=None, title=None, axis=alt.Axis(labelAngle=-40))
    line = (
        alt.Chart(alt.NamedData("values"))
        .mark_line(point=True, color=ACCENT)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",.2~f")),
            tooltip=["period:O", alt.Tooltip("value:Q", format=",.2~f")],
        )
    )
    goal = (
        alt.Chart(alt.NamedData("goal"))
        .mark_rule(color=GOOD, strokeDash=[4, 3])
        .encode(y="value:Q", tooltip=["label:N", alt.Tooltip("value:Q", format=",.2~f")])
    )
    return alt.layer(line, goal).properties(width="container", height=140)


def _bars() -> Any:
    """Horizontal bars per label, coloured by group (dataset ``values``: label, value, group)."""
    import altair as alt

    return (
        alt.Chart(alt.NamedData("values"))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("value:Q", title=None, axis=alt.Axis(format=",.2~f")),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(
                    domain=["leading", "lagging", "up", "down"],
                    range=[LEADING, LAGGING, GOOD, BAD],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["label:N", alt.Tooltip("value:Q", format=",.2~f"), "group:N"],
        )
        .properties(width="container")
    )


def _stacked() -> Any:
    """Counts per period stacked by category (dataset ``values``: period, category, count)."""
    import altair as alt

    return (
        alt.Chart(alt.NamedData("values"))
        .mark_bar()
        .encode(
            x=alt.X("period:O", sort=None, title=None, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("count:Q", title="partners"),
            color=alt.Color("category:N", sort=None, title=None),
            order=alt.Order("rank:Q"),
            tooltip=["period:O", "category:N", "count:Q"],
        )
        .properties(width="container", height=160)
    )


def _plan_actual() -> Any:
    """Won revenue against quota per month (dataset ``values``: month, actual, plan)."""
    import altair as alt

    x = alt.X("month:O", sort=None, title=None)
    actual = (
        alt.Chart(alt.NamedData("values"))
        .mark_bar(color=ACCENT, size=28)
        .encode(
            x=x,
            y=alt.Y("actual:Q", title="Won revenue", axis=alt.Axis(format="~s")),
            tooltip=[
                "month:O",
                alt.Tooltip("actual:Q", format=",.0f"),
                alt.Tooltip("plan:Q", format=",.0f"),
            ],
        )
    )
    plan = (
        alt.Chart(alt.NamedData("values"))
        .mark_tick(color=INK, thickness=3, size=40)
        .encode(x=x, y="plan:Q", tooltip=["month:O", alt.Tooltip("plan:Q", format=",.0f")])
    )
    return alt.layer(actual, plan).properties(width="container", height=150)


_TEMPLATES: dict[str, Callable[[], Any]] = {
    "line": _line,
    "bars": _bars,
    "stacked": _stacked,
    "plan_actual": _plan_actual,
}


@cache
def template(name: str) -> dict[str, Any]:
    """The Vega-Lite spec of a chart kind, without data (built once per process)."""
    spec: dict[str, Any] = _TEMPLATES[name]().to_dict()
    spec["config"] = _CONFIG
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


#: The quantitative fields of each chart kind (a row without any of them is left out).
_VALUES = {
    "line": ("value",),
    "bars": ("value",),
    "stacked": ("count",),
    "plan_actual": ("actual", "plan"),
}


def spec(
    name: str,
    rows: Rows,
    *,
    title: str | None = None,
    unit: Unit | None = None,
    goal: float | None = None,
    height: int | None = None,
    currency: str = "USD",
    categories: Sequence[str] | None = None,
    empty: str = "No data",
) -> dict[str, Any]:
    """The chart ``name`` filled with ``rows``: a complete Vega-Lite spec (for vega-embed too).

    ``unit`` writes the value axis (money in compact ``currency``); ``categories`` is the
    order of a stacked chart's categories (the tiers, top first), each with its own colour
    whatever the rows; a chart with no value is marked ``usermeta.empty`` (``empty``)."""
    out = copy.deepcopy(template(name))
    fields = _VALUES[name]
    plain = [_plain(r) for r in rows]
    kept = [r for r in plain if any(r.get(f) is not None for f in fields)]
    out["datasets"] = {"values": kept}
    if not kept:
        out["usermeta"] = {"empty": empty}
    if name == "plan_actual" and unit is None:
        unit = Unit.MONEY
    if name == "line":
        out["datasets"]["goal"] = [] if goal is None else [{"label": "goal", "value": goal}]
    if unit is not None:
        axis = _value_axis(out, name)
        axis["format"] = AXIS_FORMAT[unit]
        label = _label_expr(unit, currency)
        if label:
            axis["labelExpr"] = label
    if title:
        out["title"] = title
    if height is not None:
        out["height"] = height
    elif name == "bars":
        out["height"] = max(40, 18 * len(kept))
    if name == "bars":
        scale = out["encoding"]["color"]["scale"]
        groups = list(dict.fromkeys(r.get("group") for r in kept))
        others = iter(PALETTE * 4)
        scale["domain"] = groups
        scale["range"] = [GROUP_COLOURS.get(str(g)) or next(others) for g in groups]
        if len(groups) < 2:
            # one series: the bars say what they are, a legend would only repeat the title
            out["encoding"]["color"]["legend"] = None
    if name == "stacked":
        order = [str(c) for c in categories or []]
        seen = dict.fromkeys(str(r.get("category")) for r in kept)
        order += [c for c in seen if c not in order]
        colours = [TIER_PALETTE[i % len(TIER_PALETTE)] for i in range(len(order))]
        out["encoding"]["color"]["scale"] = {"domain": order, "range": colours}
    return out


def _value_axis(out: dict[str, Any], name: str) -> dict[str, Any]:
    encoding = out["layer"][0]["encoding"] if "layer" in out else out["encoding"]
    channel = encoding["x" if name == "bars" else "y"]
    axis: dict[str, Any] = channel.setdefault("axis", {})
    return axis


def _label_expr(unit: Unit, currency: str) -> str | None:
    """A Vega expression writing an axis label as the reports write the unit: money in
    compact currency (``$52M``, ``$1.5B``, ``$800``), a multiple as ``2.0×``."""
    if unit in (Unit.MONEY, Unit.MONEY_PER_DAY):
        symbol = _currency_symbol(currency).replace("'", "\\'")
        big = "replace(replace(format(abs(datum.value), '.3~s'), 'G', 'B'), 'k', 'K')"
        small = "format(abs(datum.value), ',.0f')"
        return (
            f"(datum.value < 0 ? '−' : '') + '{symbol}' + "
            f"(abs(datum.value) >= 1000 ? {big} : {small})"
        )
    if unit in (Unit.COUNT, Unit.NUMBER):
        big = "replace(replace(format(datum.value, '.3~s'), 'G', 'B'), 'k', 'K')"
        return f"abs(datum.value) >= 1000 ? {big} : format(datum.value, ',.2~f')"
    if unit is Unit.RATIO:
        return "format(datum.value, '.1f') + '×'"
    return None


def _currency_symbol(currency: str) -> str:
    from babel.numbers import get_currency_symbol

    return str(get_currency_symbol(currency, locale="en_US"))


def empty(chart: dict[str, Any]) -> str | None:
    """What a chart with nothing to show says instead (None: it has something)."""
    meta = chart.get("usermeta") or {}
    text = meta.get("empty")
    return str(text) if text else None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON values: NaN as null."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def svg(chart: dict[str, Any]) -> str:
    """The chart drawn as SVG, :data:`IMAGE_WIDTH` wide (an image has no container)."""
    import vl_convert

    fixed = dict(chart)
    if fixed.get("width") == "container":
        fixed["width"] = IMAGE_WIDTH
    return str(vl_convert.vegalite_to_svg(fixed))


def data_uri(chart: dict[str, Any]) -> str:
    """The chart as an ``<img src>``: self-contained, and each chart's SVG ids stay its own."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(chart).encode()).decode()


def sparkline(values: Sequence[float | None], *, width: int = 90, height: int = 22) -> str:
    """A trend as a small inline SVG: a line through the values (a gap where one is missing)
    and a dot on the last one; empty when fewer than two values are known."""
    known = [v for v in values if v is not None and not math.isnan(v)]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    points: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None or math.isnan(v):
            if points[-1]:
                points.append([])
            continue
        y = height - 3 - (v - low) / span * (height - 6)
        points[-1].append((2 + i * step, y))
    paths = " ".join(
        "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run) for run in points if len(run) > 1
    )
    last = next((run[-1] for run in reversed(points) if run), None)
    dot = f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="2" fill="{ACCENT}"/>' if last else ""
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<path d="{paths}" fill="none" stroke="{ACCENT}" stroke-width="1.5"/>{dot}</svg>'
    )
