"""Each open opportunity's win probability, with its top factors, and the expected value of the
open pipeline per partner.

**Cases.** A case is a deal of a partner at a cutoff ``c`` (the first day of a month): the deal
was created at or before ``c`` and not closed by ``c`` (``closed_at`` after ``c``, or still
open). The label is whether it was won. At an origin ``o`` the model learns from the cases at
the cutoffs up to ``o`` whose outcome was known by ``o`` (closed at or before it), and nothing
else: every feature of a case is computed from the deals as they stood at its cutoff.

**Features** (point in time, at the cutoff):

- ``amount``: the deal's amount in the base currency;
- ``age_days``: days since the deal was created;
- ``product`` and ``attribution`` (sourced, influenced);
- ``mdf``: the deal names an MDF activity;
- ``registered``: the deal is a deal registration made in partnerscope (its id is
  ``REG-<n>``, see :mod:`partnerscope.operations.registrations.rows`);
- ``partner_win_rate``: the share of the partner's deals closed in the 365 days before the
  cutoff that were won, shrunk toward the portfolio's share by the number of deals
  (``(won + 10 × portfolio) / (closed + 10)``), and ``partner_closed``, that number;
- ``partner_won_revenue``: the partner's won revenue in those 365 days;
- ``account_won``: the account's deals won before the cutoff (through any partner, or direct),
  and ``account_won_partner``: those won through this partner;
- ``partner_open``: the partner's deals open at the cutoff.

**Not the stage.** The warehouse keeps each deal's latest stage only (a closed deal reads
"Closed Won" or "Closed Lost"), so a deal's stage at a past cutoff is unknown and using it
would leak the outcome into the training cases. For the same reason the amount, product and
attribution are the deal's latest values: a source that rewrites them when the deal closes
makes the backtest look better than it is.

**Model.** Gradient-boosted stumps (LightGBM with two leaves per tree: single-threaded,
seeded, deterministic), trained on the cases at the earlier cutoffs and calibrated on the later
ones (out of time: isotonic regression with 2,000 calibration cases or more, else Platt
scaling), with early stopping on the calibration cases. Stumps make the model additive: a deal's
score is a sum of one part per feature, so its factors are exact (each part minus its average
over the training cases: what LightGBM's ``pred_contrib`` gives, computed without it, which is
too slow for a million deals). At most
:data:`~partnerscope.predict.deal_cases.MAX_TRAIN` cases train a model: beyond that the
cases are sampled by a hash of the opportunity id, the cutoff and the seed (the same data and
seed give the same sample, whatever the order of the rows; data after an origin cannot change
the sample at it).

**Backtest.** ``backtest_origins`` quarter starts before the data's end, the last one far
enough back for the deals open then to have closed (the 90th percentile of deal durations,
rounded up to quarters, 1 to 4). At each origin the model is trained as above and scores the
partner deals open at the origin whose outcome is known at the as-of time (at most
:data:`MAX_TEST` per origin, sampled the same way); the cases of every origin are pooled. The
base rate of each origin is the share of won cases in its training data.

**Skill.** When the backtest's Brier score is not below the base rate's (or the data cannot
support a backtest) every open deal gets the base rate as its probability, ``skill`` is false
and its one factor says the model showed no measured skill.

**Modules.** The opportunities as arrays and the features: :mod:`.deal_data`; the training
cases: :mod:`.deal_cases`; the model: :mod:`.deal_model`; the factors in words:
:mod:`.deal_factors`; here, the backtest, the scores and the expected pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.predict import skill
from partnerscope.predict.deal_cases import draw_pool
from partnerscope.predict.deal_data import (
    CATEGORICAL,
    FEATURES,
    Data,
    below_share,
    case_features,
    mix64,
)
from partnerscope.predict.deal_factors import factor_lists, no_skill_factors
from partnerscope.predict.deal_model import fit_at, predict
from partnerscope.predict.store import DEALS_SCHEMA, FACTOR

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings


#: The columns read from the warehouse's ``opportunities`` (amount as a float).
COLUMNS = (
    "opportunity_id",
    "partner_id",
    "attribution",
    "account_id",
    "product",
    "stage",
    "status",
    "amount",
    "created_at",
    "closed_at",
    "mdf_activity_id",
)
#: Scored backtest cases per origin at most (sampled beyond them by hash).
MAX_TEST = 100_000
#: Open deals scored (features, parts and factors) at a time.
SCORE_BATCH = 1_000_000
#: Fewest pooled backtest cases.
MIN_BACKTEST = 50


#: The columns of :func:`expected_pipeline`'s table.
EXPECTED_SCHEMA = pa.schema(
    [
        pa.field("partner_id", pa.string(), nullable=False),
        pa.field("open_deals", pa.int64(), nullable=False),
        pa.field("open_amount", pa.float64(), nullable=False),
        #: Σ probability × amount over the partner's open deals
        pa.field("expected_value", pa.float64(), nullable=False),
        #: the partner's forecast won revenue for the next quarter (null without one)
        pa.field("forecast_next", pa.float64()),
        #: that quarter's label ("FY2027-Q1"); null without a forecast
        pa.field("label", pa.string()),
    ]
)


def snapshot(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The warehouse's opportunities as the model reads them (:data:`COLUMNS`), ordered by id,
    and each open deal's account name from the accounts table (``account_name``; null where
    the account has none, and for the closed deals, which are not scored)."""
    return con.sql(_snapshot_sql(con)).to_arrow_table()


