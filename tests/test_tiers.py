"""Tiers: placement by the declared rules, the reasons, the hysteresis of downgrades, the table
and the gaps to the next tier, on small hand-built panels whose answers are worked out here."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerscope.evaluation.panel import FloatArray, IntArray, Panel
from partnerscope.evaluation.tiers import (
    Gap,
    evaluate,
    hysteresis,
    next_tier_gaps,
    place,
    to_table,
)
from partnerscope.metrics.definition import load_catalog
from partnerscope.present import Words
from partnerscope.settings.evaluation import TierLevel, TierRules, TierSettings

NAN = math.nan
WORDS = Words("en_US", "USD", load_catalog())
PERFORMANCE = TierSettings().performance  # Elite 0, Performance 1, Development 2, Under review 3
REVENUE = TierSettings().revenue  # Tier 1 strategic 0, Tier 2 growth 1, Tier 3 development 2, …

#: Gold needs x ≥ 10 and y ≤ 2; Silver x ≥ 5; Bronze takes the rest.
GOLD = TierRules(
    levels=[
        TierLevel(name="Gold", min={"x": 10}, max={"y": 2}),
        TierLevel(name="Silver", min={"x": 5}),
        TierLevel(name="Bronze"),
    ]
)


def floats(*values: float) -> FloatArray:
    return np.array(values, dtype=np.float64)


def ints(*values: int) -> IntArray:
    return np.array(values, dtype=np.int64)


def make_panel(
    rows: Sequence[tuple[str, int]], values: Mapping[str, Sequence[float]] | None = None
) -> Panel:
    """A quarterly panel of (partner, period index) rows, given sorted by partner then period;
    ``previous`` links a row to the same partner's row of the period just before."""
    previous = [
        i - 1 if i and rows[i - 1] == (partner, period - 1) else -1
        for i, (partner, period) in enumerate(rows)
    ]
    count = max(period for _, period in rows) + 1
    return Panel(
        grain="quarter",
        partner=np.array([partner for partner, _ in rows], dtype=object),
        period=np.array([period for _, period in rows], dtype=np.int64),
        periods=[date(2024 + k // 4, 3 * (k % 4) + 1, 1) for k in range(count)],
        labels=[f"{2024 + k // 4}-Q{k % 4 + 1}" for k in range(count)],
        names={partner: partner.lower() for partner, _ in rows},
        cohorts={},
        values={name: np.array(v, dtype=np.float64) for name, v in (values or {}).items()},
        previous=np.array(previous, dtype=np.int64),
    )


# ----------------------------------------------------------------------------------- placement


def test_default_performance_rules() -> None:
    fields = {
        "score_percentile": floats(0.95, 0.95, 0.50, 0.50, 0.90, 0.99, NAN, 0.95),
        "quota_attainment": floats(1.60, 1.60, 0.60, 0.40, 1.50, 1.00, NAN, 1.49),
        "csat": floats(4.80, 4.70, 5.00, 5.00, 4.75, NAN, NAN, 4.90),
    }
    placed, _ = place(PERFORMANCE, fields)
    # 0: every Elite bound passed; 1: csat 4.70 < 4.75 → Performance (1.60 ≥ 0.8, 4.70 ≥ 4.25);
    # 2: quota 0.60 < 0.8 → Development (0.60 ≥ 0.5); 3: quota 0.40 < 0.5 → Under review;
    # 4: exactly 0.90 / 1.50 / 4.75, and ≥ is met → Elite; 5: csat missing fails Performance,
    # quota 1.00 ≥ 0.5 → Development; 6: nothing known → Under review;
    # 7: quota 1.49 < 1.5 → Performance
    assert placed.tolist() == [0, 1, 2, 3, 0, 2, 3, 1]
    assert placed.dtype == np.int64


def test_default_revenue_rules_at_the_bounds() -> None:
    revenue = floats(12e6, 10e6, 9_999_999.99, 2e6, 500_000, 499_999, 0, NAN)
    placed, _ = place(REVENUE, {"annual_revenue": revenue})
    # ≥ 10M → Tier 1; just under 10M and 2M → Tier 2; 500k → Tier 3; below 500k, 0 or
    # missing → Registered
    assert placed.tolist() == [0, 0, 1, 1, 2, 3, 3, 3]


def test_max_bounds_and_missing_values() -> None:
    fields = {"x": floats(20, 20, 20, 7, 3, NAN), "y": floats(2, 3, NAN, 0, 0, 0)}
    placed, reasons = place(GOLD, fields)
    # y = 2 is at the max (≤ met) → Gold; y = 3 > 2 → Silver; y missing → not Gold → Silver;
    # x = 7 → Silver; x = 3 < 5 → Bronze; x missing → Bronze
    assert placed.tolist() == [0, 1, 1, 1, 2, 2]
    # fields no catalog knows: plain names and numbers
    assert reasons[0] == "Gold: X 20 (at least 10), Y 2 (at most 2)"
    assert reasons[1] == "Silver: X 20 (at least 5); not Gold: Y 3 (needs at most 2)"
    assert reasons[2] == "Silver: X 20 (at least 5); not Gold: Y not known"
    assert reasons[3] == "Silver: X 7 (at least 5); not Gold: X 7 (needs at least 10)"
    assert reasons[5] == "Bronze; not Silver: X not known"


def test_first_matching_level_wins() -> None:
    # a row meeting both levels gets the upper one, even when the lower one is stricter
    rules = TierRules(
        levels=[
            TierLevel(name="Low risk", max={"y": 1}),
            TierLevel(name="Big", min={"x": 100}),
            TierLevel(name="Other"),
        ]
    )
    placed, _ = place(rules, {"x": floats(500, 500, 5), "y": floats(0, 9, 0)})
    assert placed.tolist() == [0, 1, 0]


def test_reasons_text() -> None:
    fields = {
        "score_percentile": floats(0.71, 0.95, 0.50, 0.95, 0.71234, 0.95),
        "quota_attainment": floats(1.12, 1.60, 0.30, 1.60, 0.79996, 0.8),
        "csat": floats(4.40, NAN, 4.90, 4.80, 4.9, 4.5),
    }
    _, reasons = place(PERFORMANCE, fields, WORDS)
    assert reasons == [
        "Performance: Quota attainment 112.0% (at least 80.0%), CSAT 4.40 (at least 4.25); "
        "not Elite: Rank among all partners 71st percentile (needs at least 90th percentile), "
        "Quota attainment 112.0% (needs at least 150.0%), CSAT 4.40 (needs at least 4.75)",
        "Development: Quota attainment 160.0% (at least 50.0%); not Performance: CSAT not known",
        "Under review; not Development: Quota attainment 30.0% (needs at least 50.0%)",
        "Elite: Rank among all partners 95th percentile (at least 90th percentile), "
        "Quota attainment 160.0% (at least 150.0%), CSAT 4.80 (at least 4.75)",
        # in the unit's decimals, with more where rounding would make the value read as its
        # bound: 79.996% would read "80.0% (needs at least 80.0%)"; the value reads the same
        # beside both bounds
        "Development: Quota attainment 79.996% (at least 50.0%); "
        "not Performance: Quota attainment 79.996% (needs at least 80.0%)",
        "Performance: Quota attainment 80.0% (at least 80.0%), CSAT 4.50 (at least 4.25); "
        "not Elite: Quota attainment 80.0% (needs at least 150.0%), "
        "CSAT 4.50 (needs at least 4.75)",
    ]
    # a rank of 0.71234 is the 71st percentile
    _, rows = place(PERFORMANCE, {**fields, "score_percentile": floats(*[0.71234] * 6)}, WORDS)
    assert "Rank among all partners 71st percentile (needs at least 90th percentile)" in rows[0]


def test_money_in_reasons() -> None:
    revenue = floats(2_345_678, 9_999_999.5, 12_000_000, 9_999_999.996)
    _, reasons = place(REVENUE, {"annual_revenue": revenue}, WORDS)
    # whole dollars; 9,999,999.5 would round onto $10,000,000, so it is written to the cent;
    # 9,999,999.996 to the cent too would, so to the tenth of a cent
    assert reasons == [
        "Tier 2 growth: Annual revenue $2,345,678 (at least $2,000,000); "
        "not Tier 1 strategic: Annual revenue $2,345,678 (needs at least $10,000,000)",
        "Tier 2 growth: Annual revenue $9,999,999.50 (at least $2,000,000); "
        "not Tier 1 strategic: Annual revenue $9,999,999.50 (needs at least $10,000,000)",
        "Tier 1 strategic: Annual revenue $12,000,000 (at least $10,000,000)",
        "Tier 2 growth: Annual revenue $9,999,999.996 (at least $2,000,000); "
        "not Tier 1 strategic: Annual revenue $9,999,999.996 (needs at least $10,000,000)",
    ]


def test_a_field_the_rules_use_must_be_given() -> None:
    fields = {"score_percentile": floats(0.5), "quota_attainment": floats(1.0)}
    with pytest.raises(KeyError, match="'csat'"):
        place(PERFORMANCE, fields)
    with pytest.raises(ValueError, match="same length"):
        place(PERFORMANCE, {**fields, "csat": floats(4.0, 4.0)})


# ---------------------------------------------------------------------------------- hysteresis


def one_partner(placed: Sequence[int], downgrade_after: int) -> tuple[list[int], ...]:
    panel = make_panel([("P1", k) for k in range(len(placed))])
    effective, pending, periods = hysteresis(panel, ints(*placed), downgrade_after)
    return effective.tolist(), pending.tolist(), periods.tolist()


def test_an_upgrade_takes_effect_at_once() -> None:
    assert one_partner([2, 1, 0, 0], 2) == ([2, 1, 0, 0], [-1] * 4, [0] * 4)


def test_a_downgrade_waits_for_two_periods() -> None:
    # period 1 is the first below Elite (1 of 2): held; period 2 the second: Performance
    assert one_partner([0, 1, 1, 1], 2) == ([0, 0, 1, 1], [-1, 1, -1, -1], [0, 1, 0, 0])


def test_a_downgrade_waits_for_three_periods() -> None:
    assert one_partner([0, 1, 1, 1, 1], 3) == (
        [0, 0, 0, 1, 1],
        [-1, 1, 1, -1, -1],
        [0, 1, 2, 0, 0],
    )


def test_downgrade_after_one_is_immediate() -> None:
    assert one_partner([0, 2, 1], 1) == ([0, 2, 1], [-1] * 3, [0] * 3)


def test_a_dip_of_one_period_that_recovers() -> None:
    # each dip to 2 is the first period below 1, and the next period clears it
    assert one_partner([1, 2, 1, 2, 1], 2) == ([1, 1, 1, 1, 1], [-1, 2, -1, 2, -1], [0, 1, 0, 1, 0])


def test_a_drop_of_two_levels_and_the_latest_placement() -> None:
    # held at Elite with 2 pending, then dropped straight to 2
    assert one_partner([0, 2, 2], 2) == ([0, 0, 2], [-1, 2, -1], [0, 1, 0])
    # pending 1, then 2: the run counts every period below, and the latest placement applies
    assert one_partner([0, 1, 2], 2) == ([0, 0, 2], [-1, 1, -1], [0, 1, 0])
    # a run of 3 with pending 2, then 1, then 2 again
    assert one_partner([0, 2, 1, 2], 3) == ([0, 0, 0, 2], [-1, 2, 1, -1], [0, 1, 2, 0])


def test_a_gap_restarts_the_partner() -> None:
    # P1 is in periods 0, 1 and 3: period 3 has no previous row, so it is placed afresh
    panel = make_panel([("P1", 0), ("P1", 1), ("P1", 3), ("P2", 0), ("P2", 1), ("P2", 2)])
    assert panel.previous.tolist() == [-1, 0, -1, -1, 3, 4]
    effective, pending, periods = hysteresis(panel, ints(0, 2, 2, 0, 2, 2), 3)
    # P1 period 3 would be the 2nd of 3 periods below Elite, but restarts at 2;
    # P2 (no gap) stays at Elite with 2 periods of 3 pending
    assert effective.tolist() == [0, 0, 2, 0, 0, 0]
    assert pending.tolist() == [-1, 2, -1, -1, 2, 2]
    assert periods.tolist() == [0, 1, 0, 0, 1, 2]


def test_hysteresis_checks_its_input() -> None:
    panel = make_panel([("P1", 0), ("P1", 1)])
    with pytest.raises(ValueError, match="2 rows"):
        hysteresis(panel, ints(0), 2)
    with pytest.raises(ValueError, match="at least 1"):
        hysteresis(panel, ints(0, 1), 0)


# --------------------------------------------------------------------------------------- table


def test_evaluate_and_table() -> None:
    # A: 3M, 12M, 3M, 3M → placed Tier 2, Tier 1, Tier 2, Tier 2; the first drop is held one
    # period (downgrade_after 2). B: 600k in period 0, then 15M in period 2 after a gap.
    revenue = [3e6, 12e6, 3e6, 3e6, 600_000, 15e6]
    panel = make_panel(
        [("A", 0), ("A", 1), ("A", 2), ("A", 3), ("B", 0), ("B", 2)], {"annual_revenue": revenue}
    )
    placements = evaluate(panel, panel.values, REVENUE, "revenue")
    assert placements.level_names == [level.name for level in REVENUE.levels]
    assert placements.placed.tolist() == [1, 0, 1, 1, 2, 0]
    assert placements.effective.tolist() == [1, 0, 0, 1, 2, 0]

    table = to_table(panel, placements)
    assert table.schema == pa.schema(
        [
            ("partner_id", pa.string()),
            ("period_start", pa.date32()),
            ("period", pa.string()),
            ("ruleset", pa.string()),
            ("placed", pa.string()),
            ("effective", pa.string()),
            ("pending", pa.string()),
            ("pending_periods", pa.int64()),
            ("moved", pa.string()),
            ("reason", pa.string()),
            ("scored", pa.bool_()),
        ]
    )
    columns = table.to_pydict()
    assert columns["partner_id"] == ["A", "A", "A", "A", "B", "B"]
    assert columns["period_start"][:2] == [date(2024, 1, 1), date(2024, 4, 1)]
    assert columns["period"] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2024-Q1", "2024-Q3"]
    assert columns["ruleset"] == ["revenue"] * 6
    t1, t2, t3 = "Tier 1 strategic", "Tier 2 growth", "Tier 3 development"
    assert columns["placed"] == [t2, t1, t2, t2, t3, t1]
    assert columns["effective"] == [t2, t1, t1, t2, t3, t1]
    assert columns["pending"] == [None, None, t2, None, None, None]
    assert columns["pending_periods"] == [0, 0, 1, 0, 0, 0]
    # B's second row is compared with its row before the gap
    assert columns["moved"] == [None, "up", None, "down", None, "up"]
    assert columns["reason"][0] == (
        "Tier 2 growth: Annual revenue $3,000,000 (at least $2,000,000); "
        "not Tier 1 strategic: Annual revenue $3,000,000 (needs at least $10,000,000)"
    )


def test_evaluate_checks_the_number_of_rows() -> None:
    panel = make_panel([("A", 0), ("A", 1)])
    with pytest.raises(ValueError, match="'annual_revenue' has 3 values for 2 rows"):
        evaluate(panel, {"annual_revenue": floats(1, 2, 3)}, REVENUE, "revenue")


# ------------------------------------------------------------------------------ next tier gaps


def test_next_tier_gaps() -> None:
    fields = {
        "score_percentile": floats(0.71, 0.95),
        "quota_attainment": floats(1.12, 0.60),
        "csat": floats(4.40, NAN),
    }
    assert next_tier_gaps(PERFORMANCE, fields, 0, 1) == (
        "Elite",
        [
            Gap("score_percentile", "min", 0.9, 0.71),
            Gap("quota_attainment", "min", 1.5, 1.12),
            Gap("csat", "min", 4.75, 4.4),
        ],
    )
    # Development → Performance: quota 0.60 < 0.8 and csat unknown
    assert next_tier_gaps(PERFORMANCE, fields, 1, 2) == (
        "Performance",
        [Gap("quota_attainment", "min", 0.8, 0.6), Gap("csat", "min", 4.25, None)],
    )
    assert next_tier_gaps(PERFORMANCE, fields, 0, 0) is None
    # Silver → Gold: x = 20 is enough, y = 3 must come down to 2
    assert next_tier_gaps(GOLD, {"x": floats(20), "y": floats(3)}, 0, 1) == (
        "Gold",
        [Gap("y", "max", 2, 3.0)],
    )
    with pytest.raises(IndexError, match="level 4"):
        next_tier_gaps(PERFORMANCE, fields, 0, 4)


# ------------------------------------------------------------------------------------ property

VALUE = st.one_of(st.just(NAN), st.sampled_from([0.0, 0.5, 0.8, 0.9, 1.5, 4.25, 4.75, 5.0]))


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[dict[str, list[tuple[int, list[float]]]], list[int]]:
    """Partners with a non-empty set of periods (gaps allowed) and the three performance
    values per period, and a permutation of the partners."""
    count = draw(st.integers(1, 5))
    partners = {
        f"P{i}": [
            (period, [draw(VALUE) for _ in range(3)])
            for period in sorted(draw(st.sets(st.integers(0, 5), min_size=1)))
        ]
        for i in range(count)
    }
    return partners, draw(st.permutations(range(count)))


def placements_by_partner(
    partners: Mapping[str, list[tuple[int, list[float]]]], downgrade_after: int
) -> dict[tuple[str, int], tuple[object, ...]]:
    rows = [(p, period) for p in sorted(partners) for period, _ in partners[p]]
    values = [v for p in sorted(partners) for _, v in partners[p]]
    names = ("score_percentile", "quota_attainment", "csat")
    panel = make_panel(rows, {name: [v[i] for v in values] for i, name in enumerate(names)})
    rules = PERFORMANCE.model_copy(update={"downgrade_after": downgrade_after})
    result = evaluate(panel, panel.values, rules, "performance")
    return {
        row: (
            result.placed[i],
            result.effective[i],
            result.pending[i],
            result.pending_periods[i],
            result.reasons[i],
        )
        for i, row in enumerate(rows)
    }


@settings(max_examples=60, deadline=None)
@given(portfolios(), st.integers(1, 3))
def test_the_order_of_partners_changes_nothing(
    drawn: tuple[dict[str, list[tuple[int, list[float]]]], list[int]], downgrade_after: int
) -> None:
    partners, permutation = drawn
    # renaming P{i} to Q{permutation[i]} reorders the partners in the sorted panel
    renamed = {f"Q{permutation[int(p[1:])]}": rows for p, rows in partners.items()}
    before = placements_by_partner(partners, downgrade_after)
    after = placements_by_partner(renamed, downgrade_after)
    assert {
        (f"Q{permutation[int(p[1:])]}", period): v for (p, period), v in before.items()
    } == after
