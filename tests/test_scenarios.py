"""Scenario models: reproducible draws, closed forms on degenerate inputs, the plain-Python
reference, break-even against a brute-force scan, the tornado, spec validation, calibration on
a hand-built run and the command."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerscope.scenarios.analysis import simulate
from partnerscope.scenarios.calibration import calibrate
from partnerscope.scenarios.inputs import Distribution, Inputs
from partnerscope.scenarios.model import OUTCOMES, Model, draw, project, uniforms
from partnerscope.scenarios.sensitivity import BreakEvenSearch, Scorer
from partnerscope.scenarios.spec import (
    ScenarioSpec,
    ScenarioSpecError,
    load_spec,
    parse_spec,
)
from tests import scenario_reference as reference
from tests.conftest import copy_workspace
from tests.test_cli import assert_one_error_line, run, wide_console  # noqa: F401

D = Distribution

#: A hand-checkable channel: Gold 10 partners × 2 deals, Silver 20 × 1, so 40 closed deals a
#: month; half won at 1,000: 20,000 of revenue a month. Everything fixed.
BASE: dict[str, float] = {
    "active_partners.Gold": 10,
    "active_partners.Silver": 20,
    "productivity.Gold": 2,
    "productivity.Silver": 1,
    "recruit_productivity": 1,
    "recruitment_velocity": 0,
    "ramp_months": 0,
    "churn": 0,
    "win_rate": 0.5,
    "deal_size": 1000,
    "mdf_spend": 0,
    "mdf_elasticity": 0,
    "gross_margin": 0.6,
    "incentive_rate": 0.1,
    "cost_per_partner": 0,
    "coverage_start": 0.5,
    "compliance_existing": 90,
    "compliance_recruits": 70,
    "program_cost": 0,
    "one_off_cost": 0,
}


def fixed(**changes: float | Distribution) -> Inputs:
    values: dict[str, float | Distribution] = {**BASE, **changes}
    return Inputs.from_distributions(values)


def spec(**fields: Any) -> ScenarioSpec:
    return parse_spec({"trials": 4, "horizon_months": 12, **fields})


def months(result: Any, outcome: str, option: str = "A") -> list[float]:
    """The P50 of each month (every trial is the same when nothing varies)."""
    bands = result.option(option).bands[outcome]
    assert np.array_equal(bands[0], bands[2]), "trials differ"
    return [float(v) for v in bands[1]]


# --- reproducibility and common random numbers ---------------------------------------------

SPREAD = {
    "productivity.Gold": D(dist="normal", mean=2, sd=0.4),
    "win_rate": D(dist="triangular", low=0.3, mode=0.5, high=0.6),
    "deal_size": D(dist="lognormal", median=1000, sigma=0.2),
    "churn": D(dist="uniform", low=0, high=0.03),
    "ramp_months": D(dist="triangular", low=2, mode=4, high=8),
    "recruitment_velocity": D(dist="uniform", low=0.5, high=2),
}
TWO_OPTIONS = [
    {"key": "A"},
    {"key": "B", "overrides": {"recruitment_velocity": {"scale": 3}, "program_cost": 800}},
]


def test_same_seed_same_summary_and_another_seed_another() -> None:
    base = fixed(**SPREAD)
    first = simulate(spec(trials=500, seed=3, options=TWO_OPTIONS), base).summary()
    again = simulate(spec(trials=500, seed=3, options=TWO_OPTIONS), base).summary()
    other = simulate(spec(trials=500, seed=4, options=TWO_OPTIONS), base).summary()
    assert first == again
    assert first["options"][0]["outcomes"] != other["options"][0]["outcomes"]
    json.dumps(first)  # JSON-able as it is
    assert ScenarioSpec.model_validate(first["spec"]) == spec(
        trials=500, seed=3, options=TWO_OPTIONS
    )


def test_adding_an_option_leaves_the_others_alone() -> None:
    base = fixed(**SPREAD)
    alone = simulate(spec(trials=300, options=TWO_OPTIONS[:1]), base)
    more = simulate(
        spec(
            trials=300,
            options=[*TWO_OPTIONS, {"key": "C", "overrides": {"win_rate": {"scale": 1.1}}}],
        ),
        base,
    )
    for outcome in OUTCOMES:
        assert np.array_equal(alone.option("A").totals[outcome], more.option("A").totals[outcome])
    assert alone.option("A").score == more.option("A").score


def test_each_input_has_its_own_stream() -> None:
    few = uniforms(["churn", "win_rate"], 100, 7)
    many = uniforms(["active_partners.Gold", "churn", "deal_size", "win_rate"], 200, 7)
    assert np.array_equal(few["win_rate"], many["win_rate"][:100])
    assert np.array_equal(few["churn"], many["churn"][:100])
    assert not np.array_equal(many["churn"], many["win_rate"])


# --- closed forms on degenerate inputs ------------------------------------------------------


def test_no_churn_no_ramp_revenue_grows_by_the_recruits() -> None:
    # revenue(t) = (Σ E_i p_i + q R t) · w · d = (40 + 2t) · 500
    result = simulate(spec(), fixed(recruitment_velocity=2))
    assert months(result, "revenue") == [(40 + 2 * t) * 500 for t in range(1, 13)]
    assert np.all(result.option("A").totals["revenue"] == 500 * (40 * 12 + 2 * 78))
    assert months(result, "partners") == [30 + 2 * t for t in range(1, 13)]


def test_churn_without_recruits_decays_geometrically() -> None:
    result = simulate(spec(), fixed(churn=0.02))
    expected = [20_000 * 0.98**t for t in range(1, 13)]
    assert months(result, "revenue") == pytest.approx(expected, rel=1e-12)
    assert result.option("A").totals["revenue"][0] == pytest.approx(sum(expected), rel=1e-12)
    assert months(result, "partners")[-1] == pytest.approx(30 * 0.98**12, rel=1e-12)


def test_ramp_and_churn_of_recruit_cohorts_by_hand() -> None:
    # no churn, ramp 4, R = 3: month 3 has cohorts aged 1, 2, 3 at 1/4, 2/4, 3/4 productivity
    result = simulate(spec(), fixed(recruitment_velocity=3, ramp_months=4))
    assert months(result, "revenue")[2] == 20_000 + 3 * (0.25 + 0.5 + 0.75) * 500
    assert months(result, "revenue")[4] == 20_000 + 3 * (0.25 + 0.5 + 0.75 + 1 + 1) * 500
    assert months(result, "partners")[2] == 39
    # churn 10 %: the cohort of month 1 is 3 · 0.9² at 3/4, of month 2 3 · 0.9 at 2/4, …
    result = simulate(spec(), fixed(recruitment_velocity=3, ramp_months=4, churn=0.1))
    ramped = 3 * 0.81 * 0.75 + 3 * 0.9 * 0.5 + 3 * 0.25  # 3.9225
    assert months(result, "revenue")[2] == pytest.approx(20_000 * 0.9**3 + ramped * 500, rel=1e-12)
    assert months(result, "partners")[2] == pytest.approx(30 * 0.729 + 3 * (1 + 0.9 + 0.81))


def test_margin_coverage_and_control_on_two_tiers() -> None:
    inputs = fixed(
        recruitment_velocity=3, cost_per_partner=100, program_cost=500, one_off_cost=1000
    )
    result = simulate(spec(), inputs)
    margin = months(result, "margin")
    # month 1: 20,000 + 1,500 of revenue (3 recruits) · (0.6 − 0.1), 33 partners at 100,
    # the program's 500 and the one-off 1,000
    assert margin[0] == pytest.approx(21_500 * 0.5 - 3_300 - 500 - 1_000, rel=1e-12)
    assert margin[1] == pytest.approx(23_000 * 0.5 - 3_600 - 500, rel=1e-12)
    assert result.option("A").totals["margin"][0] == pytest.approx(sum(margin), rel=1e-12)
    # month 10: 60 partners, twice today's 30, so coverage is 1 − 0.5²
    assert months(result, "coverage")[9] == pytest.approx(0.75, rel=1e-12)
    # month 10: 20,000 from today's partners at 90, 30 recruits · 500 = 15,000 at 70
    assert months(result, "control")[9] == pytest.approx(570 / 7, rel=1e-12)
    assert result.option("A").totals["control"][0] == pytest.approx(
        (20_000 * 90 + 18_000 * 70) / 38_000, rel=1e-12
    )


def test_mdf_multiplier_follows_the_elasticity() -> None:
    options = [{"key": "A"}, {"key": "B", "overrides": {"mdf_spend": 2000}}]
    result = simulate(spec(options=options), fixed(mdf_spend=1000, mdf_elasticity=0.5))
    a, b = result.option("A").totals, result.option("B").totals
    assert a["revenue"][0] == 12 * 20_000  # at the base spend the multiplier is 1
    assert b["revenue"][0] == pytest.approx(12 * 20_000 * math.sqrt(2), rel=1e-12)
    assert b["margin"][0] == pytest.approx(b["revenue"][0] * 0.5 - 12 * 2000, rel=1e-12)


# --- the vectorized model against the plain-Python loop -------------------------------------

RANDOM_CASE = {
    "active_partners.Gold": D.fixed(12),
    "active_partners.Silver": D(dist="uniform", low=20, high=40),
    "productivity.Gold": D(dist="normal", mean=3, sd=0.6),
    "productivity.Silver": D(dist="lognormal", median=1.2, sigma=0.3),
    "recruit_productivity": D(dist="uniform", low=0.5, high=1.5),
    "recruitment_velocity": D(dist="triangular", low=0, mode=2, high=4),
    "ramp_months": D(dist="triangular", low=0, mode=4, high=9),
    "churn": D(dist="uniform", low=0, high=0.05),
    "win_rate": D(dist="normal", mean=0.3, sd=0.05),
    "deal_size": D(dist="lognormal", median=20_000, sigma=0.2),
    "mdf_spend": D(dist="normal", mean=10_000, sd=2_000),
    "mdf_elasticity": D(dist="uniform", low=0, high=0.3),
    "gross_margin": D.fixed(0.7),
    "incentive_rate": D(dist="uniform", low=0.02, high=0.08),
    "cost_per_partner": D(dist="uniform", low=100, high=500),
    "coverage_start": D(dist="uniform", low=0.2, high=0.6),
    "compliance_existing": D(dist="normal", mean=90, sd=5),
    "compliance_recruits": D(dist="normal", mean=80, sd=8),
    "program_cost": D.fixed(1000),
    "one_off_cost": D.fixed(5000),
}


def assert_same(
    params: dict[str, np.ndarray], tiers: list[str], horizon: int, mdf_base: float
) -> None:
    vectorized = project(params, tiers, horizon, mdf_base, monthly=True)
    monthly, totals = reference.project(
        {k: v.tolist() for k, v in params.items()}, tiers, horizon, mdf_base
    )
    assert vectorized.monthly is not None
    for outcome in OUTCOMES:
        np.testing.assert_allclose(
            vectorized.monthly[outcome], np.array(monthly[outcome]), rtol=1e-9, atol=1e-9
        )
        np.testing.assert_allclose(
            vectorized.totals[outcome], np.array(totals[outcome]), rtol=1e-9, atol=1e-9
        )


def test_vectorized_model_equals_the_loop() -> None:
    u = uniforms(RANDOM_CASE, 50, 11)
    params = {name: draw(d, name, u[name]) for name, d in RANDOM_CASE.items()}
    assert_same(params, ["Gold", "Silver"], 12, 10_000.0)


@settings(max_examples=40, deadline=None)
@given(
    churn=st.floats(0, 1),
    ramp=st.floats(0, 12),
    velocity=st.floats(0, 10),
    coverage=st.floats(0, 1),
    gold=st.floats(0, 50),
    horizon=st.integers(1, 24),
    mdf=st.floats(0, 5_000),
)
def test_vectorized_model_equals_the_loop_on_any_values(
    churn: float,
    ramp: float,
    velocity: float,
    coverage: float,
    gold: float,
    horizon: int,
    mdf: float,
) -> None:
    values = {**BASE, "mdf_spend": 1000.0, "mdf_elasticity": 0.2}
    values |= {"churn": churn, "ramp_months": ramp, "recruitment_velocity": velocity}
    values |= {"coverage_start": coverage, "active_partners.Gold": gold, "mdf_spend": mdf}
    values["active_partners.Silver"] = 0.0 if gold == 0 else 20.0
    params = {name: np.full(2, float(v)) for name, v in values.items()}
    assert_same(params, ["Gold", "Silver"], horizon, 1000.0)
    outcome = project(params, ["Gold", "Silver"], horizon, 1000.0).totals
    assert np.all((outcome["coverage"] >= 0) & (outcome["coverage"] <= 1))
    assert np.all((outcome["control"] >= 70) & (outcome["control"] <= 90))


# --- break-even against a brute-force scan --------------------------------------------------

#: B recruits 3 partners a month at a program cost of 2,000 a month.
BREAK_EVEN_OPTIONS = [
    {"key": "A", "label": "keep"},
    {
        "key": "B",
        "label": "recruit",
        "overrides": {"recruitment_velocity": 3, "program_cost": 2000},
    },
]
BREAK_EVEN_CRITERIA = [
    {"name": "margin", "weight": 0.6, "outcome": "margin"},
    {"name": "revenue", "weight": 0.4, "outcome": "revenue"},
]


def search_for(result: Any, base: Inputs, scenario: ScenarioSpec) -> BreakEvenSearch:
    dists = base.distributions()
    keys = [o.key for o in scenario.options]
    model = Model(
        uniforms(dists, result.search_trials, scenario.seed),
        base.tiers,
        scenario.horizon_months,
        dists["mdf_spend"].center(),
    )
    scorer = Scorer(scenario.criteria, keys, result.scale)
    return BreakEvenSearch(model, scorer, dists, scenario.options, keys.index(result.recommended))


def test_break_even_closed_form_without_variance() -> None:
    # B's extra margin: 234 recruit-months · q · 500 · 0.5 − 234 · 100 − 12 · 2,000, over A's
    # margin 84,000; its extra revenue 117,000 q over A's 240,000. Zero at q* below.
    scenario = spec(
        options=BREAK_EVEN_OPTIONS,
        criteria=BREAK_EVEN_CRITERIA,
        key_assumptions=["recruit_productivity"],
    )
    result = simulate(scenario, fixed(cost_per_partner=100))
    assert result.recommended == "B"
    q = (0.6 * 47_400 / 84_000) / (0.6 * 58_500 / 84_000 + 0.4 * 117_000 / 240_000)
    (found,) = result.break_even
    assert found.below is not None and found.below.option == "A"
    assert found.below.value == pytest.approx(q, rel=2e-6)
    assert found.above is None
    assert (found.low, found.high) == (0.0, 3.0)


def test_break_even_agrees_with_a_brute_force_scan() -> None:
    base = fixed(
        cost_per_partner=D(dist="normal", mean=100, sd=20),
        win_rate=D(dist="normal", mean=0.5, sd=0.05),
        deal_size=D(dist="lognormal", median=1000, sigma=0.25),
        recruit_productivity=D(dist="normal", mean=1, sd=0.2),
        churn=D(dist="uniform", low=0, high=0.04),
        ramp_months=D(dist="triangular", low=1, mode=3, high=6),
    )
    name = "recruit_productivity"
    scenario = parse_spec(
        {
            "trials": 300,
            "horizon_months": 12,
            "options": BREAK_EVEN_OPTIONS,
            "criteria": BREAK_EVEN_CRITERIA,
            "key_assumptions": [name],
        }
    )
    result = simulate(scenario, base)
    assert result.recommended == "B"
    (found,) = result.break_even
    assert found.below is not None and found.above is None

    # brute force: 2,001 values over the same range, each option drawn the plain way
    search = search_for(result, base, scenario)
    grid = np.linspace(found.low, found.high, 2001)
    step = grid[1] - grid[0]
    best = []
    for v in grid:
        shifted = {**base.distributions(), name: D(dist="normal", mean=v, sd=0.2)}
        options = [
            shifted,
            {**shifted, "recruitment_velocity": D.fixed(3), "program_cost": D.fixed(2000)},
        ]
        scores = search.scorer.scores(search.model.evaluate(options))
        best.append("AB"[int(np.argmax(scores))])
    flips = [grid[i] for i in range(1, len(grid)) if best[i] != best[i - 1]]
    below = [f for f in flips if f <= found.center]
    assert below, "the brute force finds no flip below the center"
    assert abs(found.below.value - below[-1]) <= step
    assert found.below.option == best[0]
    # just either side of the threshold, the recommendation differs
    for side, expected in ((-1, "A"), (1, "B")):
        gap, winner = search.gap(name, found.below.value * (1 + side * 1e-4))
        assert ("AB"[winner], gap < 0) == (expected, expected == "A")


# --- the tornado ---------------------------------------------------------------------------


def test_tornado_ranks_a_wide_input_above_a_narrow_one() -> None:
    base = fixed(
        win_rate=D(dist="normal", mean=0.5, sd=0.15),
        deal_size=D(dist="normal", mean=1000, sd=10),
        churn=D(dist="uniform", low=0, high=0.02),
    )
    result = simulate(spec(trials=400, key_assumptions=["deal_size", "win_rate"]), base)
    assert [bar.name for bar in result.tornado] == ["win_rate", "deal_size"]
    wide, narrow = result.tornado
    assert wide.swing > 10 * narrow.swing
    assert wide.score_low < wide.score_high
    assert wide.low_value == pytest.approx(0.5 - 0.15 * 1.2815515655, rel=1e-9)
    assert wide.margin_low < wide.margin_high


# --- spec validation ------------------------------------------------------------------------


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioSpecError) as caught:
        parse_spec(data, "spec.toml")
    return caught.value.problems


def test_weights_must_sum_to_one() -> None:
    criteria = [
        {"name": "margin", "weight": 0.5, "outcome": "margin"},
        {"name": "revenue", "weight": 0.4, "outcome": "revenue"},
    ]
    assert problems_of({"criteria": criteria}) == [
        "criteria: the weights sum to 0.9; make them sum to 1 (each is the share of the "
        "decision the criterion carries)"
    ]


def test_unknown_input_names_say_where_and_what_was_meant() -> None:
    found = problems_of(
        {
            "inputs": {"chrun": 0.02},
            "options": [{"key": "A"}, {"key": "B", "overrides": {"win_rat": {"scale": 1.2}}}],
            "key_assumptions": ["deal_size", "dealsize"],
        }
    )
    assert found == [
        "inputs.chrun: no input 'chrun'; did you mean 'churn'?",
        "options[1].overrides.win_rat: no input 'win_rat'; did you mean 'win_rate'?",
        "key_assumptions[1]: no input 'dealsize'; did you mean 'deal_size'?",
    ]


def test_duplicate_option_keys_and_bad_distributions() -> None:
    found = problems_of(
        {
            "options": [
                {"key": "A"},
                {"key": "A", "overrides": {"churn": {"dist": "normal", "mean": 0.01}}},
            ],
            "inputs": {"ramp_months": {"dist": "triangular", "low": 6, "mode": 3, "high": 9}},
        }
    )
    assert found == [
        "inputs.ramp_months: mode (3) is outside low..high; give low ≤ mode ≤ high",
        "options[1].overrides.churn: a normal distribution needs sd: add sd = <number>",
        "options[1].key: option key 'A' is used twice; give each option its own key",
    ]
    assert problems_of({"inputs": {"deal_size": {"dist": "normal", "mean": 1, "sd": -2}}}) == [
        "inputs.deal_size: sd is -2; give sd ≥ 0"
    ]


def test_judged_scores_name_existing_options(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        """
        [[options]]
        key = "A"
        [[options]]
        key = "B"
        [[criteria]]
        name = "fit with strategy"
        weight = 1
        scores = { A = 6, C = 8 }
        """.replace("\n        ", "\n"),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioSpecError) as caught:
        load_spec(path)
    assert str(caught.value) == (
        f"{path}: 2 problems: (1) criteria[0].scores.C: no option 'C' (2) criteria[0].scores: "
        "no score for option 'B'; give every option a score 0–10"
    )


def test_spec_toml_shorthands_and_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        "[inputs]\nproductivity.Gold = { mean = 2, sd = 0.5 }\nchurn = 0.02\n"
        '[[options]]\nkey = "A"\n[[options]]\nkey = "B"\n'
        "[options.overrides]\nrecruitment_velocity = { scale = 2 }\n",
        encoding="utf-8",
    )
    loaded = load_spec(path)
    assert loaded.inputs == {
        "productivity.Gold": D(dist="normal", mean=2, sd=0.5),
        "churn": D.fixed(0.02),
    }
    dumped = json.loads(json.dumps(loaded.model_dump(mode="json")))
    assert ScenarioSpec.model_validate(dumped) == loaded
    assert dumped["inputs"]["churn"] == {"dist": "fixed", "value": 0.02}
    with pytest.raises(ScenarioSpecError, match="not valid TOML"):
        path.write_text("trials = = 3", encoding="utf-8")
        load_spec(path)


def test_a_tier_the_run_does_not_have_is_an_error() -> None:
    scenario = spec(options=[{"key": "A", "overrides": {"productivity.Gld": 3}}])
    with pytest.raises(ScenarioSpecError) as caught:
        simulate(scenario, fixed())
    assert caught.value.problems == [
        "options[0].overrides.productivity.Gld: no program tier 'Gld' (the tiers are Gold, "
        "Silver); did you mean 'productivity.Gold'?"
    ]


def test_distribution_quantiles_and_shifts() -> None:
    u = np.array([0.1, 0.5, 0.9])
    assert D(dist="uniform", low=2, high=4).quantile(u).tolist() == pytest.approx([2.2, 3, 3.8])
    tri = D(dist="triangular", low=0, mode=1, high=4)
    # CDF below the mode is x² / 4: the 10 % point is √0.4
    assert tri.at(0.1) == pytest.approx(math.sqrt(0.4))
    assert tri.at(0.25) == pytest.approx(1.0)
    assert D(dist="lognormal", median=10, sigma=0.5).at(0.5) == pytest.approx(10)
    assert tri.shifted(3) == D(dist="triangular", low=2, mode=3, high=6)
    assert D(dist="lognormal", median=10, sigma=0.5).shifted(20).median == 20
    assert D(dist="uniform", low=2, high=4).center() == 3


# --- calibration on a hand-built run --------------------------------------------------------

MONTHS = [date(2024 + i // 12, i % 12 + 1, 1) for i in range(25)]  # 2024-01 … 2026-01
PARTNER_COLUMNS = [
    "won_deals",
    "lost_deals",
    "open_deals",
    "leads_assigned",
    "new_pipeline",
    "won_revenue",
    "compliance_score",
]


def partner_month(pid: str, i: int) -> tuple[float, float, float, float] | None:
    """(won, lost, revenue, compliance) of a partner in month i, None when idle."""
    match pid:
        case "P1":  # Gold: 3 won at 1,000 and 1 lost each month
            return 3, 1, 3000, 100
        case "P2":  # Gold: 1 won at 2,000, 1 lost
            return 1, 1, 2000, 90
        case "P3":  # Silver: 1 lost a month
            return 0, 1, 0, 70
        case "P4":  # Silver, recruited: active from 2025-07
            return (1, 1, 500, 80) if i >= 18 else None
        case "P5":  # Silver: active in 2024-01 … 2024-06 only, then gone
            return (0, 1, 0, 60) if i < 6 else None
    return None


def hand_run() -> tuple[pa.Table, pa.Table]:
    tiers = {"P1": "Gold", "P2": "Gold", "P3": "Silver", "P4": "Silver", "P5": "Silver"}
    rows: list[dict[str, Any]] = []
    members = []
    for i, month in enumerate(MONTHS):
        total = dict.fromkeys(["won_deals", "lost_deals", "won_revenue"], 0.0)
        for pid, tier in tiers.items():
            members.append(
                {"partner_id": pid, "grain": "month", "period_start": month, "program_tier": tier}
            )
            values = partner_month(pid, i)
            won, lost, revenue, score = values or (0, 0, 0, None)
            rows.append(
                {"level": "partner", "group_key": pid, "period_start": month}
                | dict(zip(PARTNER_COLUMNS, (won, lost, 0, 0, 0, revenue, score), strict=True))
            )
            total["won_deals"] += won
            total["lost_deals"] += lost
            total["won_revenue"] += revenue
        rows.append(
            {"level": "portfolio", "group_key": "all", "period_start": month, **total}
            | {"mdf_spend": 1200, "incentive_payouts": 315, "other_partner_costs": 470}
            | {"control_index": 92.5}
        )
        rows.append(
            {"level": "company", "group_key": "all", "period_start": month, "coverage": 0.4}
        )
    for row in rows:
        row["grain"] = "month"
        row["complete"] = row["period_start"] < MONTHS[-1]
    columns = [
        "level",
        "group_key",
        "grain",
        "period_start",
        "complete",
        *PARTNER_COLUMNS,
        "mdf_spend",
        "incentive_payouts",
        "other_partner_costs",
        "control_index",
        "coverage",
    ]
    results = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    return results, pa.Table.from_pylist(members)


def test_calibration_on_a_hand_built_run() -> None:
    results, memberships = hand_run()
    inputs = calibrate(results, memberships, 0.65, run_id=7)
    center = {name: item.distribution.center() for name, item in inputs.items()}
    # the window is 2025-01 … 2025-12; P5 idle since 2024-06 is present until 2025-05
    assert center == pytest.approx(
        {
            "active_partners.Gold": 2,
            "active_partners.Silver": 2,  # P3 and P4
            "productivity.Gold": 72 / 24,  # (4 + 2) deals × 12 months over 24 partner-months
            "productivity.Silver": 24 / 23,  # P3 12 + P4 12 over 12 + 6 + 5 partner-months
            "recruit_productivity": 24 / 23,
            "recruitment_velocity": 1 / 12,  # P4
            "churn": 1 - 0.75 ** (1 / 12),  # P5 of P1, P2, P3, P5 present in 2024-12
            "win_rate": 54 / 96,
            "deal_size": 63_000 / 54,
            "mdf_spend": 1200,
            "incentive_rate": 12 * 315 / 63_000,
            "cost_per_partner": 12 * 470 / 47,
            "coverage_start": 0.4,
            "compliance_existing": 92.5,
            "compliance_recruits": 0.85 * 92.5,  # one recruit (P4) is too few: assumed
            "gross_margin": 0.65,
            "ramp_months": 6,
            "mdf_elasticity": 0.1,
            "program_cost": 0,
            "one_off_cost": 0,
        }
    )
    assert inputs["gross_margin"].source == "config"
    assert inputs["ramp_months"].source == "assumed"
    assert inputs["ramp_months"].distribution == D(dist="triangular", low=3, mode=6, high=9)
    assert inputs["win_rate"].distribution == D(dist="normal", mean=0.5625, sd=0.05625)
    assert inputs["active_partners.Gold"].distribution.dist == "fixed"
    assert (
        inputs["win_rate"].note
        == "won / closed deals of the portfolio, 12 months to 2025-12, run 7"
    )


# --- the command ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo at 50 partners: the smallest with every tier."""
    return copy_workspace(demo_folder, tmp_path_factory.mktemp("scenarios") / "demo")


