"""Review flags on hand-built panels; every expected value is worked out in a comment."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import pytest

from partnerscope.evaluation.flags import evaluate_flags
from partnerscope.evaluation.panel import Panel
from partnerscope.metrics.definition import load_catalog
from partnerscope.present import Words
from partnerscope.settings.evaluation import FlagSettings, HighPotential, ImprovementCriteria
from tests.panels import series_panel

NAN = math.nan
#: every field a criterion reads; a test gives the ones it is about, the rest stay missing
FIELDS = ("quota_attainment", "csat", "compliance_score", "score", "cohort_percentile")
FIELDS += ("won_revenue",)

#: how the messages are written: the workspace defaults (en_US, USD) and the built-in catalog
WORDS = Words("en_US", "USD", load_catalog())


def make_panel(
    grain: str,
    starts: list[date],
    labels: list[str],
    data: dict[str, dict[str, list[float]]],
    cohort: dict[str, str] | None = None,
) -> Panel:
    return series_panel(grain, starts, labels, data, cohort, fields=FIELDS)


def quarters(n: int) -> tuple[list[date], list[str]]:
    """``n`` quarters ending with 2025-Q3 (July to September 2025)."""
    numbers = [2025 * 12 + 6 - 3 * (n - 1 - i) for i in range(n)]
    starts = [date(m // 12, m % 12 + 1, 1) for m in numbers]
    return starts, [f"{s.year}-Q{(s.month - 1) // 3 + 1}" for s in starts]


def months(n: int) -> tuple[list[date], list[str]]:
    """``n`` months ending with 2025-09."""
    numbers = [2025 * 12 + 8 - (n - 1 - i) for i in range(n)]
    starts = [date(m // 12, m % 12 + 1, 1) for m in numbers]
    return starts, [s.strftime("%Y-%m") for s in starts]


#: The criteria these tests work out by hand (explicit, so that tuning a default does not
#: silently change what a test checks).
SETTINGS = FlagSettings(
    improvement=ImprovementCriteria(declining_share=0.25, declining_points=10),
    high_potential=HighPotential(points=20, periods=3, base_at_most=0.5),
)


def flags_of(
    panel: Panel, monthly: Panel | None = None, settings: FlagSettings | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(partner, criterion) → the flag row, with its values parsed."""
    if monthly is None:
        monthly = make_panel("month", *months(1), {})
    table = evaluate_flags(
        panel, panel.values, monthly, panel.cohorts["revenue_band"], settings or SETTINGS, WORDS
    )
    out = {}
    for row in table.to_pylist():
        row["values"] = json.loads(row["values"])
        out[row["partner_id"], row["criterion"]] = row
    return out


# ------------------------------------------------------------------------------------------ exit


def test_below_quota_counts_consecutive_months_to_the_last() -> None:
    monthly = make_panel(
        "month",
        *months(9),
        {
            # 2025-01 is 0.6; 2025-02 … 2025-09 are all under 0.5: a run of 8 months
            "P1": {"quota_attainment": [0.6, 0.4, 0.3, 0.2, 0.45, 0.1, 0.49, 0.3, 0.0]},
            # exactly at the bound is not below it: the run is 2025-08 and -09 only
            "P2": {"quota_attainment": [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 0.1, 0.1]},
            # a month without attainment (2025-06) breaks the run: 3 months
            "P3": {"quota_attainment": [0.1, 0.1, 0.1, 0.1, 0.1, NAN, 0.1, 0.1, 0.1]},
            # exactly 6 months below (2025-04 … 2025-09): flagged
            "P4": {"quota_attainment": [0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]},
            # only 5 months of history in the program
            "P5": {"quota_attainment": [0.1, 0.1, 0.1, 0.1, 0.1]},
        },
    )
    panel = make_panel("quarter", *quarters(3), {p: {"score": [50.0]} for p in monthly.names})
    found = flags_of(panel, monthly)
    assert sorted(p for p, c in found if c == "below_quota") == ["P1", "P4"]
    p1 = found["P1", "below_quota"]
    assert (p1["flag"], p1["period"], p1["period_start"]) == ("exit", "2025-Q3", date(2025, 7, 1))
    assert p1["evidence"] == (
        "Quota attainment below 50% for 8 months in a row: 2025-02 40.0%, 2025-03 30.0%, "
        "2025-04 20.0%, 2025-05 45.0%, 2025-06 10.0%, 2025-07 49.0%, 2025-08 30.0%, 2025-09 0.0%"
    )
    assert p1["values"]["months_below"] == 8
    assert p1["values"]["quota_attainment"]["2025-09"] == 0.0
    assert found["P4", "below_quota"]["values"]["months_below"] == 6


