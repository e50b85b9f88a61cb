"""Reliability: real ``partnerscope`` processes killed with SIGKILL midway through a run, an
ingest and a payout approval leave a state the next command recovers from, giving the same
run digest as an untouched copy; two writing commands at once: one works, the other says who
holds the workspace; the web server under load while a new run replaces the served one
(bench/load.py, short) answers every request with one whole run.

One demo workspace (scale 0.02) is built per module; each case works on a copy of it. Its runs
leave out the predictions (``[predict] enabled = false``): what is checked here is how a run,
an ingest and an approval end, the same with or without them, and they take a third of a run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from partnerscope.schema import TABLES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PARTNERSCOPE_USER": "test"}
#: the quarter whose draft ledger the demo leaves
QUARTER = "FY2026-Q4"


def cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "partnerscope", "-w", str(root), *args]


def call(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cli(root, *args), capture_output=True, text=True, env=ENV, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def manifests(root: Path) -> list[dict[str, Any]]:
    runs = root / "state" / "runs"
    return [
        json.loads((p / "manifest.json").read_text(encoding="utf-8"))
        for p in sorted(runs.iterdir())
        if p.name.isdigit()
    ]


def holder(root: Path) -> dict[str, Any]:
    try:
        text = (root / "state" / "lock").read_text(encoding="utf-8")
        found: dict[str, Any] = json.loads(text) if text.startswith("{") else {}
        return found
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def temp_runs(root: Path) -> list[str]:
    return [p.name for p in (root / "state" / "runs").iterdir() if p.name.startswith(".tmp-")]


def warehouse(root: Path) -> dict[str, Any]:
    """Each canonical table's rows (count and a hash per column, import ids aside) and the
    number of imports: equal for equal content."""
    import duckdb

    out: dict[str, Any] = {}
    con = duckdb.connect(str(root / "state" / "warehouse.duckdb"), read_only=True)
    try:
        for name in TABLES:
            out[name] = con.execute(
                f'SELECT count(*), bit_xor(hash(COLUMNS(* EXCLUDE (_import_id)))) FROM "{name}"'
            ).fetchone()
        out["_imports"] = con.execute("SELECT count(*) FROM _imports").fetchone()
    finally:
        con.close()
    return out


def ledger(root: Path) -> tuple[str, int]:
    """The quarter's ledger status and its number of approval audit entries."""
    from partnerscope import audit
    from partnerscope.appdb import connect
    from partnerscope.money.payouts import Payouts
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    status = Payouts(ws).ledger(QUARTER).status
    entries = audit.entries(connect(ws), object_id=QUARTER)
    return status, sum(e.action == "approve" for e in entries)


def kill(
    root: Path, args: list[str], ready: Callable[[int], bool], delay: float
) -> tuple[bool, str]:
    """Start ``partnerscope args``; once ``ready(pid)``, wait ``delay`` s and SIGKILL it.
    Returns (whether it was killed before it ended, its stderr)."""
    err = root.parent / f"{root.name}-stderr.txt"
    with (
        err.open("wb") as stderr,
        subprocess.Popen(
            cli(root, *args), stdout=subprocess.DEVNULL, stderr=stderr, env=ENV
        ) as proc,
    ):
        try:
            deadline = time.monotonic() + 120
            while not ready(proc.pid) and proc.poll() is None:
                assert time.monotonic() < deadline, "the command never got to the kill point"
                time.sleep(0.005)
            time.sleep(delay)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = err.read_text(encoding="utf-8")
    if killed:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 0, text
    return killed, text


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reliability") / "demo"
    command = [sys.executable, "-m", "partnerscope", "demo", str(root), "--scale", "0.02"]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with (root / "partnerscope.toml").open("a", encoding="utf-8") as config:
        config.write("\n[predict]\nenabled = false\n")
    return root


@pytest.fixture(scope="module")
def as_of(demo: Path) -> str:
    return str(manifests(demo)[-1]["as_of"])


