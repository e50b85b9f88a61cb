"""`partnerscope audits`: the compliance audits and checks behind compliance_score, with their
findings and corrective actions (docs/compliance.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from datetime import date

    from partnerscope.lifecycle.compliance import Finding
    from partnerscope.present import Words


def _day(words: Words, day: date | None) -> str:
    return words.date(day) if day else "—"


def _weight(words: Words, value: float) -> str:
    return words.number(value, digits=1 if value % 1 else 0)


def _finding_cells(words: Words, f: Finding | None, on: date) -> list[str]:
    if f is None:
        return ["no findings", "—", "—", "—", "—", "—", "—"]
    status = f.status(on)
    return [
        escape(f.finding),
        f.severity,
        escape(f.corrective_action or "—"),
        escape(f.owner or "—"),
        _day(words, f.due_at),
        _day(words, f.closed_at),
        f"[red]{status}[/red]" if status == "overdue" else status,
    ]


@app.command("audits")
def audits(
    ctx: typer.Context,
    partner: Annotated[
        str | None,
        typer.Option("--partner", help="One partner's audit trail behind its compliance score."),
    ] = None,
    open_only: Annotated[
        bool,
        typer.Option("--open", help="Only the corrective actions still open (any date)."),
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="The period whose 12-month window is shown (FY2025-Q2, 2025-06, FY2025; "
            "default: the last complete one at the scorecard's grain).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Compliance audits and checks of the 12 months behind compliance_score, each audit with
    its findings and corrective actions (owner, due, closed, overdue); with --open, the
    corrective actions still open."""
    from partnerscope.clock import today
    from partnerscope.lifecycle import compliance as cp
    from partnerscope.warehouse import partner_names

    ws = state(ctx).workspace()
    words = ws.words
    names = partner_names(ws) if ws.warehouse_path.is_file() else {}
    if partner is not None and partner not in names:
        raise cp.ComplianceError(
            f"--partner {partner}: no such partner in the warehouse; "
            "`partnerscope partners` lists them"
        )
    ids = None if partner is None else [partner]
    if open_only:
        on = today(ws)
        found = cp.findings(ws, ids, open_only=True)
        table = Table(
            "partner",
            "audited",
            "audit",
            "finding",
            "severity",
            "corrective action",
            "owner",
            "due",
            "closed",
            "status",
        )
        for f in sorted(found, key=lambda f: (not f.overdue_on(on), f.due_at or on, f.finding_id)):
            table.add_row(
                escape(names.get(f.partner_id, f.partner_id)),
                _day(words, f.audited_at),
                cp.category_words(f.category),
                *_finding_cells(words, f, on),
            )
        show(table, fmt)
        overdue = sum(1 for f in found if f.overdue_on(on))
        note(fmt, f"{len(found)} corrective actions open, {overdue} overdue on {words.date(on)}.")
        return
    chosen = cp.period_of(ws, period)
    first, last = cp.window(chosen)
    rows = cp.records(ws, ids, first, last)
    table = Table(
        "partner",
        "date",
        "kind",
        "what",
        "weight",
        "result",
        "finding",
        "severity",
        "corrective action",
        "owner",
        "due",
        "closed",
        "status",
    )
    for r in rows:
        head = [
            escape(names.get(r.partner_id, r.partner_id)),
            _day(words, r.day),
            r.source,
            escape(r.what),
            _weight(words, r.weight),
            "passed" if r.passed else "[red]failed[/red]",
        ]
        listed: tuple[Finding | None, ...] = r.findings or (None,)
        for item in listed:
            cells = ["—"] * 7 if r.source == "check" else _finding_cells(words, item, last)
            table.add_row(*head, *cells)
    show(table, fmt)
    span = f"{words.date(first)} to {words.date(last)}"
    if partner is not None:
        t = cp.trail(ws, partner, chosen.label)
        score = (
            "no score (nothing audited)"
            if t.score is None
            else (
                f"{words.number(t.score, digits=1)} of 100 "
                f"({_weight(words, t.passed_weight)} of {_weight(words, t.weight)} "
                "weight passed)"
            )
        )
        note(fmt, f"Compliance score {chosen.label} for {escape(t.partner)}: {score}; {span}.")
    else:
        note(fmt, f"{len(rows)} audits and checks in {chosen.label}'s 12 months, {span}.")
