"""MDF returns per activity, partner or activity type over a window of fiscal periods, as
METRICS.md defines them:

- spend = Σ ``paid_amount`` of the activities with ``paid_at`` in the window;
- attributed revenue = Σ ``amount`` of the won opportunities linked to the activities
  (``mdf_activity_id``, same partner) with ``closed_at`` in the window;
- pipeline = Σ ``amount`` of the opportunities linked to them created in the window;
- ROI = (attributed revenue − spend) / spend; pipeline ratio = pipeline / spend; both null
  (undefined, never 0) when the spend is 0.

Each figure is compared with the framework's targets (``[mdf] roi_target``, 200 %, and
``pipeline_ratio_target``, 5 : 1). Every figure falls in the window by its own date, as the
metrics do: an activity paid in one year whose deals close in the next has spend in the first
and revenue in the second. Timestamps are placed in the reporting time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from partnerscope.amounts import ZERO, cents
from partnerscope.money.mdf.common import MdfError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from partnerscope.metrics.calendar import Period
    from partnerscope.workspace import Workspace


class Grouping(StrEnum):
    ACTIVITY = "activity"
    PARTNER = "partner"
    TYPE = "type"


@dataclass(frozen=True)
class Return:
    #: the activity id, partner id or activity type ("all" for the total)
    key: str
    partner_id: str | None
    activity_type: str | None
    name: str | None
    spend: Decimal
    attributed_revenue: Decimal
    pipeline: Decimal
    roi: Decimal | None
    pipeline_ratio: Decimal | None
    roi_met: bool | None
    pipeline_met: bool | None


@dataclass(frozen=True)
class Returns:
    window: str
    start: date
    end: date
    by: Grouping
    rows: list[Return]
    total: Return
    roi_target: Decimal
    pipeline_ratio_target: Decimal


@dataclass(frozen=True)
class _Activity:
    activity_id: str
    partner_id: str
    activity_type: str
    name: str | None
    spend: Decimal
    attributed_revenue: Decimal
    pipeline: Decimal


def _local(column: str, timezone: str) -> str:
    if timezone == "UTC":
        return column
    return f"timezone($timezone, CAST({column} AS TIMESTAMPTZ))"


def _activities(workspace: Workspace, start: date, end: date) -> list[_Activity]:
    """Every activity with spend, attributed revenue or pipeline in [start, end)."""
    timezone = workspace.config.workspace.timezone
    closed, created = _local("o.closed_at", timezone), _local("o.created_at", timezone)
    sql = f"""
        WITH linked AS (
            SELECT o.mdf_activity_id AS activity_id,
                sum(CASE WHEN o.status = 'won' AND {closed} >= $start AND {closed} < $end
                    THEN o.amount END) AS attributed,
                sum(CASE WHEN {created} >= $start AND {created} < $end
                    THEN o.amount END) AS pipeline
            FROM opportunities o
            JOIN mdf_activities a
                ON o.mdf_activity_id = a.activity_id AND o.partner_id = a.partner_id
            GROUP BY o.mdf_activity_id
        )
        SELECT a.activity_id, a.partner_id, a.activity_type, a.name,
            CASE WHEN a.paid_at >= $start AND a.paid_at < $end THEN a.paid_amount END,
            l.attributed, l.pipeline
        FROM mdf_activities a LEFT JOIN linked l USING (activity_id)
        ORDER BY a.activity_id
    """
    out = []
    with workspace.warehouse(read_only=True) as warehouse:
        params: dict[str, Any] = {"start": start, "end": end}
        if timezone != "UTC":
            params["timezone"] = timezone
        rows = warehouse.con.execute(sql, params).fetchall()
    for activity_id, partner_id, kind, name, spend, attributed, pipeline in rows:
        item = _Activity(
            activity_id,
            partner_id,
            kind or "other",
            name,
            cents(spend or 0),
            cents(attributed or 0),
            cents(pipeline or 0),
        )
        if item.spend or item.attributed_revenue or item.pipeline:
            out.append(item)
    return out


def _measure(
    key: str,
    items: Iterable[_Activity],
    *,
    roi_target: Decimal,
    pipeline_target: Decimal,
    partner_id: str | None = None,
    activity_type: str | None = None,
    name: str | None = None,
) -> Return:
    spend = attributed = pipeline = ZERO
    for item in items:
        spend += item.spend
        attributed += item.attributed_revenue
        pipeline += item.pipeline
    roi = (attributed - spend) / spend if spend else None
    ratio = pipeline / spend if spend else None
    return Return(
        key=key,
        partner_id=partner_id,
        activity_type=activity_type,
        name=name,
        spend=spend,
        attributed_revenue=attributed,
        pipeline=pipeline,
        roi=roi,
        pipeline_ratio=ratio,
        roi_met=None if roi is None else roi >= roi_target,
        pipeline_met=None if ratio is None else ratio >= pipeline_target,
    )


def window(
    workspace: Workspace, first: str | None = None, last: str | None = None
) -> tuple[str, date, date]:
    """(label, start, end) of the periods ``first`` to ``last`` (months, quarters or years);
    by default the fiscal year of the latest run's last month, else the current one."""
    from partnerscope.metrics.calendar import FiscalCalendar, Grain, PeriodError

    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    if first is None and last is None:
        year = calendar.period_of(evidence_month(workspace), Grain.YEAR)
        return year.label, year.start, year.end
    try:
        begin = calendar.parse(first or str(last))
        until = calendar.parse(last or str(first))
    except PeriodError as exc:
        raise MdfError(str(exc)) from None
    if until.end <= begin.start:
        raise MdfError(f"the window ends ({until.label}) before it starts ({begin.label})")
    label = begin.label if begin == until else f"{begin.label} – {until.label}"
    return label, begin.start, until.end


