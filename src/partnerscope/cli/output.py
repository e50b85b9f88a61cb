"""How listing commands print their tables: on a terminal, folded to its width; piped, whole;
and with ``--format csv|json``, as data a script or a spreadsheet reads.

Every listing command takes :data:`FormatOption` and prints its table through :func:`show`.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from partnerscope.cli.app import console as default_console


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


#: ``--format``: the option every listing command takes.
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="table (default), csv or json: csv and json print every column whole, for scripts.",
        case_sensitive=False,
    ),
]


def plain(cell: Any) -> str:
    """A cell's text without its markup (a cell is a markup string or a rich Text)."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def rows(table: Table) -> tuple[list[str], list[list[str]]]:
    """A table's headers and its rows as plain text, as printed (without markup)."""
    headers = [plain(c.header) for c in table.columns]
    cells = [[plain(cell) for cell in c.cells] for c in table.columns]
    return headers, [list(row) for row in zip(*cells, strict=True)] if cells else []


def show(
    table: Table, fmt: OutputFormat = OutputFormat.table, *, console: Console | None = None
) -> None:
    """Print ``table`` in ``fmt``.

    ``table``: on a terminal, rich folds it to the terminal's width; when the output is piped or
    redirected, it is printed at its natural width, so no cell is cut to ``deale…``.
    ``csv``/``json``: one record per row, keyed by the column headers, cells whole and plain.
    """
    out = console or default_console
    if fmt is OutputFormat.table:
        if out.is_terminal:
            out.print(table)
        else:
            width = Measurement.get(out, out.options.update(width=100_000), table).maximum
            # Console.print(width=...) is capped at the console's own width: print through a
            # console as wide as the table, on the same file, with the same colours
            wide = Console(
                file=out.file,
                width=max(out.width, width),
                highlight=False,
                color_system=out.color_system,  # type: ignore[arg-type]
            )
            wide.print(table, crop=False)
        return
    headers, body = rows(table)
    if fmt is OutputFormat.csv:
        writer = csv.writer(out.file, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(body)
        return
    records = [dict(zip(headers, row, strict=True)) for row in body]
    out.file.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")


def note(fmt: OutputFormat, *objects: Any, **options: Any) -> None:
    """A line printed beside a table (a total, a hint): on stdout under a table, on stderr
    with csv/json, so that what is piped stays data a script parses."""
    from partnerscope.cli.app import err_console

    out = default_console if fmt is OutputFormat.table else err_console
    if len(objects) == 1 and isinstance(objects[0], Table) and not options:
        show(objects[0], console=out)  # a table beside the data: whole when piped, as the data
        return
    out.print(*objects, **options)
