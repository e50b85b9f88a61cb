"""One series' stored forecast read back from a run, and its backtest said in words.

What the executive summary, decision evidence and the scenario model's calibration show of a
run's forecast: the rows of one level × group × grain in step order (:func:`series_forecast`)
and one sentence of how good the method was in the backtest (:func:`skill_sentence`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.predict.store import FORECAST, read_predictions, read_table, summary

if TYPE_CHECKING:
    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings


def series_forecast(
    folder: Path, level: str, group_key: str, grain: str = "quarter"
) -> list[dict[str, Any]] | None:
    """The forecast rows of one series in step order; None when the run stored no forecast
    (made before predictions, or with ``[predict] enabled = false``), [] when the run has a
    forecast but not of this series."""
    import pyarrow.compute as pc

    table = read_table(folder, FORECAST)
    if table is None:
        return None
    mask = pc.and_(
        pc.and_(pc.equal(table["level"], level), pc.equal(table["group_key"], group_key)),
        pc.equal(table["grain"], grain),
    )
    rows: list[dict[str, Any]] = table.filter(mask).sort_by("step").to_pylist()
    return rows


def backtest_section(folder: Path, level: str | None = None) -> dict[str, Any]:
    """The forecast backtest of the run's ``predictions.json`` ({} without one): the measures
    of ``level``'s series when the backtest has them (its ``detail``), else the headline (the
    partners' cases)."""
    return level_section(read_predictions(folder) or {}, level)


def level_section(document: dict[str, Any], level: str | None = None) -> dict[str, Any]:
    """:func:`backtest_section` of a ``predictions.json`` already read."""
    backtests = document.get("backtest", document)
    section = backtests.get("forecast") if isinstance(backtests, dict) else None
    if not isinstance(section, dict):
        return {}
    levels = (section.get("detail") or {}).get("levels") or {}
    mine = levels.get(level) if level is not None else None
    if isinstance(mine, dict) and mine.get("n"):
        return {**mine, "reason": section.get("reason")}
    return section


def improvement(row: dict[str, Any]) -> float | None:
    """How much lower the chosen method's backtest MASE is than the better baseline's (0.12:
    12 % lower), None when either is unknown."""
    mase, base = row.get("mase"), row.get("mase_baseline")
    if mase is None or base is None or base <= 0:
        return None
    return 1.0 - float(mase) / float(base)


def skill_sentence(row: dict[str, Any], backtest: dict[str, Any], words: Words) -> str:
    """``Chosen by backtest: AutoETS had 12.0 % lower error than the better of a trailing mean
    and the same period a year before over 16 cases; its 80% intervals held 81.2 % of the
    actuals.`` or ``No measured skill: the forecast is the trailing mean, ...``"""
    method = row.get("method")
    if method is None:
        note = str(row.get("note") or "no forecast: too little history").strip().rstrip(".")
        return f"{note[:1].upper()}{note[1:]}."
    n = int(backtest.get("n") or 0)
    cases = f" over {n:,} {'case' if n == 1 else 'cases'}" if n else ""
    if not row.get("skill"):
        return (
            f"No measured skill: the forecast is the {method}, the better baseline in the "
            f"backtest{cases}."
        )
    gain = improvement(row)
    lower = f"{words.share(gain)} lower error" if gain is not None else "a lower error"
    coverage = backtest.get("coverage_80")
    held = (
        f"; its 80% intervals held {words.share(coverage)} of the actuals"
        if coverage is not None
        else ""
    )
    return (
        f"Chosen by backtest: {method} had {lower} than the better of a trailing mean and "
        f"the same period a year before{cases}{held}."
    )


def risk_question(settings: PredictSettings, words: Words) -> str:
    """What a partner's risk is the probability of: "falling short of half its quota (or of its
    own trailing level) in the next two quarters"."""
    share = "half" if settings.risk_share == 0.5 else words.share(settings.risk_share, digits=0)
    n = settings.risk_quarters
    ahead = "the next quarter" if n == 1 else f"the next {COUNT_WORDS.get(n, str(n))} quarters"
    return f"falling short of {share} its quota (or of its own trailing level) in {ahead}"


COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def verdict(section: str, backtest: dict[str, Any] | None, words: Words) -> tuple[bool, str]:
    """(measured skill, the sentence that says so) of one model's backtest section (``forecast``,
    ``risk`` or ``deals`` of ``predictions.json``; None: the run stored none)."""
    short = summary(section, backtest)
    n = words.number(short["n"])
    if short["reason"]:
        return False, f"Not backtested: {short['reason']}."
    if section == "forecast":
        mase = short["mase"]
        base = [v for v in (short["mase_seasonal_naive"], short["mase_trailing_mean"]) if v]
        if mase is None or not base:
            return False, "No measured skill: the backtest had no error to compare."
        best = min(base)
        if mase < best:
            return True, (
                f"Measured skill: over {n} backtest forecasts, the chosen methods erred "
                f"{words.share(1 - mase / best, digits=0)} less than the better baseline."
            )
        return False, (
            f"No measured skill: over {n} backtest forecasts, the chosen methods did not beat "
            "the better baseline, so the baselines are the forecasts where they did better."
        )
    brier, base_rate = short["brier"], short["brier_base_rate"]
    what = "partners" if section == "risk" else "deals"
    if brier is None or base_rate is None:
        return False, "No measured skill: the backtest had no cases to score."
    if brier < base_rate:
        return True, (
            f"Measured skill: over {n} {what} in the backtest, the probabilities erred less "
            f"than always saying the base rate (a Brier score "
            f"{words.share(1 - brier / base_rate, digits=0)} lower)."
        )
    return False, (
        f"No measured skill: over {n} {what} in the backtest, the model did no better than "
        "always saying the base rate, which is what it shows instead."
    )
