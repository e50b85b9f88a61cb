"""Evidence: metric values cited from a named run, with the catalog's minimum evidence; and
forecasts cited from a named run, with the backtest of their method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partnerscope.decisions.record import Evidence, ForecastCited
from partnerscope.decisions.signals import GRAINS, parse_scope
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.metrics.calendar import FiscalCalendar, PeriodError

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


class CitationError(PartnerscopeError, LookupError):
    """The metric, scope or period cited is not in the run."""


def cite(
    workspace: Workspace,
    metric: str,
    *,
    scope: str = "portfolio",
    grain: str | None = None,
    period: str | None = None,
    run_id: int | None = None,
    note: str = "",
    forecast: bool = False,
) -> Evidence:
    """The value of ``metric`` for a scope and period (the latest complete one by default);
    with ``forecast``, the run's forecast of it (:func:`cite_forecast`)."""
    import pyarrow.compute as pc

    from partnerscope.runs import get_run, read_results

    if forecast:
        return cite_forecast(
            workspace, metric, scope=scope, grain=grain, period=period, run_id=run_id, note=note
        )
    catalog = workspace.catalog
    if metric not in catalog:
        raise CitationError(
            f"no metric {metric!r}{did_you_mean(metric, [m.name for m in catalog])}; "
            "`partnerscope metrics list` shows them"
        )
    level, group = parse_scope(scope, where="--scope")
    grain = grain or workspace.config.scorecard.grain
    if grain not in GRAINS:
        raise CitationError(f"--grain {grain}: use one of {', '.join(GRAINS)}")
    run = get_run(workspace, run_id)
    definition = catalog[metric]
    evidence_metric = definition.evidence_metric
    columns = ["level", "group_key", "grain", "period_start", "label", "complete", metric]
    if evidence_metric:
        columns.append(evidence_metric)
    results = read_results(workspace, run.run_id).select(columns)
    at_level = results.filter(
        pc.and_(pc.equal(results["level"], level), pc.equal(results["grain"], grain))
    )
    rows = at_level.filter(pc.equal(at_level["group_key"], group))
    if rows.num_rows == 0:
        groups = sorted(set(at_level["group_key"].to_pylist()))
        raise CitationError(
            f"--scope {scope}: run {run.run_id} has no {level} {group!r}"
            f"{did_you_mean(group, groups)}"
        )
    if period is None:
        rows = rows.filter(rows["complete"])
        if rows.num_rows == 0:
            raise CitationError(f"run {run.run_id} has no complete {grain} for {scope}")
        rows = rows.sort_by("period_start").slice(rows.num_rows - 1)
    else:
        labels = rows["label"].to_pylist()
        calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
        try:
            wanted = calendar.parse(period)
        except PeriodError:
            wanted = None
        if wanted is not None and wanted.grain.value == grain:
            rows = rows.filter(pc.equal(rows["period_start"], wanted.start))
        else:
            rows = rows.slice(0, 0)
        if rows.num_rows == 0:
            raise CitationError(
                f"--period {period}: run {run.run_id} has {grain}s {labels[0]} to {labels[-1]}"
                f"{did_you_mean(period, labels)}"
            )
    row = rows.to_pylist()[0]
    return Evidence(
        metric=metric,
        level=level,
        group=group,
        grain=grain,
        period=row["label"],
        value=row[metric],
        run_id=run.run_id,
        definitions_version=run.definitions_version,
        evidence_metric=evidence_metric,
        evidence_value=row[evidence_metric] if evidence_metric else None,
        min_evidence=definition.spec.min_evidence,
        note=note,
    )


#: The metric a run forecasts.
FORECAST_METRIC = "won_revenue"
#: The grains a run forecasts.
FORECAST_GRAINS = ("quarter", "month")


def cite_forecast(
    workspace: Workspace,
    metric: str = FORECAST_METRIC,
    *,
    scope: str = "portfolio",
    grain: str | None = None,
    period: str | None = None,
    run_id: int | None = None,
    note: str = "",
) -> Evidence:
    """The run's forecast of won revenue for a scope and a coming period (the next one by
    default), with its 80 % interval, its method and the backtest of the method, so that the
    record keeps how good the forecast was when it was cited."""
    from partnerscope.predict.outlook import backtest_section
    from partnerscope.predict.store import FORECAST, read_table
    from partnerscope.runs import get_run, run_folder

    if metric != FORECAST_METRIC:
        raise CitationError(
            f"--forecast {metric}: only won revenue is forecast; cite {FORECAST_METRIC} with "
            "--forecast, or cite the measured value of this metric without it"
        )
    level, group = parse_scope(scope, where="--scope")
    grain = grain or workspace.config.scorecard.grain
    if grain not in FORECAST_GRAINS:
        raise CitationError(
            f"--grain {grain}: forecasts are made by {' and by '.join(FORECAST_GRAINS)}; "
            "use --grain quarter or --grain month"
        )
    run = get_run(workspace, run_id)
    folder = run_folder(workspace, run.run_id)
    table = read_table(folder, FORECAST)
    if table is None:
        raise CitationError(
            f"run {run.run_id} has no forecast: it was made before predictions or with "
            "[predict] enabled = false; make a new run with `partnerscope run` and cite that"
        )
    rows = [r for r in table.to_pylist() if r["level"] == level and r["grain"] == grain]
    mine = sorted((r for r in rows if r["group_key"] == group), key=lambda r: r["step"])
    if not mine:
        groups = sorted({r["group_key"] for r in rows})
        raise CitationError(
            f"--scope {scope}: run {run.run_id} has no {grain}ly forecast of {level} {group!r}"
            f"{did_you_mean(group, groups)}"
        )
    labels = [r["label"] for r in mine]
    available = f"{labels[0]} to {labels[-1]}" if len(labels) > 1 else labels[0]
    if period is None:
        row = mine[0]
    else:
        row = _forecast_period(workspace, mine, period, grain)
        if row is None:
            raise CitationError(
                f"--period {period}: run {run.run_id} forecasts {scope} for the {grain}s "
                f"{available}{did_you_mean(period, labels)}"
            )
    if row["forecast"] is None:
        why = row.get("note") or "too little history"
        raise CitationError(
            f"run {run.run_id} has no forecast of {scope} for {row['label']}: {why}"
        )
    backtest = backtest_section(folder, level)
    return Evidence(
        metric=metric,
        level=level,
        group=group,
        grain=grain,
        period=row["label"],
        value=row["forecast"],
        run_id=run.run_id,
        definitions_version=run.definitions_version,
        note=note,
        forecast=ForecastCited(
            step=row["step"],
            method=row["method"] or "trailing mean",
            lo_80=row["lo_80"],
            hi_80=row["hi_80"],
            skill=bool(row["skill"]),
            mase=row["mase"],
            mase_baseline=row["mase_baseline"],
            backtest_n=int(backtest.get("n") or 0),
            coverage_80=backtest.get("coverage_80"),
            note=row.get("note"),
        ),
    )


def _forecast_period(
    workspace: Workspace, rows: list[dict[str, Any]], period: str, grain: str
) -> dict[str, Any] | None:
    """The row of ``period`` (its label, or any way the fiscal calendar reads a period)."""
    by_label = {r["label"].lower(): r for r in rows}
    if period.strip().lower() in by_label:
        return by_label[period.strip().lower()]
    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    try:
        wanted = calendar.parse(period)
    except PeriodError:
        return None
    if wanted.grain.value != grain:
        return None
    return next((r for r in rows if r["period_start"] == wanted.start), None)
