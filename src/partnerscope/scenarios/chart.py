"""The scenario bands as a chart: per option, the P10–P90 band and the P50 line of monthly
revenue, contribution margin, coverage and control index (Vega-Lite through altair, rendered
to SVG or PNG by vl-convert, the same spec the reports and the web app use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partnerscope.errors import PartnerscopeError

PANELS = {
    "revenue": "Revenue a month",
    "margin": "Contribution margin a month",
    "coverage": "Coverage",
    "control": "Control index",
}
FORMATS = (".svg", ".png")


class ChartError(PartnerscopeError, ValueError):
    """A chart file the model cannot write."""


def bands_spec(summary: dict[str, Any]) -> dict[str, Any]:
    """A Vega-Lite spec of a scenario summary's monthly bands (:meth:`ScenarioResult.summary`)."""
    import altair as alt

    rows = [
        {
            "option": f"{option['key']} {option['label']}".strip(),
            "panel": PANELS[outcome],
            "month": month,
            "p10": band["p10"][month - 1],
            "p50": band["p50"][month - 1],
            "p90": band["p90"][month - 1],
        }
        for option in summary["options"]
        for outcome, band in option["bands"].items()
        if outcome in PANELS
        for month in range(1, len(band["p50"]) + 1)
    ]
    base = alt.Chart(alt.InlineData(values=rows)).encode(
        x=alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("option:N", title="option"),
    )
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p10:Q", title=None, scale=alt.Scale(zero=False)), y2="p90:Q"
    )
    line = base.mark_line(strokeWidth=2).encode(y="p50:Q")
    spec = (
        alt.layer(band, line)
        .properties(width=300, height=170)
        .facet(facet=alt.Facet("panel:N", title=None, sort=list(PANELS.values())), columns=2)
        .resolve_scale(y="independent")
        .properties(title="P50 (line) and P10–P90 (band) by month, per option")
    )
    result: dict[str, Any] = spec.to_dict()
    return result


def write_chart(summary: dict[str, Any], path: Path) -> Path:
    """Render the bands to ``path`` (.svg or .png)."""
    import vl_convert

    if path.suffix.lower() not in FORMATS:
        raise ChartError(f"{path}: write the chart as {' or '.join(FORMATS)}")
    spec = bands_spec(summary)
    if path.suffix.lower() == ".svg":
        path.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    else:
        path.write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
    return path
