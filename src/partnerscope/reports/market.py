"""The market opportunity map as a heat map (web and report) and as a report of its own:
``partnerscope report market`` (HTML, PDF or a workbook), read from the warehouse rather than
from a run (docs/lifecycle.md)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from partnerscope.reports.content import ReportError

if TYPE_CHECKING:
    from partnerscope.lifecycle.market import Cell, MarketMap
    from partnerscope.present import Words
    from partnerscope.workspace import Workspace

#: the colour of each priority: the hotter, the sooner to recruit; Avoid grey
COLOURS = {
    "Priority 1": "#b91c1c",
    "Priority 2": "#ef4444",
    "Priority 3": "#f59e0b",
    "Priority 4": "#fde68a",
    "Priority 5": "#e5e7eb",
    "Avoid": "#6b7280",
}
#: priorities whose cells are dark: their label is written in white
DARK = ("Priority 1", "Priority 2", "Avoid")


def coverage_words(cell: Cell, words: Words) -> str:
    """The coverage of a cell in words (the tooltip's and the tables' line)."""
    n = len(cell.partners)
    present = "no partner" if n == 0 else "one partner" if n == 1 else f"{n} partners"
    channel = (
        "no won revenue yet"
        if cell.channel_share is None
        else f"{words.share(cell.channel_share, digits=0)} of the won revenue through partners"
    )
    rivals = (
        ""
        if cell.competitors is None
        else f", {cell.competitors} competitor{'' if cell.competitors == 1 else 's'}"
    )
    return f"{present} present, {channel}{rivals}"


def rows(market: MarketMap, words: Words) -> list[dict[str, Any]]:
    """One row per cell, every value in words: what the heat map draws and tells."""
    return [
        {
            "territory": c.territory,
            "vertical": c.vertical,
            "priority": c.priority,
            "label": "Avoid" if c.priority == "Avoid" else c.priority.removeprefix("Priority "),
            "value": f"{words.money(c.value)} ({c.value_band} value, from the {c.source})",
            "coverage": coverage_words(c, words),
            "why": c.why,
        }
        for c in market.cells
    ]


@cache
def _template() -> dict[str, Any]:
    """The heat map without data: territories down, verticals across, coloured by priority,
    each cell labelled with its priority's number (built once per process with altair)."""
    import altair as alt

    from partnerscope.reports.charts import template

    base = alt.Chart(alt.NamedData("values")).encode(
        x=alt.X("vertical:N", title=None, axis=alt.Axis(labelAngle=-30, orient="top")),
        y=alt.Y("territory:N", title=None, axis=alt.Axis(labelLimit=200)),
        tooltip=[
            alt.Tooltip("territory:N", title="Territory"),
            alt.Tooltip("vertical:N", title="Vertical"),
            alt.Tooltip("priority:N", title="Priority"),
            alt.Tooltip("value:N", title="Market value"),
            alt.Tooltip("coverage:N", title="Coverage"),
        ],
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "priority:N",
            title="Priority",
            scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
            legend=alt.Legend(orient="bottom"),
        )
    )
    text = base.mark_text(fontSize=10).encode(
        text="label:N",
        color=alt.condition(
            alt.FieldOneOfPredicate(field="priority", oneOf=list(DARK)),
            alt.value("white"),
            alt.value("#1f2933"),
        ),
    )
    spec: dict[str, Any] = alt.layer(rect, text).properties(width="container").to_dict()
    spec["config"] = template("bars")["config"]
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


def heat_map(market: MarketMap, words: Words, *, title: str | None = None) -> dict[str, Any]:
    """The map as a Vega-Lite spec (vega-embed draws it on the web; a report renders it to
    SVG); marked empty when the map has no cell."""
    spec = copy.deepcopy(_template())
    values = rows(market, words)
    spec["datasets"] = {"values": values}
    territories = sorted({c.territory for c in market.cells})
    spec["height"] = max(60, 20 * len(territories))
    if title:
        spec["title"] = title
    if not values:
        spec["usermeta"] = {"empty": "No account with a country and an industry yet"}
    return spec


# ------------------------------------------------------------------------------- the report


def write_market(workspace: Workspace, fmt: str, out: Path | None = None) -> Path:
    """Write the market report (``html``, ``pdf`` or ``xlsx``) and return its path."""
    from partnerscope.atomic import write_bytes
    from partnerscope.lifecycle.market import opportunity_map

    market = opportunity_map(workspace)
    folder = out or workspace.root / "reports" / "market"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    path = folder / f"market-{stamp:%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        write_bytes(path, workbook(market, workspace.words))
        return path
    page = html(workspace, market, stamp)
    if fmt == "html":
        write_bytes(path, page.encode())
    elif fmt == "pdf":
        from partnerscope.reports.render import pdf

        write_bytes(path, pdf(page))
    else:
        raise ReportError(f"--format {fmt}: the market report is html, pdf or xlsx")
    return path


def html(workspace: Workspace, market: MarketMap, made: datetime) -> str:
    """The report as one self-contained page: the heat map (SVG), the gaps, the counts."""
    from partnerscope import __version__
    from partnerscope.reports.charts import data_uri, empty
    from partnerscope.reports.render import environment

    words = workspace.words
    chart = heat_map(market, words)
    made_text = f"{words.date(made)}, {made:%H:%M} UTC"
    # the stylesheet's page footer reads report.stamp.footer()
    footer = f"{workspace.config.workspace.name} · market opportunity map · made {made_text}"
    report = SimpleNamespace(stamp=SimpleNamespace(footer=lambda: footer))
    return (
        environment()
        .get_template("market.html.j2")
        .render(
            title=f"{workspace.config.workspace.name} — market opportunity map",
            market=market,
            words=words,
            image=None if empty(chart) else data_uri(chart),
            coverage=lambda c: coverage_words(c, words),
            made=made_text,
            report=report,
            version=__version__,
        )
    )


def workbook(market: MarketMap, words: Words) -> bytes:
    """The map and its gaps as a workbook: money with the currency's format, shares as
    percentages, the reason of each cell; an "About" sheet says where the values came from."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    # names are data: never a formula or a link
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True, "bottom": 1})
    money = book.add_format({"num_format": words.excel_money()})
    share = book.add_format({"num_format": "0%"})
    headers = (
        ("Priority", 11, None),
        ("Territory", 20, None),
        ("Region", 16, None),
        ("Vertical", 20, None),
        ("Market value", 18, money),
        ("Share of the total", 10, share),
        ("Value from", 16, None),
        ("Partners present", 9, None),
        ("Channel share", 9, share),
        ("Competitors", 9, None),
        ("Gap", 6, None),
        ("Why", 90, None),
    )
    for name, cells in (("Market map", market.cells), ("Gaps", market.gaps)):
        sheet = book.add_worksheet(name)
        for col, (header, width, fmt) in enumerate(headers):
            sheet.write(0, col, header, bold)
            sheet.set_column(col, col, width, fmt)
        sheet.freeze_panes(1, 0)
        for row, c in enumerate(cells, start=1):
            values = (
                c.priority,
                c.territory,
                c.region,
                c.vertical,
                round(c.value, 2),
                c.value_share,
                c.source,
                len(c.partners),
                c.channel_share,
                c.competitors,
                "yes" if c.is_gap else "no",
                c.why,
            )
            for col, value in enumerate(values):
                if value is not None:
                    sheet.write(row, col, value, headers[col][2])
    about = book.add_worksheet("About")
    about.write(0, 0, market.basis)
    about.write(1, 0, market.window)
    book.close()
    return out.getvalue()
