"""The predictions at bench scale: forecasts, partner risk and deal scores against the metric run.

Uses the metric benchmark's generated warehouse (bench/metrics.py: at scale 1, 20,000 partners,
10M opportunities and 20M leads over 12 quarters), runs ``Workspace.run`` on a copy with
``[predict] enabled = false`` (the metric run, the baseline), then times, each in a process of
its own (its inputs read before the clock starts; peak memory = the process's VmHWM):

- ``forecast(...)`` of every partner and group, quarter grain alone and both grains;
- ``risk(...)``: training, backtest and scoring of every partner;
- ``deals.score(...)`` on the warehouse's open deals, and on exactly ``--deals`` open partner
  deals (1M: the generated ones beyond it left out, or repeated with new ids up to it) with a
  signal planted in the closed deals' outcomes (the generator's are random: without measured
  skill the scores are the base rate, and the model's scoring path would go untimed).

Agreement (bench/parity.py; exit 1 on a mismatch, ``--corrupt`` shows it): the trailing-mean
and seasonal-naive baselines of every partner in forecast.parquet against a hand-written DuckDB
query of the same partner quarters; the quarter forecasts of the two forecast runs against each
other; the scored deals against the warehouse's open partner deals. Timing never fails.

    .venv/bin/python bench/predict.py --scale 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics as bench
import parity
from machine import machine_info
from timing import run_child

#: The issue's targets at scale 1, seconds (peak memory: MB).
TARGET_SECONDS = {"forecast_quarter": 60.0, "forecast_both": 60.0, "risk": 60.0, "deals_n": 10.0}
TARGET_MB = 4096.0
STEPS = ("run", "risk", "deals", "deals_n", "forecast_quarter", "forecast_both")
LABELS = {
    "run": "metric run",
    "forecast_quarter": "forecast, quarters",
    "forecast_both": "forecast, quarters + months",
    "risk": "partner risk",
    "deals": "deal scores, generated open deals",
    "deals_n": "deal scores, {n:,} open deals (signal planted)",
}


@dataclass
class Step:
    """What one step's process reports (its ``RESULT`` line), plus the parent's measurements."""

    name: str
    status: str = "ok"
    message: str = ""
    seconds: float | None = None
    #: the step's progress messages, each with the seconds since its clock started
    phases: list[tuple[float, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    peak_mb: float | None = None
    load_before: float | None = None
    #: user + system CPU seconds of the whole process (os.wait4), inputs and imports included
    cpu_seconds: float | None = None
    #: CPU seconds of the timed call alone (all its threads: time.process_time around it)
    step_cpu_seconds: float | None = None


# ---- the workspace and the step processes ----------------------------------------------------


def root_of(out: Path, paths: bench.Paths) -> Path:
    return out / "predict" / f"ws-{paths.tag}"


def output(out: Path, paths: bench.Paths, name: str) -> Path:
    return out / "predict" / f"{name}-{paths.tag}.parquet"


def fresh_workspace(out: Path, paths: bench.Paths, console: Console) -> Path:
    """A new workspace on a copy of the metric benchmark's (cached or generated) warehouse, with
    predictions off: its run is the metric run."""
    if bench.cached_stats(paths) is None:
        paths.out.mkdir(parents=True, exist_ok=True)
        bench.generate(paths, bench.Sizes.at(paths.scale), console)
    root = root_of(out, paths)
    shutil.rmtree(root, ignore_errors=True)
    (root / "state").mkdir(parents=True)
    (root / "partnerscope.toml").write_text(
        '[workspace]\nname = "bench"\n\n[predict]\nenabled = false\n', encoding="utf-8"
    )
    shutil.copyfile(paths.warehouse, root / "state" / "warehouse.duckdb")
    return root


def with_open_deals(table: Any, n: int) -> tuple[Any, int]:
    """The opportunities with exactly ``n`` open partner deals: those beyond the first ``n`` (by
    id) left out, or the generated ones repeated with new ids (``<id>-r1``, ``-r2`` …) up to
    ``n``; ordered by id (as the warehouse snapshot is). Also the number generated."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    is_open = pc.fill_null(
        pc.and_(pc.equal(table["status"], "open"), pc.is_valid(table["partner_id"])), False
    )
    mask = np.asarray(is_open.to_numpy(zero_copy_only=False), dtype=bool)
    where = np.flatnonzero(mask)
    have = len(where)
    if have >= n:
        keep = ~mask
        keep[where[:n]] = True
        return table.filter(pa.array(keep)), have
    opened = table.take(pa.array(where))
    parts, need, copy = [table], n - have, 0
    while need > 0 and have:
        copy += 1
        part = opened.slice(0, min(need, have))
        ids = pc.binary_join_element_wise(part["opportunity_id"], pa.scalar(f"r{copy}"), "-")
        parts.append(part.set_column(0, "opportunity_id", ids))
        need -= part.num_rows
    return pa.concat_tables(parts).sort_by("opportunity_id"), have