COMMAND_SPEC = """
trials = 400
horizon_months = 24
[[options]]
key = "A"
label = "Keep the current approach"
[[options]]
key = "B"
label = "Recruit"
[options.overrides]
recruitment_velocity = { dist = "triangular", low = 2, mode = 3, high = 4 }
program_cost = 1000
"""


@pytest.mark.slow
@pytest.mark.xdist_group("scenario_demo")
@pytest.mark.usefixtures("wide_console")
def test_command_on_the_demo(demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(COMMAND_SPEC, encoding="utf-8")
    out_json = tmp_path / "summary.json"
    result = run("-w", str(demo), "scenario", "--file", str(path), "--json", str(out_json))
    summary = json.loads(out_json.read_text(encoding="utf-8"))
    chosen = summary["recommended"]
    assert f"Recommended: {chosen}" in result.stdout
    for title in ("Base inputs", "Options over 24 months", "Tornado", "Break-even"):
        assert title in result.stdout
    assert summary["spec"]["trials"] == 400
    assert {o["key"] for o in summary["options"]} == {"A", "B"}
    assert len(summary["options"][0]["bands"]["revenue"]["p50"]) == 24


@pytest.mark.slow
@pytest.mark.xdist_group("scenario_demo")
def test_command_errors_are_one_line(demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[criteria]]\nname = "m"\nweight = 0.5\noutcome = "margin"\n'
        '[[options]]\nkey = "A"\n[options.overrides]\nwin_rat = 0.3\n',
        encoding="utf-8",
    )
    result = run("-w", str(demo), "scenario", "--file", str(path), ok=False)
    assert_one_error_line(
        result, str(path), "2 problems", "the weights sum to 0.5", "did you mean 'win_rate'?"
    )
    result = run("-w", str(demo), "scenario", "--trials", "0", ok=False)
    assert_one_error_line(
        result, "command line: trials: Input should be greater than or equal to 1"
    )


