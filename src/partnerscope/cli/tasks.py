"""`partnerscope tasks` and `partnerscope escalations`: the work rules opened and the alerts and
approvals that climbed the escalation levels (docs/notifications.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import By, actor, app, console, err_console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

tasks_app = typer.Typer(no_args_is_help=True, help="Tasks opened on partners by rules or people.")
app.add_typer(tasks_app, name="tasks")

escalations_app = typer.Typer(
    no_args_is_help=True,
    help="Alerts and approvals nobody acted on in time, escalated level by level "
    "([escalation] in partnerscope.toml).",
)
app.add_typer(escalations_app, name="escalations")


def _names(ws: Workspace) -> dict[str, str]:
    from partnerscope.warehouse import partner_names

    return partner_names(ws) if ws.warehouse_path.is_file() else {}


@tasks_app.command("list")
def tasks_list(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Option(help="Only this partner's tasks (its id).")] = None,
    mine: Annotated[
        bool,
        typer.Option("--mine", help="Only the tasks you own ($PARTNERSCOPE_USER or --by)."),
    ] = False,
    status: Annotated[str, typer.Option(help="open (default), closed, or all.")] = "open",
    by: By = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The tasks on partners, newest first."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.notify import tasks

    if status not in (*tasks.STATUSES, "all"):
        raise PartnerscopeError(f"--status: no state {status!r}; use open, closed or all")
    ws = state(ctx).workspace()
    words = ws.words
    found = tasks.list_tasks(
        ws,
        partner=partner,
        status=None if status == "all" else status,
        owner=actor(by) if mine else None,
    )
    names = _names(ws)
    notes = tasks.notes(ws, [t.task_id for t in found if t.status == tasks.CLOSED])
    shown = "all" if status == "all" else status
    table = RichTable(
        "id",
        "partner",
        "task",
        "owner",
        "opened",
        "status",
        "opened by",
        title=f"Tasks, {shown} ({words.number(len(found))})",
        title_justify="left",
    )
    for t in found:
        where = t.status
        if t.status == tasks.CLOSED:
            where = f"closed by {t.closed_by} on {words.date(t.closed_at)}"
            if t.task_id in notes:
                where += f": {notes[t.task_id]}"
        source = t.source or ""
        source = f"rule {source[5:]}" if source.startswith("rule:") else source
        table.add_row(
            str(t.task_id),
            escape(f"{names.get(t.partner_id, t.partner_id)} ({t.partner_id})"),
            escape(t.title),
            escape(t.owner or "—"),
            words.date(t.created_at),
            escape(where),
            escape(source or "—"),
        )
    show(table, fmt)


@tasks_app.command("close")
def tasks_close(
    ctx: typer.Context,
    task_id: Annotated[int, typer.Argument(help="The task's id (see `tasks list`).")],
    note: Annotated[str, typer.Option("--note", "-n", help="What was done.")],
    by: By = None,
) -> None:
    """Close an open task, with a note saying what was done (audited)."""
    from partnerscope.notify import tasks

    ws = state(ctx).workspace()
    done = tasks.close(ws, task_id, note, by=actor(by))
    name = _names(ws).get(done.partner_id, done.partner_id)
    console.print(f"[green]Task {done.task_id} closed[/] ({escape(name)}): {escape(done.title)}")


@escalations_app.command("list")
def escalations_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 200,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The escalations made, newest first: what, which level, its owners, when."""
    from partnerscope.notify import escalations

    ws = state(ctx).workspace()
    words = ws.words
    names = _names(ws)
    found = escalations.history(ws, limit=limit)
    levels = len(ws.config.escalation.levels)
    table = RichTable(
        "what",
        "id",
        "partner",
        "level",
        "owners",
        "escalated",
        title=f"Escalations ({words.number(len(found))})",
        title_justify="left",
    )
    for e in found:
        partner = names.get(e.partner_id, e.partner_id) if e.partner_id else "—"
        table.add_row(
            escalations.noun(e.object_type),
            escape(e.object_id),
            escape(partner),
            escape(f"{e.level} of {levels}: {e.name}"),
            escape(", ".join(e.owners) or "nobody"),
            words.moment(e.escalated_at),
        )
    show(table, fmt)
    for problem in escalations.unknown_users(ws):
        err_console.print(f"[yellow]Warning:[/] {escape(problem)}")