def test_below_quota_months_take_a_quarterly_quota() -> None:
    # the quotas are per quarter: every month is missing its own attainment and counts with
    # its quarter's
    monthly = make_panel("month", *months(9), {p: {"score": [1.0] * 9} for p in "ABC"})
    panel = make_panel(
        "quarter",
        *quarters(3),
        {
            "A": {"quota_attainment": [0.4, 0.3, 0.2]},  # 9 months below
            "B": {"quota_attainment": [0.6, 0.3, 0.2]},  # Q2 and Q3: exactly the 6 needed
            "C": {"quota_attainment": [0.1, 0.5, 0.2]},  # Q2 is at the bound: 3 months
        },
    )
    found = flags_of(panel, monthly)
    assert sorted(p for p, c in found if c == "below_quota") == ["A", "B"]
    assert found["A", "below_quota"]["evidence"] == (
        "Quota attainment below 50% for 9 months in a row: 2025-Q1 40.0%, 2025-Q2 30.0%, "
        "2025-Q3 20.0%"
    )
    assert found["B", "below_quota"]["values"]["quota_attainment"] == {
        "2025-Q2": 0.3,
        "2025-Q3": 0.2,
    }


def test_repeated_csat_and_compliance() -> None:
    panel = make_panel(
        "quarter",
        *quarters(5),
        {
            # last 4: 3.0 and 3.4 are under 3.5 → 2 of 4: flagged
            "A": {"csat": [4.0, 3.0, 4.2, 3.4, 4.0], "compliance_score": [69.9]},
            # the 3.0 is outside the window and 3.5 is not under 3.5 → 1 of 4
            "B": {"csat": [3.0, 3.0, 4.0, 3.5, 4.0], "compliance_score": [70.0]},
            # missing quarters count as not under: 3.2 and 3.1 → 2 of 4
            "C": {"csat": [NAN, 3.2, NAN, 3.1, 4.0]},
        },
    )
    found = flags_of(panel)
    assert sorted(found) == [("A", "compliance"), ("A", "csat"), ("C", "csat")]
    assert found["A", "csat"]["evidence"] == (
        "CSAT below 3.50 in 2 of the last 4 quarters: 2024-Q4 3.00, 2025-Q1 4.20, 2025-Q2 3.40, "
        "2025-Q3 4.00"
    )
    assert found["C", "csat"]["values"]["csat"] == {
        "2024-Q4": 3.2,
        "2025-Q1": None,
        "2025-Q2": 3.1,
        "2025-Q3": 4.0,
    }
    assert found["A", "compliance"]["flag"] == "exit"
    assert found["A", "compliance"]["evidence"] == "Compliance score is 69.9, below 70.0 in 2025-Q3"


# ----------------------------------------------------------------------------------- improvement


def test_bottom_of_cohort_needs_enough_scored_peers() -> None:
    big = {
        f"B{i}": {"score": [s], "cohort_percentile": [p]}
        for i, (s, p) in enumerate([(10, 0.0), (20, 0.1), (30, 0.2), (40, 0.6), (50, 0.8)])
    }
    # four scored partners only (the fifth has no score): nobody is judged
    small = {
        f"S{i}": {"score": [s], "cohort_percentile": [p]}
        for i, (s, p) in enumerate([(5, 0.0), (6, 0.0), (7, 0.5), (8, 1.0), (NAN, NAN)])
    }
    cohorts = dict.fromkeys(big, "big") | dict.fromkeys(small, "small")
    panel = make_panel("quarter", *quarters(2), big | small, cohort=cohorts)
    found = flags_of(panel)
    # bottom_share 0.10: percentiles 0.0 and 0.1 (at the bound) are in it
    assert sorted(found) == [("B0", "bottom_of_cohort"), ("B1", "bottom_of_cohort")]
    b1 = found["B1", "bottom_of_cohort"]
    assert b1["flag"] == "improvement"
    assert b1["evidence"] == (
        "Score 20.0 is in the bottom 10% of its peer group (big): at the 10th percentile of its "
        "5 scored partners"
    )
    assert b1["values"]["cohort_scored"] == 5


