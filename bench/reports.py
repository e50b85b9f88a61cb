"""What writing reports costs: partner scorecard pages step by step, sparklines drawn by hand
against Vega-Lite, and the whole run's Excel workbook against pandas' ``to_excel``.

Uses bench/evaluation.py's workspace (the metric benchmark's warehouse at ``--scale``: at scale
1, 20,000 partners over 12 quarters), its latest run reused when it has scorecards, else made
and evaluated as bench/evaluation.py does. Partner pages are timed on a random sample of
``--partners`` and projected to every partner; the workbook and its baseline each run in a
process of their own, for their peak memory.

    .venv/bin/python bench/reports.py --scale 0.01
    .venv/bin/python bench/reports.py --partners 200 --pdf-partners 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evaluation
import metrics as bench
import parity
from machine import machine_info
from timing import best, run_child

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians
    from partnerscope.workspace import Workspace

#: The workbook and its baseline, each measured in a child process (``--only NAME``).
CHILDREN = {
    "workbook": "partnerscope workbook, every sheet (write_workbook)",
    "metrics-sheet": "partnerscope, the Metrics sheet alone",
    "pandas-sheet": "pandas DataFrame.to_excel (xlsxwriter), the same Metrics sheet",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="as bench/metrics.py (default 1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--partners", type=int, default=200, help="scorecards timed (sample)")
    parser.add_argument("--pdf-partners", type=int, default=10, help="scorecards printed to PDF")
    parser.add_argument(
        "--sparklines", type=int, default=100, help="sparklines rendered through Vega-Lite"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the short steps")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one page digest of the report writer and drop one before the comparison, "
        "to see it fail (exit 1)",
    )
    parser.add_argument("--only", choices=list(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if args.only:
        return child_main(args.only, args)

    console = Console()
    console.print("[bold]partnerscope report benchmark[/bold]")
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("jinja2", "vl-convert-python", "weasyprint", "xlsxwriter", "pandas")
    )
    for line in machine_info(extra_versions=versions):
        console.print(f"  {line}")
    folder = args.out / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    workspace, how = evaluated_workspace(args, console)
    console.print(f"\nworkspace {workspace.root}: {how}")
    report: dict[str, Any] = {
        "scale": args.scale,
        "seed": args.seed,
        "machine": machine_info(extra_versions=versions),
        "workspace": str(workspace.root),
    }

    from partnerscope.evaluation.view import RunData

    read_s, data = best(args.repeat, lambda: load(RunData(workspace)))
    start, label = data.pick_period(None)
    medians_s, medians = best(args.repeat, lambda: cohort_medians(data, start))
    everyone = scored_partners(data, start)
    sample = random.Random(args.seed).sample(everyone, min(args.partners, len(everyone)))
    results = data.results().table
    console.print(
        f"run {data.run.run_id}: {len(everyone):,} partners scored in {label}, "
        f"{results.num_rows:,} partner × {data.grain} rows of {len(results.column_names)} columns"
    )
    report["run"] = {"run_id": data.run.run_id, "period": label, "partners": len(everyone)}
    report["read_s"], report["medians_s"] = read_s, medians_s

    pages = folder / f"pages-{tag(args)}"
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir()
    with console.status(f"scorecards, step by step, {len(sample)} partners"):
        steps = time_page_steps(data, medians, sample, pages)
    with console.status(f"scorecards through the report writer, {len(sample)} partners"):
        jobs = time_jobs(data, medians, sample, pages)
    with console.status(f"PDF, {args.pdf_partners} partners"):
        pdf = time_pdf(steps.pages[: args.pdf_partners])
    kept = asdict(steps) | {"pages": None, "metrics": None}
    report["pages"] = {
        "steps": kept,
        "jobs": {k: v for k, v in jobs.items() if k != "digests"},
        "pdf": pdf,
    }
    print_pages(console, len(everyone), len(sample), read_s, medians_s, steps, jobs, pdf)

    with console.status("sparklines: SVG paths against Vega-Lite"):
        sparks = time_sparklines(data, start, sample, steps.metrics, args.sparklines, args.repeat)
    report["sparklines"] = sparks
    print_sparklines(console, sparks)

    children = {name: spawn(name, args, console) for name in CHILDREN}
    report["workbook"] = {name: asdict(c) for name, c in children.items()}
    print_workbook(console, children)

    # the contenders made the same thing: the same pages, the same Metrics sheet
    comparisons = pages_agree(steps, sample, jobs, args.corrupt)
    sheets = {
        name: folder / f"{name}-{tag(args)}.xlsx" for name in ("metrics-sheet", "pandas-sheet")
    }
    if all(children[name].status == "ok" for name in sheets):
        with console.status("reading both Metrics sheets back"):
            comparisons.append(sheets_agree(sheets["metrics-sheet"], sheets["pandas-sheet"]))
    for path in sheets.values():
        path.unlink(missing_ok=True)
    console.print()
    for comparison in comparisons:
        parity.print_lines(comparison.lines(), console)
    report["comparisons"] = [c.as_json() for c in comparisons]
    failed = [CHILDREN[n] for n, c in children.items() if c.status != "ok"]

    path = folder / f"report-{tag(args)}.json"
    path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    console.print(f"\nwritten {path}")
    if failed:
        console.print(f"[red]failed:[/red] {', '.join(failed)}")
    return max(parity.exit_code(comparisons), 1 if failed else 0)


def tag(args: argparse.Namespace) -> str:
    return f"s{args.scale:g}-seed{args.seed}"


# ---- the workspace and its run ---------------------------------------------------------------


def evaluated_workspace(args: argparse.Namespace, console: Console) -> tuple[Workspace, str]:
    """bench/evaluation.py's workspace, its latest run reused when it has scorecards; else the
    workspace made again and ``partnerscope run --full`` on it, as bench/evaluation.py does."""
    from partnerscope.evaluation.pipeline import SCORECARDS
    from partnerscope.runs import latest_run, run_folder
    from partnerscope.workspace import Workspace

    root = evaluation.workspace_root(args.out, args.scale, args.seed)
    if (root / "partnerscope.toml").is_file():
        workspace = Workspace.open(root)
        run = latest_run(workspace)
        if run is not None and (run_folder(workspace, run.run_id) / SCORECARDS).is_file():
            return workspace, f"reused run {run.run_id} (as of {run.as_of})"
    root = evaluation.fresh_workspace(args.out, args.scale, args.seed, console)
    workspace = Workspace.open(root)
    with console.status("partnerscope run --full (metrics, then evaluation)"):
        manifest = evaluation.full_run(workspace)
    return workspace, f"made, run {manifest.run_id} in {manifest.seconds:.1f} s"


def load(data: RunData) -> RunData:
    """Every file a scorecard reads, read and indexed by partner (RunData reads lazily)."""
    for name in (
        "scorecards",
        "lines",
        "tiers",
        "flags",
        "alerts",
        "memberships",
        "open_plans",
        "periods",
    ):
        getattr(data, name)
    data.results()
    return data


def cohort_medians(data: RunData, start: Any) -> CohortMedians:
    """Every cohort's medians of the period, as the first scorecard of a batch computes them."""
    from partnerscope.reports.content import CohortMedians

    medians = CohortMedians(data)
    medians.of(start, None)
    return medians