def plant_signal(table: Any, seed: int) -> Any:
    """The opportunities with every closed partner deal won or lost anew, by a chance that
    depends on its traits (sourced: +0.25; amount below the median: +0.15; on a base of 0.2), so
    that the deal model can show skill and its scoring path (predictions and their factors) is
    the one timed: the bench generator wins 40 % of the deals at random, and a model without
    measured skill only fills in the base rate. Seeded; the table keeps its order."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    status = np.asarray(table["status"].to_numpy(zero_copy_only=False), dtype=object)
    closed = ((status == "won") | (status == "lost")) & np.asarray(
        pc.is_valid(table["partner_id"]).to_numpy(zero_copy_only=False), dtype=bool
    )
    amount = np.asarray(
        pc.fill_null(pc.cast(table["amount"], pa.float64()), 0.0).to_numpy(), dtype=np.float64
    )
    sourced = np.asarray(
        pc.fill_null(pc.equal(table["attribution"], "sourced"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    chance = 0.2 + 0.25 * sourced + 0.15 * (amount < np.median(amount[closed]))
    draw = np.random.default_rng(seed).random(len(status))
    status = np.where(closed, np.where(draw < chance, "won", "lost"), status)
    index = table.column_names.index("status")
    return table.set_column(index, "status", pa.array(status, pa.string()))


def step_main(name: str, args: argparse.Namespace) -> int:
    """One step in this process: read its inputs, time it, write its table, print ``RESULT``."""
    out = Step(name)
    try:
        run_step(out, args)
    except Exception as exc:  # reported, not raised: the parent prints it and exits 1
        import traceback

        traceback.print_exc()
        out.status, out.message = "failed", f"{type(exc).__name__}: {exc}"
    out.peak_mb = bench.vm_hwm_mb()
    print("RESULT " + json.dumps(asdict(out)), flush=True)
    return 0


def run_step(out: Step, args: argparse.Namespace) -> None:
    import duckdb  # noqa: F401  (imported before any clock, as every library below)
    import pyarrow.parquet as pq

    from partnerscope.predict import deals, forecast, risk
    from partnerscope.runs import latest_run, read_memberships, read_results
    from partnerscope.workspace import Workspace

    # the models' libraries are imported before any clock (a run pays for them once; the
    # statsforecast import alone, with statsmodels, takes seconds): said apart in "imports_s"
    importing = time.perf_counter()
    import lightgbm  # noqa: F401
    import pandas  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.isotonic
    import sklearn.linear_model  # noqa: F401
    import statsforecast
    import statsforecast.models  # noqa: F401

    imports_s = round(time.perf_counter() - importing, 2)
    paths = bench.Paths(args.out / "metrics", args.scale, args.seed)
    root = root_of(args.out, paths)
    workspace = Workspace.open(root)
    if out.name == "run":
        started, cpu = time.perf_counter(), time.process_time()
        stored = workspace.run(as_of=bench.AS_OF.replace(tzinfo=UTC), full=True)
        out.seconds = time.perf_counter() - started
        out.step_cpu_seconds = time.process_time() - cpu
        out.info = {
            "run_id": stored.run_id,
            "manifest_seconds": stored.seconds,
            "evaluation_seconds": float(stored.evaluation["seconds"]),
            "rows": stored.rows,
        }
        return
    manifest = latest_run(workspace)
    assert manifest is not None, "the metric run comes first"
    config, settings, words = workspace.config, workspace.config.predict, workspace.words
    clock = [0.0]
    cpu_at = [0.0]

    def start() -> None:
        clock[0], cpu_at[0] = time.perf_counter(), time.process_time()

    def stop() -> None:
        out.seconds = time.perf_counter() - clock[0]
        out.step_cpu_seconds = time.process_time() - cpu_at[0]

    def said(text: str) -> None:
        out.phases.append((round(time.perf_counter() - clock[0], 3), text))

    profile = _profiler(args.profile == out.name)
    if out.name.startswith("forecast"):
        results = read_results(workspace, manifest.run_id)
        grains = ("quarter",) if out.name == "forecast_quarter" else ("quarter", "month")
        start()
        with profile:
            made = forecast.forecast(
                results,
                settings,
                fiscal_year_start_month=config.workspace.fiscal_year_start_month,
                grains=grains,
                progress=said,
            )
        stop()
        table = made.table
        out.info = {
            "series": len(
                set(zip(table["level"].to_pylist(), table["group_key"].to_pylist(), strict=True))
            ),
            "rows": table.num_rows,
            "mase": made.backtest.get("mase"),
            "reason": made.backtest.get("reason"),
        }
    elif out.name == "risk":
        results = read_results(workspace, manifest.run_id)
        members = read_memberships(workspace, manifest.run_id)
        start()
        with profile:
            risks = risk.risk(results, members, settings, words, progress=said)
        stop()
        table = risks.table
        out.info = {
            "partners": table.num_rows,
            "auc": risks.backtest.get("auc"),
            "brier": risks.backtest.get("brier"),
            "brier_base_rate": risks.backtest.get("brier_base_rate"),
            "reason": risks.backtest.get("reason"),
            "skill": risks.backtest.get("detail", {}).get("skill"),
        }
    else:
        with bench.connect(root / "state" / "warehouse.duckdb", read_only=True) as con:
            opportunities = deals.snapshot(con)
        generated = None
        if out.name == "deals_n":
            opportunities, generated = with_open_deals(opportunities, args.deals)
            opportunities = plant_signal(opportunities, args.seed)
        start()
        with profile:
            scores = deals.score(opportunities, bench.AS_OF, settings, words, progress=said)
        stop()
        table = scores.table
        out.info = {
            "opportunities": opportunities.num_rows,
            "scored": table.num_rows,
            "generated_open": generated,
            "auc": scores.backtest.get("auc"),
            "brier": scores.backtest.get("brier"),
            "brier_base_rate": scores.backtest.get("brier_base_rate"),
            "reason": scores.backtest.get("reason"),
            "skill": scores.backtest.get("skill"),
        }
        table = table.drop_columns(["factors"])
    out.info["imports_s"] = imports_s
    pq.write_table(table, output(args.out, paths, out.name))


class _profiler:
    """cProfile around a step when ``--profile`` names it (the top functions to stderr)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.profile: Any = None

    def __enter__(self) -> None:
        if self.on:
            import cProfile

            self.profile = cProfile.Profile()
            self.profile.enable()

    def __exit__(self, *_: object) -> None:
        if self.profile is not None:
            import pstats

            self.profile.disable()
            stats = pstats.Stats(self.profile, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)


