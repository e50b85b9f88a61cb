"""Predictions: "How good are these predictions?" (``/predictions``: each model's backtest in
words and numbers, reliability charts, the portfolio forecast, the partners by risk) and the
REST twins of the page and of a partner's forecast, risk and scored open deals.

Vendor staff only: a forecast, a risk and a win probability are the vendor's judgements of a
partner, never shown to a partner user (403). A partner manager sees the risk of their own
partners only; a partner they may not see is answered 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.predict.outlook import risk_question, verdict
from partnerscope.web import predictions as pr
from partnerscope.web.render import page
from partnerscope.web.routes.partners import VENDOR
from partnerscope.web.security import Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["predictions"])

Vendor = Annotated[Ctx, Depends(allow(*VENDOR))]
Grain = Annotated[Literal["quarter", "month"], Query(description="quarters or months ahead")]
#: the backtest measures of each model, in words
MEASURES = {
    "mase": "Error of the chosen forecasts (MASE)",
    "mase_seasonal_naive": "Error of the seasonal naive baseline (MASE)",
    "mase_trailing_mean": "Error of the trailing-mean baseline (MASE)",
    "coverage_80": "Actuals inside the 80% interval",
    "coverage_95": "Actuals inside the 95% interval",
    "auc": "Ranking of who falls short / wins (ROC AUC; 50 % is a coin toss)",
    "brier": "Probability error (Brier score; lower is better)",
    "brier_base_rate": "Probability error of always saying the base rate",
}
TITLES = {
    "forecast": "Revenue forecast",
    "risk": "Partner risk",
    "deals": "Deal win probability",
}
#: how many partners the page lists by risk (the API lists them all)
RISKS_SHOWN = 50
#: where the methods, features and limits are described
DOCS = "docs/predictions.md"


# ------------------------------------------------------------------------- the models


class Bin(BaseModel):
    decile: int
    cases: int
    predicted: float
    observed: float


class Backtest(BaseModel):
    """One model's rolling-origin backtest: null measures and a reason when the data cannot
    support it."""

    n: int
    reason: str | None
    #: whether the model beat its baseline (the better baseline's MASE, the base rate's Brier)
    skill: bool
    sentence: str
    measures: dict[str, float | None]
    reliability: list[Bin]


class Quarter(BaseModel):
    """A quarter ahead: the won revenue forecast through partners (the portfolio) and of the
    company (partners and direct), with intervals, and the channel share they make."""

    label: str
    portfolio: float | None
    portfolio_lo_80: float | None
    portfolio_hi_80: float | None
    portfolio_lo_95: float | None
    portfolio_hi_95: float | None
    company: float | None
    company_lo_80: float | None
    company_hi_80: float | None
    channel_share: float | None


class PartnerRisk(BaseModel):
    partner_id: str
    name: str
    probability: float
    #: "high", "rising" or null
    alert: str | None
    skill: bool


class PredictionsOut(BaseModel):
    """The served run's predictions: the model versions and seed, each model's backtest, the
    portfolio forecast against the channel goal and the caller's partners by risk (the page
    "How good are these predictions?" as data)."""

    run_id: int
    present: bool
    message: str | None
    as_of: str | None
    model: dict[str, str | int]
    backtest: dict[str, Backtest]
    channel_goal: float
    portfolio: list[Quarter]
    #: the caller's partners with a high or rising risk
    at_risk: int
    risks: list[PartnerRisk]


def backtest(p: pr.Predictions, section: str, words: Any) -> Backtest:
    """A model's backtest with a sentence saying whether it has measured skill."""
    from partnerscope.predict.store import summary

    found = p.backtest(section)
    short = summary(section, found)
    measures = {k: _number(v) for k, v in short.items() if k not in ("n", "reason")}
    skill, sentence = verdict(section, found, words)
    bins = [
        Bin(
            decile=int(b["decile"]),
            cases=int(b["cases"]),
            predicted=float(b["predicted"]),
            observed=float(b["observed"]),
        )
        for b in found.get("reliability") or []
        if b.get("predicted") is not None and b.get("observed") is not None
    ]
    return Backtest(
        n=short["n"],
        reason=short["reason"],
        skill=skill,
        sentence=sentence,
        measures=measures,
        reliability=bins,
    )


def _number(value: Any) -> float | None:
    import math

    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def summary_out(ctx: Ctx) -> PredictionsOut:
    p = pr.of(ctx.run)
    words = ctx.workspace.words
    goal = ctx.workspace.config.reports.goals.get("channel_revenue_share", 0.6)
    if not p.present:
        return PredictionsOut(
            run_id=ctx.run.run_id,
            present=False,
            message=pr.NONE_YET,
            as_of=None,
            model={},
            backtest={},
            channel_goal=goal,
            portfolio=[],
            at_risk=0,
            risks=[],
        )
    document = p.document or {}
    model = {k: v for k, v in p.model.items() if isinstance(v, str | int)}
    risks = [
        PartnerRisk(
            partner_id=r["partner_id"],
            name=r["name"],
            probability=r["probability"],
            alert=r["alert"],
            skill=bool(r["skill"]),
        )
        for r in risk_rows(ctx)
    ]
    return PredictionsOut(
        run_id=ctx.run.run_id,
        present=True,
        message=None,
        as_of=document.get("as_of"),
        model=model,
        backtest={s: backtest(p, s, words) for s in TITLES},
        channel_goal=goal,
        portfolio=[_quarter(q) for q in portfolio_forecast(ctx)],
        at_risk=sum(1 for r in risks if r.alert),
        risks=risks,
    )


