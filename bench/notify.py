"""What distributing reports costs: a month's scorecards to every partner through the outbox
(fire the schedule, fan out, render each partner's PDF and send it to a local SMTP server),
against a hand-written loop that renders the same PDF and sends it with smtplib; and the weekly
digest of every partner manager.

A synthetic workspace (not the metric benchmark's warehouse: what is measured here is the
distribution, not the metrics): ``--partners`` partners, each with six won deals over the last
eighteen months, a partner user with an email address, and ``--managers`` partner managers
looking after them in equal shares; one ``partnerscope run``. The mail server is aiosmtpd on
127.0.0.1, in this process, counting what arrives by recipient (each message parsed, its
attachment checked to be a PDF, then dropped).

    .venv/bin/python bench/notify.py --partners 200 --managers 20
    .venv/bin/python bench/notify.py                      # 20,000 partners: hours (PDFs)

Exit 1 when a partner did not receive exactly one scorecard (``--corrupt`` drops one on
purpose, to see the check fail) or a manager not exactly one digest.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import email
import email.policy
import json
import random
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the Monday the managers' digest fires for (both schedules start the day before), then the
#: moment the month's scorecards fire for (the digest is not due again by then)
DIGEST_AT = datetime(2026, 12, 28, 8, 0)
FIRE_AT = datetime(2027, 1, 1, 7, 0)
#: what the hand-written loop's messages carry, to count them apart
BASELINE_HEADER = "X-Bench-Baseline"


# ------------------------------------------------------------------------- the mail server


@dataclass
class Tally:
    """What the local SMTP server received: per recipient, the outbox's messages with a PDF and
    the baseline's; messages without a valid PDF attachment."""

    outbox: Counter[str] = field(default_factory=Counter)
    baseline: Counter[str] = field(default_factory=Counter)
    digests: Counter[str] = field(default_factory=Counter)
    bad_pdf: int = 0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler:
    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        pdfs = [
            part.get_content()
            for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"
        ]
        with self.tally.lock:
            self.tally.bytes += len(envelope.content)
            for to in envelope.rcpt_tos:
                if message.get(BASELINE_HEADER):
                    self.tally.baseline[to] += 1
                elif "your partners this week" in str(message.get("Subject", "")).lower():
                    self.tally.digests[to] += 1
                else:
                    self.tally.outbox[to] += 1
            scorecard = not message.get(BASELINE_HEADER) and "this week" not in str(
                message.get("Subject", "")
            )
            if scorecard and (len(pdfs) != 1 or not bytes(pdfs[0]).startswith(b"%PDF-")):
                self.tally.bad_pdf += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mail_server(tally: Tally) -> Any:
    from aiosmtpd.controller import Controller

    controller = Controller(
        Handler(tally), hostname="127.0.0.1", port=free_port(), data_size_limit=50_000_000
    )
    controller.start()
    return controller


# ----------------------------------------------------------------------------- the workspace

TOML = """\
[workspace]
name = "Notification bench"
timezone = "UTC"

[sources.partners]
entity = "partners"
path = "data/partners.csv"

[sources.partners.columns]
partner_id = "id"
name = "name"
partner_manager = "manager"
joined_at = "joined"
status = "status"

[sources.opportunities]
entity = "opportunities"
path = "data/opportunities.csv"

[sources.opportunities.columns]
opportunity_id = "id"
partner_id = "partner"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
attribution = {{ constant = "sourced" }}

[notifications.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from_address = "Channel team <channel@bench.test>"

[[schedules]]
name = "monthly-scorecards"
what = "scorecards"
cron = "0 7 1 * *"

[[schedules]]
name = "weekly-digest"
what = "manager_digest"
cron = "0 8 * * 1"
"""