def scored_partners(data: RunData, start: Any) -> list[str]:
    """The partners ``partnerscope report scorecard`` writes: those scored in the period."""
    import pyarrow.compute as pc

    cards = data.scorecards.table
    ids: list[str] = cards.filter(pc.equal(cards["period_start"], start))["partner_id"].to_pylist()
    return ids


# ---- partner pages ---------------------------------------------------------------------------


@dataclass
class Steps:
    """Seconds per partner of each step of a scorecard page, in sample order."""

    data: list[float] = field(default_factory=list)
    charts: list[float] = field(default_factory=list)
    template: list[float] = field(default_factory=list)
    write: list[float] = field(default_factory=list)
    #: the first page of the process, untimed per step: templates compiled, vl-convert started
    first_page_s: float = 0.0
    charts_per_page: float = 0.0
    sparklines_per_page: float = 0.0
    page_bytes: float = 0.0
    #: the steps' page is render.html's, byte for byte (checked on the first partner)
    same_as_render: bool = True
    pages: list[str] = field(default_factory=list)
    #: metric names of each sampled scorecard's metric rows (for the sparklines)
    metrics: list[list[str]] = field(default_factory=list)


def time_page_steps(
    data: RunData, medians: CohortMedians, sample: Sequence[str], folder: Path
) -> Steps:
    """Each partner's scorecard as ``write_reports`` makes it, one step at a time: the report's
    content, its charts rendered to SVG (data URIs), the Jinja template, the file written."""
    from partnerscope.atomic import write_bytes
    from partnerscope.reports import charts, render
    from partnerscope.reports.scorecard import scorecard

    template = render.environment().get_template("scorecard.html.j2")
    out = Steps()
    started = time.perf_counter()
    first = scorecard(data, sample[0], medians=medians)
    out.same_as_render = render.html(first) == template.render(
        report=first, images={n: charts.data_uri(s) for n, s in first.charts.items()}
    )
    out.first_page_s = time.perf_counter() - started
    sizes, charts_n, sparks_n = [], 0, 0
    for pid in sample:
        t0 = time.perf_counter()
        report = scorecard(data, pid, medians=medians)
        t1 = time.perf_counter()
        images = {name: charts.data_uri(spec) for name, spec in report.charts.items()}
        t2 = time.perf_counter()
        page = template.render(report=report, images=images)
        t3 = time.perf_counter()
        write_bytes(folder / f"scorecard-{pid}.html", page.encode())
        t4 = time.perf_counter()
        out.data.append(t1 - t0)
        out.charts.append(t2 - t1)
        out.template.append(t3 - t2)
        out.write.append(t4 - t3)
        out.pages.append(page)
        out.metrics.append([m["name"] for m in report.sections["metrics"]])
        sizes.append(len(page.encode()))
        charts_n += len(report.charts)
        sparks_n += sum(1 for m in report.sections["metrics"] if m["spark"])
    out.charts_per_page = charts_n / len(sample)
    out.sparklines_per_page = sparks_n / len(sample)
    out.page_bytes = statistics.mean(sizes)
    return out


