"""Evidence: metric values cited from a named run, with the catalog's minimum evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.decisions.record import Evidence
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
) -> Evidence:
    """The value of ``metric`` for a scope and period (the latest complete one by default)."""
    import pyarrow.compute as pc

    from partnerscope.runs import get_run, read_results

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
