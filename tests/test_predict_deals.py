"""Deal win probability: point-in-time features, the backtest, skill, leakage, determinism and
the expected value of the open pipeline (partnerscope.predict.deals)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from partnerscope.predict import deal_data, deal_factors, deal_model, deals
from partnerscope.predict.store import DEALS_SCHEMA, FORECAST_SCHEMA
from partnerscope.present import Words
from partnerscope.settings.predict import PredictSettings

AS_OF = datetime(2026, 10, 1)
OPPORTUNITY_TYPES = {
    "opportunity_id": pa.string(),
    "partner_id": pa.string(),
    "attribution": pa.string(),
    "account_id": pa.string(),
    "product": pa.string(),
    "stage": pa.string(),
    "status": pa.string(),
    "amount": pa.float64(),
    "created_at": pa.timestamp("us"),
    "closed_at": pa.timestamp("us"),
    "mdf_activity_id": pa.string(),
}


def opportunities(rows: list[dict[str, Any]]) -> pa.Table:
    """A table shaped like :func:`deals.snapshot`'s, missing fields null."""
    return pa.table(
        {
            name: pa.array([row.get(name) for row in rows], kind)
            for name, kind in OPPORTUNITY_TYPES.items()
        }
    )


def deal(
    oid: str,
    partner: str | None,
    created: datetime,
    closed: datetime | None = None,
    status: str = "open",
    amount: float = 1000.0,
    account: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "opportunity_id": oid,
        "partner_id": partner,
        "account_id": account,
        "status": status,
        "stage": {"won": "Closed Won", "lost": "Closed Lost"}.get(status, "Proposal"),
        "amount": amount,
        "created_at": created,
        "closed_at": closed,
        "product": "Core",
        **extra,
    }


