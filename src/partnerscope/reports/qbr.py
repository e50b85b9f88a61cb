"""A partner's quarterly business review: plan against actual by month, the quarter's metrics
section by section against the previous quarter, a year ago and their goals, the partner's
scorecard and tiers, and the actions the review should agree on."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError
from partnerscope.reports.content import (
    Report,
    ReportError,
    Writer,
    as_number,
    definitions,
    stamp,
    trend_chart,
)
from partnerscope.reports.scorecard import card_sections, partner_line

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData


#: The QBR's sections: (title, metrics of its table, metric charted over the quarters).
QBR_SECTIONS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    (
        "Pipeline and velocity",
        ("open_pipeline", "open_deals", "new_pipeline", "pipeline_velocity"),
        "open_pipeline",
    ),
    ("Win rate and cycle", ("win_rate", "sales_cycle_days", "avg_deal_size", "won_deals"), None),
    (
        "Lead SLA",
        ("lead_sla_rate", "median_response_hours", "leads_assigned", "lead_conversion_rate"),
        "lead_sla_rate",
    ),
    (
        "MDF spend and return",
        ("mdf_spend", "mdf_attributed_revenue", "mdf_roi", "mdf_pipeline_ratio"),
        "mdf_roi",
    ),
    ("Enablement", ("enablement_completion", "certified_people"), "enablement_completion"),
    ("Compliance", ("compliance_score",), "compliance_score"),
    ("Customer satisfaction", ("csat", "nps", "nps_responses"), "csat"),
)

#: The service-quality and retention sections (issue 30): (title, metrics of its table, the
#: counts that say the partner has such data). Shown side by side, each metric with its trend
#: as a sparkline, and only for a partner with support cases opened or contracts (recurring
#: value) due in a quarter of the review's trend: a reseller that runs no support desk or sells
#: no subscriptions gets no table of empty figures.
QBR_MEASURES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Service quality",
        (
            "critical_response_rate",
            "standard_resolution_rate",
            "first_contact_resolution_rate",
            "escalation_rate",
            "case_csat",
        ),
        ("support_cases",),
    ),
    (
        "Retention and expansion",
        (
            "gross_revenue_retention",
            "net_revenue_retention",
            "renewal_rate",
            "customer_churn_rate",
            "expansion_revenue",
        ),
        ("contracts_due", "recurring_value_due"),
    ),
)


def qbr(data: RunData, partner_id: str, period: str | None = None) -> Report:
    """A partner's quarterly business review: plan against actual by month, pipeline and
    velocity, win rate and cycle trends, lead SLA, MDF, enablement, compliance, satisfaction,
    service quality and retention (where the partner has their data), and the actions that
    follow."""
    from partnerscope.reports import charts as ch

    data.check_partner(partner_id)
    quarters = data.results("quarter")
    mine = [r for r in quarters.rows(partner_id) if r["complete"]]
    if not mine:
        raise ReportError(
            f"partner {partner_id!r} has no complete quarter in run {data.run.run_id}"
        )
    row = _pick(data, mine, period)
    start = row["period_start"]
    w = Writer(data)
    goals = data.workspace.config.reports.goals
    history = [r for r in mine if r["period_start"] <= start][
        -data.workspace.config.reports.trend_periods :
    ]
    year_ago = next(
        (r for r in mine if r["period_start"] == date(start.year - 1, start.month, 1)), {}
    )
    previous = history[-2] if len(history) > 1 else {}
    months = [
        r
        for r in data.results("month").rows(partner_id)
        if start <= r["period_start"] < _quarter_end(start)
    ]
    plan_rows = _plan_by_month(w, months, as_number(row.get("quota")))
    sections = []
    for title, names, _ in QBR_SECTIONS:
        sections.append(
            {
                "title": title,
                "rows": [
                    {
                        "name": n,
                        "label": w.catalog[n].label,
                        "value": w.fig(n, row.get(n), goal=goals.get(n)),
                        "previous": w.fig(n, previous.get(n)),
                        "change": w.change(n, row.get(n), previous.get(n)),
                        "year_ago": w.fig(n, year_ago.get(n)),
                        "goal": w.fig(n, goals[n]) if n in goals else None,
                    }
                    for n in names
                ],
            }
        )
    measures = [
        _measure_section(w, title, names, row, previous, history, goals)
        for title, names, counts in QBR_MEASURES
        if _has_data(history, counts)
    ]
    # the scorecard of the quarter when the scorecard grain is the quarter, else the latest
    scored_label = row["label"] if data.grain == "quarter" else None
    try:
        view = data.scorecard(partner_id, scored_label)
    except PartnerscopeError:
        view = data.scorecard(partner_id, None)
    card = card_sections(view, w)
    report = Report(
        kind="qbr",
        title=f"{data.partner_name(partner_id)} — quarterly business review {row['label']}",
        subtitle=partner_line(data, partner_id, w),
        stamp=stamp(data),
        period=row["label"],
        partner_id=partner_id,
        words=w.words,
    )
    report.sections = {
        "headline": {
            "won_revenue": w.fig("won_revenue", row.get("won_revenue"), compact=True),
            "quota": w.fig("quota", row.get("quota"), compact=True),
            "quota_attainment": w.fig("quota_attainment", row.get("quota_attainment"), goal=1.0),
            "revenue_growth_yoy": w.fig("revenue_growth_yoy", row.get("revenue_growth_yoy")),
        },
        "plan": plan_rows,
        "sections": sections,
        # service quality and retention, side by side, where the partner has their data
        "measures": measures,
        "scorecard": card["summary"],
        "scorecard_period": view.period,
        "tiers": card["tiers"],
        "actions": _actions(card),
        "definitions": definitions(
            w,
            [
                "won_revenue",
                "quota",
                "quota_attainment",
                "revenue_growth_yoy",
                *(n for _, names, _ in QBR_SECTIONS for n in names),
                *(r["name"] for m in measures for r in m["rows"]),
            ],
        ),
    }

    report.sections["business_plan"] = _business_plan(data, partner_id, start)

    def line(metric: str, title: str) -> dict[str, Any]:
        return trend_chart(w, history, metric, title, goals)

    report.charts = {
        "plan": ch.spec(
            "plan_actual",
            [
                {"month": m["month"], "actual": m["actual"].value, "plan": m["plan"].value}
                for m in plan_rows
            ],
            title=f"Won revenue (bars) against quota (ticks), {row['label']}",
            currency=w.currency,
        ),
        "win_rate": line("win_rate", "Win rate by quarter"),
        "cycle": line("sales_cycle_days", "Sales cycle, days"),
        **{
            chart: line(chart, f"{w.catalog[chart].label} by quarter")
            for _, _, chart in QBR_SECTIONS
            if chart
        },
    }
    return report


def _measure_section(
    w: Writer,
    title: str,
    names: tuple[str, ...],
    row: dict[str, Any],
    previous: dict[str, Any],
    history: list[dict[str, Any]],
    goals: dict[str, float],
) -> dict[str, Any]:
    """One of :data:`QBR_MEASURES` for the quarter ``row``: each metric's value against its goal,
    the previous quarter, the change and a sparkline of the review's quarters."""
    from partnerscope.reports import charts as ch

    return {
        "title": title,
        "rows": [
            {
                "name": n,
                "label": w.catalog[n].label,
                "value": w.fig(n, row.get(n), goal=goals.get(n)),
                "previous": w.fig(n, previous.get(n)),
                "change": w.change(n, row.get(n), previous.get(n)),
                "goal": w.fig(n, goals[n]) if n in goals else None,
                "spark": ch.sparkline([as_number(r.get(n)) for r in history]),
            }
            for n in names
        ],
    }


