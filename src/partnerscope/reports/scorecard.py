"""A partner's scorecard: score and tiers explained, each metric with its trend, cohort median
and definition, alerts, flags, the improvement plan and what the next tier needs. What a QBR
shows of the partner's score is made here too (:func:`card_sections`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partnerscope.metrics.definition import Unit
from partnerscope.metrics.format import MISSING
from partnerscope.reports.content import (
    CohortMedians,
    Figure,
    Report,
    Writer,
    alert_row,
    as_number,
    pct_text,
    score_text,
    stamp,
)

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData, ScorecardView
    from partnerscope.metrics.definition import Metric


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
                "spark": ch.sparkline([as_number(r.get(name)) for r in trend]),
                "definition": definition(metric),
            }
        )
    report = Report(
        kind="scorecard",
        title=f"{view.partner_name} — scorecard {view.period}",
        subtitle=partner_line(data, partner_id),
        stamp=stamp(data),
        period=view.period,
        partner_id=partner_id,
    )
    report.sections = {
        **card_sections(view, w),
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


def partner_line(data: RunData, partner_id: str) -> str:
    rows = data.memberships.rows(partner_id)
    me = rows[-1] if rows else {}
    parts = [partner_id]
    for key in ("partner_type", "region", "program_tier", "revenue_band"):
        if me.get(key):
            parts.append(str(me[key]))
    return " · ".join(parts)


def card_sections(view: ScorecardView, w: Writer) -> dict[str, Any]:
    """What a scorecard and a QBR both show of the partner's score: the summary, the tiers, the
    run's alerts and flags, and the improvement plan."""
    return {
        "summary": _summary(view, w),
        "tiers": _placements(view, w),
        "alerts": [alert_row(a) for a in view.alerts],
        "flags": [_flag(f) for f in view.flags],
        "plan": _plan(view),
    }


def _summary(view: ScorecardView, w: Writer) -> dict[str, Any]:
    card = view.card
    return {
        "score": Figure("score", as_number(card["score"]), score_text(card["score"])),
        "low_evidence": bool(card["low_evidence"]),
        "evidence_coverage": Figure(
            "evidence_coverage", card["evidence_coverage"], pct_text(card["evidence_coverage"])
        ),
        "cohort": card["cohort"] or MISSING,
        "cohort_size": card["cohort_size"],
        "cohort_percentile": Figure(
            "cohort_percentile", card["cohort_percentile"], pct_text(card["cohort_percentile"])
        ),
        "score_percentile": Figure(
            "score_percentile", card["score_percentile"], pct_text(card["score_percentile"])
        ),
        "leading": Figure(
            "leading_score", card["leading_score"], score_text(card["leading_score"])
        ),
        "lagging": Figure(
            "lagging_score", card["lagging_score"], score_text(card["lagging_score"])
        ),
        "annual_revenue": w.fig("won_revenue", card["annual_revenue"]),
    }


def _explanation(view: ScorecardView, w: Writer) -> list[dict[str, Any]]:
    out = []
    for line in view.lines:
        scored = "same"
        if line.own_weight is not None and line.scored_value is not None:
            scored = (
                f"{w.fig(line.metric, line.scored_value).text} ({pct_text(line.own_weight)} own "
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
                "normalized": Figure("normalized", line.normalized, score_text(line.normalized)),
                "weight": Figure("weight", line.weight, f"{100 * line.weight:.0f} %"),
                "contribution": Figure(
                    "contribution", line.contribution, score_text(line.contribution)
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
        "baseline": f"{plan.baseline_period}: {score_text(plan.baseline_score)}",
        "latest": score_text(plan.latest_score),
        "change": Figure("plan_change", plan.change, _signed(plan.change)),
    }


def _signed(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.1f}"