def synthetic(*, signal: bool, seed: int = 7, partners: int = 40, per_month: int = 60) -> pa.Table:
    """Three and a half years of partner deals up to :data:`AS_OF`; with ``signal`` the chance
    of a win rises with the partner's skill and falls with the amount, else it is 30 % for
    every deal. Deals created in the last months are partly still open."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(0, 1, partners)
    start = datetime(2023, 4, 1)
    days = (AS_OF - start).days
    count = per_month * days // 30
    partner = rng.integers(0, partners, count)
    created_days = np.sort(rng.uniform(0, days, count))
    duration = rng.uniform(10, 120, count)
    amount = np.round(np.exp(rng.normal(10.5, 0.8, count)), 2)
    if signal:
        logit = -1.0 + 4.0 * (skill[partner] - 0.5) - 1.2 * (np.log(amount) - 10.5)
        chance = 1 / (1 + np.exp(-logit))
    else:
        chance = np.full(count, 0.3)
    won = rng.uniform(0, 1, count) < chance
    account = rng.integers(0, 400, count)
    rows = []
    for i in range(count):
        created = start + timedelta(days=float(created_days[i]))
        closed = created + timedelta(days=float(duration[i]))
        done = closed < AS_OF
        rows.append(
            deal(
                f"O{i:06d}",
                f"P{partner[i]:03d}",
                created,
                closed.replace(hour=0, minute=0, second=0, microsecond=0) if done else None,
                ("won" if won[i] else "lost") if done else "open",
                float(amount[i]),
                f"A{account[i]:04d}",
                attribution="sourced" if i % 3 else "influenced",
            )
        )
    return opportunities(rows)


@pytest.fixture(scope="module")
def planted() -> pa.Table:
    return synthetic(signal=True)


@pytest.fixture(scope="module")
def planted_scores(planted: pa.Table) -> deals.DealScores:
    return deals.score(planted, AS_OF, PredictSettings(), Words())


# ------------------------------------------------------------------------------ features


def test_features_at_a_cutoff_are_point_in_time() -> None:
    d = datetime
    table = opportunities(
        [
            deal("D1", "P1", d(2024, 1, 10), d(2024, 3, 5), "won", 1000.0, "A1"),
            deal("D2", "P1", d(2024, 2, 1), d(2024, 4, 10), "lost", 500.0, "A2"),
            # closed after the cutoff: open at it
            deal("D3", "P1", d(2024, 3, 1), d(2024, 6, 20), "won", 2000.0, "A1",
                 mdf_activity_id="M1"),
            # created after the cutoff: absent
            deal("D4", "P1", d(2024, 6, 1), None, "open", 100.0, "A1"),
            # more than a year before the cutoff: outside the window, but the account's history
            deal("D5", "P1", d(2023, 1, 1), d(2023, 2, 1), "won", 700.0, "A1"),
            # direct: the account's history through any partner
            deal("D6", None, d(2024, 1, 1), d(2024, 2, 1), "won", 300.0, "A1"),
            deal("D7", "P2", d(2024, 1, 1), d(2024, 2, 15), "lost", 400.0, "A3"),
            deal("REG-1", "P2", d(2024, 4, 20), None, "open", 900.0, None),
        ]
    )  # fmt: skip
    frame = deals.features_at(table, d(2024, 5, 1)).set_index("opportunity_id")
    assert sorted(frame.index) == ["D3", "REG-1"]
    d3 = frame.loc["D3"]
    assert d3["age_days"] == 61  # 2024-03-01 → 2024-05-01
    assert d3["amount"] == 2000.0
    assert d3["mdf"] == 1.0 and d3["registered"] == 0.0
    # P1 closed D1 (won) and D2 (lost) in the year before; the portfolio 1 of 3 (D1, D2, D7)
    assert d3["partner_closed"] == 2
    assert d3["partner_win_rate"] == pytest.approx((1 + 10 / 3) / (2 + 10))
    assert d3["partner_won_revenue"] == 1000.0
    # A1 won D5, D1 (through P1) and D6 (direct) before the cutoff
    assert d3["account_won"] == 3
    assert d3["account_won_partner"] == 2
    # P1: D1, D2, D3, D5 created by the cutoff, D1, D2, D5 closed by it
    assert d3["partner_open"] == 1
    reg = frame.loc["REG-1"]
    assert reg["registered"] == 1.0 and reg["mdf"] == 0.0
    assert reg["partner_closed"] == 1 and reg["partner_won_revenue"] == 0.0
    assert reg["partner_win_rate"] == pytest.approx((0 + 10 / 3) / (1 + 10))
    assert math.isnan(reg["account_won"]) and math.isnan(reg["account_won_partner"])
    assert reg["age_days"] == 11


def test_a_deal_closed_exactly_at_the_cutoff_is_closed_by_it() -> None:
    table = opportunities([deal("D1", "P1", datetime(2024, 1, 10), datetime(2024, 5, 1), "won")])
    assert deals.features_at(table, datetime(2024, 5, 1)).empty
    assert list(deals.features_at(table, datetime(2024, 4, 30))["opportunity_id"]) == ["D1"]


def test_scored_deals_carry_the_accounts_name_from_the_warehouse() -> None:
    """The open deals read from the warehouse carry their account's name (the deals tables
    showed the account's id); the id stays, and a deal whose account has no row keeps a null
    name."""
    import duckdb

    d = datetime
    table = opportunities(
        [
            deal("D1", "P1", d(2024, 1, 10), d(2024, 3, 5), "won", 1000.0, "A1"),
            deal("D2", "P1", d(2024, 2, 1), d(2024, 4, 10), "lost", 500.0, "A2"),
            deal("D3", "P1", d(2024, 3, 1), None, "open", 2000.0, "A1"),
            deal("D4", "P2", d(2024, 4, 1), None, "open", 100.0, "A9"),
            deal("D5", "P2", d(2024, 4, 2), None, "open", 100.0, None),
        ]
    )
    con = duckdb.connect()
    con.register("given", table)
    con.execute("CREATE TABLE opportunities AS SELECT * FROM given")
    con.execute("CREATE TABLE accounts (account_id VARCHAR, name VARCHAR)")
    con.execute("INSERT INTO accounts VALUES ('A1', 'Kestrel Robotics'), ('A2', 'Osprey')")
    read = deals.snapshot(con)
    # closed deals are not scored: they carry no name
    assert read["account_name"].to_pylist() == [None, None, "Kestrel Robotics", None, None]
    scored = deals.score(read, d(2024, 6, 1), PredictSettings(), Words()).table
    assert scored.schema == DEALS_SCHEMA
    rows = {r["opportunity_id"]: (r["account_id"], r["account_name"]) for r in scored.to_pylist()}
    assert rows == {"D3": ("A1", "Kestrel Robotics"), "D4": ("A9", None), "D5": (None, None)}
    # a table without names (made by hand, or by an older snapshot) scores with null names
    plain = deals.score(table, d(2024, 6, 1), PredictSettings(), Words()).table
    assert plain["account_name"].null_count == plain.num_rows == 3


# ------------------------------------------------------------------------------ skill


def test_planted_signal_is_found_and_calibrated(planted_scores: deals.DealScores) -> None:
    backtest = planted_scores.backtest
    assert backtest["reason"] is None
    assert backtest["n"] > 400
    assert backtest["auc"] > 0.7
    assert backtest["brier"] < backtest["brier_base_rate"] - 0.01
    assert backtest["skill"] is True
    assert len(backtest["detail"]["origins"]) == PredictSettings().backtest_origins
    table = planted_scores.table
    assert table.schema == DEALS_SCHEMA
    assert table.num_rows > 0
    assert all(table["skill"].to_pylist())
    probability = np.asarray(table["probability"])
    assert probability.min() >= 0.01 and probability.max() <= 0.99
    assert probability.std() > 0.05
    ev = np.asarray(table["expected_value"])
    assert ev == pytest.approx(probability * np.asarray(table["amount"]))
    factors = table["factors"].to_pylist()
    assert all(len(f) == PredictSettings().factors for f in factors)
    # the planted traits explain most scores, in words
    top = [f[0]["feature"] for f in factors]
    assert {"amount", "partner_win_rate"} & set(top)
    texts = {x["text"] for f in factors for x in f}
    assert any(t.startswith("Amount $") for t in texts)
    assert not any("_" in t for t in texts)


def test_pure_noise_has_no_skill_and_gets_the_base_rate() -> None:
    table = synthetic(signal=False, seed=3)
    scores = deals.score(table, AS_OF, PredictSettings(), Words())
    backtest = scores.backtest
    assert backtest["reason"] is None
    assert backtest["brier"] >= backtest["brier_base_rate"]
    assert backtest["skill"] is False
    probability = set(scores.table["probability"].to_pylist())
    assert len(probability) == 1
    (rate,) = probability
    assert rate == pytest.approx(0.3, abs=0.03)
    assert not any(scores.table["skill"].to_pylist())
    factors = scores.table["factors"].to_pylist()
    assert all(len(f) == 1 and f[0]["feature"] == "base_rate" for f in factors)
    assert "no measured skill" in factors[0][0]["text"]


def test_too_little_history_says_why() -> None:
    d = datetime
    table = opportunities(
        [
            deal("D1", "P1", d(2026, 1, 10), d(2026, 3, 5), "won"),
            deal("D2", "P1", d(2026, 2, 1), d(2026, 4, 10), "lost"),
            deal("D3", "P1", d(2026, 8, 1)),
        ]
    )
    scores = deals.score(table, AS_OF, PredictSettings(), Words())
    assert scores.backtest["auc"] is None and scores.backtest["brier"] is None
    assert "needed" in scores.backtest["reason"]
    assert scores.table["opportunity_id"].to_pylist() == ["D3"]
    assert scores.table["probability"].to_pylist() == [0.5]
    assert scores.table["skill"].to_pylist() == [False]


# ------------------------------------------------------------------------------ no peeking


def test_data_after_an_origin_does_not_change_its_predictions(planted: pa.Table) -> None:
    origin = datetime(2025, 7, 1)
    rows = planted.to_pylist()
    changed = []
    for row in rows:
        if row["closed_at"] is not None and row["closed_at"] > origin:
            flipped = {"won": "lost", "lost": "won"}[row["status"]]
            row = {**row, "status": flipped, "closed_at": row["closed_at"] + timedelta(days=9)}
        changed.append(row)
    changed.append(deal("Z1", "P001", datetime(2025, 8, 1), datetime(2025, 9, 1), "won", 5.0))
    changed.append(deal("Z2", "P999", datetime(2025, 9, 1), None, "open", 5.0, "A0001"))
    before = _origin(planted, origin)
    after = _origin(opportunities(changed), origin)
    assert len(before) > 100
    assert before == after


def _origin(table: pa.Table, origin: datetime) -> dict[str, float]:
    data = deal_data.Data.of(table, 0)
    index, probability, _rate, _detail = deals._origin_predictions(data, origin, 0)
    return dict(zip(data.ids(index), probability.tolist(), strict=True))


# ------------------------------------------------------------------------------ determinism


def test_same_data_and_seed_same_scores(
    planted: pa.Table, planted_scores: deals.DealScores
) -> None:
    shuffled = planted.take(np.random.default_rng(1).permutation(planted.num_rows))
    again = deals.score(shuffled, AS_OF, PredictSettings(), Words())
    assert again.table.equals(planted_scores.table)
    assert again.backtest == planted_scores.backtest


# ------------------------------------------------------------------------------ expected value


def test_expected_pipeline_sums_by_hand() -> None:
    rows = [
        ("O1", "P1", 1000.0, 0.5),
        ("O2", "P1", 3000.0, 0.1),
        ("O3", "P1", None, 0.4),
        ("O4", "P2", 200.0, 0.25),
    ]
    table = pa.Table.from_pylist(
        [
            {
                "opportunity_id": oid,
                "partner_id": partner,
                "amount": amount,
                "created_at": datetime(2026, 9, 1),
                "age_days": 30,
                "probability": p,
                "expected_value": None if amount is None else p * amount,
                "skill": True,
                "factors": [],
            }
            for oid, partner, amount, p in rows
        ],
        schema=DEALS_SCHEMA,
    )
    forecast = pa.Table.from_pylist(
        [
            _forecast("partner", "P1", 1, 2500.0, "FY2027-Q1"),
            _forecast("partner", "P1", 2, 9999.0, "FY2027-Q2"),
            _forecast("region", "P2", 1, 9999.0, "FY2027-Q1"),
        ],
        schema=FORECAST_SCHEMA,
    )
    out = deals.expected_pipeline(table, forecast)
    assert out.schema == deals.EXPECTED_SCHEMA
    assert out.to_pylist() == [
        {
            "partner_id": "P1",
            "open_deals": 3,
            "open_amount": 4000.0,
            "expected_value": 800.0,
            "forecast_next": 2500.0,
            "label": "FY2027-Q1",
        },
        {
            "partner_id": "P2",
            "open_deals": 1,
            "open_amount": 200.0,
            "expected_value": 50.0,
            "forecast_next": None,
            "label": None,
        },
    ]
    without = deals.expected_pipeline(table, None).to_pylist()
    assert [r["forecast_next"] for r in without] == [None, None]
    assert [r["expected_value"] for r in without] == [800.0, 50.0]


def _forecast(level: str, key: str, step: int, value: float, label: str) -> dict[str, Any]:
    return {
        "level": level,
        "group_key": key,
        "grain": "quarter",
        "period_start": date(2026, 10, 1),
        "period_end": date(2027, 1, 1),
        "label": label,
        "step": step,
        "forecast": value,
        "skill": True,
    }


# ------------------------------------------------------------------------------ the demo


def test_the_demo_scores_every_open_partner_deal(web_world: Any) -> None:
    import duckdb

    path = web_world.root / "state" / "warehouse.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        table = deals.snapshot(con)
        open_partner = con.sql(
            "SELECT count(*) FROM opportunities WHERE status = 'open' AND partner_id IS NOT NULL"
        ).fetchall()[0]
    finally:
        con.close()
    scores = deals.score(table, AS_OF, PredictSettings(), Words())
    assert open_partner is not None
    assert scores.table.num_rows == open_partner[0]
    backtest = scores.backtest
    assert backtest["reason"] is None and backtest["n"] > 1000
    assert 0 < backtest["brier"] < 0.25 and 0.4 < backtest["auc"] < 1
    # honest: with skill the model beat the base rate, without it every deal has the base rate
    probability = scores.table["probability"].to_pylist()
    if backtest["skill"]:
        assert backtest["brier"] < backtest["brier_base_rate"]
    else:
        assert len(set(probability)) == 1


def test_the_stumps_read_back_give_lightgbms_own_scores(planted: pa.Table) -> None:
    """The model's parts (one per feature) add up to LightGBM's raw score, for missing
    values, zeros and an unseen product too, and each part is LightGBM's SHAP value."""
    rows = planted.to_pylist()
    for i in range(0, 600, 7):
        rows[i] = {**rows[i], "amount": None, "account_id": None, "attribution": None}
    for i in range(1, 600, 11):
        rows[i] = {**rows[i], "product": None}
    rows.append(deal("ZZ1", "P001", datetime(2026, 5, 1), None, "open", 0.0, product="New"))
    data = deal_data.Data.of(opportunities(rows), 0)
    model, _cases, reason = deal_model.fit_at(data, data.seconds(datetime(2026, 7, 1)), 0)
    assert model is not None, reason
    assert model.booster.num_trees() > 5
    at = data.seconds(AS_OF)
    index = np.flatnonzero(data.partner >= 0)
    frame = deal_data.case_features(data, index, np.full(len(index), at, dtype=np.int64))
    matrix = deal_model.feature_matrix(frame, data, model.categories)
    parts = model.steps.parts(matrix)
    expected = model.booster.predict(matrix, raw_score=True)
    assert model.raw(parts) == pytest.approx(expected, abs=1e-9)
    shap = model.booster.predict(matrix[:300], pred_contrib=True)
    assert parts[:300] - model.means == pytest.approx(shap[:, :-1], abs=1e-6)
    # the scoring path (feature-major, no n × features matrix) gives the same values, bit for bit
    probability, contributions = deal_model.predict(model, data, frame)
    assert contributions.shape == (len(deals.FEATURES), len(index))
    assert np.array_equal(contributions, (parts - model.means).T)
    assert np.array_equal(probability, model.probability(model.raw(parts)))