def _has_data(rows: list[dict[str, Any]], names: tuple[str, ...]) -> bool:
    """Whether any of ``rows`` (a partner's quarters) counts something in any of ``names``."""
    return any((as_number(r.get(n)) or 0) > 0 for r in rows for n in names)


def _business_plan(data: RunData, partner_id: str, start: date) -> dict[str, Any] | None:
    """The quarter's milestones of the partner's joint business plan with their status and
    measured value as of the report's run (None: no plan for the quarter's fiscal year)."""
    from partnerscope.lifecycle import business_plans as bp
    from partnerscope.metrics.calendar import Grain

    ws = data.workspace
    period = data.calendar.period_of(start, Grain.QUARTER)
    year = period.fiscal_year
    quarter = int(period.label.rsplit("Q", 1)[1])
    try:
        plan = bp.get_plan(ws, partner_id, year)
    except bp.BusinessPlanNotFoundError:
        return None
    found = bp.statuses(ws, [plan], data.run.run_id, data.partner_name)[0]
    words = ws.words
    return {
        "year": year,
        "quarter": quarter,
        "status": plan.status,
        "version": plan.version,
        "summary": found.summary(),
        "rows": [
            {
                "measure": words.metric(t.milestone.metric),
                "target": words.of_metric(t.milestone.metric, t.milestone.target),
                "actual": words.of_metric(t.milestone.metric, t.actual)
                if t.actual is not None
                else "—",
                "status": t.status,
                "status_text": t.status_words,
                "owner": t.milestone.owner or "—",
            }
            for t in found.quarter(quarter)
        ],
    }


