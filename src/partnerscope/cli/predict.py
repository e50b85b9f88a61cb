"""Commands of the predictions: forecast, risk, deals score and predict backtest.

Each reads the predictions a run stored (the latest by default); ``predict backtest`` measures
them afresh on the run's data, with the same seed, and writes the summary as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import app, console, err_console, state
from partnerscope.cli.evaluation import RunOption, _names, _partner
from partnerscope.cli.output import FormatOption, OutputFormat, note, show
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.present import Words
    from partnerscope.runs import RunManifest
    from partnerscope.workspace import Workspace

deals_app = typer.Typer(help="Open deals: their win probability and expected value.")
app.add_typer(deals_app, name="deals")
predict_app = typer.Typer(help="Predictions: how good they are, measured on your own history.")
app.add_typer(predict_app, name="predict")

LEVEL_NAMES = {
    "partner": "Partner",
    "partner_type": "Partner type",
    "region": "Region",
    "program_tier": "Program tier",
    "revenue_band": "Revenue band",
    "portfolio": "All partners",
    "company": "Company (partners and direct)",
}


class NoPredictionsError(PartnerscopeError, LookupError):
    """The run holds no predictions."""


def _read(ws: Workspace, run: int | None, name: str) -> tuple[RunManifest, pa.Table]:
    from partnerscope.predict import store
    from partnerscope.runs import get_run, run_folder

    manifest = get_run(ws, run)
    table = store.read_table(run_folder(ws, manifest.run_id), name)
    if table is None:
        raise NoPredictionsError(
            f"run {manifest.run_id} holds no predictions: it was made before partnerscope "
            "predicted, or with [predict] enabled = false in partnerscope.toml; run "
            "`partnerscope run` with predictions enabled"
        )
    return manifest, table


def _skill_line(words: Words, document: dict[str, Any] | None, section: str) -> str:
    """One sentence on a model's measured skill from the run's predictions.json."""
    from partnerscope.predict.outlook import verdict

    return verdict(section, (document or {}).get("backtest", {}).get(section), words)[1]


@app.command("forecast")
def forecast_command(
    ctx: typer.Context,
    run: RunOption = None,
    partner: Annotated[str | None, typer.Option(help="This partner's forecast.")] = None,
    level: Annotated[
        str | None,
        typer.Option(
            help="partner, partner_type, region, program_tier, revenue_band, portfolio or "
            "company (default: portfolio and company; with --partner: that partner)."
        ),
    ] = None,
    grain: Annotated[str, typer.Option(help="quarter or month.")] = "quarter",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Won revenue forecast for the next periods, with 80% and 95% intervals, the method
    chosen by backtest and the trailing-mean baseline beside it."""
    import pyarrow.compute as pc

    from partnerscope.predict import store
    from partnerscope.predict.outlook import level_section, skill_sentence
    from partnerscope.runs import run_folder

    ws = state(ctx).workspace()
    words = ws.words
    manifest, table = _read(ws, run, store.FORECAST)
    if level is not None and level not in LEVEL_NAMES:
        raise typer.BadParameter(
            f"no level {level!r}; use one of {', '.join(LEVEL_NAMES)}", param_hint="--level"
        )
    if grain not in ("quarter", "month"):
        raise typer.BadParameter("use quarter or month", param_hint="--grain")
    rows = table.filter(pc.equal(table["grain"], grain)).to_pylist()
    if partner is not None:
        rows = [r for r in rows if r["level"] == "partner" and r["group_key"] == partner]
        if not rows:
            raise typer.BadParameter(
                f"run {manifest.run_id} forecasts no partner {partner!r}; "
                "`partnerscope partners` lists them",
                param_hint="--partner",
            )
    else:
        wanted = (level,) if level else ("portfolio", "company")
        rows = [r for r in rows if r["level"] in wanted]
    names = _names(ws)
    out = RichTable(
        "series",
        "period",
        "forecast",
        "80% interval",
        "95% interval",
        "method",
        "trailing mean",
        title=f"Won revenue forecast by {grain} — run {manifest.run_id}, data as of "
        f"{words.moment(manifest.as_of_time)}",
        title_justify="left",
    )
    notes: list[str] = []
    for r in rows:
        series = (
            _partner(names, r["group_key"])
            if r["level"] == "partner"
            else escape(_group(r["level"], r["group_key"]))
        )
        if r["forecast"] is None:
            if r["step"] == 1:
                notes.append(f"{_plain_name(names, r)}: {r['note']}")
            continue
        out.add_row(
            series,
            r["label"],
            words.money(r["forecast"]),
            _interval(words, r["lo_80"], r["hi_80"]),
            _interval(words, r["lo_95"], r["hi_95"]),
            escape(r["method"] or "") + ("" if r["skill"] else " [dim](no measured skill)[/]"),
            words.money(r["trailing_mean"]) if r["trailing_mean"] is not None else "—",
        )
    show(out, fmt)
    document = store.read_predictions(run_folder(ws, manifest.run_id)) or {}
    firsts = [r for r in rows if r["step"] == 1 and r["forecast"] is not None]
    if len(firsts) <= 10:
        # how far to trust each series shown, from its own level's backtest
        for r in firsts:
            sentence = skill_sentence(r, level_section(document, r["level"]), words)
            note(fmt, f"{escape(_plain_name(names, r))}: {escape(sentence)}")
    else:
        note(fmt, _skill_line(words, document, "forecast"))
    for line in notes[:10]:
        note(fmt, f"[dim]{escape(line)}[/]")
    if len(notes) > 10:
        note(fmt, f"[dim]… and {len(notes) - 10} more series without a forecast[/]")