def make_workspace(root: Path, partners: int, managers: int, port: int, seed: int) -> Workspace:
    """The workspace, its data, its run and its users (partner users and managers with email
    addresses, inserted with one password hash made once)."""
    from partnerscope.workspace import Workspace

    if root.exists():
        shutil.rmtree(root)
    ws = Workspace.create(root, config_text=TOML.format(port=port))
    data = root / "data"
    data.mkdir(exist_ok=True)
    rng = random.Random(seed)
    with (data / "partners.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "manager", "joined", "status"])
        for i in range(partners):
            writer.writerow(
                [pid(i), f"Partner {i:05d} Ltd", manager(i % managers), "2024-01-15", "active"]
            )
    with (data / "opportunities.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "partner", "status", "amount", "created", "closed"])
        for i in range(partners):
            for k in range(6):
                closed = datetime(2025, 6, 1) + timedelta(days=rng.randrange(0, 540))
                writer.writerow(
                    [
                        f"O{i:06d}-{k}",
                        pid(i),
                        "won",
                        f"{rng.uniform(5_000, 200_000):.2f}",
                        (closed - timedelta(days=60)).isoformat(sep=" "),
                        closed.isoformat(sep=" "),
                    ]
                )
    for step in (["ingest"], ["run", "--as-of", "2026-12-01"]):
        command = [sys.executable, "-m", "partnerscope", "-w", str(root), *step]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"partnerscope {step[0]} failed:\n{done.stdout}\n{done.stderr}")
    add_users(ws, partners, managers)
    told_before(ws)
    return Workspace.open(root)


def told_before(ws: Workspace) -> None:
    """The notifications the run wrote (its new alerts, for the managers) marked as fanned out
    already: the bench measures the schedules' messages, not a first run's thousands of
    alerts."""
    from partnerscope import appdb
    from partnerscope.appdb.tables import notifications

    with appdb.connect(ws).begin() as connection:
        connection.execute(
            notifications.update()
            .where(notifications.c.dispatched_at.is_(None))
            .values(dispatched_at=datetime.now(UTC).replace(tzinfo=None))
        )


def pid(i: int) -> str:
    return f"P{i:06d}"


def manager(j: int) -> str:
    return f"Manager {j:03d}"


def partner_address(i: int) -> str:
    return f"p{i:06d}@partners.bench.test"


def manager_address(j: int) -> str:
    return f"m{j:03d}@vendor.bench.test"


def add_users(ws: Workspace, partners: int, managers: int) -> None:
    from partnerscope import appdb
    from partnerscope.accounts import _hasher
    from partnerscope.appdb.tables import users

    hashed = _hasher().hash("bench password, never used to sign in")
    now = datetime.now(UTC).replace(tzinfo=None)
    common = {"password_hash": hashed, "active": True, "created_at": now, "created_by": "bench"}
    rows = [
        {
            "name": f"p{i:06d}",
            "role": "partner_user",
            "partner_id": pid(i),
            "manages": None,
            "email": partner_address(i),
            **common,
        }
        for i in range(partners)
    ] + [
        {
            "name": f"m{j:03d}",
            "role": "partner_manager",
            "partner_id": None,
            "manages": manager(j),
            "email": manager_address(j),
            **common,
        }
        for j in range(managers)
    ]
    with appdb.connect(ws).begin() as connection:
        for start in range(0, len(rows), 5_000):
            connection.execute(users.insert(), rows[start : start + 5_000])


# ------------------------------------------------------------------------------ measuring


def peak_reset() -> None:
    """Start the peak resident set (VmHWM) from now."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Step:
    name: str
    seconds: float
    count: int
    unit: str
    peak_mb: float = float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")


def timed(name: str, unit: str, work: Callable[[], int]) -> Step:
    peak_reset()
    started = time.perf_counter()
    count = work()
    return Step(name, time.perf_counter() - started, count, unit, peak_mb())


class RenderClock:
    """Time spent in ``attachments.render`` (the PDFs), wrapped for the delivery step."""

    def __init__(self) -> None:
        from partnerscope.notify import attachments

        self.module = attachments
        self.original = attachments.render
        self.seconds = 0.0
        self.count = 0

    def __enter__(self) -> RenderClock:
        def render(workspace: Any, spec: dict[str, Any]) -> Any:
            started = time.perf_counter()
            try:
                return self.original(workspace, spec)
            finally:
                self.seconds += time.perf_counter() - started
                self.count += 1

        self.module.render = render
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.render = self.original


# ------------------------------------------------------------------------------- contenders


def outbox_scorecards(ws: Workspace, limit: int | None) -> tuple[list[Step], RenderClock]:
    """The schedule fired, fanned out and delivered by partnerscope's own code."""
    from partnerscope.notify import dispatch, schedules, worker

    steps = [
        timed(
            "fire the schedule (write the notifications)",
            "notifications",
            lambda: sum(
                f.notifications
                for f in schedules.run_due(ws, FIRE_AT, who="bench")
                if f.schedule == "monthly-scorecards"
            ),
        ),
        timed("dispatch (fan out to deliveries)", "deliveries", lambda: dispatch.dispatch(ws)),
    ]
    with RenderClock() as clock:
        steps.append(
            timed(
                "deliver: render each PDF and send it",
                "emails",
                lambda: worker.deliver(ws, limit=limit),
            )
        )
    return steps, clock


def baseline_scorecards(ws: Workspace, partners: list[int], port: int) -> Step:
    """What a skilled user would script: the run read once, then per partner its scorecard's
    partner edition rendered to PDF with the report modules and sent with smtplib over one
    connection."""
    from email.message import EmailMessage

    from partnerscope.evaluation.view import RunData
    from partnerscope.reports import render
    from partnerscope.reports.charts import data_uri
    from partnerscope.reports.content import CohortMedians
    from partnerscope.reports.partner import partner_scorecard
    from partnerscope.reports.scorecard import scorecard

    page = (
        '{% extends "_base.html.j2" %}{% block content %}'
        '{% include "_partner_scorecard_body.html.j2" %}{% endblock %}'
    )

    def work() -> int:
        data = RunData(ws)
        medians = CohortMedians(data)
        template = render.environment().from_string(page)
        shown = ws.config.tiers.shown_to_partners
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for i in partners:
                report = partner_scorecard(scorecard(data, pid(i), None, medians=medians), shown)
                images = {n: data_uri(spec) for n, spec in report.charts.items()}
                pdf = render.pdf(template.render(report=report, images=images))
                message = EmailMessage()
                message["From"] = "channel@bench.test"
                message["To"] = partner_address(i)
                message["Subject"] = f"{report.title}"
                message[BASELINE_HEADER] = "1"
                message.set_content("Your scorecard is attached.")
                message.add_attachment(
                    pdf, maintype="application", subtype="pdf", filename=f"{pid(i)}.pdf"
                )
                smtp.send_message(message)
        return len(partners)

    return timed("hand-written loop: render the PDF, send with smtplib", "emails", work)


def manager_digests(ws: Workspace) -> Step:
    from partnerscope.notify import dispatch, schedules, worker

    def work() -> int:
        fired = schedules.run_due(ws, DIGEST_AT, who="bench")
        dispatch.dispatch(ws)
        worker.deliver(ws)
        return sum(f.notifications for f in fired if f.schedule == "weekly-digest")

    return timed("weekly digest: fire, dispatch and send", "digests", work)


def pending_emails(ws: Workspace) -> set[str]:
    """The addresses of scorecard emails not sent yet."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import deliveries, notifications, users

    with appdb.connect(ws).connect() as connection:
        rows = connection.execute(
            select(users.c.email)
            .select_from(deliveries.join(users).join(notifications))
            .where(
                deliveries.c.channel == "email",
                deliveries.c.status == "pending",
                notifications.c.object_id == "monthly-scorecards",
            )
        ).all()
    return {str(email) for (email,) in rows}


# ------------------------------------------------------------------------------------ main


def check(
    tally: Tally,
    partners: int,
    managers: int,
    baseline: list[int],
    corrupt: bool,
    pending: set[str],
) -> list[str]:
    """Every partner exactly one scorecard (or, with --deliver-limit, its email still pending,
    never both), every manager one digest, every PDF valid, the baseline's sample one each."""
    got = Counter(tally.outbox)
    if corrupt and got:
        got.pop(next(iter(sorted(got))))
    problems = []
    wrong = [
        (partner_address(i), got.get(partner_address(i), 0))
        for i in range(partners)
        if got.get(partner_address(i), 0) + (partner_address(i) in pending) != 1
    ]
    extra = set(got) - {partner_address(i) for i in range(partners)}
    if wrong:
        problems.append(
            f"{len(wrong):,} partner{'s' if len(wrong) != 1 else ''} did not receive exactly "
            "one scorecard, e.g. " + ", ".join(f"{a}: {n}" for a, n in wrong[:3])
        )
    if extra:
        problems.append(f"scorecards to {len(extra):,} addresses that are no partner's")
    digests = [j for j in range(managers) if tally.digests.get(manager_address(j), 0) != 1]
    if digests:
        problems.append(
            f"{len(digests):,} manager{'s' if len(digests) != 1 else ''} did not receive "
            "exactly one digest"
        )
    if tally.bad_pdf:
        problems.append(f"{tally.bad_pdf:,} scorecard emails without one valid PDF")
    missing = [i for i in baseline if tally.baseline.get(partner_address(i), 0) != 1]
    if missing:
        problems.append(f"the baseline's loop did not deliver {len(missing):,} of its messages")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=20_000)
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument(
        "--baseline-partners",
        type=int,
        default=200,
        help="partners the hand-written loop sends to (a sample; its rate is projected)",
    )
    parser.add_argument(
        "--deliver-limit",
        type=int,
        default=None,
        help="send only this many scorecards (the rest stay pending, checked as such); the "
        "firing, fan-out and digest are still measured at full size",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="drop one partner's scorecard from the tally before the check (exit 1)",
    )
    args = parser.parse_args(argv)
    managers = max(1, min(args.managers, args.partners))
    out = args.out.resolve() / "notify"
    out.mkdir(parents=True, exist_ok=True)
    for line in machine_info(extra_versions=_versions()):
        print(line)

    tally = Tally()
    controller = mail_server(tally)
    try:
        started = time.perf_counter()
        root = out / f"ws-p{args.partners}-m{managers}-seed{args.seed}"
        ws = make_workspace(root, args.partners, managers, controller.port, args.seed)
        setup = time.perf_counter() - started
        print(
            f"setup     {args.partners:,} partners, {managers:,} managers, run and users "
            f"in {setup:.1f} s ({root})"
        )
        from partnerscope.notify import schedules

        schedules.run_due(ws, DIGEST_AT - timedelta(days=1), who="bench")  # their start
        # the digest first: its delivery step must not send the scorecards left pending
        digest = manager_digests(ws)
        steps, clock = outbox_scorecards(ws, args.deliver_limit)
        pending = pending_emails(ws)
        sample = sorted(
            random.Random(args.seed).sample(
                range(args.partners), min(args.baseline_partners, args.partners)
            )
        )
        baseline = baseline_scorecards(ws, sample, controller.port)
        time.sleep(0.2)  # the server's last answers
    finally:
        controller.stop()

    emails = tally.outbox.total()
    outbox_total = sum(s.seconds for s in steps)
    # per email: the fan-out steps per notification (all of them are written even with
    # --deliver-limit) plus the delivery step per email sent
    fanned = sum(s.seconds for s in steps[:-1]) / max(steps[0].count, 1)
    per_outbox = fanned + steps[-1].seconds / max(steps[-1].count, 1)
    per_baseline = baseline.seconds / max(baseline.count, 1)
    rows = [
        *(
            (
                s.name,
                f"{s.seconds:,.2f}",
                f"{s.count:,} {s.unit}",
                f"{s.rate:,.1f}/s",
                f"{s.peak_mb:,.0f}",
            )
            for s in steps
        ),
        (
            "  of which rendering the PDFs",
            f"{clock.seconds:,.2f}",
            f"{clock.count:,} PDFs",
            f"{clock.count / clock.seconds if clock.seconds else 0:,.2f}/s",
            "",
        ),
        (
            "outbox, all steps",
            f"{outbox_total:,.2f}",
            f"{emails:,} emails",
            f"{emails / outbox_total if outbox_total else 0:,.2f}/s",
            "",
        ),
        (
            baseline.name,
            f"{baseline.seconds:,.2f}",
            f"{baseline.count:,} {baseline.unit}",
            f"{baseline.rate:,.2f}/s",
            f"{baseline.peak_mb:,.0f}",
        ),
        (
            digest.name,
            f"{digest.seconds:,.2f}",
            f"{digest.count:,} {digest.unit}",
            f"{digest.rate:,.1f}/s",
            f"{digest.peak_mb:,.0f}",
        ),
    ]
    print()
    print(f"{'step':58} {'s':>10} {'count':>18} {'rate':>10} {'peak MB':>8}")
    for name, secs, count, rate, peak in rows:
        print(f"{name:58} {secs:>10} {count:>18} {rate:>10} {peak:>8}")
    print()
    ratio = per_outbox / per_baseline if per_baseline else float("nan")
    print(
        f"per email: outbox {per_outbox * 1000:,.1f} ms, hand-written loop "
        f"{per_baseline * 1000:,.1f} ms: the outbox costs {ratio:.2f}× the loop"
    )
    projected = per_outbox * 20_000
    print(f"20,000 partners at this rate: {projected / 60:,.1f} min")
    print(
        f"weekly digest of {digest.count:,} managers: {digest.seconds:.1f} s "
        f"({'under' if digest.seconds < 60 else 'OVER'} the minute)"
    )
    problems = check(tally, args.partners, managers, sample, args.corrupt, pending)
    result = {
        "partners": args.partners,
        "managers": managers,
        "setup_seconds": setup,
        "steps": [asdict(s) for s in steps],
        "render_seconds": clock.seconds,
        "pdfs": clock.count,
        "emails": emails,
        "mail_bytes": tally.bytes,
        "baseline": asdict(baseline),
        "digest": asdict(digest),
        "outbox_per_email_ms": per_outbox * 1000,
        "baseline_per_email_ms": per_baseline * 1000,
        "ratio": ratio,
        "pending": len(pending),
        "problems": problems,
    }
    path = out / f"notify-p{args.partners}-m{managers}-seed{args.seed}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"written   {path}")
    if problems:
        for problem in problems:
            print(f"MISMATCH  {problem}")
        return 1
    left = f" ({len(pending):,} of them still pending, as --deliver-limit asked)" if pending else ""
    print(
        f"check     every one of {args.partners:,} partners received exactly one scorecard "
        f"(a valid PDF){left}, every one of {managers:,} managers one digest"
    )
    return 0


def _versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{n} {version(n)}" for n in ("weasyprint", "aiosmtpd", "apscheduler"))


if __name__ == "__main__":
    raise SystemExit(main())
