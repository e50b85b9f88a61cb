"""The whole metric catalog on DuckDB and on PostgreSQL, on the same data, in the same run.

    python bench/engines.py [--scale 0.1] [--seed 42] [--out bench/out] [--pg-url URL]

Uses bench/metrics.py's generated warehouse (scale 0.1: 1M opportunities, 2M leads, 2,000
partners over twelve quarters; generated and cached under ``<out>/metrics`` when missing). Times
what a run computes (every metric, level, grain and period) with ``compute()`` on DuckDB, then
the copy of the warehouse into PostgreSQL and the same computation there, and prints ratios to
DuckDB's time. The results must agree (checked, not timed). Without ``--pg-url`` a throwaway
cluster is started with scripts/pg-cluster and stopped again. Nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import metrics as bench
from machine import machine_info

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-cluster"
SCHEMA = "bench_engines"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="as bench/metrics.py")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--pg-url", help="a PostgreSQL server of your own (SQLAlchemy URL)")
    args = parser.parse_args(argv)
    console = Console()
    console.print("[bold]partnerscope engines benchmark[/bold]")
    for line in machine_info():
        console.print(f"  {line}")
    paths = bench.Paths(args.out / "metrics", args.scale, args.seed)
    sizes = bench.Sizes.at(args.scale)
    if bench.cached_stats(paths) is None:
        paths.out.mkdir(parents=True, exist_ok=True)
        bench.generate(paths, sizes, console)
    console.print(
        f"\ndata  scale {args.scale:g}: {sizes.partners:,} partners, "
        f"{sizes.opportunities:,} opportunities, {sizes.leads:,} leads, 12 quarters"
    )
    folder = None
    url = args.pg_url
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="partnerscope-pg.", dir="/tmp"))
        started = subprocess.run(
            ["bash", str(SCRIPT), "start", str(folder)], capture_output=True, text=True, check=True
        )
        url = started.stdout.strip()
    try:
        timings = measure(paths.warehouse, url, console)
    finally:
        if folder is not None:
            subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], check=False)
            shutil.rmtree(folder, ignore_errors=True)
    duck = timings["duckdb: compute"]
    table = Table("step", "wall s", "× DuckDB compute", title_justify="left", title="Engines")
    for name, seconds in timings.items():
        table.add_row(name, f"{seconds:.1f}", f"{seconds / duck:.2f}")
    console.print(table)
    return 0


def measure(warehouse: Path, url: str, console: Console) -> dict[str, float]:
    import duckdb
    import ibis

    from partnerscope.config import Config
    from partnerscope.metrics import postgres
    from partnerscope.metrics.definition import load_catalog
    from partnerscope.metrics.engine import compute

    config = Config()
    catalog = load_catalog()
    timings: dict[str, float] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    try:
        with console.status("DuckDB: the catalog"):
            began = time.perf_counter()
            duck = compute(ibis.duckdb.from_connection(con), config, catalog, as_of=bench.AS_OF)
            timings["duckdb: compute"] = time.perf_counter() - began
        with console.status("PostgreSQL: copying the warehouse"):
            began = time.perf_counter()
            postgres.sync_warehouse(con, url, SCHEMA)
            timings["postgres: copy the warehouse in"] = time.perf_counter() - began
    finally:
        con.close()
    backend = postgres.backend(url, SCHEMA)
    try:
        with console.status("PostgreSQL: the catalog"):
            began = time.perf_counter()
            pg = compute(backend, config, catalog, as_of=bench.AS_OF)
            timings["postgres: compute"] = time.perf_counter() - began
    finally:
        backend.disconnect()
    timings["postgres: copy + compute"] = (
        timings["postgres: copy the warehouse in"] + timings["postgres: compute"]
    )
    assert duck.results is not None and pg.results is not None
    differ = compare(duck.results.to_pylist(), pg.results.to_pylist())
    console.print(
        f"{duck.results.num_rows:,} result rows; "
        + ("DuckDB and PostgreSQL agree" if not differ else f"[red]{differ} values differ[/red]")
    )
    return timings


def compare(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> int:
    keys = ("level", "group_key", "grain", "period_start")
    theirs = {tuple(r[k] for k in keys): r for r in right}
    differ = abs(len(left) - len(right))
    for row in left:
        other = theirs.get(tuple(row[k] for k in keys))
        if other is None:
            continue
        for column, a in row.items():
            b = other[column]
            if isinstance(a, float) and isinstance(b, float):
                same = math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
            else:
                same = a == b
            differ += not same
    return differ


if __name__ == "__main__":
    raise SystemExit(main())
