"""bench/predict.py: its hand-written baselines, its synthesized open deals, and a smoke run
whose agreement check passes, then fails on ``--corrupt``."""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow as pa
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@functools.cache
def predict() -> ModuleType:
    """bench/predict.py (bench/ is not a package; it puts bench/ on sys.path itself)."""
    spec = importlib.util.spec_from_file_location("bench_predict", BENCH / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_hand_written_baselines_of_partner_quarters() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE opportunities (partner_id VARCHAR, status VARCHAR, amount DECIMAL(18, 2), "
        "closed_at TIMESTAMP)"
    )
    rows = [
        # A: a year and more of history; 2025-Q3 without revenue
        ("A", "won", 1000, "2024-11-05 10:00"),
        ("A", "won", 60, "2025-01-02 00:00"),
        ("A", "won", 40, "2025-03-31 23:59:59"),
        ("A", "won", 200, "2025-05-01 00:00"),
        ("A", "lost", 999, "2025-08-01 00:00"),
        ("A", "won", 400, "2025-12-31 12:00"),
        ("A", "won", 5000, "2026-01-01 00:00"),  # at the as-of time: not yet complete
        # B: first revenue in 2025-Q3, two quarters of history
        ("B", "won", 90, "2025-07-10 00:00"),
        ("B", "won", 30, "2025-10-10 00:00"),
        (None, "won", 7777, "2025-10-10 00:00"),  # a direct deal
    ]
    con.executemany("INSERT INTO opportunities VALUES (?, ?, ?, ?)", rows)
    sql = predict().baselines_sql(datetime(2026, 1, 1), 1, 4)
    got = {(key, step): (trailing, naive) for key, step, trailing, naive in con.sql(sql).fetchall()}
    # A: the last four quarters 100, 200, 0, 400; one year back from each step
    assert {k: v for k, v in got.items() if k[0] == "A"} == {
        ("A", 1): (175.0, 100.0),
        ("A", 2): (175.0, 200.0),
        ("A", 3): (175.0, 0.0),
        ("A", 4): (175.0, 400.0),
    }
    # B: mean of its two quarters, and its last quarter for every step
    assert {k: v for k, v in got.items() if k[0] == "B"} == {
        ("B", k): (60.0, 30.0) for k in range(1, 5)
    }
    assert len(got) == 8


def test_exactly_n_open_partner_deals() -> None:
    table = pa.table(
        {
            "opportunity_id": ["O1", "O2", "O3", "O4", "O5"],
            "partner_id": ["P1", "P2", "P1", None, "P2"],
            "status": ["open", "open", "won", "open", "open"],
        }
    )
    fewer, have = predict().with_open_deals(table, 2)
    assert have == 3
    assert fewer["opportunity_id"].to_pylist() == ["O1", "O2", "O3", "O4"]
    more, have = predict().with_open_deals(table, 7)
    assert have == 3
    assert more["opportunity_id"].to_pylist() == [
        "O1",
        "O1-r1",
        "O1-r2",
        "O2",
        "O2-r1",
        "O3",
        "O4",
        "O5",
        "O5-r1",
    ]
    assert more.filter(pa.compute.equal(more["status"], "won")).num_rows == 1


def test_planted_signal_changes_only_closed_partner_deals() -> None:
    n = 4000
    ids = [f"O{i:05d}" for i in range(n)]
    table = pa.table(
        {
            "opportunity_id": ids,
            "partner_id": [None if i % 10 == 0 else "P1" for i in range(n)],
            "attribution": ["sourced" if i % 2 else "influenced" for i in range(n)],
            "status": ["open" if i % 5 == 1 else "lost" for i in range(n)],
            "amount": [float(i % 100) for i in range(n)],
        }
    )
    planted = predict().plant_signal(table, 42)
    assert planted.column_names == table.column_names
    before, after = table["status"].to_pylist(), planted["status"].to_pylist()
    for i in range(n):
        if i % 10 == 0 or i % 5 == 1:  # direct or open: as they were
            assert after[i] == before[i]
    closed = [i for i in range(n) if i % 10 and i % 5 != 1]
    won = {
        (sourced, small): sum(after[i] == "won" for i in group) / len(group)
        for sourced in (False, True)
        for small in (False, True)
        if (group := [i for i in closed if bool(i % 2) == sourced and (i % 100 < 49.5) == small])
    }
    # the chances 0.2, 0.35, 0.45, 0.6, within sampling error of ~800 deals each
    assert won[(False, False)] == pytest.approx(0.2, abs=0.05)
    assert won[(False, True)] == pytest.approx(0.35, abs=0.05)
    assert won[(True, False)] == pytest.approx(0.45, abs=0.05)
    assert won[(True, True)] == pytest.approx(0.6, abs=0.05)
    assert planted.equals(predict().plant_signal(table, 42))


@pytest.mark.slow
def test_smoke_run_agrees_then_fails_when_corrupted(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(BENCH / "predict.py"),
        "--scale",
        "0.001",
        "--deals",
        "3000",
        "--steps",
        "forecast_quarter,deals",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "OK each partner's trailing mean and seasonal naive" in text
    assert "OK every open partner deal scored once" in text
    # each step's CPU seconds: the timed call's alone, within the whole process's
    (report,) = (tmp_path / "predict").glob("report-*.json")
    steps = json.loads(report.read_text(encoding="utf-8"))
    assert set(steps) == {"run", "forecast_quarter", "deals"}
    for step in steps.values():
        assert 0 < step["step_cpu_seconds"] <= step["cpu_seconds"]
    corrupted = subprocess.run([*command, "--corrupt"], capture_output=True, text=True, check=False)
    assert corrupted.returncode == 1, corrupted.stdout + corrupted.stderr
    assert "MISMATCH each partner's trailing mean" in " ".join(corrupted.stdout.split())
