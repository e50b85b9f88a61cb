"""`partnerscope market`: the market opportunity map — where to recruit partners, per territory
and vertical, and the gaps recruitment should close first (docs/lifecycle.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import UsageError, app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.lifecycle.market import Cell, MarketMap
    from partnerscope.present import Words


class Level(StrEnum):
    country = "country"
    region = "region"


#: the colour of each priority in the terminal
COLOURS = {
    "Priority 1": "bold red",
    "Priority 2": "red",
    "Priority 3": "yellow",
    "Priority 4": "cyan",
    "Priority 5": "dim",
    "Avoid": "magenta",
}


def channel(words: Words, cell: Cell) -> str:
    """The channel's share of the cell's won revenue, or a dash without won revenue."""
    return "—" if cell.channel_share is None else words.share(cell.channel_share, digits=0)


def competitors(cell: Cell) -> str:
    return "—" if cell.competitors is None else str(cell.competitors)


def grid_table(market: MarketMap, words: Words, cells: tuple[Cell, ...], title: str) -> Table:
    table = Table(
        "priority",
        market.by,
        "vertical",
        "market value",
        "partners present",
        "channel share",
        "competitors",
        "why",
        title=title,
    )
    for cell in cells:
        table.add_row(
            f"[{COLOURS[cell.priority]}]{cell.priority}[/]",
            escape(cell.territory),
            escape(cell.vertical),
            words.money(cell.value),
            str(len(cell.partners)),
            channel(words, cell),
            competitors(cell),
            escape(cell.why),
        )
    return table


@app.command("market")
def market(
    ctx: typer.Context,
    by: Annotated[
        Level,
        typer.Option(
            "--by",
            help="Territories: countries, or regions (the countries summed).",
            case_sensitive=False,
        ),
    ] = Level.country,
    vertical: Annotated[
        str | None, typer.Option("--vertical", help="Only this vertical (an account industry).")
    ] = None,
    gaps: Annotated[
        bool, typer.Option("--gaps", help="Only the gaps: priority 1–2 with no or thin coverage.")
    ] = False,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Also write the whole map (every cell, every column) to this CSV file."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The market opportunity map: per territory and vertical, the market value against the
    partners present, the channel's share and the competitors, as a priority (1 recruits first,
    Avoid never) with its reason; then the gaps where recruitment should focus."""
    from partnerscope.ingest.facts import plural
    from partnerscope.lifecycle.market import csv_text, opportunity_map

    ws = state(ctx).workspace()
    words = ws.words
    found = opportunity_map(ws, by=by.value)
    if vertical is not None:
        found = found.only(vertical)
    if csv_file is not None:
        try:
            csv_file.write_text(csv_text(found), encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--csv {csv_file}: cannot write the file ({exc.strerror}); choose a path in an "
                "existing folder you may write to"
            ) from None
    if gaps:
        show(grid_table(found, words, found.gaps, "Gaps: where to recruit"), fmt)
        note(fmt, f"{plural(len(found.gaps), 'gap')} of {len(found.cells)} cells. {found.basis}")
    else:
        show(grid_table(found, words, found.cells, "Market opportunity map"), fmt)
        counts = ", ".join(f"{p}: {n}" for p, n in found.counts().items())
        note(fmt, f"{len(found.cells)} cells ({counts}). {found.basis} {found.window}")
        if found.gaps:
            note(fmt, grid_table(found, words, found.gaps, "Gaps: where to recruit"))
        else:
            note(fmt, "No gap: every cell of priority 1–2 has its partners.")
    if csv_file is not None:
        target = escape(str(csv_file))
        note(fmt, f"Wrote the map ({len(found.cells)} cells) to {target}")
