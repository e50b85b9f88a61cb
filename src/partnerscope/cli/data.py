"""Commands that load and inspect data: ingest, imports, quarantine, status."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show
from partnerscope.cli.progress import progress_bar
from partnerscope.errors import DataFileError

if TYPE_CHECKING:
    from partnerscope.ingest.loader import IngestReport
    from partnerscope.workspace import Workspace


def run_ingest(
    ws: Workspace, sources: list[str] | None = None, files: dict[str, list[Path]] | None = None
) -> IngestReport:
    with progress_bar(console) as bar:
        task = bar.add_task("ingesting", total=None)

        def advance(text: str, done: int, total: int) -> None:
            bar.update(task, description=text, completed=done, total=total)

        return ws.ingest(sources, files, progress=advance)


def print_ingest_report(report: IngestReport, *, profiles: bool = True) -> None:
    """The ingest's counts per file and its warnings and, with ``profiles``, each source summed
    up with what looks wrong (:mod:`partnerscope.ingest.profile`)."""
    table = RichTable(
        "source",
        "file",
        "rows in",
        "loaded",
        "quarantined",
        "new",
        "updated",
        "unchanged",
        "superseded",
        title=f"Ingest batch {report.batch_id}",
        title_justify="left",
    )
    for f in report.files:
        table.add_row(
            escape(f.source),
            escape(f.file),
            f"{f.rows_in:,}",
            f"{f.loaded:,}",
            f"[red]{f.quarantined:,}[/]" if f.quarantined else "0",
            f"{f.inserted:,}",
            f"{f.updated:,}",
            f"{f.unchanged:,}",
            f"{f.superseded:,}",
        )
    show(table)
    console.print(
        f"rows in = loaded + quarantined: {report.rows_in:,} = {report.loaded:,} + "
        f"{report.quarantined:,}"
    )
    if report.quarantined:
        console.print("  see why with `partnerscope quarantine`")
    for f in report.files:
        for warning in f.warnings:
            # each names its file and column
            console.print(f"[yellow]Warning:[/] {escape(warning)}")
    # what each source now holds, and the warnings about it
    for profile in report.profiles if profiles else ():
        _print_profile(profile.source, profile.files, profile.facts)
        for warning in profile.warnings:
            console.print(f"[yellow]Warning:[/] {escape(warning)}")
    for hint in report.date_hints:
        console.print(f"[yellow]Hint:[/] {escape(hint)}")


def _print_profile(source: str, files: tuple[str, ...], facts: tuple[str, ...]) -> None:
    shown = files[0] if len(files) == 1 else f"{len(files)} files"
    console.print(f"[bold]{escape(source)}[/] ({escape(shown)}):")
    for fact in facts:
        console.print(f"  {escape(fact)}")


@app.command()
def ingest(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Sources to load (names from partnerscope.toml); all when omitted."),
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file", "-f", help="Load these files instead of the source's path (needs one source)."
        ),
    ] = None,
) -> None:
    """Load the declared exports: every row is loaded or quarantined with its reason.

    One run is one transaction: if anything fails, the warehouse stays as it was. Loading the
    same file again changes nothing; a later file adds or updates only its own rows.
    """
    ws = state(ctx).workspace()
    extra = None
    if file:
        if not sources or len(sources) != 1:
            raise DataFileError(
                "--file needs exactly one source to load the files as, e.g. "
                "`partnerscope ingest opportunities --file new.csv`"
            )
        extra = {sources[0]: [f.resolve() for f in file]}
    print_ingest_report(run_ingest(ws, sources, extra))


@app.command()
def imports(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Show the latest N imports.")] = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the import ledger: each file loaded, its fingerprint and its counts."""
    with state(ctx).workspace().warehouse(read_only=True) as wh:
        rows = wh.con.execute(
            "SELECT import_id, batch_id, source, file, left(fingerprint, 12), rows_in, loaded, "
            "quarantined, inserted, updated, unchanged, finished_at FROM _imports "
            "ORDER BY import_id DESC LIMIT ?",
            [limit],
        ).fetchall()
    table = RichTable(
        "import",
        "batch",
        "source",
        "file",
        "sha256",
        "rows in",
        "loaded",
        "quarantined",
        "new",
        "updated",
        "unchanged",
        "finished (UTC)",
    )
    for row in rows:
        table.add_row(
            *[
                f"{v:,}" if isinstance(v, int) and i >= 5 else escape(str(v))
                for i, v in enumerate(row)
            ]
        )
    show(table, fmt)


#: the columns of ``quarantine --export``
QUARANTINE_EXPORT = ("source", "file", '"row"', '"column"', "value", "rule", "message", "record")