def spawn(name: str, args: argparse.Namespace, console: Console, label: str) -> Step:
    load = os.getloadavg()[0]
    options = ["--scale", f"{args.scale:g}", "--seed", str(args.seed), "--out", str(args.out)]
    options += ["--deals", str(args.deals)]
    if args.profile:
        options += ["--profile", args.profile]
    with console.status(f"{label} …"):
        child = run_child(__file__, name, *options)
    for line in child.lines:
        console.print(f"  [dim]{line}[/dim]", highlight=False)
    if child.result is None:
        return Step(name, status="failed", message=f"exited with {child.exit_code}, no result")
    result = child.result
    result["phases"] = [tuple(p) for p in result.get("phases", [])]
    step = Step(**result)
    step.load_before, step.cpu_seconds = load, child.cpu_seconds
    console.print(
        f"  {label}: {step.status} {step.message}"
        + (f" {step.seconds:.2f} s" if step.seconds is not None else "")
        + f", process CPU {child.cpu_seconds:.1f} s"
        + (
            f" (the step {step.step_cpu_seconds:.1f} s)"
            if step.step_cpu_seconds is not None
            else ""
        )
        + f", peak {step.peak_mb or 0:,.0f} MB, "
        f"load before {load:.1f}",
        highlight=False,
    )
    return step


# ---- agreement -------------------------------------------------------------------------------


