"""Commands that help write a source's mapping: profile (before loading) and map (a proposal)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from partnerscope.cli.app import app, console, state


@app.command()
def profile(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="The source to read (a name from partnerscope.toml); a lookup's name reads "
            "the sources that use it."
        ),
    ],
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", help="Read these files instead of the source's path."),
    ] = None,
) -> None:
    """Show what a source's files hold, as an ingest would read them, without loading anything.

    Money totals, first and last dates, distinct ids, the commonest values of each category,
    the rows that would be quarantined and why, and warnings about a mapping that looks wrong
    (one amount on nearly every row, dates in another format).
    """
    from partnerscope.ingest.ledger import display_path
    from partnerscope.ingest.loader import plan_files
    from partnerscope.ingest.profile import before_ingest

    ws = state(ctx).workspace()
    extra = {source: [f.resolve() for f in file]} if file else None
    # a lookup's name stands for the sources that read it
    by_source: dict[str, list[Path]] = {}
    for name, path in plan_files(ws.config, ws.root, [source], extra):
        by_source.setdefault(name, []).append(path)
    for name, paths in by_source.items():
        result = before_ingest(
            ws.config, ws.root, name, paths, [display_path(p, ws.root) for p in paths], ws.words
        )
        shown = result.files[0] if len(result.files) == 1 else f"{len(result.files)} files"
        console.print(f"[bold]{escape(name)}[/] ({escape(shown)}), nothing loaded:")
        for fact in result.facts:
            console.print(f"  {escape(fact)}")
        for warning in result.warnings:
            console.print(f"[yellow]Warning:[/] {escape(warning)}")


@app.command("map")
def map_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The export to read (CSV, XLSX or Parquet).")],
    entity: Annotated[
        str,
        typer.Option(help="What the file holds: opportunities, partners, accounts, leads, ..."),
    ],
    name: Annotated[
        str | None,
        typer.Option(help="The source's name in partnerscope.toml (default: from the file name)."),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="The sheet of an XLSX workbook (default: the first).")
    ] = None,
) -> None:
    """Propose a [sources.NAME] block for an export: column matches by name and values, date
    formats, value maps for statuses.

    Prints TOML with a comment on every guess and every column without a match; check it, paste
    it into partnerscope.toml, then `partnerscope validate` and `partnerscope profile NAME`.
    Run inside a workspace (or with -w) to get the path relative to it; FILE may be given
    relative to the workspace too.
    """
    from partnerscope.errors import DataFileError, WorkspaceError
    from partnerscope.ingest.ledger import display_path
    from partnerscope.ingest.mapper import propose

    try:
        root: Path | None = state(ctx).workspace().root
    except WorkspaceError:
        root = None
    path = file.resolve()
    if not path.is_file() and root is not None and (root / file).is_file():
        path = (root / file).resolve()  # a path relative to the workspace given with -w
    if not path.is_file():
        raise DataFileError(f"{file}: file not found")
    shown = display_path(path, root) if root is not None else str(file)
    proposal = propose(path, entity, source_name=name, shown_path=shown, sheet=sheet)
    typer.echo(proposal.toml, nl=False)
    if proposal.missing_required:
        typer.echo(
            f"No match for the required {', '.join(proposal.missing_required)}: map them before "
            "loading (see the lines marked REQUIRED).",
            err=True,
        )
