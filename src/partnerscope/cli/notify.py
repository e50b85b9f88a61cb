"""`partnerscope notify`: the outbox and its deliveries — send what is due, list it, retry dead
letters, send a test message (docs/notifications.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, UsageError, actor, app, console, err_console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from datetime import datetime

    from partnerscope.notify.worker import Outcome
    from partnerscope.workspace import Workspace

notify_app = typer.Typer(
    no_args_is_help=True,
    help="Notifications: send what is due, see the outbox and its dead letters, retry them.",
)
app.add_typer(notify_app, name="notify")

#: how each delivery status reads in the outbox
STATUS_WORDS = {
    "pending": "waiting to be sent",
    "sending": "being sent",
    "sent": "sent",
    "held": "held for a digest",
    "digested": "sent in a digest",
    "off": "turned off by the recipient",
    "dead": "dead letter",
}
CHANNEL_WORDS = {"email": "Email", "webhook": "Webhook", "inapp": "In the app"}
#: above this many deliveries due, `notify send` shows a progress bar
PROGRESS_FROM = 50


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _outcome_words(made: int, outcome: Outcome) -> str:
    parts = [
        f"{_plural(made, 'delivery', 'deliveries')} made from new notifications",
        f"{_plural(outcome.sent, 'message')} sent",
    ]
    if outcome.retrying:
        parts.append(f"{_plural(outcome.retrying, 'message')} to try again later")
    if outcome.dead:
        parts.append(
            f"{_plural(outcome.dead, 'message')} could not be delivered (see "
            "`partnerscope notify outbox --dead`)"
        )
    return "; ".join(parts) + "."


def _send_once(ws: Workspace) -> None:
    from partnerscope.cli.progress import progress_bar
    from partnerscope.notify.dispatch import dispatch
    from partnerscope.notify.worker import due, send_due

    if not ws.config.notifications.enabled:
        console.print(
            "Notifications are off (\\[notifications] enabled = false in partnerscope.toml): "
            "nothing was sent; the notifications wait in the outbox."
        )
        return
    made = dispatch(ws)
    waiting = due(ws)
    if waiting >= PROGRESS_FROM:
        with progress_bar(console) as bar:
            task = bar.add_task("sending", total=waiting)
            outcome = send_due(
                ws, progress=lambda o: bar.update(task, completed=min(o.tried, waiting))
            )
    else:
        outcome = send_due(ws)
    console.print(_outcome_words(made, outcome))


def _loop(ws: Workspace, interval: float) -> None:
    import signal
    import threading

    from partnerscope.clock import now_utc
    from partnerscope.notify.worker import run_forever

    stop = threading.Event()

    def stopping(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)

    def told(made: int, outcome: Outcome) -> None:
        if made or outcome.tried:
            stamp = now_utc(whole_seconds=True).isoformat(sep=" ")
            console.print(f"{stamp} UTC: {_outcome_words(made, outcome)}")

    console.print(
        f"Sending notifications every {interval:g} seconds; stop with Ctrl+C "
        "(a message being sent is finished first)."
    )

    def failed(exc: Exception) -> None:
        stamp = now_utc(whole_seconds=True).isoformat(sep=" ")
        err_console.print(
            f"[bold red]{stamp} UTC: this round failed:[/] {escape(str(exc))} "
            f"(trying again in {interval:g} seconds)",
            soft_wrap=True,
        )

    run_forever(ws, stop, interval, on_round=told, on_error=failed)
    console.print("Stopped.")


@notify_app.command("send")
def send(
    ctx: typer.Context,
    loop: Annotated[
        bool,
        typer.Option(
            "--loop",
            help="Keep sending: dispatch and deliver every --interval seconds until stopped.",
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", min=0.1, help="Seconds between two rounds with --loop.", show_default=True
        ),
    ] = 10.0,
) -> None:
    """Send what is due: fan new notifications out to their recipients, then send the emails
    and webhooks due (retries included). Once (for cron), or with --loop until stopped."""
    ws = state(ctx).workspace()
    if loop:
        _loop(ws, interval)
    else:
        _send_once(ws)


def _when(ws: Workspace, row: Any) -> str:
    words = ws.words
    moment: datetime | None
    if row.status == "sent" or row.status == "digested":
        moment = row.sent_at
        return f"sent {words.moment(moment)}" if moment else "sent"
    if row.status in ("pending", "sending"):
        return f"next try {words.moment(row.next_attempt_at)}"
    return ""


@notify_app.command("outbox")
def outbox(
    ctx: typer.Context,
    dead: Annotated[
        bool, typer.Option("--dead", help="Only the dead letters (what could not be delivered).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many, newest first.")
    ] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the deliveries of the outbox, newest first: to whom, on which channel, where each
    stands, and the last error of what failed."""
    from partnerscope.notify import worker
    from partnerscope.outbox import KINDS

    ws = state(ctx).workspace()
    rows = worker.letters(ws, dead=dead, limit=limit)
    title = "Dead letters" if dead else "Outbox"
    table = Table(
        "Delivery",
        "Notification",
        "Kind",
        "To",
        "Channel",
        "Status",
        "Attempts",
        "When",
        "Last error",
        title=title,
    )
    for r in rows:
        to = r.name or r.address or ""
        if r.name and r.address and r.channel == "email":
            to = f"{r.name} <{r.address}>"
        kind = KINDS[r.kind].label if r.kind in KINDS else r.kind
        table.add_row(
            str(r.delivery_id),
            escape(r.title),
            escape(kind),
            escape(to),
            CHANNEL_WORDS.get(r.channel, r.channel),
            STATUS_WORDS.get(r.status, r.status),
            str(r.attempts),
            _when(ws, r),
            escape(r.last_error or ""),
        )
    show(table, fmt)
    waiting = 0 if rows or dead else _undispatched(ws)
    if waiting:
        note(
            fmt,
            f"No delivery yet: {waiting:,} notification(s) wait to be sent to their recipients "
            "(`partnerscope notify send`).",
        )
    elif not rows:
        note(fmt, "No dead letters." if dead else "The outbox is empty.")
    elif dead:
        note(
            fmt,
            "Fix the cause (the last error says what), then send them again with "
            "`partnerscope notify retry ID …` or `partnerscope notify retry --all-dead`.",
        )


