"""`partnerscope retention`: retention and product mix per partner in a period (renewal rate
against 95 %, gross and net revenue retention, expansion revenue, customer churn, product
diversity and portfolio coverage); with ``--families``, the revenue share by product family
(docs/retention.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

PeriodOption = Annotated[
    str | None,
    typer.Option("--period", "-p", help="Period, e.g. FY2026-Q1 (default: the latest of the run)."),
]
RunOption = Annotated[int | None, typer.Option(help="Read this run (default: the latest).")]


@app.command("retention")
def retention_command(
    ctx: typer.Context,
    period: PeriodOption = None,
    run: RunOption = None,
    families: Annotated[
        bool,
        typer.Option(
            "--families",
            help="List each partner's won revenue by product family in the period instead.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Retention and product mix per partner: renewal rate (goal 95 %), gross and net revenue
    retention, expansion revenue, customer churn, product diversity and portfolio coverage."""
    from partnerscope.evaluation.retention import (
        MIX_COLUMNS,
        RETENTION_COLUMNS,
        cell,
        family_revenue,
        retention_table,
    )
    from partnerscope.evaluation.view import RunData

    ws = state(ctx).workspace()
    data = RunData(ws, run)
    found = retention_table(data, period)
    words = ws.words
    if families:
        chosen = data.calendar.parse(found.period)
        with ws.warehouse(read_only=True) as wh:
            shares = family_revenue(wh.con, chosen, ws.config.workspace.timezone)
        listing = Table(
            "partner",
            "product family",
            "won revenue",
            "share",
            title=f"Won revenue by product family {found.period}",
            title_justify="left",
        )
        for s in sorted(
            shares, key=lambda s: (data.partner_name(s.partner_id).casefold(), -s.revenue)
        ):
            listing.add_row(
                escape(data.partner_name(s.partner_id)),
                escape(s.family),
                words.money(s.revenue),
                words.share(s.share, digits=0),
            )
        show(listing, fmt)
        note(fmt, "Won opportunities closed in the period whose product has a family.")
        return
    columns = (*RETENTION_COLUMNS, *MIX_COLUMNS)
    table = Table(
        "partner",
        *(heading for _, heading in columns),
        title=f"Retention and product mix {found.period} — run {data.run.run_id}",
        title_justify="left",
    )
    for row in [*found.rows, found.portfolio]:
        cells = []
        for metric, _ in columns:
            text = escape(cell(words, metric, row.values[metric]))
            low = metric == "renewal_rate" and row.below_goal
            cells.append(f"[red]{text}[/red]" if low else text)
        table.add_row(escape(row.name), *cells)
    show(table, fmt)
    note(
        fmt,
        "Renewal goal 95 % (below it in red). Terms count in the period they end, once "
        "decided; portfolio coverage is over the 12 months to the period's end "
        "(docs/retention.md).",
    )