@pytest.mark.parametrize("features", [1, 5, 7, 8, 9, 12, 16, 17, 25])
def test_row_sums_are_numpys_bit_for_bit(features: int) -> None:
    """The scores add the features' parts in numpy's own order (pairwise), so the scoring
    path's probabilities are those of ``matrix.sum(axis=1)`` to the last bit."""
    rng = np.random.default_rng(features)
    matrix = rng.standard_normal((5000, features)) * 10.0 ** rng.uniform(-8, 8, (5000, features))
    assert np.array_equal(deal_model.row_sums(np.ascontiguousarray(matrix.T)), matrix.sum(axis=1))
    # by hand: twelve times 0.1, left to right, is 1.2; in numpy's order 1.2000000000000002
    tenths = np.full((12, 1), 0.1)
    assert sum(tenths[:, 0].tolist()) == 1.2
    assert deal_model.row_sums(tenths)[0] == 1.2000000000000002 == tenths.T.sum(axis=1)[0]


def test_top_factors_are_the_largest_by_size_ties_to_the_first_feature() -> None:
    """The top factors: largest contribution by size first, a tie to the feature listed
    first, a missing contribution last: as a stable sort of each deal's sizes would give."""
    contributions = np.array(
        [
            [0.5, -0.1, 0.0, -0.0],
            [-0.5, 0.3, 0.0, np.nan],
            [0.2, -0.3, 0.0, 0.7],
        ]
    )  # features × deals
    top = deal_factors.top_features(contributions, 2)
    assert top.tolist() == [[0, 1], [1, 2], [0, 1], [2, 0]]
    rng = np.random.default_rng(3)
    values = np.round(rng.standard_normal((12, 20_000)), 1)  # many ties
    values[rng.uniform(size=values.shape) < 0.01] = np.nan
    expected = np.argsort(-np.abs(values.T), axis=1, kind="stable")[:, :3]
    assert np.array_equal(deal_factors.top_features(values, 3), expected)


