"""Reliability of delivery: a real ``partnerscope notify send --loop`` process SIGKILLed at
several points (while fanning out, and mid-send to a slow mail server and a slow webhook
receiver), then a new worker finishes: every notification's idempotency key arrived, each
exactly once after dropping the repeats of a key, and there were no more repeats than kills
(a kill can catch at most the one message in flight: accepted by the receiver, not yet recorded
as sent)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from partnerscope import appdb
from partnerscope.outbox import enqueue
from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, make_workspace
from tests.notifytools import HookServer, MailServer, Settings, by_key, configure, repeats

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PARTNERSCOPE_USER": "test"}
NOTIFICATIONS = 30
#: a message being sent holds its delivery this long; a killed worker's are sent again after it
LEASE = 1.5


def cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "partnerscope", "-w", str(root), *args]


def rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{root / 'state' / 'app.db'}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        con.close()


def kill(root: Path, ready: Callable[[], bool], delay: float) -> bool:
    """Start ``notify send --loop``; once ``ready()``, wait ``delay`` s and SIGKILL it. Whether
    it was killed (not ended by itself)."""
    err = root.parent / "worker-stderr.txt"
    with (
        err.open("wb") as stderr,
        subprocess.Popen(
            cli(root, "notify", "send", "--loop", "--interval", "0.2"),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=ENV,
        ) as proc,
    ):
        try:
            deadline = time.monotonic() + 120
            while not ready() and proc.poll() is None:
                assert time.monotonic() < deadline, "the worker never got to the kill point"
                time.sleep(0.005)
            time.sleep(delay)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not killed or proc.returncode == -signal.SIGKILL
    assert killed, "the worker ended by itself: " + err.read_text(encoding="utf-8")
    return killed


def test_killed_workers_lose_nothing_and_repeat_at_most_one_message_per_kill(tmp_path):
    ws = make_workspace(tmp_path / "ws", PARTNERS_SOURCE, {"data/partners.csv": PARTNERS_CSV})
    with (
        MailServer(stall_seconds=0.04) as mail,
        HookServer(delay_seconds=0.04) as hook,
    ):
        configure(
            ws,
            mail=mail,
            hooks={"ops": hook},
            settings=Settings(lease_seconds=LEASE, max_attempts=20, timeout_seconds=10),
        )
        now = datetime(2026, 12, 7, 9, 0)
        with appdb.connect(ws).begin() as c:
            for i in range(NOTIFICATIONS):
                enqueue(
                    c,
                    key=f"signal:{i}",
                    kind="signal",
                    title=f"Signal {i} fired",
                    lines=[f"Signal {i} of the decision fired."],
                    addresses=[f"ops{i}@example.com"],
                    webhooks=["ops"],
                    only=True,
                    now=now,
                )
        appdb.release(ws.root)
        expected = NOTIFICATIONS * 2

        def arrived() -> int:
            return len(mail.received) + len(hook.accepted)

        def fanned_out() -> bool:
            return bool(rows(ws.root, "SELECT 1 FROM deliveries LIMIT 1"))

        kills = 0
        # while fanning out, then mid-send at a few points of the sending
        for ready, delay in [
            (fanned_out, 0.0),
            (lambda: arrived() >= 3, 0.0),
            (lambda: arrived() >= 15, 0.013),
            (lambda: arrived() >= 30, 0.027),
            (lambda: arrived() >= 45, 0.005),
        ]:
            kills += kill(ws.root, ready, delay)
            time.sleep(LEASE + 0.1)  # the dead worker's leases run out
        assert arrived() < expected, "the kills came too late to test anything"

        done = subprocess.run(
            cli(ws.root, "notify", "send"), capture_output=True, text=True, env=ENV, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr

        emails = by_key(mail.messages)
        hooks = by_key(hook.accepted)
    keys = {str(k) for (k,) in rows(ws.root, "SELECT idempotency_key FROM deliveries ORDER BY 1")}
    assert len(keys) == expected
    # every key arrived, on its channel; each once after dropping repeats
    assert set(emails) | set(hooks) == keys
    assert len(emails) == len(hooks) == NOTIFICATIONS
    assert set(emails) == {k for k in keys if "-email-" in k}
    repeated = repeats(emails) + repeats(hooks)
    print(f"{kills} kills, {repeated} repeats (dropped by their idempotency key)")
    assert repeated <= kills
    # the outbox agrees: every delivery sent, none dead or left behind
    assert rows(ws.root, "SELECT status, count(*) FROM deliveries GROUP BY status") == [
        ("sent", expected)
    ]
    assert rows(ws.root, "SELECT count(*) FROM notifications WHERE dispatched_at IS NULL") == [(0,)]
