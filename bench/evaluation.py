"""How much the evaluation (scorecards, tiers, flags, alerts) adds to a run.

Uses the metric benchmark's generated warehouse (bench/metrics.py: at scale 1, 20,000 partners,
10M opportunities and 20M leads over 12 quarters), runs ``Workspace.run`` on a copy, and reports
the evaluation's time against the metric computation of the same run (target: under 25 %). Then
times each evaluation step alone on that run's stored values, fastest of ``--repeat``, and
checks that the files the steps alone write are the run's, row for row and value for value
(bench/parity.py; exit 1 if not, ``--corrupt`` shows it).

    .venv/bin/python bench/evaluation.py --scale 1 --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics as bench
import parity
from machine import machine_info
from timing import best

TARGET = 0.25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="as bench/metrics.py (default 1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each evaluation step")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one value of the steps' scorecards and drop one before the comparison "
        "with the run's (exit 1)",
    )
    args = parser.parse_args(argv)
    console = Console()
    console.print("[bold]partnerscope evaluation benchmark[/bold]")
    for line in machine_info():
        console.print(f"  {line}")

    root = fresh_workspace(args.out, args.scale, args.seed, console)

    from partnerscope.workspace import Workspace

    workspace = Workspace.open(root)
    sizes = bench.Sizes.at(args.scale)
    console.print(
        f"\ndata  scale {args.scale:g}: {sizes.partners:,} partners, "
        f"{sizes.opportunities:,} opportunities, {sizes.leads:,} leads, 12 quarters"
    )
    with console.status("partnerscope run (metrics, then evaluation)"):
        manifest = full_run(workspace)
    evaluation_s = float(manifest.evaluation["seconds"])
    metrics_s = manifest.seconds - evaluation_s
    summary = manifest.evaluation
    console.print(
        f"run {manifest.run_id}: {manifest.seconds:.1f} s in all; evaluated {summary['period']}: "
        f"{summary['partners']:,} partners, flags {summary['flags']}, alerts {summary['alerts']}"
    )

    steps, comparisons = time_steps(workspace, manifest.run_id, args.repeat, args.corrupt)
    table = Table(
        "step",
        "wall s",
        "share of the metrics",
        title_justify="left",
        title="Evaluation vs the metric computation of the same run",
    )
    table.add_row("metric computation (the run without evaluation)", f"{metrics_s:.2f}", "1.00")
    table.add_row(
        "evaluation inside the run", f"{evaluation_s:.2f}", f"{evaluation_s / metrics_s:.3f}"
    )
    for name, seconds in steps.items():
        table.add_row(f"  alone: {name}", f"{seconds:.3f}", f"{seconds / metrics_s:.4f}")
    console.print(table)
    verdict = "met" if evaluation_s / metrics_s < TARGET else "NOT met"
    console.print(
        f"evaluation adds {100 * evaluation_s / metrics_s:.1f} % to the run "
        f"(target under {100 * TARGET:.0f} %: {verdict})"
    )
    for comparison in comparisons:
        parity.print_lines(comparison.lines(), console)
    return parity.exit_code(comparisons)


def workspace_root(out: Path, scale: float, seed: int) -> Path:
    """Where this benchmark keeps its workspace: ``<out>/evaluation/ws-s<scale>-seed<seed>``
    (bench/reports.py reuses it and its latest run)."""
    return out / "evaluation" / f"ws-{bench.Paths(out / 'metrics', scale, seed).tag}"


def fresh_workspace(out: Path, scale: float, seed: int, console: Console) -> Path:
    """A new workspace (the old one removed) on a copy of the metric benchmark's warehouse,
    which is generated first when it is not cached under ``<out>/metrics``."""
    paths = bench.Paths(out / "metrics", scale, seed)
    if bench.cached_stats(paths) is None:
        paths.out.mkdir(parents=True, exist_ok=True)
        bench.generate(paths, bench.Sizes.at(scale), console)
    root = workspace_root(out, scale, seed)
    shutil.rmtree(root, ignore_errors=True)
    (root / "state").mkdir(parents=True)
    (root / "partnerscope.toml").write_text('[workspace]\nname = "bench"\n', encoding="utf-8")
    shutil.copyfile(paths.warehouse, root / "state" / "warehouse.duckdb")
    return root


def full_run(workspace: Any) -> Any:
    """``partnerscope run --full`` as of the metric benchmark's date: metrics, then evaluation."""
    return workspace.run(as_of=bench.AS_OF.replace(tzinfo=UTC), full=True)