def _quarter(row: dict[str, Any]) -> Quarter:
    mine, company = row["portfolio"] or {}, row["company"] or {}
    return Quarter(
        label=row["label"],
        portfolio=mine.get("forecast"),
        portfolio_lo_80=mine.get("lo_80"),
        portfolio_hi_80=mine.get("hi_80"),
        portfolio_lo_95=mine.get("lo_95"),
        portfolio_hi_95=mine.get("hi_95"),
        company=company.get("forecast"),
        company_lo_80=company.get("lo_80"),
        company_hi_80=company.get("hi_80"),
        channel_share=row["share"],
    )


@api.get("/predictions", response_model=PredictionsOut)
def predictions_api(ctx: Vendor) -> PredictionsOut:
    """The served run's prediction models: versions, seed and each one's backtest (forecast:
    MASE of the chosen method and of each baseline, interval coverage; risk and deals: ROC
    AUC, Brier score and the base rate's, reliability by decile), with the number of cases;
    the portfolio forecast of the next quarters with its channel share, and the partners the
    caller may see by risk, highest first."""
    return summary_out(ctx)


# ------------------------------------------------------------------ the portfolio page


def portfolio_forecast(ctx: Ctx) -> list[dict[str, Any]]:
    """The partners' (portfolio) and the company's forecast of the next quarters, with the
    channel share of each quarter."""
    p = pr.of(ctx.run)
    partners = {r["label"]: r for r in p.series("portfolio", "all")}
    company = {r["label"]: r for r in p.series("company", "all")}
    out = []
    for label in dict.fromkeys([*partners, *company]):
        mine, all_ = partners.get(label), company.get(label)
        share = None
        if mine and all_ and mine["forecast"] is not None and all_["forecast"]:
            share = mine["forecast"] / all_["forecast"]
        out.append({"label": label, "portfolio": mine, "company": all_, "share": share})
    return out


def risk_rows(ctx: Ctx, *, alerts_only: bool = False) -> list[dict[str, Any]]:
    """The partners the caller may see by risk, highest first (only those with a high or
    rising risk with ``alerts_only``)."""
    p = pr.of(ctx.run)
    name = ctx.partner_names()
    rows = [
        {**row, "name": name(pid)}
        for pid, row in p.risk.items()
        if ctx.can_see(pid) and (row["alert"] or not alerts_only)
    ]
    rows.sort(key=lambda r: (-r["probability"], r["partner_id"]))
    return rows


def outlook(ctx: Ctx) -> dict[str, Any]:
    """The dashboard's line: next quarter's portfolio forecast with its interval, its channel
    share against the goal, and how many of the caller's partners have a high or rising risk."""
    p = pr.of(ctx.run)
    if not p.present:
        return {"present": False}
    goal = ctx.workspace.config.reports.goals.get("channel_revenue_share", 0.6)
    return {
        "present": True,
        "next": pr.next_quarter(p.series("portfolio", "all")),
        "share": pr.channel_share(p),
        "goal": goal,
        "at_risk": len(risk_rows(ctx, alerts_only=True)),
    }


@pages.get("/predictions", response_class=HTMLResponse)
def predictions_page(request: Request, ctx: Vendor, risk: str | None = None) -> HTMLResponse:
    """How good are these predictions: each model's backtest, the portfolio forecast and the
    partners by risk (``risk=alert``: only a high or rising risk)."""
    summary = summary_out(ctx)
    p = pr.of(ctx.run)
    charts = {
        s: pr.reliability_chart(
            [b.model_dump() for b in summary.backtest[s].reliability],
            f"{TITLES[s]}: predicted against observed, by decile",
        )
        for s in ("risk", "deals")
        if s in summary.backtest
    }
    alerts_only = risk == "alert"
    risks = risk_rows(ctx, alerts_only=alerts_only) if p.present else []
    settings = ctx.workspace.config.predict
    words = ctx.workspace.words
    return page(
        request,
        ctx,
        "predictions.html.j2",
        title="How good are these predictions?",
        summary=summary,
        present=p.present,
        none_yet=pr.NONE_YET,
        titles=TITLES,
        measures=MEASURES,
        charts=charts,
        forecast=portfolio_forecast(ctx) if p.present else [],
        outlook=outlook(ctx),
        risks=[{**r, "words": pr.risk_words(r, settings, words)} for r in risks[:RISKS_SHOWN]],
        risks_total=len(risks),
        alerts_only=alerts_only,
        question=risk_question(settings, words),
        docs=DOCS,
    )


# ------------------------------------------------------------------- a partner's predictions


