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
        str, typer.Argument(help="The source to read (a name from partnerscope.toml).")
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
    from partnerscope.ingest.loader import display_path, plan_files
    from partnerscope.ingest.profile import before_ingest

    ws = state(ctx).workspace()
    extra = {source: [f.resolve() for f in file]} if file else None
    pairs = plan_files(ws.config, ws.root, [source], extra)
    paths = [p for _, p in pairs]
    result = before_ingest(
        ws.config, source, paths, [display_path(p, ws.root) for p in paths], ws.words
    )
    shown = result.files[0] if len(result.files) == 1 else f"{len(result.files)} files"
    console.print(f"[bold]{escape(source)}[/] ({escape(shown)}), nothing loaded:")
    for fact in result.facts:
        console.print(f"  {escape(fact)}")
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning)}")