def time_steps(
    workspace: Any, run_id: int, repeat: int, corrupt: bool = False
) -> tuple[dict[str, float], list[parity.Comparison]]:
    """Each step of the evaluation alone, on the stored values of run ``run_id``; and its
    files compared with the run's."""
    from partnerscope.evaluation import alerts, flags, pipeline, tiers
    from partnerscope.evaluation.panel import build_panel
    from partnerscope.evaluation.scorecard import score
    from partnerscope.present import Words
    from partnerscope.runs import read_memberships, read_results, run_folder
    from partnerscope.settings.evaluation import RULESETS

    config, catalog = workspace.config, workspace.catalog
    words = Words.of(workspace)
    out: dict[str, float] = {}
    out["read the run's values"], (results, members) = best(
        repeat, lambda: (read_results(workspace, run_id), read_memberships(workspace, run_id))
    )
    out["panels (quarters and months)"], (panel, monthly) = best(
        repeat,
        lambda: (build_panel(results, members, "quarter"), build_panel(results, members, "month")),
    )
    out["scorecards"], cards = best(repeat, lambda: score(panel, catalog, config.scorecard))
    fields = cards.fields()
    out["tiers (both rule sets)"], _ = best(
        repeat,
        lambda: [
            tiers.evaluate(panel, fields, getattr(config.tiers, r), r, words) for r in RULESETS
        ],
    )
    out["flags"], _ = best(
        repeat,
        lambda: flags.evaluate_flags(panel, fields, monthly, cards.cohort, config.flags, words),
    )
    directions = {n: catalog[n].spec.direction.value for n in catalog.metrics} | {"score": "higher"}
    out["alerts"], _ = best(
        repeat,
        lambda: alerts.evaluate_alerts(
            panel, fields, cards.cohort, directions, config.alerts, words
        ),
    )
    evaluation = pipeline.evaluate(config, catalog, results, members, run_id=run_id)
    with tempfile.TemporaryDirectory() as folder:
        out["write the files"], _ = best(repeat, lambda: pipeline.write(evaluation, Path(folder)))
        found = same_as_run(Path(folder), run_folder(workspace, run_id), corrupt)
    return out, found


def same_as_run(alone: Path, run: Path, corrupt: bool) -> list[parity.Comparison]:
    """The files the steps alone wrote against those the run wrote: every row on a full outer
    join of its key, every value exactly, the same schema (the same code on the same stored
    values, so nothing may differ)."""
    import pyarrow.parquet as pq

    from partnerscope.evaluation import pipeline

    found: list[parity.Comparison] = []
    for name, keys in (
        (pipeline.SCORECARDS, ("partner_id", "period_start")),
        (pipeline.SCORE_LINES, ("partner_id", "period_start", "metric")),
        (pipeline.TIERS, ("partner_id", "period_start", "ruleset")),
        (pipeline.FLAGS, ("partner_id", "period_start", "flag", "criterion")),
        (pipeline.ALERTS, ("alert_id",)),
    ):
        ours, theirs = pq.read_table(run / name), pq.read_table(alone / name)
        if corrupt and not found:
            theirs = parity.corrupt(theirs, keys)
        found.append(
            parity.compare(
                ours,
                theirs,
                keys,
                names=("run", "steps alone"),
                exact=ours.column_names,
                same_schema=True,
                title=f"{name}: the run's against the steps' alone",
            )
        )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