class Point(BaseModel):
    label: str
    period_start: date
    step: int
    forecast: float | None
    lo_80: float | None
    hi_80: float | None
    lo_95: float | None
    hi_95: float | None
    seasonal_naive: float | None
    trailing_mean: float | None


class ForecastOut(BaseModel):
    """A partner's won-revenue forecast: the method chosen by backtest (or the baseline it
    falls back to), with 80 % and 95 % intervals; no periods with too little history."""

    partner_id: str
    present: bool
    grain: str
    sentence: str
    method: str | None
    skill: bool
    note: str | None
    periods: list[Point]


class Factor(BaseModel):
    feature: str
    text: str
    #: contribution to the log-odds: positive raises the probability
    effect: float
    raises: bool


class RiskOut(BaseModel):
    """A partner's risk of falling short, with its alert and top factors."""

    partner_id: str
    present: bool
    sentence: str
    as_of: str | None
    probability: float | None
    base_rate: float | None
    skill: bool
    previous: float | None
    #: "high", "rising" or null
    alert: str | None
    factors: list[Factor]


class Deal(BaseModel):
    opportunity_id: str
    account_id: str | None
    #: the account's name in the warehouse when the deal was scored (null: none known)
    account_name: str | None
    product: str | None
    stage: str | None
    amount: float | None
    age_days: int
    probability: float
    expected_value: float | None
    skill: bool
    factors: list[Factor]


class DealsOut(BaseModel):
    """A partner's open deals scored, largest expected value first, and the open pipeline's
    expected value beside the next quarter's forecast."""

    partner_id: str
    present: bool
    open_pipeline: float
    expected_value: float
    next_quarter: str | None
    next_quarter_forecast: float | None
    deals: list[Deal]


def _factors(rows: list[dict[str, Any]]) -> list[Factor]:
    return [
        Factor(feature=f["feature"], text=f["text"], effect=f["effect"], raises=f["effect"] > 0)
        for f in rows
    ]


def forecast_out(ctx: Ctx, pid: str, grain: str = "quarter") -> ForecastOut:
    p = pr.of(ctx.run)
    rows = p.series("partner", pid, grain)
    first = rows[0] if rows else {}
    return ForecastOut(
        partner_id=pid,
        present=p.present,
        grain=grain,
        sentence=pr.forecast_sentence(rows, p, ctx.workspace.words) if p.present else pr.NONE_YET,
        method=first.get("method"),
        skill=bool(first.get("skill")),
        note=first.get("note"),
        periods=[Point(**{k: r[k] for k in Point.model_fields}) for r in rows],
    )


def risk_out(ctx: Ctx, pid: str) -> RiskOut:
    p = pr.of(ctx.run)
    row = p.risk.get(pid)
    if row is None:
        sentence = pr.NONE_YET if not p.present else "No risk score for this partner."
        return RiskOut(
            partner_id=pid,
            present=p.present,
            sentence=sentence,
            as_of=None,
            probability=None,
            base_rate=None,
            skill=False,
            previous=None,
            alert=None,
            factors=[],
        )
    said = pr.risk_words(row, ctx.workspace.config.predict, ctx.workspace.words)
    return RiskOut(
        partner_id=pid,
        present=True,
        sentence=said["sentence"],
        as_of=row["label"],
        probability=row["probability"],
        base_rate=row["base_rate"],
        skill=bool(row["skill"]),
        previous=row["previous"],
        alert=row["alert"],
        factors=_factors(row["factors"]),
    )


def deals_out(ctx: Ctx, pid: str) -> DealsOut:
    p = pr.of(ctx.run)
    rows = p.deals(pid)
    nxt = pr.next_quarter(p.series("partner", pid))
    return DealsOut(
        partner_id=pid,
        present=p.present,
        open_pipeline=sum(r["amount"] or 0.0 for r in rows),
        expected_value=sum(r["expected_value"] or 0.0 for r in rows),
        next_quarter=nxt["label"] if nxt else None,
        next_quarter_forecast=nxt["forecast"] if nxt else None,
        deals=[
            Deal(
                **{k: r[k] for k in Deal.model_fields if k != "factors"},
                factors=_factors(r["factors"]),
            )
            for r in rows
        ],
    )


@api.get("/partners/{partner_id}/forecast", response_model=ForecastOut)
def partner_forecast_api(ctx: Vendor, partner_id: str, grain: Grain = "quarter") -> ForecastOut:
    """A partner's won-revenue forecast for the next quarters (or months), with intervals."""
    return forecast_out(ctx, ctx.partner(partner_id), grain)


@api.get("/partners/{partner_id}/risk", response_model=RiskOut)
def partner_risk_api(ctx: Vendor, partner_id: str) -> RiskOut:
    """A partner's probability of falling short in the next quarters, with its factors."""
    return risk_out(ctx, ctx.partner(partner_id))


@api.get("/partners/{partner_id}/deals", response_model=DealsOut)
def partner_deals_api(ctx: Vendor, partner_id: str) -> DealsOut:
    """A partner's open deals with their win probability, expected value and factors."""
    return deals_out(ctx, ctx.partner(partner_id))
