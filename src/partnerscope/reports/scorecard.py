"""A partner's scorecard: score and tiers explained, each metric with its trend, cohort median
and definition, alerts, flags, the improvement plan and what the next tier needs. What a QBR
shows of the partner's score is made here too (:func:`card_sections`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partnerscope.metrics.definition import Unit
from partnerscope.present import MISSING
from partnerscope.reports.content import (
    CohortMedians,
    Figure,
    Report,
    Writer,
    alert_row,
    as_number,
    definitions,
    formula_words,
    in_words,
    stamp,
)
from partnerscope.settings.reports import SHOWN_WITH_DATA

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData, ScorecardView
    from partnerscope.metrics.definition import Metric
    from partnerscope.present import Words


def _known(rows: list[dict[str, Any]], name: str) -> bool:
    """Whether ``rows`` hold a value of ``name`` in some period."""
    return any(as_number(r.get(name)) is not None for r in rows)


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
        if name not in weighted and name in SHOWN_WITH_DATA and not _known(trend, name):
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
                "definition": definition(metric, w),
            }
        )
    report = Report(
        kind="scorecard",
        title=f"{view.partner_name} — scorecard {view.period}",
        subtitle=partner_line(data, partner_id, w),
        stamp=stamp(data),
        period=view.period,
        partner_id=partner_id,
        words=w.words,
    )
    report.sections = {
        **card_sections(view, w),
        "explanation": _explanation(view, w),
        "metrics": metric_rows,
        "trend_periods": [r["label"] for r in trend],
        "definitions": definitions(w, [str(row["name"]) for row in metric_rows]),
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
                    "group": line.indicator.capitalize(),
                }
                for line in view.lines
            ],
            title="Points each metric adds to the score",
        ),
    }
    return report


def definition(metric: Metric, w: Writer) -> str:
    """What a metric means, in words (its formula in words when it has no description; the
    full definitions are in the report's "Definitions" appendix)."""
    return in_words(w, metric.spec.description) or formula_words(w, metric)


def partner_line(data: RunData, partner_id: str, w: Writer | None = None) -> str:
    """The partner's id (secondary text), type in words, region, program tier and band."""
    from partnerscope.present import Words

    rows = data.memberships.rows(partner_id)
    me = rows[-1] if rows else {}
    parts = [partner_id]
    for key in ("partner_type", "region", "program_tier", "revenue_band"):
        if me.get(key):
            value = str(me[key])
            parts.append(Words.partner_type(value) if key == "partner_type" else value)
    return " · ".join(parts)


def card_sections(view: ScorecardView, w: Writer) -> dict[str, Any]:
    """What a scorecard and a QBR both show of the partner's score: the summary, the tiers, the
    run's alerts and flags, and the improvement plan."""
    return {
        "summary": _summary(view, w),
        "tiers": _placements(view, w),
        "alerts": [alert_row(a, w) for a in view.alerts],
        "flags": [_flag(f, w) for f in view.flags],
        "plan": _plan(view, w),
    }


def _summary(view: ScorecardView, w: Writer) -> dict[str, Any]:
    card = view.card
    words = w.words
    coverage = as_number(card["evidence_coverage"])

    def score(name: str, value: Any) -> Figure:
        number = as_number(value)
        return Figure(name, number, words.number(number, digits=1))

    def rank(name: str) -> Figure:
        number = as_number(card[name])
        return Figure(name, number, words.percentile(number))

    scored = as_number(card.get("scored"))  # missing in a run made before it was stored
    return {
        # False: the partner was left out of scoring in the period (its note says why)
        "scored": scored is None or scored > 0,
        "score": score("score", card["score"]),
        "low_evidence": bool(card["low_evidence"]),
        "evidence_coverage": Figure("evidence_coverage", coverage, words.share(coverage, digits=0)),
        "coverage_note": _coverage_note(words, coverage),
        # why the partner was not scored, or on how many of the measures it was
        "note": card.get("note"),
        "cohort": words.cohort(card["cohort"]),
        "cohort_size": card["cohort_size"],
        "cohort_percentile": rank("cohort_percentile"),
        "score_percentile": rank("score_percentile"),
        "leading": score("leading_score", card["leading_score"]),
        "lagging": score("lagging_score", card["lagging_score"]),
        "annual_revenue": w.money("annual_revenue", card["annual_revenue"], compact=True),
    }


def _coverage_note(words: Words, coverage: float | None) -> str:
    """The sentence a scorecard says when evidence is missing: its contributions are scaled
    to the weight the evidence covers (evaluation/scorecard.py)."""
    if coverage is None or coverage <= 0:
        return "No metric of the scorecard has enough evidence: there is no score."
    if coverage >= 1 - 1e-9:
        return ""
    return (
        f"Evidence covers {words.share(coverage, digits=0)} of the scorecard's weight; "
        "contributions are scaled to it."
    )


def _explanation(view: ScorecardView, w: Writer) -> list[dict[str, Any]]:
    out = []
    for line in view.lines:
        words = w.words
        scored = "as measured"
        if line.own_weight is not None and line.scored_value is not None:
            scored = (
                f"{w.fig(line.metric, line.scored_value).text} "
                f"({words.share(line.own_weight, digits=0)} its own data, peers "
                f"{w.fig(line.metric, line.cohort_rate).text})"
            )
        elif line.value is None:
            scored = "no evidence"
        out.append(
            {
                "metric": line.metric,
                "label": w.catalog[line.metric].label,
                "indicator": line.indicator.capitalize(),
                "value": w.fig(line.metric, line.value),
                "scored": scored,
                "normalized": Figure(
                    "normalized", line.normalized, words.number(line.normalized, digits=1)
                ),
                "weight": Figure("weight", line.weight, words.share(line.weight, digits=0)),
                "contribution": Figure(
                    "contribution", line.contribution, words.number(line.contribution, digits=1)
                ),
            }
        )
    return out


def _gap_text(w: Writer, metric: str, bound: str, required: float, current: float | None) -> str:
    """An unmet condition of the next tier: ``Quota attainment 6.2% (needs at least 80.0%)``."""
    return w.words.needs(metric, bound, required, current)


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
                "ruleset_text": _ruleset(p.ruleset),
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


def _ruleset(key: str) -> str:
    """A tier rule set in words: "Revenue tier", "Performance tier"."""
    return f"{key.replace('_', ' ').capitalize()} tier"


def _flag(flag: dict[str, Any], w: Writer) -> dict[str, Any]:
    row = {k: flag.get(k) for k in ("partner_id", "period", "flag", "criterion", "evidence")}
    row["flag_text"] = w.words.flag(str(row["flag"] or ""))
    row["criterion_text"] = w.words.criterion(str(row["criterion"] or ""))
    row["good"] = row["flag"] == "high_potential"
    return row


def _plan(view: ScorecardView, w: Writer) -> dict[str, Any] | None:
    plan = view.plan
    if plan is None:
        return None
    words = w.words
    return {
        "opened_on": words.date(plan.opened_on),
        "owner": plan.owner or MISSING,
        "reasons": plan.reasons,
        "actions": plan.actions,
        "check_ins": [words.date(d) for d in plan.check_ins],
        "baseline": f"{plan.baseline_period}: {words.number(plan.baseline_score, digits=1)}",
        "latest": words.number(plan.latest_score, digits=1),
        "change": Figure("plan_change", plan.change, _signed(words, plan.change)),
    }


def _signed(words: Words, value: float | None) -> str:
    if value is None:
        return MISSING
    text = words.number(abs(value), digits=1)
    return ("−" if value < 0 else "+") + text if round(value, 1) else text