def _plan_by_month(
    w: Writer, months: list[dict[str, Any]], quarter_quota: float | None
) -> list[dict[str, Any]]:
    """Won revenue against plan per month of the quarter, and the quarter's attainment to date.
    A month without a quota of its own is planned at a third of the quarter's quota."""
    rows = []
    won_to_date = 0.0
    for m in months:
        won = as_number(m["won_revenue"]) or 0.0
        won_to_date += won
        plan = as_number(m["quota"])
        spread = plan is None and quarter_quota is not None
        if plan is None and quarter_quota is not None:
            plan = quarter_quota / 3
        rows.append(
            {
                "month": m["label"],
                "actual": w.fig("won_revenue", won),
                "plan": w.fig("quota", plan),
                "spread": spread,
                "attainment": w.fig("quota_attainment", m["quota_attainment"]),
                "won_to_date": w.fig("won_revenue", won_to_date),
                "to_date": w.fig(
                    "quota_attainment", won_to_date / quarter_quota if quarter_quota else None
                ),
            }
        )
    return rows


def _pick(data: RunData, rows: list[dict[str, Any]], text: str | None) -> dict[str, Any]:
    if text is None:  # the latest quarter in which partners closed deals
        active = data.closing_periods("quarter")
        return ([r for r in rows if r["period_start"] in active] or rows)[-1]
    try:
        wanted = data.calendar.parse(text)
    except PartnerscopeError as exc:
        raise ReportError(f"--period: {exc}") from None
    for r in rows:
        if r["period_start"] == wanted.start and wanted.grain.value == "quarter":
            return r
    labels = [r["label"] for r in rows]
    raise ReportError(
        f"--period {text}: a QBR covers a complete quarter of the run, {labels[0]} to {labels[-1]}"
    )


def _quarter_end(start: date) -> date:
    month = start.month + 3
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _actions(s: dict[str, Any]) -> list[dict[str, str]]:
    """What the review should agree on (from a partner's
    :func:`~partnerscope.reports.scorecard.card_sections`): the plan's actions, then what
    alerts, flags and the next-tier gaps ask for."""
    actions = []
    plan = s["plan"]
    if plan:
        actions += [{"source": "Improvement plan", "action": a} for a in plan["actions"]]
    actions += [
        {"source": f"Alert, {a['severity_text'].lower()}", "action": a["message"]}
        for a in s["alerts"]
    ]
    actions += [
        {"source": f["flag_text"], "action": f"{f['criterion_text']}: {f['evidence']}"}
        for f in s["flags"]
    ]
    for tier in s["tiers"]:
        if tier["next"] and tier["next"]["gaps"]:
            actions.append(
                {
                    "source": tier["ruleset_text"],
                    "action": f"To reach {tier['next']['tier']}: "
                    + "; ".join(tier["next"]["gaps"]),
                }
            )
    return actions
