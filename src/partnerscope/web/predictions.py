"""The served run's predictions as the pages and the API show them: read once per run from
its prediction files (predict/store.py), indexed by partner, and put in words.

A run made before predictions (or with ``[predict] enabled = false``) has none: ``present``
is then false and every page says "No predictions in this run". Predictions are the vendor's
own judgements of a partner: only staff routes read them (never a partner user's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partnerscope.predict import store
from partnerscope.predict.outlook import risk_question

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings
    from partnerscope.web.current import Served

NONE_YET = "No predictions in this run"
#: how many scored deals the partner page lists (the API gives them all)
DEALS_SHOWN = 25


@dataclass(frozen=True)
class Predictions:
    """One run's predictions: its document (predictions.json) and its rows by key."""

    #: predictions.json (None: the run has no predictions)
    document: dict[str, Any] | None
    #: (level, group_key, grain) → the forecast rows of the series, by step
    forecast: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: partner id → its risk row
    risk: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the scored open deals with a partner, by partner (a million rows stay in Arrow: a
    #: partner's are read when its page or API asks)
    deal_table: pa.Table | None = None
    #: partner id → (first row, rows) of its deals in ``deal_table``
    deal_spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.document is not None

    def deals(self, partner_id: str) -> list[dict[str, Any]]:
        """The partner's scored open deals, largest expected value first."""
        span = self.deal_spans.get(partner_id)
        if span is None or self.deal_table is None:
            return []
        rows = [_finite(r) for r in self.deal_table.slice(*span).to_pylist()]
        rows.sort(key=lambda r: (-(r["expected_value"] or 0.0), r["opportunity_id"]))
        return rows

    def series(self, level: str, key: str, grain: str = "quarter") -> list[dict[str, Any]]:
        return self.forecast.get((level, key, grain), [])

    def backtest(self, section: str) -> dict[str, Any]:
        """A model's backtest section (n, measures, reason, reliability, detail)."""
        backtest = (self.document or {}).get("backtest") or {}
        found: dict[str, Any] = backtest.get(section) or {}
        return found

    @property
    def model(self) -> dict[str, Any]:
        found: dict[str, Any] = (self.document or {}).get("model") or {}
        return found


def of(served: Served) -> Predictions:
    """The served run's predictions (read once per run)."""
    return served.built(("predictions",), lambda: read(served.data.folder))


def read(folder: Any) -> Predictions:
    """The predictions stored in a run folder."""
    document = store.read_predictions(folder)
    if document is None:
        return Predictions(None)
    forecast: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    table = store.read_table(folder, store.FORECAST)
    if table is not None:
        for row in table.sort_by([("step", "ascending")]).to_pylist():
            key = (row["level"], row["group_key"], row["grain"])
            forecast.setdefault(key, []).append(_finite(row))
    risk: dict[str, dict[str, Any]] = {}
    table = store.read_table(folder, store.RISK)
    if table is not None:
        risk = {row["partner_id"]: _finite(row) for row in table.to_pylist()}
    deals = store.read_table(folder, store.DEALS)
    spans: dict[str, tuple[int, int]] = {}
    if deals is not None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        deals = deals.filter(pc.is_valid(deals["partner_id"])).sort_by("partner_id")
        if "account_name" not in deals.column_names:  # a run scored before names were kept
            at = deals.column_names.index("account_id") + 1
            deals = deals.add_column(at, "account_name", pa.nulls(deals.num_rows, pa.string()))
        ids = deals["partner_id"].to_numpy(zero_copy_only=False)
        if len(ids):
            found, first, counts = np.unique(ids, return_index=True, return_counts=True)
            spans = {
                str(pid): (int(i), int(n)) for pid, i, n in zip(found, first, counts, strict=True)
            }
    return Predictions(document, forecast, risk, deals, spans)


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}


# ------------------------------------------------------------------------------ in words


def forecast_sentence(rows: list[dict[str, Any]], predictions: Predictions, words: Words) -> str:
    """What the forecast of a series rests on (:func:`partnerscope.predict.outlook.skill_sentence`
    with its level's backtest)."""
    from partnerscope.predict.outlook import level_section, skill_sentence

    if not rows:
        return "No forecast for this series in this run."
    section = level_section(predictions.document or {}, rows[0]["level"])
    return skill_sentence(rows[0], section, words)


def risk_words(row: dict[str, Any], settings: PredictSettings, words: Words) -> dict[str, Any]:
    """A partner's risk as the page says it: the sentence, its alert, its factors."""
    chance = words.share(row["probability"], digits=0)
    alert = None
    if row["alert"] == "high":
        alert = "High risk"
    elif row["alert"] == "rising":
        before = words.share(row["previous"], digits=0) if row["previous"] is not None else None
        alert = f"Rising from {before}" if before else "Rising"
    skill = bool(row["skill"])
    return {
        "probability": row["probability"],
        "sentence": f"{chance} chance of {risk_question(settings, words)}.",
        "alert": alert,
        "skill": skill,
        "no_skill": (
            None
            if skill
            else "No measured skill: the model did not beat the base rate in its backtest, so "
            f"this is the base rate ({words.share(row['base_rate'], digits=0)} of partners "
            "fell short)."
        ),
        "as_of": row["label"],
        "factors": [factor_words(f, "risk") for f in row["factors"]],
    }


def factor_words(factor: dict[str, Any], what: str) -> dict[str, Any]:
    """A factor: its sentence, and whether it raises or lowers ``what`` (risk, the chance)."""
    up = float(factor["effect"]) > 0
    return {
        "text": factor["text"],
        "up": up,
        "effect": f"raises {what}" if up else f"lowers {what}",
    }


