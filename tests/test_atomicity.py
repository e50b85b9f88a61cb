"""All or nothing: an ingest killed midway leaves the warehouse exactly as it was and the next
ingest recovers; a second writer gets a clear "is busy" error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tests.conftest import make_workspace, query, snapshot

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
"""

SMALL_OPPS = (
    "id,partner,status,amount,created,closed\n"
    "S1,P1,won,100,2024-01-01,2024-02-01\n"
    "S2,P2,open,50,2024-01-05,\n"
)


def write_big_opportunities(path: Path, rows: int) -> None:
    """``rows`` valid opportunities, written in about a second."""
    rng = np.random.default_rng(7)
    status = np.array(["won", "lost", "open"])[rng.integers(0, 3, rows)]
    created = np.datetime64("2023-01-01") + rng.integers(0, 365, rows).astype("timedelta64[D]")
    closed = np.datetime64("2024-01-01") + rng.integers(0, 180, rows).astype("timedelta64[D]")
    table = pa.table(
        {
            "id": pa.array(np.char.add("B", np.arange(rows).astype(str))),
            "partner": np.array(["P1", "P2"])[rng.integers(0, 2, rows)],
            "status": status,
            "amount": np.round(rng.uniform(1, 10_000, rows), 2),
            "created": created.astype(str),
            "closed": np.where(status == "open", "", closed.astype(str)),
        }
    )
    pacsv.write_csv(table, path)


def lock_holder(ws) -> dict:
    try:
        text = (ws.state_dir / "lock").read_text(encoding="utf-8")
        return json.loads(text) if text.startswith("{") else {}
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@pytest.mark.slow
def test_killed_ingest_leaves_the_previous_state_and_the_next_one_recovers(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG,
        {"data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n", "data/opps.csv": SMALL_OPPS},
    )
    ws.ingest()
    before = snapshot(ws)
    assert query(ws, "SELECT count(*) FROM opportunities") == [(2,)]

    big = tmp_path / "big.csv"
    rows = 300_000
    write_big_opportunities(big, rows)
    command = [sys.executable, "-m", "partnerscope", "-w", str(ws.root), "ingest", "opps"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    errors = tmp_path / "stderr.txt"
    with (
        errors.open("wb") as stderr,
        subprocess.Popen(
            [*command, "--file", str(big)], stdout=subprocess.DEVNULL, stderr=stderr, env=env
        ) as proc,
    ):
        try:
            deadline = time.monotonic() + 60
            while lock_holder(ws).get("pid") != proc.pid:
                assert proc.poll() is None, errors.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "the ingest never took the workspace lock"
                time.sleep(0.02)
            assert lock_holder(ws)["command"] == "ingest"
            # Midway: once DuckDB starts writing the new rows into the file (uncommitted,
            # seconds into the run and well before the commit), or after 10 s at the latest.
            size, started = ws.warehouse_path.stat().st_size, time.monotonic()
            while ws.warehouse_path.stat().st_size == size and time.monotonic() < started + 10:
                assert proc.poll() is None, "the ingest finished before it could be killed"
                time.sleep(0.01)
            assert proc.poll() is None, "the ingest finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL

    # exactly the previous state: tables, import ledger and quarantine
    assert snapshot(ws) == before
    # the dead process released its lock; the next ingest recovers
    later = tmp_path / "later.csv"
    later.write_text(
        "id,partner,status,amount,created,closed\nS3,P1,won,30,2024-03-01,2024-03-02\n",
        encoding="utf-8",
    )
    report = ws.ingest(["opps"], {"opps": [later]})
    assert (report.rows_in, report.loaded, report.files[0].inserted) == (1, 1, 1)
    assert query(ws, "SELECT opportunity_id FROM opportunities ORDER BY 1") == [
        ("S1",),
        ("S2",),
        ("S3",),
    ]
    assert query(ws, "SELECT count(*) FROM _imports") == [(3,)]


def test_a_reader_beside_a_writer_gets_the_busy_message(tmp_path) -> None:
    """DuckDB admits no reader beside a writing process; say so instead of DuckDB's lock error."""
    import subprocess
    import sys

    from partnerscope.errors import WorkspaceBusyError
    from partnerscope.warehouse import Warehouse

    db = tmp_path / "state" / "warehouse.duckdb"
    Warehouse(db).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WorkspaceBusyError, match="being written by another partnerscope"):
            Warehouse(db, read_only=True)
    finally:
        holder.communicate("")