def time_jobs(
    data: RunData, medians: CohortMedians, sample: Sequence[str], folder: Path
) -> dict[str, Any]:
    """The sample through the report writer's own per-partner code: in this process (what
    ``jobs=1`` runs), and in two spawned worker processes (``jobs=2``), each of which reads the
    run first. Progress times give the workers' start-up (until both have handed in a chunk)
    and their steady rate after it."""
    from partnerscope.reports import write
    from partnerscope.reports.write import Format, Kind

    started = time.perf_counter()
    written = [
        write._partner_page(data, Kind.SCORECARD, Format.HTML, pid, None, folder, medians)
        for pid in sample
    ]
    one = time.perf_counter() - started
    digests = {"jobs=1": page_digests(folder, written)}

    ticks: list[tuple[float, int]] = []

    def progress(done: int, total: int) -> None:
        ticks.append((time.perf_counter(), done))

    started = time.perf_counter()
    entries = write._in_processes(
        data, Kind.SCORECARD, Format.HTML, list(sample), None, folder, 2, progress
    )
    two = time.perf_counter() - started
    digests["jobs=2"] = page_digests(folder, entries)
    # both workers have handed in their first chunk: start-up over, the steady rate after it
    warm = ticks[1] if len(ticks) > 2 else ticks[0]
    first_at, first_done = warm[0] - started, warm[1]
    rate = (len(sample) - first_done) / (two - first_at) if two > first_at else 0.0
    return {
        "jobs1_s": one,
        "jobs2_s": two,
        "jobs2_first_chunk_s": first_at,
        "jobs2_first_chunk_partners": first_done,
        "jobs2_partners_per_s": rate,
        "per_task": write.PER_TASK,
        "digests": digests,
    }