def top_factor(row: dict[str, Any]) -> dict[str, Any] | None:
    factors = sorted(row["factors"], key=lambda f: -abs(float(f["effect"])))
    return factor_words(factors[0], "the chance") if factors else None


def next_quarter(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first forecast period of a series (None without a forecast)."""
    first = next((r for r in rows if r["step"] == 1), None)
    return first if first is not None and first["forecast"] is not None else None


def channel_share(predictions: Predictions) -> tuple[str, float] | None:
    """(label, share) of the next quarter's forecast: the partners' forecast revenue over the
    company's (None without both forecasts)."""
    partners = next_quarter(predictions.series("portfolio", "all"))
    company = next_quarter(predictions.series("company", "all"))
    if partners is None or company is None or not company["forecast"]:
        return None
    return str(partners["label"]), float(partners["forecast"]) / float(company["forecast"])


# ---------------------------------------------------------------------------------- charts


def forecast_chart(
    actuals: list[tuple[str, float | None]],
    rows: list[dict[str, Any]],
    *,
    currency: str,
    title: str,
) -> dict[str, Any]:
    """Won revenue per quarter, then the forecast as a dashed line in its 80 % and 95 %
    bands (Vega-Lite; the band starts at the last actual so the two read as one line)."""
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports import charts as ch

    values: list[dict[str, Any]] = [
        {"period": label, "actual": value} for label, value in actuals if value is not None
    ]
    ahead = [r for r in rows if r["forecast"] is not None]
    if values and ahead:
        last = values[-1]["actual"]
        values[-1] |= dict.fromkeys(("forecast", "lo_80", "hi_80", "lo_95", "hi_95"), last)
    for r in ahead:
        values.append(
            {
                "period": r["label"],
                "forecast": r["forecast"],
                "lo_80": r["lo_80"],
                "hi_80": r["hi_80"],
                "lo_95": r["lo_95"],
                "hi_95": r["hi_95"],
            }
        )
    axis: dict[str, Any] = {"format": "~s", "title": None}
    label = ch._label_expr(Unit.MONEY, currency)
    if label:
        axis["labelExpr"] = label
    x = {
        "field": "period",
        "type": "ordinal",
        "sort": None,
        "title": None,
        "axis": {"labelAngle": -40},
    }
    money = {"type": "quantitative", "format": ",.0f"}

    def band(low: str, high: str, opacity: float, name: str) -> dict[str, Any]:
        return {
            "mark": {"type": "area", "color": ch.ACCENT, "opacity": opacity},
            "encoding": {
                "x": x,
                "y": {"field": low, "type": "quantitative", "axis": axis},
                "y2": {"field": high},
                "tooltip": [
                    {"field": "period", "type": "ordinal", "title": "Quarter"},
                    {"field": low, **money, "title": f"{name} low"},
                    {"field": high, **money, "title": f"{name} high"},
                ],
            },
        }

    layers = [
        band("lo_95", "hi_95", 0.15, "95% interval"),
        band("lo_80", "hi_80", 0.3, "80% interval"),
        {
            "mark": {"type": "line", "color": ch.ACCENT, "strokeDash": [5, 4], "point": True},
            "encoding": {
                "x": x,
                "y": {"field": "forecast", "type": "quantitative", "axis": axis},
                "tooltip": [
                    {"field": "period", "type": "ordinal", "title": "Quarter"},
                    {"field": "forecast", **money, "title": "Forecast"},
                ],
            },
        },
        {
            "mark": {"type": "line", "color": ch.INK, "point": True},
            "encoding": {
                "x": x,
                "y": {"field": "actual", "type": "quantitative", "axis": axis},
                "tooltip": [
                    {"field": "period", "type": "ordinal", "title": "Quarter"},
                    {"field": "actual", **money, "title": "Won revenue"},
                ],
            },
        },
    ]
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "data": {"values": values},
        "layer": layers,
        "width": "container",
        "height": 180,
        "config": ch.template("line")["config"],
        "autosize": {"type": "fit", "contains": "padding"},
    }
    if not values:
        spec["usermeta"] = {"empty": "No won revenue yet"}
    return spec


def reliability_chart(bins: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Predicted against observed rate by decile, with the diagonal of a perfectly calibrated
    model for reference (Vega-Lite)."""
    from partnerscope.reports import charts as ch

    values = [
        {"predicted": b["predicted"], "observed": b["observed"], "cases": b["cases"]}
        for b in bins
        if b.get("predicted") is not None and b.get("observed") is not None
    ]
    share = {
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {"format": ".0%", "tickCount": 5},
    }
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "layer": [
            {
                "data": {"values": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]},
                "mark": {"type": "line", "color": ch.MUTED, "strokeDash": [4, 3]},
                "encoding": {
                    "x": {"field": "x", **share, "title": "Predicted"},
                    "y": {"field": "y", **share, "title": "Observed"},
                },
            },
            {
                "data": {"values": values},
                "mark": {"type": "line", "color": ch.ACCENT, "point": True},
                "encoding": {
                    "x": {"field": "predicted", **share, "title": "Predicted"},
                    "y": {"field": "observed", **share, "title": "Observed"},
                    "tooltip": [
                        {"field": "predicted", "type": "quantitative", "format": ".0%"},
                        {"field": "observed", "type": "quantitative", "format": ".0%"},
                        {"field": "cases", "type": "quantitative"},
                    ],
                },
            },
        ],
        "width": "container",
        "height": 220,
        "config": ch.template("line")["config"],
        "autosize": {"type": "fit", "contains": "padding"},
    }
    if not values:
        spec["usermeta"] = {"empty": "No backtest cases"}
    return spec