def evidence_month(workspace: Workspace) -> date:
    """The latest run's last month, else this month."""
    from partnerscope.clock import local_date, now_utc
    from partnerscope.runs import latest_run

    run = latest_run(workspace)
    if run is not None:
        return date.fromisoformat(run.last_month)
    return local_date(now_utc(), workspace.config.workspace.timezone).replace(day=1)


def measure_window(workspace: Workspace, period: Period) -> list[Return]:
    """Each partner's returns over one period (for the reallocation)."""
    return _grouped(workspace, Grouping.PARTNER, _activities(workspace, period.start, period.end))


def measure_types(workspace: Workspace, period: Period) -> list[Return]:
    return _grouped(workspace, Grouping.TYPE, _activities(workspace, period.start, period.end))


def _grouped(workspace: Workspace, by: Grouping, items: list[_Activity]) -> list[Return]:
    settings = workspace.config.mdf
    targets: dict[str, Any] = {
        "roi_target": settings.roi_target,
        "pipeline_target": settings.pipeline_ratio_target,
    }
    match by:
        case Grouping.ACTIVITY:
            return [
                _measure(
                    item.activity_id,
                    [item],
                    partner_id=item.partner_id,
                    activity_type=item.activity_type,
                    name=item.name,
                    **targets,
                )
                for item in items
            ]
        case Grouping.PARTNER:
            partners = _by_key(items, lambda item: item.partner_id)
            return [
                _measure(pid, group, partner_id=pid, **targets)
                for pid, group in sorted(partners.items())
            ]
        case Grouping.TYPE:
            kinds = _by_key(items, lambda item: item.activity_type)
            return [
                _measure(kind, group, activity_type=kind, **targets)
                for kind, group in sorted(kinds.items())
            ]


def _by_key(items: list[_Activity], key: Callable[[_Activity], str]) -> dict[str, list[_Activity]]:
    out: dict[str, list[_Activity]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


def returns(
    workspace: Workspace,
    by: Grouping | str = Grouping.PARTNER,
    first: str | None = None,
    last: str | None = None,
) -> Returns:
    """ROI and pipeline-to-spend per activity, partner or activity type over the periods
    ``first`` to ``last`` (default: the fiscal year of the latest run's last month)."""
    try:
        grouping = Grouping(str(by).strip().lower())
    except ValueError:
        raise MdfError(
            f"--by {by}: group by one of {', '.join(g.value for g in Grouping)}"
        ) from None
    label, start, end = window(workspace, first, last)
    items = _activities(workspace, start, end)
    settings = workspace.config.mdf
    return Returns(
        window=label,
        start=start,
        end=end,
        by=grouping,
        rows=_grouped(workspace, grouping, items),
        total=_measure(
            "all",
            items,
            roi_target=settings.roi_target,
            pipeline_target=settings.pipeline_ratio_target,
        ),
        roi_target=settings.roi_target,
        pipeline_ratio_target=settings.pipeline_ratio_target,
    )
