"""`partnerscope notify`: the outbox and its deliveries — send what is due, list it, retry dead
letters, send a test message (docs/notifications.md)."""

from __future__ import annotations

import typer

from partnerscope.cli.app import app

notify_app = typer.Typer(
    no_args_is_help=True,
    help="Notifications: send what is due, see the outbox and its dead letters, retry them.",
)
app.add_typer(notify_app, name="notify")
