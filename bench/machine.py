"""What the benchmarks print about the machine they ran on (shared by bench/*.py)."""

from __future__ import annotations

import os
import platform

import duckdb

import partnerscope


def machine_info(*, extra_versions: str = "") -> list[str]:
    """Cores, memory, the load when starting, the system and the library versions."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        mem_text = f"{memory:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        mem_text = "unknown"
    return [
        f"machine   {platform.machine()}, {cores} cores ({usable} usable), {mem_text} memory, "
        f"load average {os.getloadavg()[0]:.2f}",
        f"system    {platform.platform()}",
        f"python    {platform.python_version()}",
        f"versions  partnerscope {partnerscope.__version__}, duckdb {duckdb.__version__}"
        + (f", {extra_versions}" if extra_versions else ""),
    ]