def baselines_sql(as_of: Any, fiscal_start: int, horizon: int) -> str:
    """Every partner's trailing mean (the last four complete quarters from its first quarter
    with won revenue, a quarter without revenue counting 0) and seasonal naive forecast (the
    quarter one year before each step; with less than a year of history, the last quarter's)
    from the opportunities, written out by hand."""
    shift = fiscal_start - 1
    return f"""
    WITH won AS (
        SELECT partner_id,
               (date_trunc('quarter', closed_at - to_months({shift})) + to_months({shift}))::DATE
                   AS q,
               sum(amount) AS revenue
        FROM opportunities
        WHERE status = 'won' AND partner_id IS NOT NULL
          AND closed_at < {bench.sql_literal(as_of)}
        GROUP BY ALL
    ), latest AS (  -- the start of the last complete quarter
        SELECT ((date_trunc('quarter', {bench.sql_literal(as_of)} - to_months({shift}))
                 + to_months({shift}))::DATE - INTERVAL 3 MONTH)::DATE AS last
    ), series AS (
        SELECT partner_id, min(q) AS first FROM won, latest WHERE q <= last GROUP BY ALL
    ), span AS (
        SELECT partner_id, first, last,
               datediff('quarter', first, last) + 1 AS quarters,
               greatest(first, (last - INTERVAL 9 MONTH)::DATE) AS window_start
        FROM series, latest
    ), trail AS (
        SELECT s.partner_id, s.last, s.quarters,
               CAST(coalesce(sum(w.revenue), 0) AS DOUBLE)
                   / (datediff('quarter', s.window_start, s.last) + 1) AS trailing_mean
        FROM span s LEFT JOIN won w
          ON w.partner_id = s.partner_id AND w.q BETWEEN s.window_start AND s.last
        GROUP BY s.partner_id, s.last, s.quarters, s.window_start
    )
    SELECT t.partner_id AS group_key, k.step::INTEGER AS step, t.trailing_mean,
           CAST(coalesce(w.revenue, 0) AS DOUBLE) AS seasonal_naive
    FROM trail t CROSS JOIN range(1, {horizon + 1}) k(step)
    LEFT JOIN won w
      ON w.partner_id = t.partner_id
     AND w.q = CASE WHEN t.quarters >= 4 THEN (t.last + to_months(3 * (k.step - 4)::INTEGER))::DATE
                    ELSE t.last END
    ORDER BY 1, 2
    """


def agreement(args: argparse.Namespace, paths: bench.Paths, root: Path) -> list[parity.Comparison]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from partnerscope.workspace import Workspace

    config = Workspace.open(root).config
    found: list[parity.Comparison] = []
    forecast_q = output(args.out, paths, "forecast_quarter")
    forecast_b = output(args.out, paths, "forecast_both")
    warehouse = root / "state" / "warehouse.duckdb"
    if forecast_q.exists():
        table = pq.read_table(forecast_q)
        mask = pc.and_(pc.equal(table["level"], "partner"), pc.equal(table["grain"], "quarter"))
        ours = table.filter(mask).select(["group_key", "step", "trailing_mean", "seasonal_naive"])
        with bench.connect(warehouse, read_only=True) as con:
            sql = baselines_sql(
                bench.AS_OF,
                config.workspace.fiscal_year_start_month,
                config.predict.horizon_quarters,
            )
            theirs = con.sql(sql).to_arrow_table()
        if args.corrupt:
            ours = parity.corrupt(ours, ("group_key", "step"))
        found.append(
            parity.compare(
                theirs,
                ours,
                ("group_key", "step"),
                names=("hand SQL", "forecast"),
                title="each partner's trailing mean and seasonal naive: hand-written DuckDB SQL "
                "against forecast.parquet",
            )
        )
        if forecast_b.exists():
            both = pq.read_table(forecast_b)
            both = both.filter(pc.equal(both["grain"], "quarter"))
            keys = ("level", "group_key", "period_start")
            found.append(
                parity.compare(
                    table,
                    both,
                    keys,
                    names=("quarters alone", "both grains"),
                    exact=table.column_names,
                    same_schema=True,
                    title="the quarter forecasts: forecast(grains=quarter) against "
                    "forecast(grains=quarter, month)",
                )
            )
    scored = output(args.out, paths, "deals")
    if scored.exists():
        ours = pq.read_table(scored).select(["opportunity_id", "partner_id", "amount"])
        with bench.connect(warehouse, read_only=True) as con:
            theirs = con.sql(
                "SELECT opportunity_id, partner_id, amount FROM opportunities "
                "WHERE status = 'open' AND partner_id IS NOT NULL"
            ).to_arrow_table()
        found.append(
            parity.compare(
                theirs,
                ours,
                ("opportunity_id",),
                names=("warehouse", "deals.parquet"),
                title="every open partner deal scored once, with its amount",
            )
        )
    return found


# ---- the report ------------------------------------------------------------------------------


def verdict(name: str, step: Step) -> str:
    target = TARGET_SECONDS.get(name)
    if target is None or step.seconds is None:
        return ""
    if step.seconds <= target:
        return f"≤ {target:g} s: met"
    return f"≤ {target:g} s: NOT met (×{step.seconds / target:.2f})"