def _undispatched(ws: Workspace) -> int:
    from sqlalchemy import func, select

    from partnerscope.appdb import connect
    from partnerscope.appdb.tables import notifications

    with connect(ws).connect() as connection:
        query = select(func.count()).where(notifications.c.dispatched_at.is_(None))
        return int(connection.execute(query).scalar_one())


@notify_app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="The dead letters' delivery numbers (see `notify outbox --dead`)."),
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead letter.")] = False,
    by: By = None,
) -> None:
    """Send dead letters again (from their first attempt), at the next `notify send`. Each is
    written to the audit log."""
    from partnerscope.notify import worker

    ws = state(ctx).workspace()
    if all_dead and ids:
        raise UsageError("give delivery numbers or --all-dead, not both")
    if not all_dead and not ids:
        raise UsageError(
            "name the deliveries to send again (see `partnerscope notify outbox --dead`), "
            "or --all-dead"
        )
    wanted = worker.dead_ids(ws) if all_dead else list(ids or ())
    count = worker.retry(ws, wanted, actor(by))
    left = len(set(wanted)) - count
    if left:
        err_console.print(
            f"[yellow]{_plural(left, 'delivery', 'deliveries')} left as they are: not a dead "
            "letter (see `partnerscope notify outbox`)[/]"
        )
    console.print(
        f"{_plural(count, 'dead letter')} will be sent again at the next "
        "`partnerscope notify send`."
    )


@notify_app.command("test")
def test(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Where to send the test email.")],
) -> None:
    """Send a test email through the mail server of \\[notifications.smtp], to check it works."""
    from partnerscope.accounts import check_email
    from partnerscope.notify.email import Mailer, test_message

    ws = state(ctx).workspace()
    to = check_email(address)
    smtp = ws.config.notifications.smtp
    with Mailer(smtp) as mailer:
        mailer.send(test_message(smtp.from_address, to))
    console.print(
        f"Sent a test message to {escape(to)} through {escape(str(smtp.host))}:{smtp.port} "
        f"({smtp.security}). If it does not arrive, look in the spam folder and at the mail "
        "server's log."
    )