def _group(level: str, key: str) -> str:
    if level in ("portfolio", "company"):
        return LEVEL_NAMES[level]
    return f"{LEVEL_NAMES[level]}: {key}"


def _plain_name(names: dict[str, str], row: dict[str, Any]) -> str:
    if row["level"] == "partner":
        return str(names.get(row["group_key"], row["group_key"]))
    return _group(row["level"], row["group_key"])


def _interval(words: Words, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "—"
    return f"{words.money(low, compact=True)} – {words.money(high, compact=True)}"


@app.command("risk")
def risk_command(
    ctx: typer.Context,
    run: RunOption = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    limit: Annotated[int, typer.Option(help="How many partners, riskiest first (0: all).")] = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each partner's chance of falling short in the next quarters, riskiest first, with the
    factors behind it."""
    from partnerscope.predict import store
    from partnerscope.predict.outlook import risk_question
    from partnerscope.runs import run_folder

    ws = state(ctx).workspace()
    words = ws.words
    manifest, table = _read(ws, run, store.RISK)
    rows = table.to_pylist()
    if partner is not None:
        rows = [r for r in rows if r["partner_id"] == partner]
        if not rows:
            raise typer.BadParameter(
                f"run {manifest.run_id} scored no partner {partner!r} (only partners that sold "
                "in the last four quarters are scored)",
                param_hint="--partner",
            )
    rows.sort(key=lambda r: (-r["probability"], r["partner_id"]))
    shown = rows if limit <= 0 else rows[:limit]
    names = _names(ws)
    settings = ws.config.predict
    out = RichTable(
        "partner",
        "chance",
        "change",
        "alert",
        "why",
        title=f"Chance of {risk_question(settings, words)} — run {manifest.run_id} "
        f"({len(shown)} of {len(rows)} partners)",
        title_justify="left",
    )
    for r in shown:
        change = "—"
        if r["previous"] is not None:
            change = words.points(100 * (r["probability"] - r["previous"]), digits=0)
        alert = {"high": "[red]High[/]", "rising": "[yellow]Rising[/]"}.get(r["alert"] or "", "")
        out.add_row(
            _partner(names, r["partner_id"]),
            words.share(r["probability"], digits=0),
            change,
            alert,
            escape("; ".join(f["text"] for f in r["factors"])),
        )
    show(out, fmt)
    document = store.read_predictions(run_folder(ws, manifest.run_id))
    note(fmt, _skill_line(words, document, "risk"))


@deals_app.command("score")
def deals_score(
    ctx: typer.Context,
    run: RunOption = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner's deals.")] = None,
    limit: Annotated[int, typer.Option(help="How many deals, by expected value (0: all).")] = 20,
    by_partner: Annotated[
        bool,
        typer.Option(
            "--by-partner",
            help="Each partner's open pipeline, its expected value and next quarter's forecast.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open deals with their win probability and expected value (probability × amount),
    largest expected value first."""
    from partnerscope.predict import store
    from partnerscope.predict.deals import expected_pipeline
    from partnerscope.runs import run_folder

    ws = state(ctx).workspace()
    words = ws.words
    manifest, table = _read(ws, run, store.DEALS)
    folder = run_folder(ws, manifest.run_id)
    names = _names(ws)
    if partner is not None:
        import pyarrow.compute as pc

        table = table.filter(pc.equal(table["partner_id"], partner))
    if by_partner:
        pipeline = expected_pipeline(table, store.read_table(folder, store.FORECAST)).to_pylist()
        pipeline.sort(key=lambda r: (-(r["expected_value"] or 0), r["partner_id"]))
        out = RichTable(
            "partner",
            "open deals",
            "open pipeline",
            "expected value",
            "next quarter forecast",
            title=f"Open pipeline and its expected value — run {manifest.run_id}",
            title_justify="left",
        )
        for r in pipeline if limit <= 0 else pipeline[:limit]:
            out.add_row(
                _partner(names, r["partner_id"]),
                words.number(r["open_deals"]),
                words.money(r["open_amount"]),
                words.money(r["expected_value"]),
                words.money(r["forecast_next"]) if r["forecast_next"] is not None else "—",
            )
        show(out, fmt)
        return
    rows = table.to_pylist()
    rows.sort(key=lambda r: (-(r["expected_value"] or 0), r["opportunity_id"]))
    shown = rows if limit <= 0 else rows[:limit]
    out = RichTable(
        "deal",
        "partner",
        "customer",
        "product",
        "amount",
        "open for",
        "win chance",
        "expected value",
        "why",
        title=f"Open deals by expected value — run {manifest.run_id} ({len(shown)} of {len(rows)})",
        title_justify="left",
    )
    for r in shown:
        out.add_row(
            escape(r["opportunity_id"]),
            _partner(names, r["partner_id"]) if r["partner_id"] else "direct",
            escape(r.get("account_name") or r["account_id"] or "—"),
            escape(r["product"] or "—"),
            words.money(r["amount"]) if r["amount"] is not None else "—",
            f"{r['age_days']:,} days",
            words.share(r["probability"], digits=0),
            words.money(r["expected_value"]) if r["expected_value"] is not None else "—",
            escape(r["factors"][0]["text"]) if r["factors"] else "",
        )
    show(out, fmt)
    note(fmt, _skill_line(words, store.read_predictions(folder), "deals"))


@predict_app.command("backtest")
def backtest_command(
    ctx: typer.Context,
    run: RunOption = None,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Also write the summary to this file: each section's n, its measures "
            "(MASE, interval coverage, AUC, Brier and the base rate's Brier) and a reason "
            "where the data supports none.",
        ),
    ] = None,
) -> None:
    """Measure the forecasts, risk and deal scores on your own history: a rolling-origin
    backtest where each cutoff sees only what was known then."""
    import pyarrow.parquet as pq

    from partnerscope.cli.progress import progress_bar
    from partnerscope.pipeline import data_end
    from partnerscope.predict.deals import snapshot
    from partnerscope.predict.run import make
    from partnerscope.runs import MEMBERSHIPS, RESULTS, get_run, run_folder

    ws = state(ctx).workspace()
    words = ws.words
    manifest = get_run(ws, run)
    folder = run_folder(ws, manifest.run_id)
    with ws.warehouse(read_only=True) as warehouse:
        opportunities = snapshot(warehouse.con)
    end = data_end(ws, now=manifest.as_of_time)
    with progress_bar(err_console) as bar:
        task = bar.add_task("backtesting", total=3)
        made = make(
            pq.read_table(folder / RESULTS),
            pq.read_table(folder / MEMBERSHIPS),
            opportunities,
            ws.config,
            words,
            as_of=manifest.as_of_time,
            last_day=end.last_day if end else None,
            progress=lambda text, done, total: bar.update(
                task, description=text, completed=done, total=total
            ),
        )
    print_backtest(words, made.document, manifest.run_id)
    if json_path is not None:
        from partnerscope.atomic import write_bytes

        text = json.dumps(made.summary(), indent=2) + "\n"
        write_bytes(json_path, text.encode("utf-8"))
        console.print(f"Wrote the backtest summary to {escape(str(json_path))}")


