"""The executive summary: the portfolio in one read (KPIs against their goals, tiers, risers
and decliners, alerts, decisions due and signals fired, MDF return). A figure the data cannot
show (no quotas, target accounts, compliance scores, MDF, or direct deals loaded) is left out
and the summary says why, instead of showing a blank tile or a share of 100 %."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from partnerscope.present import MISSING
from partnerscope.reports.content import (
    Figure,
    Report,
    ReportError,
    Writer,
    alert_row,
    as_number,
    definitions,
    stamp,
    trend_chart,
)

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData


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

    every = data.group_results("portfolio").to_pylist()
    left_out = {name: why for name, why in LEFT_OUT.items() if not _shown(name, every)}
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
        if name in left_out:
            continue
        kpis.append(
            {
                "name": name,
                "label": w.catalog[name].label,
                "value": w.fig(name, now.get(name), goal=goals.get(name), compact=True),
                "change": w.change(name, now.get(name), before.get(name)),
                "goal": w.fig(name, goals[name]) if name in goals else None,
            }
        )

    # tiers: the distribution now, its moves this period, and its history
    tiers = data.tiers.table
    if "scored" in tiers.column_names:
        # a partner left out of scoring (inactive, not yet joined) holds no tier
        tiers = tiers.filter(pc.field("scored"))
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
                    "ruleset_text": ruleset.capitalize(),
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

    objectives = _objectives(data, w, start, goals, settings.trend_periods)
    outlook, outlook_chart = _outlook(
        data, w, goals, share_shown="channel_revenue_share" not in left_out
    )
    report = Report(
        kind="executive",
        title=f"{data.workspace.config.workspace.name} — executive summary {label}",
        subtitle=f"{_scored(data, start):,} partners scored in {label}",
        stamp=stamp(data),
        period=label,
        words=w.words,
    )
    report.sections = {
        # the framework's strategic objectives, each against its goal, "no data yet" without
        # the data that would fill it
        "objectives": objectives,
        # the target territories without an active certified partner, in one sentence
        "coverage_gaps": _coverage_gaps(data, start, label),
        "kpis": kpis,
        "tiers": distribution,
        "tier_notes": [
            f"{ruleset.capitalize()} tiers: {note}" for ruleset, note in data.tier_notes.items()
        ],
        # how many partners were left out of scoring, so of the tier table, and why
        "not_scored": not_scored_sentence(data.not_scored(start), label),
        "risers": movers["risers"],
        "decliners": movers["decliners"],
        "alert_counts": alert_counts,
        "alerts": [{**alert_row(a, w), "partner": names[a["partner_id"]]} for a in top_alerts],
        "new_alerts": sum(a["status"] == "new" for a in alerts),
        "flags": _flag_counts(data, w),
        "decisions": _decisions(data, w),
        "mdf": [] if "mdf_roi" in left_out else _mdf(data, start, w, goals),
        # the portfolio's revenue forecast and the channel share it implies, None without one
        "forecast": outlook,
        "show_coverage": not {"coverage", "control_index"} <= set(left_out),
        "left_out": [f"{w.catalog[name].label}: {why}" for name, why in left_out.items()],
        "definitions": definitions(
            w,
            [
                *(str(o["name"]) for o in objectives if o["shown"]),
                *(str(k["name"]) for k in kpis),
                *(
                    []
                    if "mdf_roi" in left_out
                    else ["mdf_spend", "mdf_attributed_revenue", "mdf_roi", "mdf_pipeline_ratio"]
                ),
            ],
        ),
    }

    def line(metric: str, title: str) -> dict[str, Any]:
        return trend_chart(w, trend, metric, title, goals)

    tier_trend = tiers.filter(
        pc.and_(
            pc.equal(tiers["ruleset"], "performance"),
            pc.greater_equal(tiers["period_start"], trend[0]["period_start"]),
        )
    )
    counts = tier_trend.group_by(["period", "effective"]).aggregate([([], "count_all")])
    order = [level.name for level in data.workspace.config.tiers.performance.levels]
    lines = {
        "channel_share": ("channel_revenue_share", "Channel revenue share (goal dashed)"),
        "at_quota": ("share_partners_at_quota", "Share of partners at quota (goal dashed)"),
        "revenue": ("won_revenue", "Won revenue through partners"),
        "coverage": ("coverage", "Coverage of target accounts"),
        "control": ("control_index", "Control index, 0–100"),
        "mdf_roi": ("mdf_roi", "MDF return (goal dashed)"),
    }
    report.charts = {
        **{
            key: line(metric, title)
            for key, (metric, title) in lines.items()
            if metric not in left_out
        },
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
            categories=order,
        ),
        "movers": ch.spec(
            "bars",
            [
                {
                    "label": m["name"],
                    "value": m["change"].value,
                    "group": "Risers" if m["direction"] == "up" else "Decliners",
                }
                for m in [*movers["risers"], *movers["decliners"]]
            ],
            title=f"Score change from the previous period, top {settings.movers} each way",
        ),
    }
    if outlook_chart is not None:
        report.charts["forecast"] = outlook_chart
    return report


#: The framework's strategic objectives, shown as tiles against their goals (``[reports]
#: goals``) in this order, each with the data that fills it when a workspace has none yet.
OBJECTIVES: tuple[tuple[str, str], ...] = (
    (
        "channel_revenue_share",
        "load the company's direct deals beside the partners' (opportunities without a "
        "partner) to measure the partners' share of all won revenue",
    ),
    (
        "partner_satisfaction",
        "load partner surveys (the partners' 0–10 rating of the vendor and its program)",
    ),
    ("share_partners_at_quota", "load the partners' quotas"),
    (
        "market_coverage",
        "load the target territories, the territories each partner serves and the partners' "
        "certifications",
    ),
    ("customer_satisfaction", "load customer CSAT responses (survey answers about partners)"),
)


def _objectives(
    data: RunData, w: Writer, start: Any, goals: Mapping[str, float], periods: int
) -> list[dict[str, Any]]:
    """One tile per strategic objective (:data:`OBJECTIVES`): its value in the period against
    its goal, the change from the period before and a sparkline of its last ``periods``
    periods; or, where the run holds no value of it in any period (no source for it yet),
    ``shown`` false and a ``note`` of the data that would fill it — never a blank or a 0."""
    from partnerscope.reports import charts as ch

    levels: dict[str, list[dict[str, Any]]] = {}

    def rows_of(level: str) -> list[dict[str, Any]]:
        if level not in levels:
            levels[level] = [
                r for r in data.group_results(level).to_pylist() if r["period_start"] <= start
            ]
        return levels[level]

    tiles = []
    for name, fill in OBJECTIVES:
        goal = goals.get(name)
        label = w.catalog[name].label if name in w.catalog.metrics else w.words.metric(name)
        # a company-wide measure (market coverage) may be held at the company level only
        rows = next(
            (rows_of(level) for level in ("portfolio", "company") if _shown(name, rows_of(level))),
            [],
        )
        tile: dict[str, Any] = {
            "name": name,
            "label": label,
            "goal": w.fig(name, goal) if goal is not None else None,
        }
        if not rows:
            tiles.append(
                {
                    **tile,
                    "shown": False,
                    "value": Figure(name, None, "No data yet"),
                    "change": Figure(name, None, ""),
                    "spark": "",
                    "note": f"No data yet: {fill}.",
                }
            )
            continue
        now = rows[-1] if rows[-1]["period_start"] == start else {}
        before = rows[-2] if now and len(rows) > 1 else {}
        trend = rows[-periods:]
        value = w.fig(name, now.get(name), goal=goal, compact=True)
        tiles.append(
            {
                **tile,
                "shown": True,
                "value": value,
                "change": w.change(name, now.get(name), before.get(name)),
                "spark": ch.sparkline([as_number(r.get(name)) for r in trend]),
                "note": "" if value.known else "No value in this period.",
            }
        )
    return tiles


def _coverage_gaps(data: RunData, start: Any, label: str) -> str:
    """The target territories without an active certified partner at the end of the period,
    counted (target territories − covered territories of the portfolio) in one sentence;
    empty without coverage data. The gap list that names them is the coverage page's."""
    rows = [r for r in data.group_results("portfolio").to_pylist() if r["period_start"] == start]
    if not rows:
        return ""
    targets = as_number(rows[0].get("target_territories"))
    covered = as_number(rows[0].get("covered_territories"))
    if not targets or covered is None:
        return ""
    gaps = round(targets - covered)
    words = data.workspace.words
    if gaps <= 0:
        return (
            f"Every one of the {words.number(targets)} target territories has an active, "
            f"certified partner at the end of {label}."
        )
    head = "target territory has" if gaps == 1 else "target territories have"
    return (
        f"{words.number(gaps)} of {words.number(targets)} {head} no active, certified partner "
        f"at the end of {label}."
    )