def test_each_distinct_key_written_once_from_its_first_row() -> None:
    first, codes = deal_factors.first_of_each(np.array([3.0, np.nan, 3.0, 1.0, np.nan, -0.0, 0.0]))
    assert first.tolist() == [0, 1, 3, 5]
    assert codes.tolist() == [0, 1, 0, 2, 1, 3, 3]


def test_backtest_origins_lie_lag_quarters_before_the_end() -> None:
    starts = deals._quarter_starts_before(datetime(2026, 10, 1), 4, 2)
    assert starts == [datetime(y, m, 1) for y, m in ((2025, 7), (2025, 10), (2026, 1), (2026, 4))]
    assert deals._quarter_starts_before(datetime(2026, 11, 15), 2, 1) == [
        datetime(2026, 4, 1),
        datetime(2026, 7, 1),
    ]


def test_ids_out_of_order_only_across_chunks_are_sorted() -> None:
    """The order check reads the ids chunk by chunk: a pair out of order at a chunk's edge (or
    across an empty chunk) is found, and ids in order in any chunks are left as they are."""

    def ids(*chunks: list[str]) -> pa.Table:
        return pa.table({"opportunity_id": pa.chunked_array(list(chunks), pa.string())})

    unsorted = deal_data._by_id(ids(["O1", "O3"], [], ["O2"]))
    assert unsorted["opportunity_id"].to_pylist() == ["O1", "O2", "O3"]
    ordered = ids(["O1"], [], ["O2", "O2"], ["O3"])
    assert deal_data._by_id(ordered) is ordered
