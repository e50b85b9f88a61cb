"""The whole metric catalog on DuckDB, PostgreSQL and Spark, on the same data, in the same run.

    python bench/engines.py [--scale 0.1] [--engines duckdb,postgres,spark] [--pg-url URL]
                            [--spark-memory 8GB] [--seed 42] [--out bench/out]

Uses bench/metrics.py's generated warehouse (scale 0.1: 1M opportunities, 2M leads, 2,000
partners over twelve quarters; scale 1: 10M, 20M and 20,000; generated and cached under
``<out>/metrics`` when missing). Times what a run computes (every metric, level, grain and
period) with ``compute()`` on DuckDB; then the copy of the warehouse into PostgreSQL and the same
computation there; then Spark in local mode (one worker thread per core): the session's start,
the staging of the warehouse as Parquet, and the computation. Prints ratios to DuckDB's time.
Every engine's result must be DuckDB's (bench/parity.py: a full outer join on level, group key,
grain and period; the same Arrow schema; doubles within 1e-9 relative, the rest exactly): what
differs is printed and the exit status is 1 (``--corrupt`` shows it). Without ``--pg-url`` a
throwaway PostgreSQL cluster is started with scripts/pg-cluster and stopped again. Nothing
fails on a timing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import metrics as bench
import parity
from machine import machine_info

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-cluster"
SCHEMA = "bench_engines"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="as bench/metrics.py")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--engines", default="duckdb,postgres,spark", help="compared with duckdb")
    parser.add_argument("--pg-url", help="a PostgreSQL server of your own (SQLAlchemy URL)")
    parser.add_argument("--spark-memory", default="8GB", help="the local Spark driver's memory")
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one value of each engine's result and drop one of its rows before the "
        "comparison with DuckDB's, to see it fail (exit 1)",
    )
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
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
    if url is None and "postgres" in engines:
        folder = Path(tempfile.mkdtemp(prefix="partnerscope-pg.", dir="/tmp"))
        started = subprocess.run(
            ["bash", str(SCRIPT), "start", str(folder)], capture_output=True, text=True, check=True
        )
        url = started.stdout.strip()
    try:
        timings, comparisons = measure(
            paths.warehouse, engines, url, args.spark_memory, console, args.corrupt
        )
    finally:
        if folder is not None:
            subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], check=False)
            shutil.rmtree(folder, ignore_errors=True)
    duck = timings["duckdb: compute"]
    table = Table("step", "wall s", "× DuckDB compute", title_justify="left", title="Engines")
    for name, seconds in timings.items():
        table.add_row(name, f"{seconds:.1f}", f"{seconds / duck:.2f}")
    console.print(table)
    return parity.exit_code(comparisons)


def measure(
    warehouse: Path,
    engines: list[str],
    url: str | None,
    spark_memory: str,
    console: Console,
    corrupt: bool = False,
) -> tuple[dict[str, float], list[parity.Comparison]]:
    """Each step's seconds, and each engine's results compared with DuckDB's."""
    import duckdb
    import ibis

    from partnerscope.config import Config
    from partnerscope.metrics.definition import load_catalog
    from partnerscope.metrics.engine import compute

    config = Config()
    catalog = load_catalog()
    timings: dict[str, float] = {}
    results = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")

    def timed(step: str, what: Any) -> Any:
        with console.status(step):
            began = time.perf_counter()
            value = what()
            timings[step] = time.perf_counter() - began
        console.print(f"  {step}: {timings[step]:.1f} s")
        return value

    try:
        duck = timed(
            "duckdb: compute",
            lambda: compute(ibis.duckdb.from_connection(con), config, catalog, as_of=bench.AS_OF),
        )
        results["duckdb"] = duck.results
        if "postgres" in engines:
            assert url is not None
            from partnerscope.metrics import postgres

            timed(
                "postgres: copy the warehouse in", lambda: postgres.sync_warehouse(con, url, SCHEMA)
            )
            backend = postgres.backend(url, SCHEMA)
            try:
                pg = timed(
                    "postgres: compute",
                    lambda: compute(backend, config, catalog, as_of=bench.AS_OF),
                )
            finally:
                backend.disconnect()
            results["postgres"] = pg.results
        if "spark" in engines:
            from partnerscope.config import EngineSettings
            from partnerscope.metrics import spark

            settings = EngineSettings(kind="spark", memory_limit=spark_memory)
            session = timed("spark: start a local session", lambda: spark.session(settings))
            try:
                with tempfile.TemporaryDirectory(prefix="partnerscope-spark-") as folder:
                    timed(
                        "spark: stage the warehouse",
                        lambda: spark.stage_warehouse(con, session, Path(folder)),
                    )
                    backend = ibis.pyspark.connect(session)
                    sp = timed(
                        "spark: compute",
                        lambda: compute(backend, config, catalog, as_of=bench.AS_OF),
                    )
                results["spark"] = sp.results
            finally:
                session.stop()
    finally:
        con.close()
    for engine, then in (("postgres", "copy the warehouse in"), ("spark", "stage the warehouse")):
        if engine in results:
            timings[f"{engine}: {then} + compute"] = (
                timings[f"{engine}: {then}"] + timings[f"{engine}: compute"]
            )
    expected = results.pop("duckdb")
    assert expected is not None
    console.print(f"{expected.num_rows:,} result rows")
    comparisons = []
    for engine, got in results.items():
        assert got is not None
        if corrupt:
            got = parity.corrupt(got, KEYS)
        c = parity.compare(
            expected, got, KEYS, names=("DuckDB", engine), rel_tol=REL_TOL, same_schema=True
        )
        parity.print_lines(c.lines(), console)
        comparisons.append(c)
    return timings, comparisons


#: What identifies a result row (as tests/test_engine_parity.py keys them).
KEYS = ("level", "group_key", "grain", "period_start")
#: Doubles agree within this; decimals, dates, text and nulls exactly, in the same Arrow types.
REL_TOL = 1e-9


if __name__ == "__main__":
    raise SystemExit(main())