def test_declining_score() -> None:
    panel = make_panel(
        "quarter",
        *quarters(4),
        {
            "D1": {"score": [70, 65, 60, 58]},  # 3 falls, 12 points: flagged
            "D2": {"score": [70, 65, 66, 58]},  # rose once
            "D3": {"score": [70, 65, 62, 60]},  # exactly 10 points: flagged
            "D4": {"score": [70, 68, 66, 64.5]},  # 5.5 points only
            "D5": {"score": [65, 60, 50]},  # two falls: too little history
            "D6": {"score": [70, 65, NAN, 50]},  # a period without a score breaks the fall
        },
    )
    found = flags_of(panel)
    assert sorted(p for p, c in found if c == "declining") == ["D1", "D3"]
    assert found["D1", "declining"]["evidence"] == (
        "Score fell in each of the last 3 quarters, by 12.0 points in total: "
        "2024-Q4 70.0, 2025-Q1 65.0, 2025-Q2 60.0, 2025-Q3 58.0"
    )
    assert found["D3", "declining"]["values"]["points"] == 10


def test_declining_revenue_reads_the_trailing_year() -> None:
    panel = make_panel(
        "quarter",
        *quarters(7),
        {
            # trailing 4 quarters ending at quarters 3…6: 400, 340, 270, 180 (e.g. 100 + 40 +
            # 30 + 10); each lower, and (400 − 180) / 400 = 55 %: flagged
            "R1": {"won_revenue": [100, 100, 100, 100, 40, 30, 10]},
            # 400, 390, 380, 360: a fall of 10 % only
            "R2": {"won_revenue": [100, 100, 100, 100, 90, 90, 70]},
            # the quarters fall 100 → 90 → 80 → 70, but the trailing year grows: 130, 210, 280,
            # 340 (a year ago the partner was smaller)
            "R3": {"won_revenue": [10, 10, 10, 100, 90, 80, 70]},
            # 400, 360, 330, 300: exactly 25 %: flagged
            "R4": {"won_revenue": [100, 100, 100, 100, 60, 70, 70]},
        },
    )
    found = flags_of(panel)
    assert sorted(p for p, c in found if c == "declining_revenue") == ["R1", "R4"]
    r1 = found["R1", "declining_revenue"]
    assert r1["flag"] == "improvement"
    assert r1["evidence"] == (
        "Won revenue over the trailing 4 quarters fell in each of the last 3 quarters, by 55% "
        "in total: 2024-Q4 $400, 2025-Q1 $340, 2025-Q2 $270, 2025-Q3 $180"
    )
    assert r1["values"]["share"] == 0.55
    assert found["R4", "declining_revenue"]["values"]["share"] == 0.25


# -------------------------------------------------------------------------------- high potential


def test_rising_score_from_a_low_base() -> None:
    panel = make_panel(
        "quarter",
        *quarters(4),
        {
            # 30 → 52: 22 points from the 0.3 percentile
            "H1": {"score": [30, 35, 45, 52], "cohort_percentile": [0.3, 0.4, 0.5, 0.7]},
            # the same rise from the 0.6 percentile: not a low base
            "H2": {"score": [30, 35, 45, 52], "cohort_percentile": [0.6, 0.4, 0.5, 0.7]},
            # a newer partner: its first period is the start, 25 → 50 in 1 quarter
            "H3": {"score": [25, 50], "cohort_percentile": [0.2, 0.9]},
            # a single period: nothing to rise from
            "H4": {"score": [80], "cohort_percentile": [0.9]},
            # exactly 20 points: flagged
            "H5": {"score": [40, 50, 55, 60], "cohort_percentile": [0.5, 0.5, 0.5, 0.6]},
            # no score 3 back: the start is 2 back, 30 → 55 in 2 quarters
            "H6": {"score": [NAN, 30, 40, 55], "cohort_percentile": [NAN, 0.2, 0.3, 0.8]},
        },
    )
    found = flags_of(panel)
    assert sorted(p for p, c in found if c == "rising") == ["H1", "H3", "H5", "H6"]
    h1 = found["H1", "rising"]
    assert h1["flag"] == "high_potential"
    assert h1["evidence"] == (
        "Score rose 22.0 points in 3 quarters, from 30.0 in 2024-Q4 (at the 30th percentile of "
        "its peer group then) to 52.0"
    )
    assert found["H3", "rising"]["evidence"].startswith("Score rose 25.0 points in 1 quarter,")
    assert found["H6", "rising"]["values"]["start_period"] == "2025-Q1"