def test_calibration_on_a_short_run_assumes_what_it_cannot_measure() -> None:
    import pyarrow.compute as pc

    results, memberships = hand_run()
    since = date(2025, 5, 1)  # 8 complete months and the incomplete 2026-01
    results = results.filter(pc.greater_equal(results["period_start"], since))
    memberships = memberships.filter(pc.greater_equal(memberships["period_start"], since))
    inputs = calibrate(results, memberships, None)
    assert inputs["mdf_spend"].distribution.center() == 1200  # the mean of 8 months, not 12
    assert inputs["mdf_spend"].note == "monthly mean, 8 months to 2025-12"
    assert (inputs["churn"].source, inputs["churn"].distribution.center()) == ("assumed", 0.01)
    assert inputs["recruitment_velocity"].source == "assumed"
    assert inputs["gross_margin"].source == "assumed"
    assert inputs["gross_margin"].distribution.center() == 0.7


def test_the_spec_can_add_a_tier_with_both_of_its_inputs() -> None:
    both = {"active_partners.Diamond": 5, "productivity.Diamond": 4}
    result = simulate(spec(inputs=both), fixed())
    assert months(result, "revenue")[0] == (40 + 20) * 500
    assert result.base["productivity.Diamond"].source == "config"
    with pytest.raises(ScenarioSpecError, match="a new tier needs both"):
        simulate(spec(inputs={"active_partners.Diamond": 5}), fixed())
