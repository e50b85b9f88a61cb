"""The reports' charts: Vega-Lite specs built once (altair), filled with each report's rows and
rendered to SVG by vl-convert, so HTML, PDF and the web draw the same chart from the same spec.

A template is built on first use and kept; a chart is a copy of it with the rows (and title and
axis format) put in, which costs microseconds; vl-convert's rendering, about 60 ms on one core,
is most of a report's cost (bench/reports.py). Sparklines, one per metric row of a scorecard,
are drawn as an SVG path directly (:func:`sparkline`), about 300 times faster than through
Vega: a dozen of them per scorecard through Vega would cost as much as the rest of the page.
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
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format="~s")),
            tooltip=["period:O", "value:Q"],
        )
    )
    goal = (
        alt.Chart(alt.NamedData("goal"))
        .mark_rule(color=GOOD, strokeDash=[4, 3])
        .encode(y="value:Q", tooltip=["label:N", "value:Q"])
    )
    return alt.layer(line, goal).properties(width=300, height=140)


def _bars() -> Any:
    """Horizontal bars per label, coloured by group (dataset ``values``: label, value, group)."""
    import altair as alt

    return (
        alt.Chart(alt.NamedData("values"))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("value:Q", title=None),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(
                    domain=["leading", "lagging", "up", "down"],
                    range=[LEADING, LAGGING, GOOD, BAD],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["label:N", "value:Q", "group:N"],
        )
        .properties(width=300)
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
        .properties(width=300, height=160)
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
            y=alt.Y("actual:Q", title="won revenue", axis=alt.Axis(format="~s")),
            tooltip=["month:O", "actual:Q", "plan:Q"],
        )
    )
    plan = (
        alt.Chart(alt.NamedData("values"))
        .mark_tick(color=INK, thickness=3, size=40)
        .encode(x=x, y="plan:Q", tooltip=["month:O", "plan:Q"])
    )
    return alt.layer(actual, plan).properties(width=300, height=150)


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
    return spec


def spec(
    name: str,
    rows: Rows,
    *,
    title: str | None = None,
    unit: Unit | None = None,
    goal: float | None = None,
    height: int | None = None,
) -> dict[str, Any]:
    """The chart ``name`` filled with ``rows``: a complete Vega-Lite spec (for vega-embed too)."""
    out = copy.deepcopy(template(name))
    out["datasets"] = {"values": [_plain(r) for r in rows]}
    if name == "line":
        out["datasets"]["goal"] = [] if goal is None else [{"label": "goal", "value": goal}]
        if unit is not None:
            out["layer"][0]["encoding"]["y"]["axis"]["format"] = AXIS_FORMAT[unit]
    if title:
        out["title"] = title
    if height is not None:
        out["height"] = height
    elif name == "bars":
        out["height"] = max(40, 18 * len(rows))
    if name == "bars":
        # the legend lists only the groups these rows have
        scale = out["encoding"]["color"]["scale"]
        groups = {r["group"] for r in rows}
        pairs = [
            (d, c) for d, c in zip(scale["domain"], scale["range"], strict=True) if d in groups
        ]
        scale["domain"], scale["range"] = [d for d, _ in pairs], [c for _, c in pairs]
    return out


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON values: NaN as null (Vega leaves a gap)."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def svg(chart: dict[str, Any]) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(chart))


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
