"""The exit criterion "N months below 50 % of quota" counts back from the last month of the
period judged (issue 26, item 16): not from the latest finished month of the run, which on most
days lies in a quarter not finished yet, nor from a month after the period.

The scorecard periods are quarters ending with 2025-Q3 (July to September 2025). A run as of a
quarter boundary (2025-10-01) has finished months up to 2025-09; a run as of 2025-11-15, inside
2025-Q4, also has 2025-10 finished — a month of a quarter not judged yet.
"""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from partnerscope.evaluation.panel import Panel
from partnerscope.evaluation.pipeline import FLAGS
from partnerscope.runs import get_run, run_folder
from partnerscope.workspace import Workspace
from tests.test_cli import run
from tests.test_flags import flags_of, make_panel, quarters

NAN = math.nan


def months_to(last: date, n: int) -> tuple[list[date], list[str]]:
    """``n`` months ending with the month of ``last``."""
    numbers = [last.year * 12 + last.month - 1 - (n - 1 - i) for i in range(n)]
    starts = [date(m // 12, m % 12 + 1, 1) for m in numbers]
    return starts, [s.strftime("%Y-%m") for s in starts]


#: the finished months of a run as of each time: 2025-01 to the month before it
AS_OF = {
    "2025-10-01 (a quarter boundary)": date(2025, 9, 1),
    "2025-11-15 (inside 2025-Q4)": date(2025, 10, 1),
    "2025-12-31 (inside 2025-Q4)": date(2025, 11, 1),
}


def quarterly(last_month: date) -> tuple[Panel, Panel]:
    """Quotas per quarter: no month has an attainment of its own; each counts with its
    quarter's. The months after 2025-09 belong to 2025-Q4, not finished: no attainment."""
    starts, labels = months_to(last_month, 9 + (last_month.month - 9))
    monthly = make_panel(
        "month", starts, labels, {p: {"score": [1.0] * len(starts)} for p in "ABC"}
    )
    panel = make_panel(
        "quarter",
        *quarters(3),
        {
            # 2025-Q1 … Q3 all below 0.5: 9 months, flagged
            "A": {"quota_attainment": [0.4, 0.3, 0.2]},
            # Q2 and Q3 below: 6 months, exactly the 6 needed, flagged
            "B": {"quota_attainment": [0.6, 0.3, 0.2]},
            # Q2 at the bound is not below it: 3 months, not flagged
            "C": {"quota_attainment": [0.1, 0.5, 0.2]},
        },
    )
    return panel, monthly


@pytest.mark.parametrize("as_of", sorted(AS_OF))
def test_quarterly_quotas_are_judged_on_the_quarter_whatever_the_day(as_of: str) -> None:
    panel, monthly = quarterly(AS_OF[as_of])
    found = flags_of(panel, monthly)
    assert sorted(p for p, c in found if c == "below_quota") == ["A", "B"]
    a = found["A", "below_quota"]
    assert a["period"] == "2025-Q3"
    assert a["values"]["months_below"] == 9
    assert a["evidence"] == (
        "Quota attainment below 50% for 9 months in a row: 2025-Q1 40.0%, 2025-Q2 30.0%, "
        "2025-Q3 20.0%"
    )
    assert found["B", "below_quota"]["values"] == {
        "below": 0.5,
        "months_needed": 6,
        "months_below": 6,
        "quota_attainment": {"2025-Q2": 0.3, "2025-Q3": 0.2},
    }


#: monthly quotas from 2025-01 to 2025-11 (a month after a run's last finished month is not
#: in its panel)
MONTHLY = {
    # 2025-04 … 2025-09 below 0.5, then 1.46 in 2025-10 (2025-Q4, not judged yet): its run
    # to the end of 2025-Q3 is 6 months, flagged
    "P0055": [0.9, 0.9, 0.9, 0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 1.46, 1.46],
    # above 0.5 through 2025-09 and below after: nothing to flag in 2025-Q3
    "LATE": [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1],
    # 2025-05 … 2025-09 below: 5 months by the end of 2025-Q3, one short; with 2025-10 below
    # too it would be 6 — a month of the next quarter, not counted before that quarter ends
    "SHORT": [0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
}


@pytest.mark.parametrize("as_of", sorted(AS_OF))
def test_monthly_quotas_are_counted_to_the_last_month_of_the_quarter(as_of: str) -> None:
    last = AS_OF[as_of]
    starts, labels = months_to(last, 9 + (last.month - 9))
    monthly = make_panel(
        "month",
        starts,
        labels,
        {p: {"quota_attainment": v[: len(starts)]} for p, v in MONTHLY.items()},
    )
    panel = make_panel("quarter", *quarters(3), {p: {"score": [50.0]} for p in MONTHLY})
    found = flags_of(panel, monthly)
    assert sorted(p for p, c in found if c == "below_quota") == ["P0055"]
    flag = found["P0055", "below_quota"]
    assert flag["period"] == "2025-Q3"
    assert flag["values"]["months_below"] == 6
    assert flag["evidence"] == (
        "Quota attainment below 50% for 6 months in a row: 2025-04 10.0%, 2025-05 20.0%, "
        "2025-06 30.0%, 2025-07 40.0%, 2025-08 10.0%, 2025-09 20.0%"
    )


def test_a_month_grain_judges_its_own_latest_month() -> None:
    # at grain month the period judged is the latest month itself: SHORT's run reaches 6
    # months with 2025-10, and P0055's is broken by it
    starts, labels = months_to(date(2025, 10, 1), 10)
    data = {p: {"quota_attainment": v[:10]} for p, v in MONTHLY.items()}
    monthly = make_panel("month", starts, labels, data)
    found = flags_of(monthly, monthly)
    assert sorted(p for p, c in found if c == "below_quota") == ["SHORT"]
    assert found["SHORT", "below_quota"]["values"]["months_below"] == 6
    assert found["SHORT", "below_quota"]["period"] == "2025-10"


def test_a_yearly_grain_counts_to_the_end_of_the_year() -> None:
    # years from January here (the panel's periods are what the calendar made): 2024 and
    # 2025, the run as of 2026-02-15 has 2026-01 finished too, with no quota
    starts, labels = months_to(date(2026, 1, 1), 13)
    values = [0.9] * 6 + [0.1] * 6 + [NAN]
    monthly = make_panel("month", starts, labels, {"Y": {"quota_attainment": values}})
    panel = make_panel(
        "year", [date(2024, 1, 1), date(2025, 1, 1)], ["2024", "2025"], {"Y": {"score": [1, 1]}}
    )
    found = flags_of(panel, monthly)
    assert found["Y", "below_quota"]["values"]["months_below"] == 6
    assert found["Y", "below_quota"]["period"] == "2025"


def test_a_run_as_of_a_day_inside_a_quarter_flags_the_demo_partners_below_quota(
    web_world: Any, tmp_path: Path
) -> None:
    """The issue's reproduction on the demo (quarterly quotas, fiscal years from October): as
    of 2026-08-15 the run judges FY2026-Q3 (April to June) with July finished; P0043 (23.4 % of
    quota in FY2026-Q2, 2.0 % in Q3) and P0077 (45.7 % and 41.6 %) are six months below 50 %."""
    root = tmp_path / "demo"
    shutil.copytree(web_world.root, root)
    run("-w", str(root), "run", "--as-of", "2026-08-15")
    ws = Workspace.open(root)
    manifest = get_run(ws, None)
    assert manifest.evaluation["period"] == "FY2026-Q3"
    assert manifest.last_month == "2026-08-01"  # the month holding the as-of time
    flags = pq.read_table(run_folder(ws, manifest.run_id) / FLAGS).to_pylist()
    below = {r["partner_id"]: r for r in flags if r["criterion"] == "below_quota"}
    assert below["P0043"]["evidence"] == (
        "Quota attainment below 50% for 6 months in a row: FY2026-Q2 23.4%, FY2026-Q3 2.0%"
    )
    assert below["P0077"]["evidence"] == (
        "Quota attainment below 50% for 6 months in a row: FY2026-Q2 45.7%, FY2026-Q3 41.6%"
    )
    assert {r["period"] for r in below.values()} == {"FY2026-Q3"}
