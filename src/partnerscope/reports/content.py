"""What each report says, read from a stored run: plain data (numbers with their formatted text,
chart specs) that the HTML/PDF templates and the Excel workbook lay out, and that the web app
can serve as JSON. Nothing here computes a metric: values come from the run's files.

Every figure is a :class:`Figure` carrying the metric name and the raw value beside its text,
so a report can be checked against the run (the HTML writes both into ``data-`` attributes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope import __version__
from partnerscope.errors import PartnerscopeError
from partnerscope.metrics.definition import Direction, Unit
from partnerscope.metrics.format import MISSING, format_value

if TYPE_CHECKING:
    import numpy as np

    from partnerscope.evaluation.view import RunData, ScorecardView
    from partnerscope.metrics.definition import Metric


class ReportError(PartnerscopeError, ValueError):
    """A report that cannot be made from this run (a partner or period it does not have)."""


@dataclass(frozen=True)
class Figure:
    """One number of a report: the metric it is, its value in the run and how it is written."""

    metric: str
    value: float | None
    text: str
    #: "good" or "bad" when the figure is judged (against a goal or the previous period)
    judged: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None and not math.isnan(self.value)


@dataclass(frozen=True)
class Stamp:
    """Where a report's figures come from: printed on every report."""

    workspace: str
    run_id: int
    as_of: str
    config_hash: str
    definitions_version: str
    engine: str
    partnerscope: str

    def line(self) -> str:
        """The stamp in one line (a part left empty, as in a partner's edition, is left out)."""
        parts = [
            f"run {self.run_id}",
            f"as of {self.as_of} UTC",
            f"config {self.config_hash}" if self.config_hash else "",
            f"definitions {self.definitions_version}" if self.definitions_version else "",
            self.engine,
            f"partnerscope {self.partnerscope}" if self.partnerscope else "",
        ]
        return " · ".join(p for p in parts if p)


@dataclass
class Report:
    """A report ready to lay out."""

    kind: str
    title: str
    subtitle: str
    stamp: Stamp
    period: str
    partner_id: str | None = None
    sections: dict[str, Any] = field(default_factory=dict)
    #: name → Vega-Lite spec (rendered to SVG for HTML/PDF, embedded as-is by the web)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)


def stamp(data: RunData) -> Stamp:
    run = data.run
    kind = run.engine.get("kind", "")
    return Stamp(
        workspace=data.workspace.config.workspace.name,
        run_id=run.run_id,
        as_of=run.as_of,
        config_hash=run.config_hash,
        definitions_version=run.definitions_version,
        engine=f"{kind} {run.engine.get(kind, '')}".strip(),
        partnerscope=__version__,
    )


class Writer:
    """Formats a run's values as figures, in the workspace's units and currency."""

    def __init__(self, data: RunData) -> None:
        self.catalog = data.workspace.catalog
        self.currency = data.workspace.config.workspace.base_currency

    def unit(self, metric: str) -> Unit:
        return self.catalog[metric].spec.unit if metric in self.catalog.metrics else Unit.NUMBER

    def fig(self, metric: str, value: Any, *, goal: float | None = None) -> Figure:
        number = _number(value)
        judged = ""
        if goal is not None and number is not None:
            judged = "good" if self.better_or_equal(metric, number, goal) else "bad"
        return Figure(
            metric, number, format_value(number, self.unit(metric), self.currency), judged
        )

    def better_or_equal(self, metric: str, value: float, other: float) -> bool:
        lower = metric in self.catalog.metrics and (
            self.catalog[metric].spec.direction is Direction.LOWER
        )
        return value <= other if lower else value >= other

    def change(self, metric: str, value: Any, previous: Any) -> Figure:
        """The change from the previous period, judged by the metric's direction."""
        now, before = _number(value), _number(previous)
        if now is None or before is None:
            return Figure(metric, None, "")
        delta = now - before
        unit = self.unit(metric)
        if unit is Unit.SHARE:
            text = f"{100 * delta:+.1f} pt"
        elif before != 0:
            text = f"{100 * delta / abs(before):+.0f} %"
        else:
            text = "new" if delta else "="
        judged = ""
        direction = self.catalog[metric].spec.direction if metric in self.catalog.metrics else None
        if delta and direction in (Direction.HIGHER, Direction.LOWER):
            judged = "good" if (delta > 0) == (direction is Direction.HIGHER) else "bad"
        return Figure(metric, delta, text, judged)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _pct(value: float | None) -> str:
    return MISSING if value is None or value != value else f"{100 * value:.0f} %"