@pytest.fixture(scope="module")
def big_file(demo: Path) -> Path:
    """The demo's opportunities three times over (the copies under new ids, about 60,000
    rows): a few seconds of ingest."""
    lines = (demo / "data" / "opportunities.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0], *lines[1:]]
    for copy in range(1, 3):
        # each row starts with its quoted id: "O0000001",...
        out += [f'"{line[1:9]}-{copy}"{line[10:]}' for line in lines[1:]]
    path = demo.parent / "opportunities-big.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def copy(demo: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(demo, tmp_path / name))


def reference(demo: Path, tmp_path: Path, as_of: str, *before: list[str]) -> tuple[str, Any]:
    """The digest of ``partnerscope run`` on an untouched copy after the commands ``before``,
    and the warehouse after those commands (before the run, which posts facts of its own)."""
    root = copy(demo, tmp_path, "reference")
    for args in before:
        call(root, *args)
    state = warehouse(root)
    call(root, "run", "--as-of", as_of)
    return str(manifests(root)[-1]["digest"]), state


def locked_by(root: Path, command: str) -> Callable[[int], bool]:
    return lambda pid: holder(root).get("pid") == pid and holder(root).get("command") == command


def test_a_killed_run_leaves_the_runs_as_they_were_and_the_next_run_recovers(
    demo: Path, tmp_path: Path, as_of: str
) -> None:
    expected, _ = reference(demo, tmp_path, as_of)
    killed = 0
    # just after it took the lock (posting), while it writes its run folder, later on
    points: list[tuple[str, float]] = [("lock", 0.0), ("temp", 0.2), ("temp", 1.5)]
    for number, (point, delay) in enumerate(points):
        root = copy(demo, tmp_path, f"run{number}")

        def ready(pid: int, root: Path = root, point: str = point) -> bool:
            return locked_by(root, "run")(pid) and (point == "lock" or bool(temp_runs(root)))

        was_killed, _ = kill(root, ["run", "--as-of", as_of], ready, delay)
        killed += was_killed
        finished = len(manifests(root))
        assert finished in (1, 2)  # no run, or the whole run
        call(root, "run", "--as-of", as_of)
        assert temp_runs(root) == []
        runs = manifests(root)
        assert [r["run_id"] for r in runs] == list(range(1, finished + 2))
        assert runs[-1]["digest"] == expected, (point, delay)
    assert killed >= 2, "the runs ended before they could be killed"


def test_a_killed_ingest_leaves_the_warehouse_before_or_after_never_half(
    demo: Path, tmp_path: Path, as_of: str, big_file: Path
) -> None:
    ingest = ["ingest", "opportunities", "--file", str(big_file)]
    expected, after = reference(demo, tmp_path, as_of, ingest)
    before = warehouse(demo)
    # the file's rows twice more (the demo's direct deals come from a file of their own)
    rows = len((demo / "data" / "opportunities.csv").read_text(encoding="utf-8").splitlines())
    assert after["opportunities"][0] == before["opportunities"][0] + 2 * (rows - 1)
    killed = 0
    for number, delay in enumerate([0.1, 1.0]):
        root = copy(demo, tmp_path, f"ingest{number}")
        was_killed, _ = kill(root, ingest, locked_by(root, "ingest"), delay)
        killed += was_killed
        found = warehouse(root)
        assert found in (before, after), delay
        call(root, *ingest)
        found = warehouse(root)
        assert {k: v for k, v in found.items() if k != "_imports"} == {
            k: v for k, v in after.items() if k != "_imports"
        }
        call(root, "run", "--as-of", as_of)
        assert manifests(root)[-1]["digest"] == expected, delay
    assert killed >= 2, "the imports ended before they could be killed"


#: rows of the table whose pairs the approval's slowed audit entry counts: 100 million pairs,
#: about 10 s of SQLite's work on a busy 2-core machine (the approval then ends if not killed)
SLOW_ROWS = 10_000


def slow_approvals(root: Path) -> None:
    """Make the approval's audit entry slow to write in this copy's store: a trigger on
    audit_log counts pairs of a large table before the entry is written. The approval has by
    then updated its ledger row in its one transaction, so it stays there, holding the store's
    write lock, long enough to be killed inside its transaction."""
    con = sqlite3.connect(root / "state" / "app.db", isolation_level=None)
    try:
        con.executescript(
            f"""
            CREATE TABLE slow (i INTEGER);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SLOW_ROWS})
            INSERT INTO slow SELECT i FROM n;
            CREATE TRIGGER slow_approval BEFORE INSERT ON audit_log WHEN NEW.action = 'approve'
            BEGIN SELECT count(*) FROM slow a, slow b WHERE a.i <> b.i; END;
            """
        )
    finally:
        con.close()


def unslow_approvals(root: Path) -> None:
    con = sqlite3.connect(root / "state" / "app.db", isolation_level=None)
    try:
        con.executescript("DROP TRIGGER slow_approval; DROP TABLE slow;")
    finally:
        con.close()


def writing(root: Path) -> Callable[[int], bool]:
    """Whether a process is inside a write transaction of the copy's store: it holds the write
    lock, so this connection cannot take it (no waiting). The approval writes in one
    transaction and nowhere else, so that is the approval's."""

    def ready(pid: int) -> bool:
        con = sqlite3.connect(root / "state" / "app.db", timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        finally:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.close()
        return False

    return ready


def test_a_killed_payout_approval_leaves_the_ledger_draft_or_approved(
    demo: Path, tmp_path: Path, as_of: str
) -> None:
    approve = ["payouts", "approve", QUARTER]
    expected, _ = reference(demo, tmp_path, as_of, approve)
    assert ledger(tmp_path / "reference") == ("approved", 1)
    assert ledger(demo) == ("draft", 0)
    # killed inside its transaction: at once when it holds the write lock (its ledger row just
    # updated), and a moment later, while its audit entry is being written
    for number, delay in enumerate([0.0, 0.3]):
        root = copy(demo, tmp_path, f"approve{number}")
        slow_approvals(root)
        killed, _ = kill(root, approve, writing(root), delay)
        assert killed, f"the approval ended before it could be killed ({delay} s in)"
        # the transaction never committed: no part of the approval is left
        assert ledger(root) == ("draft", 0), delay
        unslow_approvals(root)
        call(root, *approve)
        assert ledger(root) == ("approved", 1)
        call(root, "run", "--as-of", as_of)
        assert manifests(root)[-1]["digest"] == expected, delay


def busy(done: subprocess.CompletedProcess[str] | tuple[int, str], command: str) -> None:
    """A refusal: exit 1 at once with one `Error:` naming the holder, no traceback."""
    code, text = done if isinstance(done, tuple) else (done.returncode, done.stdout + done.stderr)
    assert code == 1, text
    assert "is busy" in text and f"partnerscope {command}" in text and "(pid " in text, text
    assert "Traceback" not in text, text


def test_two_runs_at_once_one_runs_and_the_other_says_who_holds_the_workspace(
    demo: Path, tmp_path: Path, as_of: str
) -> None:
    root = copy(demo, tmp_path, "twice")
    procs = [
        subprocess.Popen(
            cli(root, "run", "--as-of", as_of),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ENV,
        )
        for _ in range(2)
    ]
    outs = [(p.communicate(timeout=300)[0], p.returncode)[::-1] for p in procs]
    assert sorted(code for code, _ in outs) == [0, 1], outs
    refused = next(o for o in outs if o[0] == 1)
    busy(refused, "run")
    assert [r["run_id"] for r in manifests(root)] == [1, 2]


def test_an_ingest_during_a_run_is_refused_with_the_holder_and_vice_versa(
    demo: Path, tmp_path: Path, as_of: str, big_file: Path
) -> None:
    root = copy(demo, tmp_path, "both")
    for first, second, name in (
        (["run", "--as-of", as_of], ["ingest", "opportunities", "--file", str(big_file)], "run"),
        (["ingest", "opportunities", "--file", str(big_file)], ["run", "--as-of", as_of], "ingest"),
    ):
        with subprocess.Popen(
            cli(root, *first), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV
        ) as proc:
            deadline = time.monotonic() + 120
            while not locked_by(root, name)(proc.pid):
                assert proc.poll() is None, "it ended before it could be disturbed"
                assert time.monotonic() < deadline
                time.sleep(0.005)
            started = time.monotonic()
            refused = subprocess.run(
                cli(root, *second), capture_output=True, text=True, env=ENV, check=False
            )
            assert time.monotonic() - started < 30
            assert proc.poll() is None, "the holder ended before the refusal: a weak test"
            busy(refused, name)
            assert f"(pid {proc.pid}," in refused.stdout + refused.stderr
            assert proc.wait(timeout=300) == 0


def test_the_server_under_load_serves_one_whole_run_while_a_new_one_replaces_it(
    demo: Path, tmp_path: Path
) -> None:
    """bench/load.py, short: 8 clients for 10 s (or until 3 s after the new run is stored)."""
    command = [
        sys.executable,
        str(REPO / "bench" / "load.py"),
        *("--workspace", str(demo), "--clients", "8", "--seconds", "10"),
        *("--refresh-at", "1", "--workers", "2", "--out", str(tmp_path)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout + done.stderr
    report = json.loads(lines[-1].removeprefix("RESULT "))
    assert report["refresh_failed"] == []
    assert (report["errors"], report["mixed"]) == (0, 0), report["examples"]
    assert done.returncode == 0, done.stderr
    # both runs were served, the new one after the old one
    assert list(report["runs"]) == ["1", "2"]
    assert report["runs"]["2"]["requests"] > 100
    assert report["runs"]["1"]["first_s"] < report["runs"]["2"]["first_s"]


def test_the_server_shows_a_new_run_once_its_plans_are_tracked_and_keeps_them_apart(
    demo: Path, tmp_path: Path
) -> None:
    """A run stores its folder, then tracks the improvement plans: in between, the server keeps
    serving the run the plans belong to; a served run keeps the plans read with it."""
    from partnerscope.evaluation import plans
    from partnerscope.web.current import Current
    from partnerscope.workspace import Workspace

    root = copy(demo, tmp_path, "served")
    ws = Workspace.open(root)
    book = plans.load(ws.state_dir)
    assert book.tracked_run == 1
    current = Current(ws)
    served = current.get()
    assert served is not None and served.run_id == 1
    # run 2 is stored; its plans are not tracked yet
    runs = root / "state" / "runs"
    shutil.copytree(runs / "000001", runs / "000002")
    manifest = json.loads((runs / "000002" / "manifest.json").read_text(encoding="utf-8"))
    (runs / "000002" / "manifest.json").write_text(
        json.dumps({**manifest, "run_id": 2}), encoding="utf-8"
    )
    current.refresh()
    assert current.get() is served
    # run 2 tracks them: it opens a plan for a partner that had none
    partner = next(p for p in served.data.scorecards.spans if book.open_plan(p) is None)
    tracked = book.model_copy(deep=True)
    tracked.plans.append(
        plans.Plan(
            partner_id=partner,
            opened_run=2,
            opened_on=date(2026, 10, 1),
            reasons=["declining"],
            baseline_period="FY2026-Q4",
            baseline_score=None,
        )
    )
    tracked.tracked_run = 2
    plans.save(ws.state_dir, tracked)
    # run 1, still in the hands of the requests that took it, shows run 1's plans
    assert partner not in served.data.open_plans
    current.refresh()
    fresh = current.get()
    assert fresh is not None and fresh.run_id == 2
    assert partner in fresh.data.open_plans
