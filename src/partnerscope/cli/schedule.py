"""`partnerscope schedule`: the ``[[schedules]]`` and the tick that runs everything due (for
cron, where ``partnerscope serve`` does not run it) (docs/notifications.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import UsageError, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

schedule_app = typer.Typer(
    no_args_is_help=True,
    help="Schedules: list them with their next times, and run what is due (for cron).",
)
app.add_typer(schedule_app, name="schedule")


def _to_whom(what: str, roles: tuple[str, ...], partners: str, addresses: tuple[str, ...]) -> str:
    who = []
    if what in ("scorecards", "payout_statements"):
        who.append(partners)
    elif what == "manager_digest":
        who.append("each " + " and each ".join(r.replace("_", " ") for r in roles))
    if what != "manager_digest" and roles:
        who.append(", ".join(r.replace("_", " ") + "s" for r in roles))
    who.extend(addresses)
    return "; ".join(who)


@schedule_app.command("list")
def schedule_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Each schedule: what it sends, when (in the workspace time zone), to whom, its next time
    and when it last fired."""
    from partnerscope import appdb
    from partnerscope.notify import schedules

    ws = state(ctx).workspace()
    timezone = ws.config.workspace.timezone
    configured = schedules.configured(ws)
    with appdb.connect(ws).connect() as connection:
        fired = schedules.last_fired(connection)
    now = schedules.utc(None)

    def when(moment: datetime | None) -> str:
        return "" if moment is None else f"{schedules.local(moment, timezone):%Y-%m-%d %H:%M}"

    table = Table("name", "sends", "when", "to whom", "next", "last fired")
    for schedule in configured:
        partners = (
            "each partner's users"
            if schedule.every_partner
            else "the users of " + ", ".join(schedule.partners)
        )
        last = fired.get(schedule.name)
        last_text = ""
        if last is not None:
            at, count, error = last
            last_text = f"{when(at)}, {count or 0:,} notification{'' if count == 1 else 's'}"
            if error:
                last_text += f" ({error})"
        table.add_row(
            escape(schedule.name),
            schedules.WHAT_WORDS[schedule.what],
            escape(schedules.cron_words(schedule.cron, timezone)),
            escape(
                _to_whom(
                    schedule.what,
                    schedule.roles
                    or (("partner_manager",) if schedule.what == "manager_digest" else ()),
                    partners,
                    schedule.addresses,
                )
            ),
            when(schedules.next_fire(schedule, timezone, now)) if schedule.enabled else "disabled",
            escape(last_text) if last is not None else "never",
        )
    if not configured:
        console.print(
            "No schedules; declare them as [[schedules]] in partnerscope.toml "
            '(docs/notifications.md, "Schedules").'
        )
        return
    show(table, fmt)


#: the tick's steps in words: (key, one, many)
STEPS = (
    (
        "runs",
        "notification of a run's alerts and signals",
        "notifications of runs' alerts and signals",
    ),
    ("events", "notification of what time brought", "notifications of what time brought"),
    ("escalations", "escalation", "escalations"),
    ("digests", "digest", "digests"),
    ("dispatched", "delivery made", "deliveries made"),
    ("sent", "message sent", "messages sent"),
)


@schedule_app.command("run-due")
def schedule_run_due(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Run what is due at this time (ISO, e.g. 2027-01-01T07:00; without a zone, "
            "the workspace's) instead of now.",
        ),
    ] = None,
) -> None:
    """Run everything due once: the time's events, escalations, schedules, digests, then
    dispatch and delivery. For cron (every minute) where `partnerscope serve` does not run
    it; two at once do nothing twice."""
    import os

    from partnerscope.notify import scheduler

    ws = state(ctx).workspace()
    timezone = ws.config.workspace.timezone
    moment = _moment(now, timezone) if now is not None else None
    done = scheduler.tick(ws, moment, who=f"cli:{os.getpid()}")
    for fired in done["fired"]:
        console.print(escape(fired.sentence(timezone)))
    if not done["fired"]:
        console.print("No schedule was due.")
    counts = [
        f"{done.get(key, 0):,} {one if done.get(key, 0) == 1 else many}" for key, one, many in STEPS
    ]
    console.print(escape(", ".join(counts).capitalize() + "."))
    for step, message in done["errors"].items():
        console.print(f"[red]{escape(step)} failed:[/red] {escape(message)}")
    if done["errors"]:
        raise typer.Exit(1)


def _moment(text: str, timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    from partnerscope.notify.schedules import utc

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not a time; write it as ISO, e.g. 2027-01-01T07:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return utc(moment)