def print_backtest(words: Words, document: dict[str, Any], run_id: int) -> None:
    """The three backtests as tables, each with its sentence on skill."""
    from partnerscope.predict.outlook import verdict

    backtest = document.get("backtest", {})
    forecast = backtest.get("forecast") or {}
    out = RichTable(
        "method",
        "MASE",
        title=f"Forecast backtest — run {run_id}, {words.number(forecast.get('n') or 0)} cases",
        title_justify="left",
    )
    for label, key in (
        ("chosen by backtest", "mase"),
        ("seasonal naive", "mase_seasonal_naive"),
        ("trailing mean", "mase_trailing_mean"),
    ):
        out.add_row(label, _num(words, forecast.get(key)))
    console.print(out)
    if forecast.get("coverage_80") is not None:
        console.print(
            f"80% intervals held {words.share(forecast['coverage_80'], digits=0)} of the "
            f"actuals, 95% intervals {words.share(forecast.get('coverage_95'), digits=0)}."
        )
    console.print(verdict("forecast", forecast or None, words)[1])
    for section, title in (("risk", "Partner risk"), ("deals", "Deal win probability")):
        part = backtest.get(section) or {}
        out = RichTable(
            "measure",
            "value",
            title=f"{title} backtest — {words.number(part.get('n') or 0)} cases",
            title_justify="left",
        )
        out.add_row("ROC AUC", _num(words, part.get("auc")))
        out.add_row("Brier score", _num(words, part.get("brier"), 3))
        out.add_row("Brier score of the base rate", _num(words, part.get("brier_base_rate"), 3))
        console.print(out)
        bins = part.get("reliability") or []
        if bins:
            table = RichTable(
                "decile",
                "cases",
                "predicted",
                "observed",
                title="Reliability by decile",
                title_justify="left",
            )
            for b in bins:
                table.add_row(
                    str(b["decile"]),
                    words.number(b["cases"]),
                    words.share(b["predicted"], digits=0),
                    words.share(b["observed"], digits=0),
                )
            console.print(table)
        console.print(verdict(section, part or None, words)[1])


def _num(words: Words, value: float | None, digits: int = 2) -> str:
    return "—" if value is None else words.number(value, digits=digits)