def page_digests(folder: Path, entries: Sequence[Any]) -> dict[str, str]:
    """Partner → SHA-256 of the page the report writer wrote for it."""
    return {e.partner_id: digest((folder / e.file).read_bytes()) for e in entries}


def digest(page: bytes) -> str:
    return hashlib.sha256(page).hexdigest()


def pages_agree(
    steps: Steps, sample: Sequence[str], jobs: dict[str, Any], corrupt: bool
) -> list[parity.Comparison]:
    """The scorecard pages of the step-by-step timing against the report writer's, in one
    process and in two: the same bytes for every sampled partner (full outer join on the
    partner; a page written by one side only is a mismatch)."""
    import pyarrow as pa

    def pages(by_partner: dict[str, str]) -> Any:
        return pa.table({"partner_id": list(by_partner), "sha256": list(by_partner.values())})

    ours = pages(
        {pid: digest(page.encode()) for pid, page in zip(sample, steps.pages, strict=True)}
    )
    found: list[parity.Comparison] = []
    for name, by_partner in jobs["digests"].items():
        theirs = pages(by_partner)
        if corrupt and not found:
            theirs = parity.corrupt(theirs, ["partner_id"])
        found.append(
            parity.compare(
                ours,
                theirs,
                ["partner_id"],
                names=("steps", f"write, {name}"),
                title=f"scorecard pages, HTML bytes: the steps vs the report writer ({name})",
            )
        )
    return found


def time_pdf(pages: Sequence[str]) -> dict[str, Any]:
    """WeasyPrint on the first pages of the sample; the first call (import, fonts) apart."""
    from partnerscope.reports import render

    started = time.perf_counter()
    first = render.pdf(pages[0])
    first_s = time.perf_counter() - started
    seconds, sizes = [], []
    for page in pages:
        started = time.perf_counter()
        sizes.append(len(render.pdf(page)))
        seconds.append(time.perf_counter() - started)
    return {
        "first_call_s": first_s,
        "first_bytes": len(first),
        "seconds": seconds,
        "pdf_bytes": statistics.mean(sizes),
    }


def print_pages(
    console: Console,
    everyone: int,
    n: int,
    read_s: float,
    medians_s: float,
    steps: Steps,
    jobs: dict[str, Any],
    pdf: dict[str, Any],
) -> None:
    table = Table(
        "step",
        "ms per partner",
        "median ms",
        "share",
        f"{everyone:,} partners, s (projected)",
        title_justify="left",
        title=f"Scorecard pages: {n:,} partners sampled of {everyone:,} (HTML, one process)",
    )
    table.add_row("read the run (RunData, every file, once)", f"{1000 * read_s:,.0f} (once)", "")
    table.add_row("cohort medians of the period (once)", f"{1000 * medians_s:,.0f} (once)", "")
    table.add_row("first page of the process (untimed steps)", f"{1000 * steps.first_page_s:,.0f}")
    parts = {
        "data: scorecard.scorecard (sparklines included)": steps.data,
        f"charts: {steps.charts_per_page:g} Vega-Lite specs → SVG (vl-convert)": steps.charts,
        "template: Jinja, charts inlined": steps.template,
        "write the file": steps.write,
    }
    total = [sum(t) for t in zip(*parts.values(), strict=True)]
    whole = sum(total)
    for name, seconds in [*parts.items(), ("[bold]all steps[/bold]", total)]:
        mean = statistics.mean(seconds)
        table.add_row(
            name,
            f"{1000 * mean:.1f}",
            f"{1000 * statistics.median(seconds):.1f}",
            f"{sum(seconds) / whole:.2f}",
            f"{mean * everyone:,.0f}",
        )
    one, two = jobs["jobs1_s"], jobs["jobs2_s"]
    table.add_row(
        "write._partner_page, in this process (jobs=1)",
        f"{1000 * one / n:.1f}",
        "",
        "",
        f"{one / n * everyone:,.0f}",
    )
    rate = jobs["jobs2_partners_per_s"]
    projected = (
        jobs["jobs2_first_chunk_s"] + (everyone - jobs["jobs2_first_chunk_partners"]) / rate
        if rate
        else float("nan")
    )
    table.add_row(
        "write._in_processes, 2 spawned workers (jobs=2)",
        f"{1000 * two / n:.1f} ({1000 / rate:.1f} steady)" if rate else f"{1000 * two / n:.1f}",
        "",
        f"{one / two:.2f}× jobs=1",
        f"{projected:,.0f}",
    )
    seconds = pdf["seconds"]
    table.add_row(
        f"PDF: render.pdf (WeasyPrint), {len(seconds)} partners",
        f"{1000 * statistics.mean(seconds):.0f}",
        f"{1000 * statistics.median(seconds):.0f}",
        "",
        f"{statistics.mean(seconds) * everyone:,.0f} (one core)",
    )
    console.print(table)
    same = "equals" if steps.same_as_render else "[red]differs from[/red]"
    console.print(
        f"pages: {steps.page_bytes / 1024:.0f} KiB HTML, {pdf['pdf_bytes'] / 1024:.0f} KiB PDF, "
        f"{steps.sparklines_per_page:.1f} sparklines each; the steps' page {same} render.html's.\n"
        f"projected: ms per partner × {everyone:,} (measured on {n}), reading the run not "
        f"included. jobs=2: {two:.1f} s for the {n}, the first "
        f"{jobs['jobs2_first_chunk_partners']} done after {jobs['jobs2_first_chunk_s']:.1f} s "
        "(spawn, imports, each worker reading the run, its first chunk), "
        "then the steady rate in brackets; its projection is that start-up plus the rest at "
        "that rate. PDF: one process, after a first call (WeasyPrint's import and fonts)."
    )