def _export_quarantine(cursor: Any, path: Path) -> None:
    """The quarantined rows as CSV, their cells as people typed them: text a spreadsheet would
    run as a formula (``=HYPERLINK(...)`` in a rejected cell) is written as text (cells.py)."""
    from partnerscope.atomic import replacing
    from partnerscope.cells import CsvWriter, csv_cell

    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temp, temp.open("w", newline="", encoding="utf-8") as out:
        writer = CsvWriter(out)
        writer.writerow([c.strip('"') for c in QUARANTINE_EXPORT])
        while batch := cursor.fetchmany(10_000):
            writer.writerows([csv_cell(v) for v in row] for row in batch)


@app.command()
def quarantine(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule, e.g. not_date.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to list.")] = 20,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Write every matching row, with its reason and its original cells, to this CSV."
        ),
    ] = None,
    deleted: Annotated[
        bool,
        typer.Option(
            "--deleted",
            help="Also list the rows of files deleted since they were loaded (left out by "
            "default).",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show the rows of the latest import of each file that were not loaded, and why.

    Rows of a file that no longer exists are left out (with a note) unless ``--deleted`` is
    given. When most values of a date column were not read as dates, the format they are
    written in is named with the setting that reads them.
    """
    from partnerscope.ingest.profile import date_hints
    from partnerscope.ingest.quarantine_files import (
        left_out_note,
        quarantine_counts,
        quarantine_scope,
    )

    ws = state(ctx).workspace()
    with ws.warehouse(read_only=True) as wh:
        scope = quarantine_scope(wh.con, ws.root, deleted=deleted, source=source, rule=rule)
        base, params, gone = scope.base, scope.params, scope.gone
        summary = quarantine_counts(wh.con, scope)
        if export is not None:
            _export_quarantine(
                wh.con.execute(
                    f'SELECT {", ".join(QUARANTINE_EXPORT)} {base} ORDER BY source, file, "row"',
                    params,
                ),
                export,
            )
        rows = wh.con.execute(
            f'SELECT file, "row", "column", value, message {base} ORDER BY source, file, "row" '
            "LIMIT ?",
            [*params, limit],
        ).fetchall()
        imports = [
            r[0] for r in wh.con.execute(f"SELECT DISTINCT import_id {base}", params).fetchall()
        ]
        hints = date_hints(wh.con, ws.config, imports)
    detail = RichTable("file", "row", "column", "value", "reason")
    for file_name, row_no, column, value, message in rows:
        # cells and file names are data: shown as written, never read as markup
        detail.add_row(
            escape(file_name),
            str(row_no),
            escape(column or ""),
            escape(repr(value)) if value else "",
            escape(message),
        )
    if fmt is not OutputFormat.table:
        show(detail, fmt)
        return
    left_out = (
        escape(left_out_note(gone, "list them with --deleted")) if gone and not deleted else None
    )
    if not summary:
        console.print("[green]Nothing quarantined[/] in the latest import of each file.")
        if left_out:
            console.print(left_out)
        return
    by_rule = RichTable(
        "source", "rule", "column", "rows", title="Quarantined rows by reason", title_justify="left"
    )
    for src, rule_name, column, count in summary:
        by_rule.add_row(escape(src), escape(rule_name), escape(column or ""), f"{int(count):,}")
    show(by_rule)
    show(detail)
    for hint in hints:
        console.print(f"[yellow]Hint:[/] {escape(hint)}")
    if gone and deleted:
        console.print(f"files since deleted: {escape(', '.join(gone))}")
    if left_out:
        console.print(left_out)
    if export is not None:
        console.print(f"wrote {escape(str(export))}")


def _table_name(name: str) -> str:
    """A canonical table in words: ``fx_rates`` → "FX rates", ``partners`` → "Partners"."""
    words = name.replace("_", " ").capitalize()
    return "FX" + words[2:] if name.startswith("fx_") else words


@app.command()
def status(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Row counts of every canonical table and the latest import."""
    ws = state(ctx).workspace()
    with ws.warehouse(read_only=True) as wh:
        counts = wh.row_counts()
        last = wh.con.execute("SELECT max(finished_at), count(*) FROM _imports").fetchall()[0]
    table = RichTable(
        "table",
        "rows",
        title=escape(f"{ws.config.workspace.name} ({ws.root})"),
        title_justify="left",
    )
    for name, count in counts.items():
        table.add_row(_table_name(name), f"{count:,}")
    show(table, fmt)
    if fmt is OutputFormat.table and last and last[0]:
        console.print(f"{last[1]} imports, the latest finished {last[0]:%Y-%m-%d %H:%M} UTC")
