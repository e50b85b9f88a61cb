"""`partnerscope onboarding`: each new partner's four-phase onboarding plan — start, list,
show, complete with evidence, skip with a reason — and the onboarding measures."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

if TYPE_CHECKING:
    from partnerscope.lifecycle.onboarding import PlanStatus, Task
    from partnerscope.workspace import Workspace

onboarding_app = typer.Typer(
    no_args_is_help=True,
    help="Onboarding: each new partner's plan in four phases over twelve weeks (the "
    "[onboarding] template), its tasks completed with evidence, skipped, or closed by the data "
    "(certifications, deals, the business plan); progress, overdue tasks and stalls; time to "
    "first deal, cohorts and ramp curves.",
)
app.add_typer(onboarding_app, name="onboarding")

PartnerId = Annotated[str, typer.Argument(help="The partner's id.")]
TaskKey = Annotated[str, typer.Argument(help="The task's key (see `onboarding show`).")]
AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="The day to judge overdue tasks and stalls on (default: the latest run's as-of "
        "date, else today).",
    ),
]


def _today(workspace: Workspace, as_of: datetime | None) -> date:
    from partnerscope.lifecycle.onboarding import judged_on

    return as_of.date() if as_of is not None else judged_on(workspace)


def _names(workspace: Workspace) -> dict[str, str]:
    from partnerscope.warehouse import partner_names

    return partner_names(workspace)


def _task_state(task: Task, today: date) -> str:
    if task.status.value == "open":
        return "[red]overdue[/]" if task.overdue(today) else "open"
    how = "by the data" if task.closed_by_data else f"by {escape(task.completed_by or '')}"
    when = task.completed_at.date().isoformat() if task.completed_at else ""
    return f"{task.status.value} {when} {how}".strip()


def _summary(found: PlanStatus) -> str:
    return f"{found.done} of {found.total} tasks closed ({found.progress:.0%})"


@onboarding_app.command("start")
def onboarding_start(
    ctx: typer.Context,
    partner_id: PartnerId,
    on: Annotated[
        datetime | None,
        typer.Option(
            "--on",
            formats=["%Y-%m-%d"],
            help="The plan's first day (default: the partner's joined_at, else today).",
        ),
    ] = None,
    by: By = None,
) -> None:
    """Start a partner's onboarding plan from the [onboarding] template."""
    from partnerscope import clock
    from partnerscope.lifecycle import onboarding
    from partnerscope.warehouse import read_warehouse

    ws = state(ctx).workspace()
    started = on.date() if on is not None else None
    if started is None:
        rows = read_warehouse(
            ws, "SELECT joined_at FROM partners WHERE partner_id = ?", [partner_id]
        )
        started = rows[0][0] if rows and rows[0][0] is not None else clock.today(ws)
    onboarding.start_plan(ws, partner_id, started_on=started, by=actor(by))
    found = onboarding.plan(ws, partner_id)
    last = max(t.due_on for t in found.tasks)
    console.print(
        f"Started {partner_id}'s onboarding on {started}: {len(found.tasks)} tasks, the last "
        f"due on {last}."
    )
    console.print(f"Next: `partnerscope onboarding show {partner_id}`.")


@onboarding_app.command("list")
def onboarding_list(
    ctx: typer.Context, as_of: AsOf = None, fmt: FormatOption = OutputFormat.table
) -> None:
    """Every onboarding plan: progress, current phase, overdue tasks, stalls (stalled and
    overdue first)."""
    from partnerscope.lifecycle import onboarding

    ws = state(ctx).workspace()
    today = _today(ws, as_of)
    found = onboarding.statuses(ws, today)
    names = _names(ws)
    table = Table(title=f"Onboarding plans on {today}")
    for header in ("Partner", "Name", "Started", "Progress", "Phase", "Overdue", "Stalled"):
        table.add_column(header)
    for s in found:
        pid = s.plan.partner_id
        table.add_row(
            pid,
            escape(names.get(pid, pid)),
            s.plan.started_on.isoformat(),
            f"{s.done}/{s.total} ({s.progress:.0%})",
            escape(s.current_phase or "finished"),
            str(len(s.overdue)) if s.overdue else "",
            f"{s.idle_days} days idle" if s.stalled else "",
        )
    if not found:
        console.print("No onboarding plan yet: `partnerscope onboarding start PARTNER`.")
        return
    show(table, fmt)


