"""How the benchmarks time their contenders (shared by bench/*.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest wall time of ``repeat`` calls, and the last result."""
    fastest, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


@dataclass
class ChildRun:
    """A benchmark script run again as ``--only NAME`` in a process of its own."""

    #: the JSON its ``RESULT`` line printed (None when it printed none)
    result: dict[str, Any] | None
    #: its other output lines
    lines: list[str]
    exit_code: int
    seconds: float
    cpu_seconds: float
    #: ru_maxrss, MB (Linux reports KiB)
    maxrss_mb: float


def run_child(script: str, name: str, *options: str) -> ChildRun:
    """Run ``script --only name *options`` with this Python: its wall time, and its CPU time and
    peak memory from os.wait4. The child prints its measurements as one ``RESULT {json}`` line."""
    command = [sys.executable, str(Path(script).resolve()), "--only", name, *options]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    text = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    result, lines = None, []
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        elif line.strip():
            lines.append(line)
    return ChildRun(
        result,
        lines,
        os.waitstatus_to_exitcode(status),
        elapsed,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )
