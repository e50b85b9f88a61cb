"""`partnerscope service`: service quality and satisfaction per partner in a period, against
the framework's targets; with ``--themes``, what partners wrote in their survey comments,
counted by theme (docs/service.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.workspace import Workspace

PeriodOption = Annotated[
    str | None,
    typer.Option("--period", "-p", help="Period, e.g. FY2026-Q1 (default: the latest of the run)."),
]
RunOption = Annotated[int | None, typer.Option(help="Read this run (default: the latest).")]


@app.command("service")
def service_command(
    ctx: typer.Context,
    period: PeriodOption = None,
    run: RunOption = None,
    themes: Annotated[
        bool,
        typer.Option(
            "--themes",
            help="List the themes of the partners' survey comments (support, portal, "
            "margins, leads, MDF, training, communication, payments) instead.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Service quality and satisfaction per partner: critical cases answered within 4 h,
    standard cases resolved within 24 h, first-contact resolution, escalation, customer and
    partner satisfaction, against their targets."""
    from partnerscope.evaluation.service import COLUMNS, TARGETS, cell, service_table
    from partnerscope.evaluation.view import RunData

    ws = state(ctx).workspace()
    data = RunData(ws, run)
    found = service_table(data, period)
    if themes:
        _themes(ws, data, found.period, fmt)
        return
    words = ws.words
    table = Table(
        "partner",
        *(heading for _, heading in COLUMNS),
        "targets missed",
        title=f"Service quality and satisfaction {found.period} — run {data.run.run_id}",
        title_justify="left",
    )
    for row in [*found.rows, found.portfolio]:
        cells = []
        for metric, _ in COLUMNS:
            text = escape(cell(words, metric, row.values[metric]))
            cells.append(f"[red]{text}[/red]" if row.met(metric) is False else text)
        missed = len(row.misses)
        table.add_row(escape(row.name), *cells, str(missed) if missed else "—")
    show(table, fmt)
    targets = "; ".join(f"{escape(words.metric(m))}: {escape(t.text)}" for m, t in TARGETS.items())
    note(fmt, f"Targets (missed in red): {targets}.")


def _themes(ws: Workspace, data: RunData, label: str, fmt: OutputFormat) -> None:
    from partnerscope.evaluation.themes import count_themes, survey_comments, vocabulary

    chosen = data.calendar.parse(label)
    with ws.warehouse(read_only=True) as wh:
        comments = survey_comments(wh.con, chosen, ws.config.workspace.timezone)
    themes = vocabulary(ws.config.service)
    counts = count_themes(comments, themes)
    table = Table(
        "partner",
        "comments",
        *(t.label for t in themes),
        title=f"Themes of partner survey comments {label} (surveys sent in the period)",
        title_justify="left",
    )
    for pid in sorted(counts.comments, key=lambda p: (data.partner_name(p).casefold(), p)):
        mine = counts.by_partner.get(pid)
        table.add_row(
            escape(data.partner_name(pid)),
            str(counts.comments[pid]),
            *(str(mine[t.key]) if mine else "0" for t in themes),
        )
    total = counts.portfolio
    table.add_row(
        "All partners",
        str(sum(counts.comments.values())),
        *(str(total[t.key]) for t in themes),
    )
    show(table, fmt)
    note(fmt, "A comment counts once for each theme it mentions (docs/service.md).")