def _score(value: float | None) -> str:
    return MISSING if value is None or value != value else f"{value:.1f}"


# --------------------------------------------------------------------------- cohort medians


class CohortMedians:
    """The median of each metric among a partner's scoring cohort, per period (computed once
    per period for every cohort, then looked up)."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self._by_period: dict[Any, dict[str, dict[str, float | None]]] = {}

    def of(self, start: Any, cohort: str | None) -> dict[str, float | None]:
        if start not in self._by_period:
            self._by_period[start] = self._compute(start)
        return self._by_period[start].get(cohort or "", {})

    def _compute(self, start: Any) -> dict[str, dict[str, float | None]]:
        import numpy as np
        import pyarrow.compute as pc

        cards = self.data.scorecards.table
        cards = cards.filter(pc.equal(cards["period_start"], start))
        cohort_of = dict(
            zip(cards["partner_id"].to_pylist(), cards["cohort"].to_pylist(), strict=True)
        )
        values = self.data.results().table
        values = values.filter(pc.equal(values["period_start"], start))
        keys = np.array([cohort_of.get(k) or "" for k in values["group_key"].to_pylist()])
        out: dict[str, dict[str, float | None]] = {}
        metrics = [m for m in self.data.workspace.catalog if m.name in values.column_names]
        columns = {
            m.name: values[m.name].to_numpy(zero_copy_only=False).astype(float) for m in metrics
        }
        groups = {c: keys == c for c in set(keys)}
        # a partner compared with the whole portfolio has the portfolio's median
        groups["portfolio"] = np.ones(len(keys), dtype=bool)
        for cohort, mask in groups.items():
            out[cohort] = {name: _median(column[mask]) for name, column in columns.items()}
        return out


def _median(values: np.ndarray[Any, Any]) -> float | None:
    import numpy as np

    known = values[~np.isnan(values)]
    return float(np.median(known)) if known.size else None


# ------------------------------------------------------------------------------- scorecard


def scorecard(
    data: RunData,
    partner_id: str,
    period: str | None = None,
    *,
    medians: CohortMedians | None = None,
) -> Report:
    """One partner's scorecard: score and tier explained, each metric with its trend, cohort
    median and definition, alerts, the improvement plan and what the next tier needs."""
    from partnerscope.reports import charts as ch

    view = data.scorecard(partner_id, period)
    w = Writer(data)
    settings = data.workspace.config.reports
    card = view.card
    start = card["period_start"]
    medians = medians or CohortMedians(data)
    cohort_median = medians.of(start, card["cohort"])
    history = [r for r in data.results().rows(partner_id) if r["period_start"] <= start]
    trend = history[-settings.trend_periods :]
    now = history[-1] if history and history[-1]["period_start"] == start else {}
    before = history[-2] if len(history) > 1 and now else {}
    weighted = [line.metric for line in view.lines]
    names = [*weighted, *(m for m in settings.scorecard_metrics if m not in weighted)]
    metric_rows = []
    for name in names:
        metric = w.catalog[name]
        if metric.group_only:
            continue
        metric_rows.append(
            {
                "name": name,
                "label": metric.label,
                "weighted": name in weighted,
                "value": w.fig(name, now.get(name)),
                "previous": w.fig(name, before.get(name)),
                "change": w.change(name, now.get(name), before.get(name)),
                "cohort_median": w.fig(name, cohort_median.get(name)),
                "spark": ch.sparkline([_number(r.get(name)) for r in trend]),
                "definition": definition(metric),
            }
        )
    report = Report(
        kind="scorecard",
        title=f"{view.partner_name} — scorecard {view.period}",
        subtitle=_partner_line(data, partner_id),
        stamp=stamp(data),
        period=view.period,
        partner_id=partner_id,
    )
    report.sections = {
        **_card(view, w),
        "explanation": _explanation(view, w),
        "metrics": metric_rows,
        "trend_periods": [r["label"] for r in trend],
    }
    report.charts = {
        "history": ch.spec(
            "line",
            [{"period": p, "value": s} for p, s in view.history[-settings.trend_periods :]],
            title="Score, 0–100",
            unit=Unit.SCORE,
        ),
        "contributions": ch.spec(
            "bars",
            [
                {
                    "label": w.catalog[line.metric].label,
                    "value": round(line.contribution or 0.0, 2),
                    "group": line.indicator,
                }
                for line in view.lines
            ],
            title="Points each metric adds to the score",
        ),
    }
    return report


def definition(metric: Metric) -> str:
    text = metric.formula_text()
    description = metric.spec.description
    return f"{description} ({text})" if description else text


def _partner_line(data: RunData, partner_id: str) -> str:
    rows = data.memberships.rows(partner_id)
    me = rows[-1] if rows else {}
    parts = [partner_id]
    for key in ("partner_type", "region", "program_tier", "revenue_band"):
        if me.get(key):
            parts.append(str(me[key]))
    return " · ".join(parts)


def _card(view: ScorecardView, w: Writer) -> dict[str, Any]:
    """What a scorecard and a QBR both show of the partner's score: the summary, the tiers, the
    run's alerts and flags, and the improvement plan."""
    return {
        "summary": _summary(view, w),
        "tiers": _placements(view, w),
        "alerts": [_alert(a) for a in view.alerts],
        "flags": [_flag(f) for f in view.flags],
        "plan": _plan(view),
    }