@onboarding_app.command("show")
def onboarding_show(
    ctx: typer.Context,
    partner_id: PartnerId,
    as_of: AsOf = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One partner's plan: its tasks by phase, with their due dates, state and evidence."""
    from partnerscope.lifecycle import onboarding

    ws = state(ctx).workspace()
    today = _today(ws, as_of)
    found = onboarding.status(ws, partner_id, today)
    name = _names(ws).get(partner_id, partner_id)
    table = Table(title=f"{escape(name)} ({partner_id}): onboarding from {found.plan.started_on}")
    for header in ("Phase", "Task", "Title", "Owner", "Due", "State", "Evidence"):
        table.add_column(header)
    for phase in found.phases:
        for task in phase.tasks:
            table.add_row(
                escape(f"{phase.name} ({phase.state.value})"),
                task.key,
                escape(task.title),
                escape(task.owner),
                task.due_on.isoformat(),
                _task_state(task, today),
                escape(task.evidence or ""),
            )
    show(table, fmt)
    if fmt is OutputFormat.table:
        line = _summary(found)
        if found.overdue:
            line += f"; {len(found.overdue)} overdue"
        if found.stalled:
            line += f"; stalled: nothing closed for {found.idle_days} days"
        console.print(line + ".")


@onboarding_app.command("complete")
def onboarding_complete(
    ctx: typer.Context,
    partner_id: PartnerId,
    task: TaskKey,
    evidence: Annotated[
        str,
        typer.Option("--evidence", "-e", help="What shows it is done (a link, a file, a note)."),
    ],
    by: By = None,
) -> None:
    """Complete a task with its evidence (refused while a prerequisite is open)."""
    from partnerscope.lifecycle import onboarding

    done = onboarding.complete(
        state(ctx).workspace(), partner_id, task, evidence=evidence, by=actor(by)
    )
    console.print(f"Done: {escape(done.title)} ({partner_id}).")


@onboarding_app.command("skip")
def onboarding_skip(
    ctx: typer.Context,
    partner_id: PartnerId,
    task: TaskKey,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why the task does not apply to the partner.")
    ],
    by: By = None,
) -> None:
    """Skip a task that does not apply to the partner, with the reason."""
    from partnerscope.lifecycle import onboarding

    done = onboarding.skip(state(ctx).workspace(), partner_id, task, reason=reason, by=actor(by))
    console.print(f"Skipped: {escape(done.title)} ({partner_id}).")


@onboarding_app.command("import")
def onboarding_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV or XLSX file, one row per task closed: partner_id, task, date, evidence "
            "(optional: status done|skipped, by).",
        ),
    ],
    by: By = None,
) -> None:
    """Import the task completions a team keeps in a spreadsheet: all or nothing, every bad row
    told with its row and column; tasks closed already are left as they are."""
    from partnerscope.lifecycle.onboarding_import import import_completions

    done = import_completions(state(ctx).workspace(), file, by=actor(by))
    console.print(f"Imported {escape(file.name)}: {done.summary()}.")


@onboarding_app.command("metrics")
def onboarding_metrics(
    ctx: typer.Context, as_of: AsOf = None, fmt: FormatOption = OutputFormat.table
) -> None:
    """Time to first certification, registered deal and won deal (medians), the onboarding
    funnel and the share on schedule per phase by month of joining."""
    from partnerscope.lifecycle import onboarding
    from partnerscope.lifecycle.onboarding_measures import measures

    ws = state(ctx).workspace()
    today = _today(ws, as_of)
    onboarding.refresh(ws, today)
    found = measures(ws, today)
    words = ws.words
    table = Table(title=f"Onboarding measures on {today}")
    for header in ("Measure", "Month of joining", "Phase", "Partners", "Reached", "Value"):
        table.add_column(header)
    for row in found.time_to:
        median = (
            "—"
            if row.median_days is None
            else f"{words.number(row.median_days)} day{'' if row.median_days == 1 else 's'}"
        )
        table.add_row(
            f"Days to {row.label.lower()} (median)",
            "all",
            "",
            str(row.partners),
            str(row.reached),
            median,
        )
    for f in found.funnel:
        for label, count in (
            ("Funnel: first certification", f.certified),
            ("Funnel: first registered deal", f.registered),
            ("Funnel: first won deal", f.won),
        ):
            share = f"{count / f.joined:.0%}" if f.joined else "—"
            table.add_row(label, f.month, "", str(f.joined), str(count), share)
    for c in found.cohorts:
        share = "—" if c.share is None else f"{c.share:.0%}"
        table.add_row(
            "On schedule", c.cohort, escape(c.phase), str(c.judged), str(c.on_schedule), share
        )
    if not found.partners:
        console.print("No partner with a joining date (partners.joined_at) yet.")
        return
    show(table, fmt)