# ---- sparklines ------------------------------------------------------------------------------


def trends(
    data: RunData, start: Any, sample: Sequence[str], metrics: Sequence[Sequence[str]]
) -> list[list[float | None]]:
    """The values each sampled scorecard draws a sparkline of (as scorecard.scorecard picks
    them: the partner's last ``trend_periods`` up to the period), two known values at least."""
    import math

    periods = data.workspace.config.reports.trend_periods
    out = []
    for pid, names in zip(sample, metrics, strict=True):
        history = [r for r in data.results().rows(pid) if r["period_start"] <= start][-periods:]
        for name in names:
            values = [None if r.get(name) is None else float(r[name]) for r in history]
            values = [None if v is None or math.isnan(v) else v for v in values]
            if sum(v is not None for v in values) >= 2:
                out.append(values)
    return out


def vega_sparkline(values: Sequence[float | None], width: int = 90, height: int = 22) -> Any:
    """The same sparkline as a Vega-Lite spec: a line (gaps at nulls) and a dot on the last
    known value, 90 × 22, no axes."""
    from partnerscope.reports.charts import ACCENT

    last = max(i for i, v in enumerate(values) if v is not None)
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": height,
        "padding": 2,
        "autosize": {"type": "none"},
        "config": {"view": {"stroke": None}},
        "data": {"values": [{"i": i, "v": v, "last": i == last} for i, v in enumerate(values)]},
        "encoding": {
            "x": {"field": "i", "type": "quantitative", "axis": None},
            "y": {"field": "v", "type": "quantitative", "axis": None, "scale": {"zero": False}},
        },
        "layer": [
            {"mark": {"type": "line", "color": ACCENT, "strokeWidth": 1.5}},
            {
                "mark": {"type": "point", "filled": True, "color": ACCENT, "size": 12},
                "transform": [{"filter": "datum.last"}],
            },
        ],
    }