def _summary(view: ScorecardView, w: Writer) -> dict[str, Any]:
    card = view.card
    return {
        "score": Figure("score", _number(card["score"]), _score(card["score"])),
        "low_evidence": bool(card["low_evidence"]),
        "evidence_coverage": Figure(
            "evidence_coverage", card["evidence_coverage"], _pct(card["evidence_coverage"])
        ),
        "cohort": card["cohort"] or MISSING,
        "cohort_size": card["cohort_size"],
        "cohort_percentile": Figure(
            "cohort_percentile", card["cohort_percentile"], _pct(card["cohort_percentile"])
        ),
        "score_percentile": Figure(
            "score_percentile", card["score_percentile"], _pct(card["score_percentile"])
        ),
        "leading": Figure("leading_score", card["leading_score"], _score(card["leading_score"])),
        "lagging": Figure("lagging_score", card["lagging_score"], _score(card["lagging_score"])),
        "annual_revenue": w.fig("won_revenue", card["annual_revenue"]),
    }


def _explanation(view: ScorecardView, w: Writer) -> list[dict[str, Any]]:
    out = []
    for line in view.lines:
        scored = "same"
        if line.own_weight is not None and line.scored_value is not None:
            scored = (
                f"{w.fig(line.metric, line.scored_value).text} ({_pct(line.own_weight)} own "
                f"data, cohort {w.fig(line.metric, line.cohort_rate).text})"
            )
        elif line.value is None:
            scored = "no evidence"
        out.append(
            {
                "metric": line.metric,
                "label": w.catalog[line.metric].label,
                "indicator": line.indicator,
                "value": w.fig(line.metric, line.value),
                "scored": scored,
                "normalized": Figure("normalized", line.normalized, _score(line.normalized)),
                "weight": Figure("weight", line.weight, f"{100 * line.weight:.0f} %"),
                "contribution": Figure(
                    "contribution", line.contribution, _score(line.contribution)
                ),
            }
        )
    return out


def _gap_text(w: Writer, metric: str, bound: str, required: float, current: float | None) -> str:
    sign = "≥" if bound == "min" else "≤"
    return f"{metric} {sign} {w.fig(metric, required).text} (now {w.fig(metric, current).text})"


def _placements(view: ScorecardView, w: Writer) -> list[dict[str, Any]]:
    out = []
    for p in view.placements:
        nxt = None
        if p.next_tier:
            name, gaps = p.next_tier
            nxt = {
                "tier": name,
                "gaps": [_gap_text(w, g.metric, g.bound, g.required, g.current) for g in gaps],
            }
        out.append(
            {
                "ruleset": p.ruleset,
                "tier": p.effective,
                "placed": p.placed,
                "moved": p.moved,
                "pending": p.pending,
                "pending_periods": p.pending_periods,
                "reason": p.reason,
                "next": nxt,
            }
        )
    return out


def _alert(alert: dict[str, Any]) -> dict[str, Any]:
    keys = ("alert_id", "partner_id", "period", "kind", "metric", "severity", "message", "status")
    return {k: alert.get(k) for k in keys}