#: Complete quarters of actual revenue drawn before the forecast band.
OUTLOOK_ACTUALS = 8


def _outlook(
    data: RunData, w: Writer, goals: Mapping[str, float], *, share_shown: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The portfolio's won-revenue forecast for the next quarters with its 80 % band, the
    channel share it implies (portfolio forecast / company forecast) against its goal, and
    one sentence of how good the method was in the backtest; (None, None) when the run has
    no forecast (made before predictions, or with them turned off)."""
    from partnerscope.predict.outlook import backtest_section, series_forecast, skill_sentence

    rows = series_forecast(data.folder, "portfolio", "all", "quarter")
    if rows is None:
        return None, None
    words = w.words
    forecast = [r for r in rows if r["forecast"] is not None]
    if not forecast:
        why = next((r["note"] for r in rows if r.get("note")), None) or "too little history"
        return {"rows": [], "skill": f"No forecast of the portfolio's revenue: {why}."}, None
    company = {
        r["period_start"]: r["forecast"]
        for r in series_forecast(data.folder, "company", "all", "quarter") or []
        if r["forecast"] is not None
    }
    goal = goals.get("channel_revenue_share")
    table = []
    for r in forecast:
        whole = company.get(r["period_start"]) if share_shown else None
        share = r["forecast"] / whole if whole else None
        table.append(
            {
                "label": r["label"],
                "forecast": w.fig("won_revenue", r["forecast"], compact=True),
                "band": f"{words.money(r['lo_80'], compact=True)} to "
                f"{words.money(r['hi_80'], compact=True)}"
                if r["lo_80"] is not None and r["hi_80"] is not None
                else MISSING,
                "company": w.fig("won_revenue", whole, compact=True),
                "share": w.fig("channel_revenue_share", share, goal=goal),
            }
        )
    first, last = forecast[0]["label"], forecast[-1]["label"]
    span = first if first == last else f"{first} to {last}"
    total = sum(r["forecast"] for r in forecast)
    said = f"Forecast won revenue through partners, {span}: {words.money(total, compact=True)}."
    share_sentence = ""
    wholes = [company.get(r["period_start"]) for r in forecast]
    if share_shown and all(wholes):
        share = total / sum(x for x in wholes if x)
        against = "" if goal is None else f", against the goal of {words.share(goal, digits=0)}"
        share_sentence = (
            f"Forecast channel share, {span}: {words.share(share)} of the company's forecast "
            f"revenue{against}."
        )
    section = {
        "rows": table,
        "sentence": said,
        "share": share_sentence,
        "skill": skill_sentence(forecast[0], backtest_section(data.folder, "portfolio"), words),
    }
    return section, _outlook_chart(data, w, forecast)


def _outlook_chart(data: RunData, w: Writer, forecast: list[dict[str, Any]]) -> dict[str, Any]:
    """Actual won revenue of the last complete quarters, then the forecast (dashed) in its 80 %
    band, on one money axis."""
    from partnerscope.reports import charts as ch

    actual = [
        r
        for r in data.group_results("portfolio", "quarter").to_pylist()
        if r["complete"] and r["period_start"] < forecast[0]["period_start"]
    ][-OUTLOOK_ACTUALS:]
    rows: list[dict[str, Any]] = [
        {"period": r["label"], "value": as_number(r.get("won_revenue"))} for r in actual
    ]
    spec = ch.spec(
        "line",
        rows,
        title="Won revenue through partners: actual, then forecast in its 80% band",
        unit=w.unit("won_revenue"),
        currency=w.currency,
    )
    if rows and rows[-1]["value"] is not None:
        # the forecast line starts at the last actual, so that the two read as one series
        last = rows[-1]["value"]
        spec["datasets"]["values"][-1].update({"forecast": last, "lo_80": last, "hi_80": last})
    spec["datasets"]["values"] += [
        {"period": r["label"], "forecast": r["forecast"], "lo_80": r["lo_80"], "hi_80": r["hi_80"]}
        for r in forecast
    ]
    spec.pop("usermeta", None)
    domain = [row["period"] for row in spec["datasets"]["values"]]
    x = {**spec["layer"][0]["encoding"]["x"], "scale": {"domain": domain}}
    spec["layer"][0]["encoding"]["x"] = x
    spec["layer"][0]["mark"]["color"] = ch.INK
    data_ref = spec["layer"][0]["data"]
    spec["layer"][1:1] = [
        {
            "data": data_ref,
            "mark": {"type": "area", "color": ch.ACCENT, "opacity": 0.18},
            "encoding": {
                "x": x,
                "y": {"field": "lo_80", "type": "quantitative"},
                "y2": {"field": "hi_80"},
            },
        },
        {
            "data": data_ref,
            "mark": {"type": "line", "point": True, "color": ch.ACCENT, "strokeDash": [4, 3]},
            "encoding": {
                "x": x,
                "y": {"field": "forecast", "type": "quantitative"},
                "tooltip": [
                    {"field": "period", "type": "ordinal"},
                    {"field": "forecast", "type": "quantitative", "format": ",.0f"},
                ],
            },
        },
    ]
    return spec


#: The figures the summary leaves out when the data cannot show them, and why, in words.
LEFT_OUT = {
    "channel_revenue_share": "left out: the data has no direct deals, so every deal is a "
    "partner's and the share would read 100 %",
    "share_partners_at_quota": "left out: no quotas are loaded",
    "revenue_growth_yoy": "left out: the data does not reach a year before this period",
    "coverage": "left out: no target accounts are loaded",
    "control_index": "left out: no compliance scores are loaded",
    "mdf_roi": "left out, with the MDF section: no MDF spend is loaded",
    "mdf_pipeline_ratio": "left out: no MDF spend is loaded",
}


def _shown(metric: str, portfolio: list[dict[str, Any]]) -> bool:
    """Whether the run's portfolio values can show ``metric``: a value in some period (and,
    for the channel's share, some revenue that is not the partners')."""
    values = [as_number(r.get(metric)) for r in portfolio]
    known = [v for v in values if v is not None and not math.isnan(v)]
    if metric == "channel_revenue_share":
        return any(v < 1 - 1e-9 for v in known)
    return bool(known)


def _scored(data: RunData, start: Any) -> int:
    """Partners scored in the period (a run stored before partners could be left out: all)."""
    import pyarrow.compute as pc

    cards = data.scorecards.table
    cards = cards.filter(pc.equal(cards["period_start"], start))
    if "scored" not in cards.column_names:
        return int(cards.num_rows)
    scored: int = pc.sum(cards["scored"].cast("int64")).as_py() or 0
    return scored


def not_scored_sentence(reasons: Mapping[str, str], label: str) -> str:
    """``4 partners not scored in FY2024-Q2, so in no tier: 3 inactive, 1 not yet in the
    program in this period.`` Counted by reason, not named: the web dashboard shows a partner
    manager this summary, with the lists that name partners made of their own partners only.
    Empty when every partner was scored."""
    if not reasons:
        return ""
    n = len(reasons)
    head = f"{n:,} {'partner' if n == 1 else 'partners'} not scored in {label}, so in no tier: "
    by_reason = Counter(why.removesuffix(" — not scored") for why in reasons.values())
    counted = sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))
    return head + ", ".join(f"{count:,} {why[:1].lower()}{why[1:]}" for why, count in counted) + "."


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

    words = w.words

    def row(change: float, pid: str, score: float, old: float, direction: str) -> dict[str, Any]:
        signed = words.number(abs(change), digits=1)
        return {
            "partner_id": pid,
            "name": data.partner_name(pid),
            "score": Figure("score", score, words.number(score, digits=1)),
            "previous": Figure("score", old, words.number(old, digits=1)),
            "change": Figure("score_change", change, ("+" if change > 0 else "−") + signed),
            "direction": direction,
        }

    return {
        "risers": [row(d, p, s, o, "up") for d, p, s, o in reversed(changes[-n:]) if d > 0],
        "decliners": [row(d, p, s, o, "down") for d, p, s, o in changes[:n] if d < 0],
    }


def _flag_counts(data: RunData, w: Writer) -> list[dict[str, Any]]:
    flags = data.flags.table.to_pylist()
    kinds = sorted({f["flag"] for f in flags})
    return [
        {
            "flag": k,
            "flag_text": w.words.flag(k),
            "good": k == "high_potential",
            "partners": len({f["partner_id"] for f in flags if f["flag"] == k}),
        }
        for k in kinds
    ]


def _decisions(data: RunData, w: Writer) -> dict[str, Any]:
    """Signals fired and reviews due on the run, from the decisions committed: said in words
    (what happened and when the review is due), not as the commands that record a review."""
    from partnerscope.decisions.service import Decisions

    decisions = Decisions(data.workspace)
    records = decisions.store.records()
    if not records:
        return {"records": [], "alerts": []}
    today = data.run.as_of_time.date()
    alerts, _ = decisions.check(today=today, run_id=data.run.run_id)
    by_id = {r.decision_id: r for r in records}
    words = w.words
    said = []
    for a in alerts:
        record = by_id.get(a.decision_id)
        name = f"{record.ref} {record.title}" if record else f"Decision {a.decision_id}"
        if a.kind == "review_due":
            when = words.date(a.due_on) if a.due_on else MISSING
            late = a.due_on is not None and a.due_on < today
            message = f"{name}: review due on {when}" + (" — overdue" if late else "")
        elif a.kind == "signal_fired":
            what = (
                "stop condition met"
                if "stop condition met" in a.message
                else "reversal signal fired"
            )
            message = f"{name}: {what} — the decision should be reviewed"
        else:
            message = f"{name}: a signal of this decision cannot be checked on this run"
        said.append({"kind": words.alert_kind(str(a.kind)), "message": message})
    return {
        "records": [
            {
                "ref": r.ref,
                "title": r.title,
                "status": r.status.value.replace("_", " ").capitalize(),
                "owner": r.owner or MISSING,
            }
            for r in records
        ],
        "alerts": said,
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
                "group_text": w.words.partner_type(r["group_key"]),
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