def time_sparklines(
    data: RunData,
    start: Any,
    sample: Sequence[str],
    metrics: Sequence[Sequence[str]],
    vega_n: int,
    repeat: int,
) -> dict[str, Any]:
    from partnerscope.reports.charts import sparkline, svg

    values = trends(data, start, sample, metrics)
    subset = values[:vega_n]
    hand_s, hand = best(repeat, lambda: [sparkline(v) for v in values])
    hand_subset_s, _ = best(repeat, lambda: [sparkline(v) for v in subset])
    specs = [vega_sparkline(v) for v in subset]
    started = time.perf_counter()
    svg(specs[0])  # vl-convert's first call starts its engine
    first_s = time.perf_counter() - started
    vega_s, vega = best(1, lambda: [svg(s) for s in specs])
    return {
        "sparklines": len(values),
        "vega_sparklines": len(subset),
        "per_scorecard": len(values) / len(sample),
        "hand_us": 1e6 * hand_s / len(values),
        "hand_subset_us": 1e6 * hand_subset_s / len(subset),
        "hand_bytes": statistics.mean(len(s) for s in hand),
        "vega_us": 1e6 * vega_s / len(subset),
        "vega_bytes": statistics.mean(len(s) for s in vega),
        "vega_first_call_s": first_s,
    }


def print_sparklines(console: Console, s: dict[str, Any]) -> None:
    per = s["per_scorecard"]
    table = Table(
        "sparkline",
        "µs each",
        f"ms per scorecard ({per:.1f})",
        "SVG bytes",
        "× hand-drawn",
        title_justify="left",
        title="Sparklines: the same trend values, hand-drawn SVG path against Vega-Lite",
    )
    table.add_row(
        f"charts.sparkline, SVG path ({s['sparklines']:,} sparklines)",
        f"{s['hand_us']:.1f}",
        f"{per * s['hand_us'] / 1000:.2f}",
        f"{s['hand_bytes']:.0f}",
        "1",
    )
    table.add_row(
        f"Vega-Lite line + point, 90×22, no axes, vl-convert ({s['vega_sparklines']:,})",
        f"{s['vega_us']:,.0f}",
        f"{per * s['vega_us'] / 1000:.1f}",
        f"{s['vega_bytes']:,.0f}",
        f"{s['vega_us'] / s['hand_subset_us']:,.0f}×",
    )
    console.print(table)
    console.print(
        f"the ratio is against the hand-drawn time of the same {s['vega_sparklines']} sparklines "
        f"({s['hand_subset_us']:.1f} µs each); Vega's per scorecard = µs each × the "
        "sparklines a scorecard has."
    )


# ---- the workbook, in child processes --------------------------------------------------------


@dataclass
class Child:
    """What one ``--only`` process reports, plus what the parent measured around it."""

    name: str
    status: str = "ok"
    message: str = ""
    #: the write itself (the run read beforehand, not counted)
    seconds: float | None = None
    rows: dict[str, int] = field(default_factory=dict)
    file_bytes: int | None = None
    notes: dict[str, float] = field(default_factory=dict)
    #: resident set after reading the run, before writing (VmRSS)
    loaded_mb: float | None = None
    #: peak resident set while writing (VmHWM, reset after reading the run when Linux lets it;
    #: else the peak since the process started)
    peak_mb: float | None = None
    peak_reset: bool = False
    process_seconds: float | None = None
    cpu_seconds: float | None = None