def write_snapshot(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """:func:`snapshot` written by DuckDB straight to a Parquet file: a run takes it while the
    warehouse is open and reads it back only to score the deals, instead of holding ten
    million rows through the evaluation and the forecasts."""
    target = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"COPY ({_snapshot_sql(con)}) TO {target} (FORMAT parquet)")


def _snapshot_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The query of :func:`snapshot`."""
    columns = ", ".join(
        "CAST(o.amount AS DOUBLE) AS amount" if column == "amount" else f"o.{column}"
        for column in COLUMNS
    )
    found = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'accounts'"
    ).fetchall()
    if found[0][0]:
        name = "CASE WHEN o.status = 'open' THEN a.name END"
        join = (
            "LEFT JOIN (SELECT account_id, min(name) AS name FROM accounts GROUP BY account_id) a "
            "ON a.account_id = o.account_id"
        )
    else:
        name, join = "CAST(NULL AS VARCHAR)", ""
    return (
        f"SELECT {columns}, {name} AS account_name FROM opportunities o {join} "
        "ORDER BY o.opportunity_id"
    )


@dataclass(frozen=True)
class DealScores:
    #: :data:`~partnerscope.predict.store.DEALS_SCHEMA`: every open opportunity of a partner
    table: pa.Table
    #: the deals section of the backtest (n, auc, brier, brier_base_rate, reason, reliability,
    #: detail)
    backtest: dict[str, Any]


def features_at(opportunities: pa.Table, at: datetime) -> Any:
    """The features (:data:`FEATURES`) of every partner deal open at ``at`` (created at or
    before it, not closed by it), as they stood then: a DataFrame by ``opportunity_id``."""
    data = Data.of(opportunities, 0, (at,))
    moment = data.seconds(at)
    deal = data.open_at(moment)
    import pandas as pd

    frame = pd.DataFrame(case_features(data, deal, np.full(len(deal), moment, dtype=np.int64)))
    for name in CATEGORICAL:
        values = np.asarray(data.values[name] + [None], dtype=object)
        frame[name] = values[frame[name].to_numpy()]
    frame.insert(0, "opportunity_id", data.ids(deal))
    return frame.drop(columns="_raw_win_rate")


def _quarter_starts_before(moment: datetime, count: int, lag: int) -> list[datetime]:
    """``count`` first days of calendar quarters, the latest ``lag`` quarters before the
    quarter holding ``moment`` (so at least ``lag`` quarters before ``moment``), oldest
    first."""
    quarter = datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1)
    out = []
    for back in range(lag, lag + count):
        months = quarter.year * 12 + quarter.month - 1 - 3 * back
        out.append(datetime(months // 12, months % 12 + 1, 1))
    return sorted(out)


def _lag_quarters(data: Data) -> int:
    """How many quarters before the data's end the last backtest origin lies: the 90th
    percentile of the partner deals' durations, in quarters rounded up, 1 to 4."""
    done = (data.partner >= 0) & data.decided & (data.created != np.iinfo(np.int64).max)
    if not done.any():
        return 1
    days = float(np.percentile((data.closed[done] - data.created[done]) / 86_400, 90))
    return int(min(4, max(1, math.ceil(days / 91.3))))


def _origin_predictions(
    data: Data, origin: datetime, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], float | None, dict[str, Any]]:
    """The deals open at a backtest origin (sampled to :data:`MAX_TEST`) and their
    probability from the model trained at the origin, with its base rate; no deals when no
    model could be trained."""
    o = data.seconds(origin)
    model, cases, reason = fit_at(data, o, seed)
    detail: dict[str, Any] = {"origin": origin.date().isoformat(), "train_cases": cases}
    if model is None:
        detail["reason"] = reason
        return np.zeros(0, dtype=np.intp), np.zeros(0), None, detail
    open_at = data.open_at(o)
    total = len(open_at)
    share = min(1.0, MAX_TEST / total) if total else 1.0
    open_at = open_at[below_share(mix64(data.hashes[open_at] ^ np.uint64(o & 0xFFFFFFFF)), share)]
    frame = case_features(data, open_at, np.full(len(open_at), o, dtype=np.int64))
    probability, _contributions = predict(model, data, frame)
    detail["base_rate"] = model.base_rate
    return open_at, probability, model.base_rate, detail


