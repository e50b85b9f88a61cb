"""Commands of the metric engine: run, runs, metrics, show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import UsageError, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show
from partnerscope.cli.progress import progress_bar
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog, Metric
    from partnerscope.present import Words
    from partnerscope.workspace import Workspace

metrics_app = typer.Typer(
    help="The metric definitions: list them, or show one with its formula and SQL.",
    invoke_without_command=True,
    no_args_is_help=False,
)
show_app = typer.Typer(help="Look at computed values.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
app.add_typer(show_app, name="show")


def _parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not a date or time; write 2026-07-01 or 2026-07-01T09:30 "
            "(UTC unless it carries an offset such as +02:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("run")
def run_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The time the run looks from (ISO date or time, UTC by default; default: now), "
            "or data-end: the end of the last month that has data. Periods up to the one "
            "holding it are computed; leads are judged against the SLA at this time.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every month instead of only new data.")
    ] = False,
) -> None:
    """Compute every metric for every partner, group and period, and store it as a new run."""
    ws = state(ctx).workspace()
    if as_of is not None and as_of.strip().lower() == DATA_END:
        compute_run(ws, as_of=_data_end_as_of(ws), full=full)
        return
    moment = _parse_as_of(as_of)
    if moment is None:
        _note_stale_data(ws)
    compute_run(ws, as_of=moment, full=full)


#: ``--as-of data-end``: look from the end of the data instead of from now.
DATA_END = "data-end"


def _data_end_as_of(ws: Workspace) -> datetime:
    from partnerscope.pipeline import data_end

    end = data_end(ws)
    if end is None:
        raise UsageError(
            "--as-of data-end: the warehouse has no dated rows yet; load your data with "
            "`partnerscope ingest` first, or give a date such as --as-of 2026-07-01"
        )
    console.print(
        f"Data ends {ws.words.date(end.last_day)}: looking from the end of "
        f"{end.month:%Y-%m} ({ws.words.moment(end.as_of)})."
    )
    return end.as_of.replace(tzinfo=UTC)


def _note_stale_data(ws: Workspace) -> None:
    """Say up front when the data ends long before now: a run as of now is mostly empty."""
    from partnerscope.pipeline import data_end

    now = now_utc()
    end = data_end(ws, now)
    if end is None or not end.stale(now):
        return
    console.print(
        f"[yellow]note:[/] your data ends {ws.words.date(end.last_day)}, more than a quarter "
        f"before now: the periods after {end.month:%Y-%m} will be empty. To look from the end "
        f"of the data, run `partnerscope run --as-of {DATA_END}`."
    )


def compute_run(ws: Workspace, *, as_of: datetime | None, full: bool = False) -> None:
    """Run with a progress bar and print what was computed."""
    with progress_bar(console) as bar:
        task = bar.add_task("computing metrics", total=None)

        def advance(text: str, done: int, total: int) -> None:
            bar.update(task, description=text, completed=done, total=total)

        manifest = ws.run(as_of=as_of, full=full, progress=advance)
    console.print(
        f"Run [bold]{manifest.run_id}[/] ({manifest.mode}: {escape(manifest.reason)}) in "
        f"{manifest.seconds:.1f} s: {manifest.rows:,} rows of {len(manifest.metrics)} metrics, "
        f"periods {manifest.first_month} to {manifest.last_month}, data as of "
        f"{ws.words.moment(manifest.as_of_time)}."
    )
    if manifest.posted:
        console.print(f"  {escape(manifest.posted['summary'])}.")
    for note in manifest.notes:
        console.print(f"  [yellow]note:[/] {escape(note)}")
    summary = manifest.evaluation
    if summary and summary["period"] is None:
        console.print(
            "Nothing to evaluate yet: no complete period has data. Load deals, leads or other "
            "activity (`partnerscope schema` lists the tables) and run again."
        )
    elif summary:
        tiers = "; ".join(
            f"{ruleset}: " + ", ".join(f"{name} {n}" for name, n in counts.items())
            for ruleset, counts in summary["tiers"].items()
        )
        flags = ", ".join(f"{ws.words.flag(kind)} {n}" for kind, n in summary["flags"].items())
        flags = flags or "none"
        alerts = summary["alerts"]
        console.print(
            f"Evaluated {summary['period']}: {summary['scored']:,} of {summary['partners']:,} "
            f"partners scored ({summary['low_evidence']:,} on too little evidence); {tiers}.\n"
            f"  flags: {flags}; alerts: {alerts['new']:,} new, {alerts['ongoing']:,} ongoing"
        )
        console.print(
            "  look with `partnerscope scorecard [PARTNER]`, `partnerscope tiers`, "
            "`partnerscope alerts`, `partnerscope show partner ID`"
        )
    tell_run(ws)


def tell_run(ws: Workspace) -> None:
    """Write the notifications of what the runs not yet told found (new alerts, fired
    signals, reviews due, the rules' actions). The run is stored whatever happens here: a
    failure is a warning, and the next run tells it."""
    from partnerscope.notify import events

    try:
        written = events.after_run(ws)
    except Exception as exc:  # the run is stored: never fail it for its notifications
        console.print(
            f"[yellow]warning:[/] the run is stored, but its notifications could not be "
            f"written ({escape(type(exc).__name__)}: {escape(str(exc))}); the next run "
            "(or the scheduler's next tick) writes them"
        )
        return
    if written:
        console.print(f"  {written:,} notification{'' if written == 1 else 's'} to send.")


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    hashes: Annotated[
        bool,
        typer.Option(
            "--hashes", help="Also show each run's configuration hash and results digest."
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the stored runs, oldest first."""
    from partnerscope.runs import list_runs

    ws = state(ctx).workspace()
    runs = list_runs(ws)
    if not runs and fmt is OutputFormat.table:
        console.print("No run yet; compute the metrics with `partnerscope run`.")
        return
    words = ws.words
    table = RichTable(
        "run",
        "finished (UTC)",
        "data as of (UTC)",
        "mode",
        "seconds",
        "rows",
        "definitions",
        *(("config", "results digest") if hashes else ()),
        title="Runs",
        title_justify="left",
    )
    for run in runs:
        table.add_row(
            str(run.run_id),
            run.finished_at[:19].replace("T", " "),
            run.as_of.replace("T", " "),
            run.mode,
            words.number(run.seconds, digits=1),
            words.number(run.rows),
            run.definitions_version,
            *((run.config_hash[:8], run.digest[:12]) if hashes else ()),
        )
    show(table, fmt)


def _catalog(ctx: typer.Context) -> tuple[Catalog, Any]:
    from partnerscope.config import Config
    from partnerscope.metrics.definition import load_catalog

    obj = state(ctx)
    try:
        ws = obj.workspace()
    except PartnerscopeError:
        if obj.workspace_dir is not None:
            raise
        return load_catalog(), Config()  # outside a workspace: the built-in catalog
    return ws.catalog, ws.config


@metrics_app.callback()
def metrics_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List every metric: name, label, unit, which way is better, and how it is defined."""
    if ctx.invoked_subcommand is not None:
        return
    catalog, _config = _catalog(ctx)
    table = RichTable(
        "metric",
        "name to type",
        "unit",
        "better",
        "kind",
        "definition",
        title=f"Metrics ({catalog.version})",
    )
    for metric in catalog:
        better = {"higher": "↑", "lower": "↓", "none": ""}[metric.spec.direction.value]
        own = "" if metric.builtin else " [cyan](own)[/]"
        table.add_row(
            f"{escape(metric.label)}{own}",
            f"[dim]{metric.name}[/]",
            metric.spec.unit.value,
            better,
            metric.kind.value,
            escape(metric.formula_text()),
        )
    show(table, fmt)
    if fmt is OutputFormat.table:
        console.print("  one in full: `partnerscope metrics show NAME`")


@metrics_app.command("show")
def metrics_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The metric, e.g. win_rate.")],
    sql: Annotated[
        bool, typer.Option("--sql/--no-sql", help="Print the SQL it compiles to.")
    ] = True,
) -> None:
    """Print a metric's definition, formula, inputs and the SQL it compiles to."""
    from partnerscope.metrics.engine import metric_sql
    from partnerscope.metrics.entities import ENTITIES

    catalog, config = _catalog(ctx)
    metric = catalog.get(name)
    console.print(
        f"[bold]{metric.name}[/] — {escape(metric.label)}  (version {metric.spec.version}"
        f"{', built-in, locked' if metric.builtin else ', defined in this workspace'})"
    )
    console.print(escape(metric.spec.description or ""))
    rows = [
        ("formula", metric.formula_text()),
        ("unit", metric.spec.unit.value),
        ("better", metric.spec.direction.value),
        ("kind", metric.kind.value),
    ]
    if metric.entity:
        rows.append(("reads", f"{metric.entity}: {ENTITIES[metric.entity].description}"))
    if metric.depends_on:
        rows.append(("computed from", ", ".join(metric.depends_on)))
    inputs = [n for n in catalog.closure([metric.name]) if catalog[n].entity]
    rows.append(("inputs", ", ".join(f"{n} ({catalog[n].entity})" for n in inputs)))
    if metric.spec.min_evidence is not None:
        evidence = metric.evidence_metric or "its row count"
        rows.append(("minimum evidence", f"{evidence} ≥ {metric.spec.min_evidence:g}, else —"))
    rows.append(("levels", "groups only" if metric.group_only else "partners and groups"))
    table = RichTable(show_header=False, box=None)
    for key, value in rows:
        table.add_row(f"[dim]{key}[/]", escape(value))
    show(table)
    _print_dependents(catalog, metric)
    if sql:
        now = now_utc(whole_seconds=True)
        for statement in metric_sql(config, catalog, metric.name, as_of=now):
            # plain, so that it can be copied into a SQL console as it is
            console.print(statement + ";", markup=False, highlight=False, soft_wrap=True)


def _print_dependents(catalog: Catalog, metric: Metric) -> None:
    users = [m.name for m in catalog if metric.name in m.depends_on]
    if users:
        console.print(f"[dim]used by:[/] {', '.join(users)}")


@show_app.command("partner")
def show_partner(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id.")],
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            "-p",
            help="2025-10 (month), FY2026-Q1 or 2026-Q1 (fiscal quarter), FY2026 (fiscal year); "
            "default: the latest complete quarter.",
        ),
    ] = None,
    cohort: Annotated[
        str,
        typer.Option(
            help="Peer group for the median: partner_type, region, program_tier, revenue_band."
        ),
    ] = "partner_type",
    run: Annotated[int | None, typer.Option(help="Read this run (default: the latest).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A partner's metrics in a period, beside the previous period and its cohort's median."""
    from partnerscope.metrics.view import partner_view

    ws = state(ctx).workspace()
    view = partner_view(ws, partner_id, period, cohort=cohort, run_id=run)
    _print_partner_view(ws, view, fmt)


def _print_partner_view(ws: Workspace, view: Any, fmt: OutputFormat) -> None:
    words = ws.words
    peers = str(view.cohort).replace("_", " ")
    if fmt is OutputFormat.table:
        console.print(
            f"[bold]{escape(view.partner_name)}[/] ({escape(view.partner_id)}) — "
            f"{view.period.label}"
            f"{'' if view.complete else ' (so far)'}; {peers}: "
            f"{escape(words.cohort(view.cohort_key))} ({view.cohort_size} partners); "
            f"run {view.run_id}, data as of {escape(str(view.as_of).replace('T', ' '))} UTC"
        )
    table = RichTable(
        "metric",
        view.period.label,
        # the arrow's column needs no header on a terminal; a csv or json key does
        "" if fmt is OutputFormat.table else "change",
        view.previous.label,
        f"median by {peers}",
        title_justify="left",
    )
    for row in view.rows:
        arrow, style = _change_marker(words, row.metric.name, row.value, row.previous)
        key = row.metric.name
        table.add_row(
            escape(row.metric.label),
            words.of_metric(key, row.value),
            f"[{style}]{arrow}[/]" if style else arrow,
            words.of_metric(key, row.previous),
            words.of_metric(key, row.cohort_median),
        )
    show(table, fmt)


def _change_marker(
    words: Words, metric: str, value: float | None, previous: float | None
) -> tuple[str, str]:
    """(arrow, rich style) for the change from the previous period: green when it is better."""
    if value is None or previous is None or value != value or previous != previous:
        return "", ""
    if value == previous:
        return "=", "dim"
    arrow = "▲" if value > previous else "▼"
    better = words.better(metric, value, previous)
    return arrow, "dim" if better is None else "green" if better else "red"