def test_rising_revenue_doubles_the_trailing_year() -> None:
    panel = make_panel(
        "quarter",
        *quarters(7),
        {
            # trailing years 0, 10, 30, 70: rising from nothing
            "G1": {"won_revenue": [0, 0, 0, 0, 10, 20, 40]},
            # 200, 210, 230, 260: +30 % only
            "G2": {"won_revenue": [50, 50, 50, 50, 60, 70, 80]},
            # 40, 60, 90, 130: 130 / 40 − 1 = 225 %
            "G3": {"won_revenue": [10, 10, 10, 10, 30, 40, 50]},
            # joined 3 quarters ago: 10, 30, 70 over its 2 rises, 70 / 10 − 1 = 600 %
            "G4": {"won_revenue": [10, 20, 40]},
        },
    )
    found = flags_of(panel)
    assert sorted(p for p, c in found if c == "rising_revenue") == ["G1", "G3", "G4"]
    assert found["G1", "rising_revenue"]["evidence"] == (
        "Won revenue over the trailing 4 quarters rose in each of the last 3 quarters, from "
        "nothing: 2024-Q4 $0, 2025-Q1 $10, 2025-Q2 $30, 2025-Q3 $70"
    )
    assert found["G3", "rising_revenue"]["values"]["growth"] == 2.25
    g4 = found["G4", "rising_revenue"]
    assert g4["evidence"] == (
        "Won revenue over the trailing 4 quarters rose in each of the last 2 quarters, by 600%: "
        "2025-Q1 $10, 2025-Q2 $30, 2025-Q3 $70"
    )


def test_table_shape_and_order() -> None:
    panel = make_panel(
        "quarter",
        *quarters(2),
        {"B": {"compliance_score": [10, 10]}, "A": {"compliance_score": [50, 20], "csat": [1, 1]}},
    )
    table = evaluate_flags(
        panel,
        panel.values,
        make_panel("month", *months(1), {}),
        panel.cohorts["revenue_band"],
        SETTINGS,
        WORDS,
    )
    assert table.column_names == [
        "partner_id",
        "period_start",
        "period",
        "flag",
        "criterion",
        "evidence",
        "values",
    ]
    assert str(table.schema.field("period_start").type) == "date32[day]"
    # by partner, then in criterion order
    assert [(r["partner_id"], r["criterion"]) for r in table.to_pylist()] == [
        ("A", "csat"),
        ("A", "compliance"),
        ("B", "compliance"),
    ]


def test_no_partners_gives_an_empty_table() -> None:
    panel = make_panel("quarter", *quarters(2), {})
    table = evaluate_flags(
        panel,
        panel.values,
        make_panel("month", *months(1), {}),
        panel.cohorts["revenue_band"],
        SETTINGS,
        WORDS,
    )
    assert table.num_rows == 0
    assert table.num_columns == 7


@pytest.mark.parametrize("grain", ["month", "year"])
def test_trailing_year_follows_the_grain(grain: str) -> None:
    # at grain year the trailing year is the period itself: 100, 80, 60, 40 fall by 60 %
    revenue = [100.0, 80.0, 60.0, 40.0] if grain == "year" else [10.0] * 12 + [5.0, 5.0, 5.0]
    starts = [date(2021 + i, 1, 1) for i in range(4)] if grain == "year" else months(15)[0]
    labels = [str(s.year) for s in starts] if grain == "year" else months(15)[1]
    panel = make_panel(grain, starts, labels, {"P": {"won_revenue": revenue}})
    found = flags_of(panel)
    if grain == "year":
        assert found["P", "declining_revenue"]["evidence"].startswith(
            "Won revenue fell in each of the last 3 years, by 60% in total"
        )
    else:
        # trailing 12 months: 120, 115, 110, 105 → 12.5 %: too little
        assert ("P", "declining_revenue") not in found
