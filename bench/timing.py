"""How the benchmarks time their contenders (shared by bench/*.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest wall time of ``repeat`` calls, and the last result."""
    fastest, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result
