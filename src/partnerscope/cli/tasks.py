"""`partnerscope tasks` and `partnerscope escalations`: the work rules opened and the alerts and
approvals that climbed the escalation levels (docs/notifications.md)."""

from __future__ import annotations

import typer

from partnerscope.cli.app import app

tasks_app = typer.Typer(no_args_is_help=True, help="Tasks opened on partners by rules or people.")
app.add_typer(tasks_app, name="tasks")
