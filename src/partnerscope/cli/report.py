"""The report command: scorecards, QBR packs and the executive summary as HTML, PDF or Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from partnerscope.cli.app import UsageError, app, console, state
from partnerscope.cli.progress import progress_bar
from partnerscope.reports.write import Format, Kind


@app.command("report")
def report_command(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="scorecard, qbr, executive or market.")],
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner",
            "-P",
            help="The partner of a scorecard or QBR (default: every partner scored in the "
            "period, with an index page).",
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            "-p",
            help="e.g. FY2026-Q1 (default: the latest scored period; a QBR's latest complete "
            "quarter).",
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="html, pdf or xlsx.")] = Format.HTML,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder to write to (default: reports/run-NNNNNN)."),
    ] = None,
    run: Annotated[int | None, typer.Option(help="Report this run (default: the latest).")] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes writing partners' reports (default: one per core).",
        ),
    ] = None,
) -> None:
    """Write reports of a run: a partner scorecard, a QBR pack or the executive summary, as
    self-contained HTML, PDF or an Excel workbook; or the market opportunity map (the
    warehouse's, no run). Every report of a run names its run, as-of time, config hash and
    definitions version."""
    from partnerscope.reports.write import Progress, Written, write_reports

    ws = state(ctx).workspace()
    if kind is Kind.EXECUTIVE and partner is not None:
        raise typer.BadParameter("the executive summary is the portfolio's; leave out --partner")
    if kind is Kind.MARKET and (partner is not None or period is not None or run is not None):
        raise UsageError(
            "the market map is read from the warehouse as it is now; leave out --partner, "
            "--period and --run"
        )

    def write(progress: Progress | None = None) -> Written:
        return write_reports(
            ws,
            kind,
            fmt,
            partner=partner,
            period=period,
            run_id=run,
            out=out,
            progress=progress,
            jobs=jobs,
        )

    if partner is None and kind not in (Kind.EXECUTIVE, Kind.MARKET) and fmt is not Format.XLSX:
        with progress_bar(console) as bar:
            task = bar.add_task(f"{kind.value} reports ({fmt.value})", total=None)
            written = write(lambda done, total: bar.update(task, completed=done, total=total))
    else:
        with console.status(f"writing the {kind.value} report ({fmt.value})"):
            written = write()
    if written.index is not None:
        console.print(
            f"Wrote {len(written.files):,} {kind.value} reports to {escape(str(written.folder))}"
        )
        console.print(f"  open {escape(str(written.index))}")
        return
    for path in written.files:
        console.print(f"Wrote {escape(str(path))}")
    if written.sheets:
        console.print(
            "  sheets: "
            + ", ".join(f"{name} ({rows:,} rows)" for name, rows in written.sheets.items())
        )
