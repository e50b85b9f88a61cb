"""bench/notify.py at a tiny scale: every partner gets its one scorecard (a PDF) through the
outbox and every manager its digest; then, with ``--corrupt`` (one partner's scorecard dropped
from the tally), the check fails with exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "notify.py"


def bench(out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH), "--out", str(out), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_a_tiny_distribution_checks_out_and_a_dropped_message_fails(tmp_path: Path) -> None:
    done = bench(tmp_path, "--partners", "4", "--managers", "2", "--baseline-partners", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "every one of 4 partners received exactly one scorecard (a valid PDF), every one of "
        "2 managers one digest" in done.stdout
    )
    result = json.loads((tmp_path / "notify" / "notify-p4-m2-seed42.json").read_text())
    assert result["emails"] == 4 and result["pdfs"] == 4 and result["problems"] == []
    assert result["digest"]["count"] == 2
    assert [s["count"] for s in result["steps"]] == [4, 8, 4]  # 4 in-app + 4 email deliveries

    corrupt = bench(
        tmp_path,
        "--partners",
        "3",
        "--managers",
        "1",
        "--baseline-partners",
        "1",
        "--deliver-limit",
        "1",
        "--corrupt",
    )
    assert corrupt.returncode == 1, corrupt.stdout + corrupt.stderr
    assert "MISMATCH  1 partner did not receive exactly one scorecard" in corrupt.stdout
