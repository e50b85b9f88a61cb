"""Issue 26 item 9: "high potential" is a rise from a low base that held, not a top partner
back to its usual level after one empty quarter."""

from __future__ import annotations

from partnerscope.settings.evaluation import FlagSettings, HighPotential
from tests.test_flags import flags_of, make_panel, quarters


def test_a_top_partner_after_one_empty_quarter_is_not_high_potential() -> None:
    panel = make_panel(
        "quarter",
        *quarters(6),
        {
            # a top dealer with one quarter without orders 3 quarters back: 10 → 82 from the
            # 5th percentile then, but at the 90th the quarter before
            "T": {
                "score": [80, 82, 10, 50, 75, 82],
                "cohort_percentile": [0.9, 0.9, 0.05, 0.6, 0.85, 0.9],
            },
            # a riser from a base that held: the 25th and 20th percentiles before rising
            "R": {
                "score": [20, 22, 20, 35, 50, 65],
                "cohort_percentile": [0.2, 0.25, 0.2, 0.4, 0.6, 0.8],
            },
        },
    )
    rising = HighPotential(points=20, periods=3, base_at_most=0.5)
    found = flags_of(panel, settings=FlagSettings(high_potential=rising))
    assert sorted(p for p, c in found if c == "rising") == ["R"]
    # with base_periods 1 (only the start judged) the top dealer is flagged, as before
    once = rising.model_copy(update={"base_periods": 1})
    found = flags_of(panel, settings=FlagSettings(high_potential=once))
    assert sorted(p for p, c in found if c == "rising") == ["R", "T"]
