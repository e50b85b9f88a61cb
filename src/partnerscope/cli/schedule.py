"""`partnerscope schedule`: the ``[[schedules]]`` and the tick that runs everything due (for
cron, where ``partnerscope serve`` does not run it) (docs/notifications.md)."""

from __future__ import annotations

import typer

from partnerscope.cli.app import app

schedule_app = typer.Typer(
    no_args_is_help=True,
    help="Schedules: list them with their next times, and run what is due (for cron).",
)
app.add_typer(schedule_app, name="schedule")
