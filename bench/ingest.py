"""Ingest throughput: partnerscope against DuckDB's own file readers, measured in the same run.

    python bench/ingest.py [--scale 0.2] [--seed 42] [--out bench/out/ingest]

Generates the demo workspace at the given scale (``partnerscope.demo.generate_demo``), loads it
with ``Workspace.ingest`` one source at a time into a fresh warehouse, loads it again (every row
unchanged), and reads each CSV file with DuckDB's ``read_csv`` (Parquet: ``read_parquet``), once
as ``count(*)`` and once as ``CREATE TABLE AS`` into a DuckDB file. It prints times and ratios,
and checks that both read the same number of rows from every file with a baseline (exit 1 if
not; ``--corrupt`` shows that check fail). Nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

import parity
from machine import machine_info
from partnerscope.config import source_files
from partnerscope.demo import generate_demo
from partnerscope.ingest.readers import detect_format
from partnerscope.schema import load_order
from partnerscope.workspace import Workspace
from timing import best

ROOT = Path(__file__).resolve().parents[1]

#: Python codec names (as the import ledger records them) -> DuckDB read_csv encodings.
DUCKDB_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf8": "utf-8",
    "ascii": "utf-8",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
}


@dataclass
class Row:
    source: str
    file: str
    kind: str
    rows: int
    seconds: float
    reimport_seconds: float | None = None
    count_seconds: float | None = None
    ctas_seconds: float | None = None
    duckdb_rows: int | None = None
    baseline_note: str = ""


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def baseline(row: Row, path: Path, encoding: str | None, delimiter: str | None, db: Path) -> None:
    """Time DuckDB reading ``path`` on its own: count(*) and CREATE TABLE AS into a file."""
    if row.kind == "csv":
        options = ["header = true"]
        if delimiter:
            options.append(f"delim = {sql_text(delimiter)}")
        duck_encoding = DUCKDB_ENCODINGS.get((encoding or "utf-8").lower())
        if duck_encoding is None:
            row.baseline_note = f"DuckDB cannot read {encoding}"
            return
        if duck_encoding != "utf-8":
            options.append(f"encoding = {sql_text(duck_encoding)}")
        reader = f"read_csv({sql_text(str(path))}, {', '.join(options)})"
    elif row.kind == "parquet":
        reader = f"read_parquet({sql_text(str(path))})"
    else:
        row.baseline_note = "no DuckDB reader for XLSX without an extension"
        return
    try:
        con = duckdb.connect(str(db))
        try:
            count_sql = f"SELECT count(*) FROM {reader}"
            row.count_seconds = best(3, lambda: con.execute(count_sql).fetchall())[0]
            row.duckdb_rows = int(con.execute(count_sql).fetchall()[0][0])

            def create() -> None:
                con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM {reader}")
                con.execute("CHECKPOINT")

            row.ctas_seconds = best(3, create)[0]
        finally:
            con.close()
    except duckdb.Error as exc:
        row.baseline_note = f"DuckDB failed: {str(exc).splitlines()[0][:60]}"


def ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:.1f}×" if theirs else "—"


def seconds(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "—"


def print_table(rows: list[Row]) -> None:
    head = (
        "source",
        "format",
        "rows",
        "ingest s",
        "rows/s",
        "re-ingest s",
        "duckdb count s",
        "duckdb CTAS s",
        "ingest/CTAS",
    )
    body: list[tuple[str, ...]] = [
        (
            r.source,
            r.kind,
            f"{r.rows:,}",
            seconds(r.seconds),
            f"{r.rows / r.seconds:,.0f}" if r.seconds else "—",
            seconds(r.reimport_seconds),
            seconds(r.count_seconds),
            seconds(r.ctas_seconds),
            ratio(r.seconds, r.ctas_seconds),
        )
        for r in rows
    ]

    def total(selected: list[Row], label: str) -> tuple[str, ...]:
        n = sum(r.rows for r in selected)
        ours = sum(r.seconds for r in selected)
        again = sum(r.reimport_seconds or 0.0 for r in selected)
        count = sum(r.count_seconds or 0.0 for r in selected)
        ctas = sum(r.ctas_seconds or 0.0 for r in selected)
        return (
            label,
            "",
            f"{n:,}",
            seconds(ours),
            f"{n / ours:,.0f}" if ours else "—",
            seconds(again),
            seconds(count) if count else "—",
            seconds(ctas) if ctas else "—",
            ratio(ours, ctas or None),
        )

    with_baseline = [r for r in rows if r.ctas_seconds is not None]
    csv_rows = [r for r in with_baseline if r.kind == "csv"]
    body.append(total(csv_rows, "CSV files"))
    body.append(total(with_baseline, "with a baseline"))
    body.append(total(rows, "all sources"))
    widths = [max(len(str(line[i])) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    print(fmt(head))
    print(rule)
    for i, line in enumerate(body):
        if i == len(rows):
            print(rule)
        print(fmt(line))
    for r in rows:
        if r.baseline_note:
            print(f"  {r.source}: {r.baseline_note}")


def agreement(rows: list[Row], corrupt: bool) -> parity.Comparison:
    """Rows read per source: partnerscope's rows in (loaded + quarantined) against DuckDB's
    count of the same file, for every source with a baseline."""
    import pyarrow as pa

    compared = [r for r in rows if r.duckdb_rows is not None]
    ours = pa.table({"source": [r.source for r in compared], "rows": [r.rows for r in compared]})
    theirs = pa.table(
        {"source": [r.source for r in compared], "rows": [r.duckdb_rows for r in compared]}
    )
    if corrupt:
        theirs = parity.corrupt(theirs, ["source"])
    return parity.compare(ours, theirs, ["source"], names=("partnerscope", "DuckDB"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="partnerscope ingest throughput vs DuckDB")
    parser.add_argument(
        "--scale",
        type=float,
        default=0.2,
        help="demo scale; 1.0 ≈ 1,000 partners, 500k opportunities, 2M leads (default 0.2)",
    )
    parser.add_argument("--seed", type=int, default=42, help="demo seed (default 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "out" / "ingest",
        help="working folder, replaced on each run (default bench/out/ingest)",
    )
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one of DuckDB's row counts and drop one before the comparison (exit 1)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()

    print("partnerscope ingest benchmark")
    for line in machine_info():
        print(f"  {line}")

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    workspace_dir = out / "workspace"
    started = time.perf_counter()
    manifest = generate_demo(workspace_dir, scale=args.scale, seed=args.seed)
    generated = time.perf_counter() - started
    size = sum(f.stat().st_size for f in (workspace_dir / "data").iterdir() if f.is_file())
    print(
        f"  data      demo scale {args.scale}, seed {args.seed}: "
        f"{sum(manifest.rows.values()):,} rows, {size / 2**20:,.1f} MiB, "
        f"generated in {generated:.1f} s, in {workspace_dir}"
    )
    print()

    ws = Workspace(workspace_dir)
    config = ws.config
    rank = {entity: i for i, entity in enumerate(load_order())}
    names = sorted(config.sources, key=lambda n: (rank[config.sources[n].entity], n))

    # one source at a time, in dependency order, into a fresh warehouse
    rows: dict[str, Row] = {}
    for name in names:
        files = source_files(ws.root, config.sources[name])
        kinds = {detect_format(f, config.sources[name].format) for f in files}
        began = time.perf_counter()
        report = ws.ingest([name])
        elapsed = time.perf_counter() - began
        rows[name] = Row(
            source=name,
            file=", ".join(f.name for f in files),
            kind="/".join(sorted(kinds)),
            rows=report.rows_in,
            seconds=elapsed,
        )
    # the same files again: every row is unchanged
    for name in names:
        began = time.perf_counter()
        ws.ingest([name])
        rows[name].reimport_seconds = time.perf_counter() - began

    with ws.warehouse(read_only=True) as warehouse:
        detected = {
            (source, file): (encoding, delimiter)
            for source, file, encoding, delimiter in warehouse.con.execute(
                "SELECT source, file, encoding, delimiter FROM _imports"
            ).fetchall()
        }
    for name in names:
        row = rows[name]
        files = source_files(ws.root, config.sources[name])
        if len(files) != 1:
            row.baseline_note = "baseline measured for single-file sources only"
            continue
        path = files[0]
        encoding, delimiter = detected.get((name, str(path.relative_to(ws.root))), (None, None))
        baseline(row, path, encoding, delimiter, out / "baseline.duckdb")

    print_table(list(rows.values()))
    print()
    print(
        "ingest s: Workspace.ingest of the source into a fresh warehouse (read, validate, convert, "
        "quarantine, upsert, one transaction);\nre-ingest s: the same file again, every row "
        "unchanged; duckdb count s / CTAS s: DuckDB alone reading the file, best of 3 (CTAS "
        "writes a table to a DuckDB file);\ningest/CTAS: how many times longer partnerscope takes "
        "than DuckDB's plain load."
    )
    print()
    comparison = agreement(list(rows.values()), args.corrupt)
    parity.print_lines(comparison.lines("rows read per file (sources with a baseline)"))
    return parity.exit_code([comparison])


if __name__ == "__main__":
    sys.exit(main())
