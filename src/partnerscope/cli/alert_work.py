"""`partnerscope alert`: work the latest run's alerts — list them with where their work stands,
acknowledge, assign, snooze, resolve, reopen (each step audited; see
:mod:`partnerscope.operations.alert_work`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

if TYPE_CHECKING:
    from partnerscope.operations.alert_work import AlertRef, AlertState
    from partnerscope.workspace import Workspace

alert_app = typer.Typer(
    no_args_is_help=True,
    help="Work the latest run's alerts: list them with their state and owner, acknowledge, "
    "assign, snooze until a day, resolve with a note, reopen. `partnerscope alerts` shows "
    "the alerts and flags themselves.",
)
app.add_typer(alert_app, name="alert")

AlertId = Annotated[str, typer.Argument(help="The alert's id (see `alert list`).")]


def _said(ws: Workspace, ref: AlertRef, found: AlertState, done: str) -> None:
    from partnerscope.clock import today

    words = ws.words
    where = found.shown(today(ws))
    if found.asleep(today(ws)) and found.snoozed_until is not None:
        where += f" until {words.date(found.snoozed_until)}"
    owner = f", owner {found.owner}" if found.owner else ", unassigned"
    console.print(
        f"[green]Alert {ref.alert_id} {done}[/] ({escape(_partner(ws, ref.partner_id))}, "
        f"{escape(words.metric(ref.metric)) if ref.metric else words.alert_kind(ref.kind)}): "
        f"{where}{escape(owner)}"
    )


def _partner(ws: Workspace, partner_id: str) -> str:
    from partnerscope.evaluation.view import RunData

    return f"{RunData(ws).partner_name(partner_id)} ({partner_id})"


@alert_app.command("list")
def alert_list(
    ctx: typer.Context,
    state_: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="open, acknowledged, snoozed or resolved (default: open and acknowledged "
            "alerts not snoozed on the day).",
        ),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(help="Only alerts this user owns, or `unassigned`."),
    ] = None,
    on: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The day to list as of (default: today)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The latest period's alerts of the latest run, with where their work stands."""
    from partnerscope import clock
    from partnerscope.errors import PartnerscopeError
    from partnerscope.evaluation.view import RunData
    from partnerscope.operations import alert_work as work

    if state_ is not None and state_ not in work.LIST_STATES:
        raise PartnerscopeError(f"no state {state_!r}; use one of {', '.join(work.LIST_STATES)}")
    ws = state(ctx).workspace()
    words = ws.words
    data = RunData(ws)
    start, label = data.pick_period(None)
    rows = [r for r in data.alerts.table.to_pylist() if r["period_start"] == start]
    stored = work.states(ws, (r["alert_id"] for r in rows))
    day = on.date() if on is not None else clock.today(ws)
    if owner == "unassigned":
        who, me = "unassigned", None
    elif owner:
        who, me = "me", owner
    else:
        who, me = None, None
    shown = []
    for r in rows:
        found = stored.get(r["alert_id"]) or work.untouched(r["alert_id"])
        if work.wanted(found, day, state=state_, owner=who, me=me):
            shown.append((r, found))
    order = {"high": 0, "medium": 1, "low": 2}
    shown.sort(key=lambda p: (order.get(p[0]["severity"], 3), p[0]["partner_id"]))
    table = RichTable(
        "id",
        "severity",
        "partner",
        "what",
        "state",
        "owner",
        title=f"Alerts of {label} on {words.date(day)} ({words.number(len(shown))})",
        title_justify="left",
    )
    for r, found in shown:
        where = found.shown(day)
        if found.asleep(day) and found.snoozed_until is not None:
            where += f" until {words.date(found.snoozed_until)}"
        if found.note and where == "resolved":
            where += f": {found.note}"
        table.add_row(
            r["alert_id"],
            r["severity"],
            escape(f"{data.partner_name(r['partner_id'])} ({r['partner_id']})"),
            escape(r["message"]),
            escape(where),
            escape(found.owner or "—"),
        )
    show(table, fmt)


@alert_app.command("ack")
def alert_ack(ctx: typer.Context, alert_id: AlertId, by: By = None) -> None:
    """Acknowledge an open alert: someone is on it."""
    from partnerscope.operations import alert_work as work

    ws = state(ctx).workspace()
    ref = work.find(ws, alert_id)
    _said(ws, ref, work.acknowledge(ws, ref, by=actor(by)), "acknowledged")


@alert_app.command("assign")
def alert_assign(
    ctx: typer.Context,
    alert_id: AlertId,
    owner: Annotated[
        str,
        typer.Argument(
            help="The user who owns it (an admin, analyst or partner manager); "
            "`nobody` to unassign."
        ),
    ],
    by: By = None,
) -> None:
    """Give an alert an owner."""
    from partnerscope.operations import alert_work as work

    ws = state(ctx).workspace()
    ref = work.find(ws, alert_id)
    name = None if owner.strip().lower() == "nobody" else owner
    _said(ws, ref, work.assign(ws, ref, name, by=actor(by)), "assigned")


@alert_app.command("snooze")
def alert_snooze(
    ctx: typer.Context,
    alert_id: AlertId,
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The day it comes back (after today)."),
    ] = None,
    wake: Annotated[bool, typer.Option("--wake", help="Wake it now instead.")] = False,
    by: By = None,
) -> None:
    """Hide an alert from the work list until a day (it comes back on that day)."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.operations import alert_work as work

    if (until is None) == (not wake):
        raise PartnerscopeError("give --until YYYY-MM-DD, or --wake to wake it now")
    ws = state(ctx).workspace()
    ref = work.find(ws, alert_id)
    day = until.date() if until is not None else None
    _said(ws, ref, work.snooze(ws, ref, day, by=actor(by)), "snoozed" if day else "woken")


@alert_app.command("resolve")
def alert_resolve(
    ctx: typer.Context,
    alert_id: AlertId,
    note: Annotated[str, typer.Option("--note", "-n", help="What was done about it.")],
    by: By = None,
) -> None:
    """Resolve an alert, with a note."""
    from partnerscope.operations import alert_work as work

    ws = state(ctx).workspace()
    ref = work.find(ws, alert_id)
    _said(ws, ref, work.resolve(ws, ref, note, by=actor(by)), "resolved")


@alert_app.command("reopen")
def alert_reopen(ctx: typer.Context, alert_id: AlertId, by: By = None) -> None:
    """Reopen a resolved alert."""
    from partnerscope.operations import alert_work as work

    ws = state(ctx).workspace()
    ref = work.find(ws, alert_id)
    _said(ws, ref, work.reopen(ws, ref, by=actor(by)), "reopened")