def status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset VmHWM to the current resident set (Linux ≥ 4.0: ``5`` into clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child_main(name: str, args: argparse.Namespace) -> int:
    from partnerscope.evaluation.view import RunData
    from partnerscope.workspace import Workspace

    out = Child(name)
    try:
        root = evaluation.workspace_root(args.out, args.scale, args.seed)
        data = load(RunData(Workspace.open(root)))
        out.loaded_mb = status_mb("VmRSS")
        out.peak_reset = reset_peak()
        path = args.out / "reports" / f"{name}-{tag(args)}.xlsx"
        WORK[name](data, path, out)
        out.file_bytes = path.stat().st_size
    except Exception as exc:
        import traceback

        traceback.print_exc()
        out.status, out.message = "failed", f"{type(exc).__name__}: {exc}"
    out.peak_mb = status_mb("VmHWM")
    print("RESULT " + json.dumps(asdict(out)), flush=True)
    return 0


def whole_workbook(data: RunData, path: Path, out: Child) -> None:
    """``partnerscope report executive --format xlsx``'s work: the executive summary, then
    write_workbook for every partner; each sheet's rows timed (by wrapping _Book.table)."""
    from partnerscope.reports import workbook
    from partnerscope.reports.executive import executive

    started = time.perf_counter()
    summary = executive(data)
    out.notes["executive summary (executive.executive)"] = time.perf_counter() - started
    table = workbook._Book.table

    def timed(book: Any, name: str, columns: Any, rows: Any) -> int:
        started = time.perf_counter()
        count: int = table(book, name, columns, rows)
        out.notes[f"sheet {name}"] = time.perf_counter() - started
        return count

    workbook._Book.table = timed  # type: ignore[method-assign,assignment]
    try:
        started = time.perf_counter()
        out.rows = workbook.write_workbook(data, path, summary=summary)
        out.seconds = time.perf_counter() - started
    finally:
        workbook._Book.table = table  # type: ignore[method-assign]
    sheets = sum(v for k, v in out.notes.items() if k.startswith("sheet "))
    out.notes["the rest: reading the period's rows, Summary sheet, closing the file"] = (
        out.seconds - sheets
    )


def metric_columns(data: RunData) -> tuple[list[str], list[str], list[Any]]:
    """The Metrics sheet's source columns, its headers and its metrics, as write_workbook
    has them."""
    metrics = [m for m in data.workspace.catalog if not m.group_only]
    names = ["group_key", "label", "period_start", "complete", *(m.name for m in metrics)]
    headers = ["partner_id", "period", "period start", "complete", *(m.name for m in metrics)]
    return names, headers, metrics


def metrics_sheet(data: RunData, path: Path, out: Child) -> None:
    """A workbook of the Metrics sheet alone, through the same _Book and _metric_rows as
    write_workbook (its column list copied from there)."""
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports import workbook

    _, _, metrics = metric_columns(data)
    columns: list[tuple[str, Unit | None, int]] = [
        ("partner id", None, 10),
        ("partner", None, 20),
        ("period", None, 11),
        ("period start", None, 11),
        ("complete", None, 8),
        *((m.label, m.spec.unit, 12) for m in metrics),
    ]
    started = time.perf_counter()
    names = workbook._names(data.memberships.table)
    book = workbook._Book(path, data.workspace.catalog, data.workspace.words)
    rows = book.table(
        "Metrics", columns, workbook._metric_rows(data.results().table, metrics, names), frozen=2
    )
    written = time.perf_counter()
    book.book.close()
    out.seconds = time.perf_counter() - started
    out.rows = {"Metrics": rows}
    out.notes["rows written (constant_memory)"] = written - started
    out.notes["closing the file (zip)"] = out.seconds - (written - started)


def pandas_sheet(data: RunData, path: Path, out: Child) -> None:
    """The baseline: the same rows and columns as a DataFrame (from the same Arrow table),
    written by pandas with XlsxWriter, as one would without partnerscope."""
    names, headers, _ = metric_columns(data)
    bench.pandas_module()  # imported before the clock starts
    started = time.perf_counter()
    frame = data.results().table.select(names).rename_columns(headers).to_pandas()
    converted = time.perf_counter()
    frame.to_excel(path, sheet_name="Metrics", index=False, engine="xlsxwriter")
    out.seconds = time.perf_counter() - started
    out.rows = {"Metrics": len(frame)}
    out.notes["Arrow → DataFrame (to_pandas)"] = converted - started
    out.notes["DataFrame.to_excel"] = out.seconds - (converted - started)


def sheets_agree(ours: Path, theirs: Path) -> parity.Comparison:
    """The Metrics sheet as partnerscope wrote it against pandas' ``to_excel``, read back with
    python-calamine: the same header, and the same cells on a full outer join of (partner_id,
    period start); numbers within 1e-9 relative (a cell holds a double either way), the rest
    exactly, an empty cell as null."""
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    def read(path: Path) -> Any:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Metrics").to_python()
        header, body = [str(h) for h in rows[0]], rows[1:]
        columns = {}
        for i, name in enumerate(header):
            values = [_cell_value(row[i]) for row in body]
            kinds = {type(v) for v in values if v is not None}
            if kinds <= {int, float} and kinds:
                values = [None if v is None else float(v) for v in values]
            elif len(kinds) > 1:
                values = [None if v is None else str(v) for v in values]
            columns[name] = pa.array(values)
        return pa.table(columns)

    return parity.compare(
        read(ours),
        read(theirs),
        ["partner_id", "period start"],
        names=("partnerscope sheet", "pandas to_excel"),
        title="the Metrics sheet: partnerscope's against pandas' (cells read back)",
    )


def _cell_value(value: Any) -> Any:
    """A cell as calamine reads it, with an empty cell as None and a date as an ISO date."""
    if value == "":
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return value


WORK: dict[str, Callable[[RunData, Path, Child], None]] = {
    "workbook": whole_workbook,
    "metrics-sheet": metrics_sheet,
    "pandas-sheet": pandas_sheet,
}


def spawn(name: str, args: argparse.Namespace, console: Console) -> Child:
    """``--only name`` in a child process: its wall and CPU time (os.wait4) around its report."""
    with console.status(f"{CHILDREN[name]} …"):
        run = run_child(__file__, name, *bench.child_options(args))
    for line in run.lines:
        console.print(f"  [dim]{name}: {line}[/dim]", highlight=False, markup=False)
    if run.result is None:
        child = Child(
            name, status="failed", message=f"the child exited with {run.exit_code}, no result"
        )
    else:
        child = Child(**run.result)
    child.process_seconds = run.seconds
    child.cpu_seconds = run.cpu_seconds
    return child


def print_workbook(console: Console, children: dict[str, Child]) -> None:
    def mb(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    ours = children["metrics-sheet"].seconds
    table = Table(
        "contender",
        "write s",
        "process CPU s",
        "RSS after reading MB",
        "peak MB",
        "file MB",
        "rows",
        "÷ partnerscope sheet",
        title_justify="left",
        title="Excel workbook of every partner (each in a process of its own)",
    )
    for name, child in children.items():
        if child.status != "ok" or child.seconds is None:
            table.add_row(CHILDREN[name], f"[red]{child.status}: {child.message}[/red]")
            continue
        rows = sum(child.rows.values())
        table.add_row(
            CHILDREN[name],
            f"{child.seconds:.1f}",
            f"{child.cpu_seconds:.1f}" if child.cpu_seconds is not None else "—",
            mb(child.loaded_mb),
            mb(child.peak_mb),
            f"{(child.file_bytes or 0) / 2**20:.1f}",
            f"{rows:,}",
            f"{child.seconds / ours:.2f}" if name != "workbook" and ours else "",
        )
    console.print(table)
    whole = children["workbook"]
    if whole.status == "ok":
        sheets = Table(
            "sheet / step",
            "rows",
            "s",
            title_justify="left",
            title="Inside write_workbook (the executive summary made before it)",
        )
        for note, seconds in whole.notes.items():
            sheet = note.removeprefix("sheet ")
            count = f"{whole.rows[sheet]:,}" if note.startswith("sheet ") else ""
            sheets.add_row(note, count, f"{seconds:.2f}")
        if "Summary" in whole.rows:
            sheets.add_row("(Summary sheet, rows)", f"{whole.rows['Summary']:,}", "")
        console.print(sheets)
    for name in ("metrics-sheet", "pandas-sheet"):
        notes = "; ".join(f"{k} {v:.1f} s" for k, v in children[name].notes.items() if v)
        console.print(f"{name}: {notes}")
    resets = {c.peak_reset for c in children.values()}
    console.print(
        "peak MB: the child's VmHWM "
        + (
            "reset after reading the run, so the peak while writing (the run's tables included)"
            if resets == {True}
            else "since it started (it could not be reset)"
        )
        + "; CPU s: the whole child process, reading the run included."
    )


if __name__ == "__main__":
    raise SystemExit(main())