def _origins(data: Data, as_of: datetime, settings: PredictSettings) -> tuple[list[datetime], int]:
    """The backtest's origins and their lag (:func:`_lag_quarters`); every origin's training
    cases, and those of the final model at ``as_of``, drawn in one pass (``data.pool``)."""
    lag = _lag_quarters(data)
    origins = _quarter_starts_before(as_of, settings.backtest_origins, lag)
    moments = [*(data.seconds(origin) for origin in origins), data.seconds(as_of)]
    data.pool = draw_pool(data, moments)
    return origins, lag


def _backtest(
    data: Data,
    as_of: datetime,
    settings: PredictSettings,
    progress: Callable[[str], None],
    origins: list[datetime],
    lag: int,
    workers: Executor,
) -> dict[str, Any]:
    """The pooled backtest of the origins, each fitted and scored by one of ``workers`` (a
    model per origin, single-threaded and seeded: the same results in any order)."""
    end = data.seconds(as_of)
    made = [workers.submit(_origin_predictions, data, o, settings.seed) for o in origins]
    outcomes, probabilities, rates, details = [], [], [], []
    for origin, future in zip(origins, made, strict=True):
        progress(f"deals: backtest at {origin.date().isoformat()}")
        deals, probability, base_rate, detail = future.result()
        known = data.decided[deals] & (data.closed[deals] <= end)
        detail["test_cases"] = int(known.sum())
        details.append(detail)
        if base_rate is None or not known.any():
            continue
        outcomes.append(data.won[deals][known])
        probabilities.append(probability[known])
        rates.append(np.full(int(known.sum()), base_rate))
    detail_out = {
        "origins": details,
        "lag_quarters": lag,
        "features": [f for f in FEATURES if f not in data.left_out],
        "left_out": list(data.left_out),
    }
    y = np.concatenate(outcomes) if outcomes else np.zeros(0, dtype=bool)
    none: dict[str, Any] = {
        "n": len(y),
        "auc": None,
        "brier": None,
        "brier_base_rate": None,
        "reliability": [],
        "detail": detail_out,
    }
    if len(y) < MIN_BACKTEST:
        failed = [d for d in details if d.get("reason")]
        if not len(y) and failed:
            none["reason"] = (
                f"no backtest: at the cutoff {failed[-1]['origin']}, {failed[-1]['reason']}"
            )
        else:
            none["reason"] = (
                f"only {len(y)} partner deals open at a backtest cutoff have a known outcome; "
                f"{MIN_BACKTEST} needed"
            )
        return none
    if y.all() or not y.any():
        none["reason"] = (
            f"every one of the {len(y)} partner deals scored in the backtest was "
            f"{'won' if y.all() else 'lost'}: there is nothing to tell apart"
        )
        return none
    p = np.concatenate(probabilities)
    section = skill.classifier_section(y, p)
    section["brier_base_rate"] = skill.brier(y, np.concatenate(rates))
    section["reason"] = None
    section["detail"] = detail_out
    return section


