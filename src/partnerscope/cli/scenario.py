"""The scenario command: a Monte Carlo projection of each option, its scores and sensitivities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import app, console, state
from partnerscope.cli.output import show
from partnerscope.cli.progress import progress_bar
from partnerscope.present import SCENARIO_OUTCOMES
from partnerscope.scenarios.inputs import kind as input_kind

if TYPE_CHECKING:
    from partnerscope.present import Words
    from partnerscope.scenarios.analysis import ScenarioResult

TORNADO_ROWS = 10
BAR_WIDTH = 16


def _value(words: Words, value: float, kind: str) -> str:
    """An input or outcome in its kind, money compact (``$52.3M``)."""
    return words.in_kind(value, kind, compact=True)


@app.command("scenario")
def scenario_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Scenario spec (TOML): options, criteria, input overrides (default: one option, "
            "today's approach).",
        ),
    ] = None,
    run: Annotated[
        int | None, typer.Option(help="Calibrate from this run (default: the latest).")
    ] = None,
    trials: Annotated[
        int | None, typer.Option(help="Trials (default: the spec's, 10,000).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the spec's, 0).")] = None,
    horizon: Annotated[
        int | None, typer.Option(help="Months projected (default: the spec's, 36).")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary to this JSON file.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(help="Also draw the monthly P10/P50/P90 bands to this .svg or .png file."),
    ] = None,
    from_forecast: Annotated[
        bool,
        typer.Option(
            "--from-forecast",
            help="Grow the revenue per deal by next year's growth in the run's portfolio "
            "forecast (the last 12 months when the forecast has no measured skill).",
        ),
    ] = False,
) -> None:
    """Project channel revenue, margin, coverage and control of each option month by month
    (Monte Carlo, calibrated from a run), recommend one and show what would change that."""
    from partnerscope.runs import get_run
    from partnerscope.scenarios.analysis import calibrate_run, simulate
    from partnerscope.scenarios.spec import ScenarioSpec, load_spec, parse_spec

    if json_file is not None and not json_file.parent.is_dir():
        raise typer.BadParameter(f"no folder {json_file.parent}", param_hint="--json")
    spec = load_spec(file) if file is not None else ScenarioSpec()
    given = {"trials": trials, "seed": seed, "horizon_months": horizon}
    updates = {key: value for key, value in given.items() if value is not None}
    if updates:
        spec = parse_spec({**spec.model_dump(mode="json"), **updates}, "command line")
    ws = state(ctx).workspace()
    manifest = get_run(ws, run)
    base = calibrate_run(ws, manifest.run_id, from_forecast=from_forecast)
    with progress_bar(console) as bar:
        task = bar.add_task("simulating", total=None)

        def advance(text: str, done: int, total: int) -> None:
            bar.update(task, description=text, completed=done, total=total)

        result = simulate(spec, base, progress=advance)
        bar.update(task, description="done")
    console.print(
        f"Scenario calibrated from run {manifest.run_id} (data as of "
        f"{ws.words.moment(manifest.as_of_time)}): "
        f"{spec.trials:,} trials over {spec.horizon_months} months, seed {spec.seed}"
    )
    print_result(result, ws.words)
    if json_file is not None:
        json_file.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
        console.print(f"Summary written to {escape(str(json_file))}")
    if chart is not None:
        from partnerscope.scenarios.chart import write_chart

        write_chart(result.summary(), chart)
        console.print(f"Chart written to {escape(str(chart))}", soft_wrap=True)


def print_result(result: ScenarioResult, words: Words) -> None:
    inputs = RichTable(
        "input", "value", "P10 – P90", "source", "note", title="Base inputs", title_justify="left"
    )
    summary = result.summary()
    for name, item in summary["base_inputs"].items():
        kind = input_kind(name)
        spread = (
            "fixed"
            if item["distribution"]["dist"] == "fixed"
            else f"{_value(words, item['p10'], kind)} – {_value(words, item['p90'], kind)}"
        )
        inputs.add_row(
            escape(words.metric(name)),
            _value(words, item["center"], kind),
            spread,
            item["source"],
            escape(item["note"]),
        )
    show(inputs)

    options = RichTable(
        "option",
        *(f"{outcome}\nP10 / P50 / P90" for outcome in SCENARIO_OUTCOMES),
        "score",
        title=f"Options over {result.spec.horizon_months} months (revenue and margin summed; "
        "coverage, control and partners at the end)",
        title_justify="left",
    )
    for option in summary["options"]:
        cells = []
        for outcome, kind in SCENARIO_OUTCOMES.items():
            stats = option["outcomes"][outcome]
            cells.append(" / ".join(_value(words, stats[q], kind) for q in ("p10", "p50", "p90")))
        mark = " [bold green]★[/]" if option["key"] == result.recommended else ""
        title = escape(option["key"] + (f" {option['label']}" if option["label"] else ""))
        options.add_row(title + mark, *cells, f"{option['score']:.3f}")
    show(options)
    chosen = result.option(result.recommended)
    console.print(
        f"[bold]Recommended: {escape(chosen.key)}[/]"
        + (f" — {escape(chosen.label)}" if chosen.label else "")
        + f" (score {chosen.score:.3f}; "
        + ", ".join(f"{escape(c.name)} {c.weight:.0%}" for c in result.spec.criteria)
        + ")"
    )
    _print_tornado(result, words)
    _print_break_even(result, words)
    for note in result.notes:
        console.print(f"  [dim]note: {escape(note)}[/]")


def _print_tornado(result: ScenarioResult, words: Words) -> None:
    if not result.tornado:
        return
    chosen = result.option(result.recommended).score
    table = RichTable(
        "input",
        "at P10",
        "at P90",
        "score at P10",
        "score at P90",
        "",
        title=f"Tornado: score of {result.recommended} with each input at its P10 and P90 "
        f"(top {min(TORNADO_ROWS, len(result.tornado))} of {len(result.tornado)})",
        title_justify="left",
    )
    bars = result.tornado[:TORNADO_ROWS]
    reach = max(max(abs(b.score_low - chosen), abs(b.score_high - chosen)) for b in bars) or 1.0
    for bar in bars:
        kind = input_kind(bar.name)
        low = min(bar.score_low, bar.score_high) - chosen
        high = max(bar.score_low, bar.score_high) - chosen
        left = round(BAR_WIDTH * max(0.0, -low) / reach)
        right = round(BAR_WIDTH * max(0.0, high) / reach)
        text = " " * (BAR_WIDTH - left) + "█" * left + "│" + "█" * right
        table.add_row(
            escape(words.metric(bar.name)),
            _value(words, bar.low_value, kind),
            _value(words, bar.high_value, kind),
            f"{bar.score_low:.3f}"
            + (f" ({escape(bar.best_low)})" if bar.best_low != result.recommended else ""),
            f"{bar.score_high:.3f}"
            + (f" ({escape(bar.best_high)})" if bar.best_high != result.recommended else ""),
            text,
        )
    show(table)


def _print_break_even(result: ScenarioResult, words: Words) -> None:
    if not result.break_even:
        return
    table = RichTable(
        "input",
        "base",
        "below: threshold → preferred",
        "above: threshold → preferred",
        title=f"Break-even: where {result.recommended} stops being the best "
        f"({result.search_trials:,} trials)",
        title_justify="left",
    )
    for item in result.break_even:
        kind = input_kind(item.name)
        cells = []
        for threshold in (item.below, item.above):
            if threshold is None:
                cells.append("[dim]no threshold in range[/]")
            else:
                cells.append(f"{_value(words, threshold.value, kind)} → {escape(threshold.option)}")
        table.add_row(escape(words.metric(item.name)), _value(words, item.center, kind), *cells)
    show(table)