def print_table(console: Console, steps: dict[str, Step], args: argparse.Namespace) -> None:
    run = steps.get("run")
    metric_s = None
    if run is not None and run.status == "ok":
        metric_s = run.info["manifest_seconds"] - run.info["evaluation_seconds"]
    table = Table(
        "step",
        "seconds",
        "× metrics",
        "target",
        "process CPU s",
        "step CPU s",
        "peak MB",
        "≤ 4 GB",
        "load",
        title="Predictions against the metric computation of the same benchmark run",
        title_justify="left",
    )
    for name, step in steps.items():
        label = LABELS[name].format(n=args.deals)
        if step.status != "ok" or step.seconds is None:
            table.add_row(label, step.status, "", "", "", "", "", "", "")
            continue
        seconds = step.seconds if name != "run" else metric_s
        if name == "run":
            label = "metric run (without its evaluation)"
        ratio = f"{seconds / metric_s:.2f}" if metric_s and seconds is not None else ""
        memory = ""
        if step.peak_mb is not None:
            memory = "met" if step.peak_mb <= TARGET_MB else "NOT met"
        table.add_row(
            label,
            f"{seconds:.2f}" if seconds is not None else "",
            ratio,
            verdict(name, step),
            f"{step.cpu_seconds:.1f}" if step.cpu_seconds is not None else "",
            f"{step.step_cpu_seconds:.1f}" if step.step_cpu_seconds is not None else "",
            f"{step.peak_mb:,.0f}" if step.peak_mb else "",
            memory,
            f"{step.load_before:.1f}" if step.load_before is not None else "",
        )
    console.print(table)
    if run is not None and run.status == "ok":
        console.print(
            f"the run: {run.info['manifest_seconds']:.1f} s in all, evaluation "
            f"{run.info['evaluation_seconds']:.1f} s, {run.info['rows']:,} result rows"
        )
    for name, step in steps.items():
        if name == "run" or step.status != "ok":
            continue
        info = ", ".join(
            f"{k} {v:.3f}"
            if isinstance(v, float)
            else f"{k} {v:,}"
            if isinstance(v, int)
            else f"{k} {v}"
            for k, v in step.info.items()
            if v is not None
        )
        console.print(f"[bold]{LABELS[name].format(n=args.deals)}[/bold]: {info}")
        previous = 0.0
        for at, text in step.phases:
            console.print(f"    {at - previous:7.2f} s until: {text}", highlight=False)
            previous = at
        if step.seconds is not None:
            console.print(f"    {step.seconds - previous:7.2f} s until the end", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="as bench/metrics.py (default 1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--deals", type=int, default=1_000_000, help="open deals of the last step (default 1M)"
    )
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"which steps, comma-separated (default all: {','.join(STEPS)})",
    )
    parser.add_argument("--profile", choices=STEPS[1:], help="cProfile this step (to stderr)")
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one baseline value of forecast.parquet and drop one row before the "
        "comparison with the hand-written query (exit 1)",
    )
    parser.add_argument("--only", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if args.only:
        return step_main(args.only, args)
    wanted = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(STEPS))
    if unknown:
        parser.error(f"unknown steps {', '.join(unknown)}; choose from {', '.join(STEPS)}")

    console = Console(width=max(Console().width, 110))
    console.print("[bold]partnerscope predictions benchmark[/bold]")
    for line in machine_info():
        console.print(f"  {line}")
    paths = bench.Paths(args.out / "metrics", args.scale, args.seed)
    sizes = bench.Sizes.at(args.scale)
    console.print(
        f"\ndata  scale {args.scale:g}: {sizes.partners:,} partners, "
        f"{sizes.opportunities:,} opportunities, {sizes.leads:,} leads, 12 quarters, "
        f"as of {bench.AS_OF:%Y-%m-%d}"
    )
    root = root_of(args.out, paths)
    if "run" in wanted or not (root / "state" / "runs").exists():
        root = fresh_workspace(args.out, paths, console)
        wanted = ["run", *[s for s in wanted if s != "run"]]
    steps: dict[str, Step] = {}
    for name in STEPS:
        if name in wanted:
            steps[name] = spawn(name, args, console, LABELS[name].format(n=args.deals))
            report = args.out / "predict" / f"report-{paths.tag}.json"
            report.write_text(
                json.dumps({n: asdict(s) for n, s in steps.items()}, indent=2), encoding="utf-8"
            )
    print_table(console, steps, args)
    comparisons = agreement(args, paths, root)
    for comparison in comparisons:
        parity.print_lines(comparison.lines(), console)
    failed = [n for n, s in steps.items() if s.status != "ok"]
    for name in failed:
        console.print(f"[red]{LABELS[name].format(n=args.deals)} failed: {steps[name].message}")
    if failed:
        return 1
    return parity.exit_code(comparisons)


if __name__ == "__main__":
    raise SystemExit(main())