def score(
    opportunities: pa.Table,
    as_of: datetime,
    settings: PredictSettings,
    words: Words,
    *,
    progress: Callable[[str], None] | None = None,
) -> DealScores:
    """Every open partner deal's win probability at ``as_of`` (naive UTC), with its top
    factors, and the deals section of the backtest. Before any deal has closed there is no base
    rate either: no deal is scored and the backtest's reason says why."""
    say = progress or (lambda _message: None)
    data = Data.of(opportunities, settings.seed, (as_of,))
    end = data.seconds(as_of)
    origins, lag = _origins(data, as_of, settings)
    scored = np.flatnonzero((data.partner >= 0) & data.is_open)
    at_end = np.full(min(len(scored), SCORE_BATCH), end, dtype=np.int64)
    # two workers: the final fit, the first batch's features (they need no model: read while
    # the models train, they even out the two workers' work) and the backtest's origins, each
    # model single-threaded
    with ThreadPoolExecutor(max_workers=2) as workers:
        final = workers.submit(fit_at, data, end, settings.seed)
        first = workers.submit(case_features, data, scored[:SCORE_BATCH], at_end)
        backtest = _backtest(data, as_of, settings, say, origins, lag, workers)
        say("deals: training on every known outcome")
        model, _cases, reason = final.result()
        first_frame: dict[str, Any] | None = first.result()
    if model is None and backtest.get("reason") is None:
        backtest = {**backtest, "reason": reason}
    has_skill = (
        model is not None
        and backtest.get("reason") is None
        and backtest["brier"] is not None
        and backtest["brier"] < backtest["brier_base_rate"]
    )
    say(f"deals: scoring {len(scored):,} open deals")
    if has_skill and model is not None:
        # in batches: the features, their parts and the factors of a few hundred thousand deals
        # at a time (each deal's score and factors are its own: the same as all at once)
        probabilities, parts = [], []
        for start in range(0, len(scored), SCORE_BATCH):
            batch = scored[start : start + SCORE_BATCH]
            if first_frame is not None:
                frame, first_frame = first_frame, None
            else:
                frame = case_features(data, batch, np.full(len(batch), end, dtype=np.int64))
            chance, contributions = predict(model, data, frame)
            probabilities.append(chance)
            parts.append(factor_lists(frame, data, contributions, settings.factors, words))
            del frame, contributions
        probability = np.concatenate(probabilities) if probabilities else np.zeros(0)
        factors: pa.Array | pa.ChunkedArray = pa.chunked_array(parts, pa.list_(FACTOR))
    else:
        base_rate = model.base_rate if model is not None else _decided_rate(data, end)
        if base_rate is None:
            scored = scored[:0]
        probability = np.full(len(scored), base_rate if base_rate is not None else math.nan)
        factors = no_skill_factors(base_rate, words, len(scored))
    del first_frame
    # days open at the as-of time (as the feature reads it)
    age_days = np.maximum(end - data.created[scored], 0) // 86_400
    backtest = {**backtest, "skill": bool(has_skill)}
    amount = data.amount[scored]
    rows = pa.array(scored, pa.int64())
    table = data.table
    out = pa.table(
        {
            "opportunity_id": table["opportunity_id"].take(rows),
            "partner_id": table["partner_id"].take(rows),
            "account_id": table["account_id"].take(rows),
            "account_name": (
                table["account_name"].take(rows)
                if "account_name" in table.column_names
                else pa.nulls(len(scored), pa.string())
            ),
            "product": table["product"].take(rows),
            "stage": table["stage"].take(rows),
            "amount": pa.array(amount, pa.float64(), from_pandas=True),
            "created_at": pc.cast(table["created_at"].take(rows), pa.timestamp("us")),
            "age_days": pa.array(age_days.astype(np.int32), pa.int32()),
            "probability": pa.array(probability, pa.float64()),
            "expected_value": pa.array(probability * amount, pa.float64(), from_pandas=True),
            "skill": pa.array(np.full(len(scored), has_skill), pa.bool_()),
            "factors": factors,
        }
    )
    return DealScores(out.cast(DEALS_SCHEMA), backtest)


def _decided_rate(data: Data, end: int) -> float | None:
    done = data.decided & (data.closed <= end)
    return float(data.won[done].mean()) if done.any() else None


def expected_pipeline(deals: pa.Table, forecast: pa.Table | None) -> pa.Table:
    """Per partner with open deals: their number, amount and expected value (Σ probability ×
    amount, deals without an amount counting nothing) beside the partner's forecast won revenue
    for the next quarter (``forecast`` rows of level ``partner``, grain ``quarter``, step 1)."""
    import pandas as pd

    frame = deals.select(["partner_id", "amount", "expected_value"]).to_pandas()
    frame = frame[frame["partner_id"].notna()]
    grouped = (
        frame.groupby("partner_id", sort=True)
        .agg(
            open_deals=("amount", "size"),
            open_amount=("amount", lambda s: float(s.fillna(0).sum())),
            expected_value=("expected_value", lambda s: float(s.fillna(0).sum())),
        )
        .reset_index()
    )
    grouped["forecast_next"] = pd.Series([None] * len(grouped), dtype="float64")
    grouped["label"] = pd.Series([None] * len(grouped), dtype="object")
    if forecast is not None and forecast.num_rows:
        mask = pc.and_(
            pc.and_(pc.equal(forecast["level"], "partner"), pc.equal(forecast["grain"], "quarter")),
            pc.equal(forecast["step"], 1),
        )
        nxt = forecast.filter(mask).select(["group_key", "forecast", "label"]).to_pandas()
        nxt = nxt.drop_duplicates("group_key").set_index("group_key")
        grouped["forecast_next"] = grouped["partner_id"].map(nxt["forecast"]).astype("float64")
        grouped["label"] = grouped["partner_id"].map(nxt["label"])
    return pa.Table.from_pandas(grouped, schema=EXPECTED_SCHEMA, preserve_index=False)