def _flag(flag: dict[str, Any]) -> dict[str, Any]:
    return {k: flag.get(k) for k in ("partner_id", "period", "flag", "criterion", "evidence")}


def _plan(view: ScorecardView) -> dict[str, Any] | None:
    plan = view.plan
    if plan is None:
        return None
    return {
        "opened_on": plan.opened_on.isoformat(),
        "owner": plan.owner or MISSING,
        "reasons": plan.reasons,
        "actions": plan.actions,
        "check_ins": [d.isoformat() for d in plan.check_ins],
        "baseline": f"{plan.baseline_period}: {_score(plan.baseline_score)}",
        "latest": _score(plan.latest_score),
        "change": Figure("plan_change", plan.change, _signed(plan.change)),
    }


def _signed(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.1f}"


# ------------------------------------------------------------------------------------- QBR

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


def qbr(data: RunData, partner_id: str, period: str | None = None) -> Report:
    """A partner's quarterly business review: plan against actual by month, pipeline and
    velocity, win rate and cycle trends, lead SLA, MDF, enablement, compliance, satisfaction,
    and the actions that follow."""
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
    plan_rows = _plan_by_month(w, months, _number(row.get("quota")))
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
    # the scorecard of the quarter when the scorecard grain is the quarter, else the latest
    scored_label = row["label"] if data.grain == "quarter" else None
    try:
        view = data.scorecard(partner_id, scored_label)
    except PartnerscopeError:
        view = data.scorecard(partner_id, None)
    card = _card(view, w)
    report = Report(
        kind="qbr",
        title=f"{data.partner_name(partner_id)} — quarterly business review {row['label']}",
        subtitle=_partner_line(data, partner_id),
        stamp=stamp(data),
        period=row["label"],
        partner_id=partner_id,
    )
    report.sections = {
        "headline": {
            "won_revenue": w.fig("won_revenue", row.get("won_revenue")),
            "quota": w.fig("quota", row.get("quota")),
            "quota_attainment": w.fig("quota_attainment", row.get("quota_attainment"), goal=1.0),
            "revenue_growth_yoy": w.fig("revenue_growth_yoy", row.get("revenue_growth_yoy")),
        },
        "plan": plan_rows,
        "sections": sections,
        "scorecard": card["summary"],
        "scorecard_period": view.period,
        "tiers": card["tiers"],
        "actions": _actions(card),
    }

    def line(metric: str, title: str) -> dict[str, Any]:
        return _trend_chart(w, history, metric, title, goals)

    report.charts = {
        "plan": ch.spec(
            "plan_actual",
            [
                {"month": m["month"], "actual": m["actual"].value, "plan": m["plan"].value}
                for m in plan_rows
            ],
            title=f"Won revenue (bars) against quota (ticks), {row['label']}",
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


def _trend_chart(
    w: Writer, rows: list[dict[str, Any]], metric: str, title: str, goals: dict[str, float]
) -> dict[str, Any]:
    """A metric over the periods of ``rows`` (a run's result rows), with its goal line."""
    from partnerscope.reports import charts

    return charts.spec(
        "line",
        [{"period": r["label"], "value": _number(r.get(metric))} for r in rows],
        title=title,
        unit=w.unit(metric),
        goal=goals.get(metric),
    )


def _plan_by_month(
    w: Writer, months: list[dict[str, Any]], quarter_quota: float | None
) -> list[dict[str, Any]]:
    """Won revenue against plan per month of the quarter, and the quarter's attainment to date.
    A month without a quota of its own is planned at a third of the quarter's quota."""
    rows = []
    won_to_date = 0.0
    for m in months:
        won = _number(m["won_revenue"]) or 0.0
        won_to_date += won
        plan = _number(m["quota"])
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
    if text is None:
        return rows[-1]
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
    """What the review should agree on (from a partner's :func:`_card`): the plan's actions,
    then what alerts, flags and the next-tier gaps ask for."""
    actions = []
    plan = s["plan"]
    if plan:
        actions += [{"source": "improvement plan", "action": a} for a in plan["actions"]]
    actions += [{"source": f"alert ({a['severity']})", "action": a["message"]} for a in s["alerts"]]
    actions += [
        {"source": f"{f['flag']} flag", "action": f"{f['criterion']}: {f['evidence']}"}
        for f in s["flags"]
    ]
    for tier in s["tiers"]:
        if tier["next"] and tier["next"]["gaps"]:
            actions.append(
                {
                    "source": f"{tier['ruleset']} tier",
                    "action": f"to reach {tier['next']['tier']}: "
                    + "; ".join(tier["next"]["gaps"]),
                }
            )
    return actions


# -------------------------------------------------------------------------------- executive


def executive(data: RunData, period: str | None = None) -> Report:
    """The portfolio in one read: channel share and partners at quota against their goals, tier
    distribution and moves, coverage against control, top risers and decliners, alerts,
    decisions due and signals fired, and MDF return."""
    import pyarrow.compute as pc

    from partnerscope.reports import charts as ch

    start, label = data.pick_period(period)
    w = Writer(data)
    settings = data.workspace.config.reports
    goals = settings.goals
    portfolio = [
        r for r in data.group_results("portfolio").to_pylist() if r["period_start"] <= start
    ]
    if not portfolio or portfolio[-1]["period_start"] != start:
        raise ReportError(f"run {data.run.run_id} has no portfolio values for {label}")
    now = portfolio[-1]
    before = portfolio[-2] if len(portfolio) > 1 else {}
    trend = portfolio[-settings.trend_periods :]

    kpis = []
    for name in (
        "channel_revenue_share",
        "share_partners_at_quota",
        "won_revenue",
        "revenue_growth_yoy",
        "coverage",
        "control_index",
        "mdf_roi",
        "mdf_pipeline_ratio",
    ):
        kpis.append(
            {
                "name": name,
                "label": w.catalog[name].label,
                "value": w.fig(name, now.get(name), goal=goals.get(name)),
                "change": w.change(name, now.get(name), before.get(name)),
                "goal": w.fig(name, goals[name]) if name in goals else None,
            }
        )

    # tiers: the distribution now, its moves this period, and its history
    tiers = data.tiers.table
    period_tiers = tiers.filter(pc.equal(tiers["period_start"], start)).to_pylist()
    distribution = []
    for ruleset in ("revenue", "performance"):
        rules = getattr(data.workspace.config.tiers, ruleset)
        mine = [t for t in period_tiers if t["ruleset"] == ruleset]
        for level in rules.levels:
            here = [t for t in mine if t["effective"] == level.name]
            distribution.append(
                {
                    "ruleset": ruleset,
                    "tier": level.name,
                    "partners": len(here),
                    "up": sum(t["moved"] == "up" for t in here),
                    "down": sum(t["moved"] == "down" for t in here),
                    "pending": sum(t["pending"] is not None for t in here),
                }
            )

    movers = _movers(data, start, settings.movers, w)
    alerts = data.alerts.table.to_pylist()
    severities = ("high", "medium", "low")
    alert_counts = [
        {"severity": s, "count": sum(a["severity"] == s for a in alerts)} for s in severities
    ]
    top_alerts = sorted(
        alerts,
        key=lambda a: severities.index(a["severity"]) if a["severity"] in severities else 9,
    )[:20]
    names = {a["partner_id"]: data.partner_name(a["partner_id"]) for a in top_alerts}

    report = Report(
        kind="executive",
        title=f"{data.workspace.config.workspace.name} — executive summary {label}",
        subtitle=f"{len(data.scorecards.spans):,} partners scored in {label}",
        stamp=stamp(data),
        period=label,
    )
    report.sections = {
        "kpis": kpis,
        "tiers": distribution,
        "risers": movers["risers"],
        "decliners": movers["decliners"],
        "alert_counts": alert_counts,
        "alerts": [{**_alert(a), "partner": names[a["partner_id"]]} for a in top_alerts],
        "new_alerts": sum(a["status"] == "new" for a in alerts),
        "flags": _flag_counts(data),
        "decisions": _decisions(data),
        "mdf": _mdf(data, start, w, goals),
    }

    def line(metric: str, title: str) -> dict[str, Any]:
        return _trend_chart(w, trend, metric, title, goals)

    tier_trend = tiers.filter(
        pc.and_(
            pc.equal(tiers["ruleset"], "performance"),
            pc.greater_equal(tiers["period_start"], trend[0]["period_start"]),
        )
    )
    counts = tier_trend.group_by(["period", "effective"]).aggregate([([], "count_all")])
    order = [level.name for level in data.workspace.config.tiers.performance.levels]
    report.charts = {
        "channel_share": line("channel_revenue_share", "Channel revenue share (goal dashed)"),
        "at_quota": line("share_partners_at_quota", "Share of partners at quota (goal dashed)"),
        "revenue": line("won_revenue", "Won revenue through partners"),
        "coverage": line("coverage", "Coverage of target accounts"),
        "control": line("control_index", "Control index, 0–100"),
        "mdf_roi": line("mdf_roi", "MDF return (goal dashed)"),
        "tiers": ch.spec(
            "stacked",
            sorted(
                (
                    {
                        "period": r["period"],
                        "category": r["effective"],
                        "count": r["count_all"],
                        "rank": order.index(r["effective"]) if r["effective"] in order else 99,
                    }
                    for r in counts.to_pylist()
                ),
                key=lambda r: (r["period"], r["rank"]),
            ),
            title="Performance tiers by period",
        ),
        "movers": ch.spec(
            "bars",
            [
                {"label": m["name"], "value": m["change"].value, "group": m["direction"]}
                for m in [*movers["risers"], *movers["decliners"]]
            ],
            title=f"Score change from the previous period, top {settings.movers} each way",
        ),
    }
    return report


def _movers(data: RunData, start: Any, n: int, w: Writer) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.compute as pc

    periods = [s for s, _ in data.periods]
    i = periods.index(start)
    if i == 0:
        return {"risers": [], "decliners": []}
    cards = data.scorecards.table
    now = cards.filter(pc.equal(cards["period_start"], start))
    before = cards.filter(pc.equal(cards["period_start"], periods[i - 1]))
    previous = dict(zip(before["partner_id"].to_pylist(), before["score"].to_pylist(), strict=True))
    changes = []
    for pid, score in zip(now["partner_id"].to_pylist(), now["score"].to_pylist(), strict=True):
        old = previous.get(pid)
        if score is None or old is None or math.isnan(score) or math.isnan(old):
            continue
        changes.append((score - old, pid, score, old))
    changes.sort()

    def row(change: float, pid: str, score: float, old: float, direction: str) -> dict[str, Any]:
        return {
            "partner_id": pid,
            "name": data.partner_name(pid),
            "score": Figure("score", score, _score(score)),
            "previous": Figure("score", old, _score(old)),
            "change": Figure("score_change", change, f"{change:+.1f}"),
            "direction": direction,
        }

    return {
        "risers": [row(d, p, s, o, "up") for d, p, s, o in reversed(changes[-n:]) if d > 0],
        "decliners": [row(d, p, s, o, "down") for d, p, s, o in changes[:n] if d < 0],
    }


def _flag_counts(data: RunData) -> list[dict[str, Any]]:
    flags = data.flags.table.to_pylist()
    kinds = sorted({f["flag"] for f in flags})
    return [
        {"flag": k, "partners": len({f["partner_id"] for f in flags if f["flag"] == k})}
        for k in kinds
    ]


def _decisions(data: RunData) -> dict[str, Any]:
    """Signals fired and reviews due on the run, from the decisions committed."""
    from partnerscope.decisions.service import Decisions

    decisions = Decisions(data.workspace)
    records = decisions.store.records()
    if not records:
        return {"records": [], "alerts": []}
    alerts, _ = decisions.check(today=data.run.as_of_time.date(), run_id=data.run.run_id)
    return {
        "records": [
            {"ref": r.ref, "title": r.title, "status": r.status.value, "owner": r.owner or MISSING}
            for r in records
        ],
        "alerts": [{"kind": str(a.kind), "message": a.message} for a in alerts],
    }


def _mdf(data: RunData, start: Any, w: Writer, goals: dict[str, float]) -> list[dict[str, Any]]:
    """MDF spend and return per partner type in the period."""
    table = data.group_results("partner_type").to_pylist()
    rows = []
    for r in table:
        if r["period_start"] != start:
            continue
        rows.append(
            {
                "group": r["group_key"],
                "spend": w.fig("mdf_spend", r.get("mdf_spend")),
                "revenue": w.fig("mdf_attributed_revenue", r.get("mdf_attributed_revenue")),
                "roi": w.fig("mdf_roi", r.get("mdf_roi"), goal=goals.get("mdf_roi")),
                "pipeline_ratio": w.fig(
                    "mdf_pipeline_ratio",
                    r.get("mdf_pipeline_ratio"),
                    goal=goals.get("mdf_pipeline_ratio"),
                ),
            }
        )
    return rows
