"""What the product does with a run's forecast: the executive summary's outlook, a forecast cited
as decision evidence, and the scenario model calibrated from it (issue 27, item 5).

The demo's run gets a hand-made ``forecast.parquet`` and ``predictions.json`` (the stored
schemas), so that every number shown can be checked against them by hand: the portfolio is
forecast at $60M, $62M, $64M and $66M for FY2027-Q1..Q4 (80 % band ± $5M) and the company at
$100M a quarter, so the forecast channel share is 252 / 400 = 63.0 %.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from partnerscope.predict.store import FORECAST, FORECAST_SCHEMA, PREDICTIONS
from partnerscope.runs import run_folder
from partnerscope.workspace import Workspace
from tests.conftest import copy_workspace
from tests.test_cli import assert_one_error_line, run, wide_console  # noqa: F401

pytestmark = pytest.mark.slow

QUARTERS = [
    (date(2026, 10, 1), date(2027, 1, 1), "FY2027-Q1"),
    (date(2027, 1, 1), date(2027, 4, 1), "FY2027-Q2"),
    (date(2027, 4, 1), date(2027, 7, 1), "FY2027-Q3"),
    (date(2027, 7, 1), date(2027, 10, 1), "FY2027-Q4"),
]
PORTFOLIO = [60e6, 62e6, 64e6, 66e6]
COMPANY = 100e6
BACKTEST = {
    "n": 16,
    "mase": 0.8,
    "mase_seasonal_naive": 1.1,
    "mase_trailing_mean": 1.0,
    "coverage_80": 0.8125,
    "coverage_95": 0.9375,
    "reason": None,
    # the portfolio's own cases: one series at four origins; the headline is the partners'
    "detail": {"levels": {"portfolio": {"n": 4, "mase": 0.7, "coverage_80": 0.75}}},
}


def _row(level: str, group: str, step: int, value: float | None, **extra: Any) -> dict[str, Any]:
    start, end, label = QUARTERS[step - 1]
    row: dict[str, Any] = {
        "level": level,
        "group_key": group,
        "grain": "quarter",
        "period_start": start,
        "period_end": end,
        "label": label,
        "step": step,
        "forecast": value,
        "lo_80": None if value is None else value - 5e6,
        "hi_80": None if value is None else value + 5e6,
        "lo_95": None if value is None else value - 8e6,
        "hi_95": None if value is None else value + 8e6,
        "method": None if value is None else "AutoETS",
        "seasonal_naive": None if value is None else 55e6,
        "trailing_mean": None if value is None else 54e6,
        "skill": value is not None,
        "mase": None if value is None else 0.8,
        "mase_baseline": None if value is None else 1.0,
        "note": None,
    }
    row.update(extra)
    return row


def skilled_rows() -> list[dict[str, Any]]:
    rows = [_row("portfolio", "all", s, v) for s, v in enumerate(PORTFOLIO, start=1)]
    rows += [_row("company", "all", s, COMPANY) for s in range(1, 5)]
    rows.append(
        _row(
            "partner",
            "P0001",
            1,
            None,
            note="too little history: 4 complete quarters, 6 needed",
        )
    )
    return rows


def unskilled_rows() -> list[dict[str, Any]]:
    """The trailing mean is the forecast: no method beat it in the backtest."""
    return [
        _row("portfolio", "all", s, 54e6, method="trailing mean", skill=False) for s in range(1, 5)
    ] + [
        _row("company", "all", s, COMPANY, method="trailing mean", skill=False) for s in range(1, 5)
    ]


def put_forecast(folder: Path, rows: list[dict[str, Any]] | None) -> None:
    """The run's forecast files: these rows (None: no forecast at all)."""
    if rows is None:
        (folder / FORECAST).unlink(missing_ok=True)
        (folder / PREDICTIONS).unlink(missing_ok=True)
        return
    pq.write_table(pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA), folder / FORECAST)
    (folder / PREDICTIONS).write_text(
        json.dumps({"backtest": {"forecast": BACKTEST}}), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def demo(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with three runs: 1 with a skilled forecast, 2 with a forecast without skill,
    3 without any forecast."""
    root = copy_workspace(demo_folder, tmp_path_factory.mktemp("predict_uses") / "demo")
    ws = Workspace.open(root)
    put_forecast(run_folder(ws, 1), skilled_rows())
    for run_id, rows in ((2, unskilled_rows()), (3, None)):
        run("-w", str(root), "run")
        put_forecast(run_folder(ws, run_id), rows)
    return root


# -- 1. the executive summary -------------------------------------------------------------------


def _executive(root: Path, run_id: int) -> Any:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.executive import executive

    return executive(RunData(Workspace.open(root), run_id))


def test_the_executive_summary_shows_the_portfolio_forecast_against_the_channel_goal(
    demo: Path,
) -> None:
    from partnerscope.reports import render

    report = _executive(demo, 1)
    outlook = report.sections["forecast"]
    assert [r["label"] for r in outlook["rows"]] == [q[2] for q in QUARTERS]
    assert [r["forecast"].value for r in outlook["rows"]] == PORTFOLIO
    assert [r["forecast"].text for r in outlook["rows"]] == ["$60M", "$62M", "$64M", "$66M"]
    assert outlook["rows"][0]["band"] == "$55M to $65M"
    assert [r["share"].text for r in outlook["rows"]] == ["60.0%", "62.0%", "64.0%", "66.0%"]
    # 60 % is the goal: every quarter meets it
    assert {r["share"].judged for r in outlook["rows"]} == {"good"}
    assert outlook["sentence"] == (
        "Forecast won revenue through partners, FY2027-Q1 to FY2027-Q4: $252M."
    )
    assert outlook["share"] == (
        "Forecast channel share, FY2027-Q1 to FY2027-Q4: 63.0% of the company's forecast "
        "revenue, against the goal of 60%."
    )
    assert outlook["skill"] == (
        "Chosen by backtest: AutoETS had 20.0% lower error than the better of a trailing mean "
        "and the same period a year before over 4 cases; its 80% intervals held 75.0% of "
        "the actuals."
    )
    chart = report.charts["forecast"]
    values = chart["datasets"]["values"]
    assert [v["forecast"] for v in values[-4:]] == PORTFOLIO
    assert [v["hi_80"] for v in values[-4:]] == [65e6, 67e6, 69e6, 71e6]
    # actual quarters first, the forecast after them on the same axis
    assert chart["layer"][0]["encoding"]["x"]["scale"]["domain"][-4:] == [q[2] for q in QUARTERS]
    assert values[-5]["value"] == values[-5]["forecast"]  # the last actual starts the band
    page = render.html(report)
    assert 'id="forecast"' in page and "Outlook" in page
    assert "63.0%" in page and "AutoETS had 20.0% lower error" in page
    shown = re.sub(r"<[^>]+>", " ", page.split('id="forecast"')[1].split("</section>")[0])
    assert "won_revenue" not in shown and "AutoETS" in shown  # keys only in attributes


def test_an_executive_summary_forecast_without_skill_says_so(demo: Path) -> None:
    outlook = _executive(demo, 2).sections["forecast"]
    assert [r["forecast"].value for r in outlook["rows"]] == [54e6] * 4
    assert outlook["skill"] == (
        "No measured skill: the forecast is the trailing mean, the better baseline in the "
        "backtest over 4 cases."
    )


def test_an_executive_summary_of_a_run_without_forecast_is_as_before(demo: Path) -> None:
    from partnerscope.reports import render

    report = _executive(demo, 3)
    assert report.sections["forecast"] is None
    assert "forecast" not in report.charts
    assert 'id="forecast"' not in render.html(report)


# -- 2. a forecast cited as decision evidence ----------------------------------------------------


def _decision(root: Path) -> int:
    result = run("-w", str(root), "decide", "new", "--title", "Grow the channel", "--by", "ana")
    return int(result.stdout.split("DEC-")[1][:4])


def test_a_forecast_is_cited_with_its_interval_method_and_backtest(demo: Path) -> None:
    from partnerscope.decisions.evidence import cite_forecast
    from partnerscope.decisions.store import DecisionStore

    ws = Workspace.open(demo)
    number = _decision(demo)
    result = run(
        "-w", str(demo), "decide", "cite", str(number), "won_revenue", "--forecast",
        "--period", "FY2027-Q2", "--grain", "quarter", "--run", "1", "--by", "ana",
    )  # fmt: skip
    assert "Cited Won revenue = $62,000,000 (portfolio, FY2027-Q2 forecast, run 1)." in (
        result.stdout
    )
    record = DecisionStore.open(ws).get(number)
    evidence = record.compare.evidence[-1]
    assert evidence.value == 62e6 and evidence.period == "FY2027-Q2"
    assert evidence.forecast is not None
    assert (evidence.forecast.lo_80, evidence.forecast.hi_80) == (57e6, 67e6)
    assert evidence.forecast.method == "AutoETS" and evidence.forecast.step == 2
    assert (evidence.forecast.mase, evidence.forecast.mase_baseline) == (0.8, 1.0)
    # the portfolio's own backtest cases, not the partners' headline
    assert (evidence.forecast.backtest_n, evidence.forecast.coverage_80) == (4, 0.75)
    assert evidence.sufficient and evidence.weakness() is None
    text = evidence.forecast_text(ws.words)
    assert text == (
        "Forecast by AutoETS, 2 quarters ahead: $62,000,000 (80% interval $57,000,000 "
        "to $67,000,000). Backtest: error (MASE) 0.80 against 1.00 for the better baseline, "
        "20.0% lower, over 4 cases; 80% intervals held 75.0% of the actuals."
    )
    assert text in " ".join(result.stdout.split())
    # the Markdown export says it too
    out = demo / "exported"
    run("-w", str(demo), "decisions", "export", "--out", str(out))
    exported = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in out.glob("*.md"))
    assert "FY2027-Q2 (forecast)" in exported
    assert text in exported
    # a level the backtest's detail does not list: its headline (the partners' cases)
    company = cite_forecast(ws, scope="company", run_id=1)
    assert company.forecast is not None
    assert (company.forecast.backtest_n, company.forecast.coverage_80) == (16, 0.8125)


def test_a_forecast_without_skill_is_weak_evidence(demo: Path) -> None:
    from partnerscope.decisions.evidence import cite_forecast

    ws = Workspace.open(demo)
    evidence = cite_forecast(ws, run_id=2)
    assert evidence.period == "FY2027-Q1" and evidence.value == 54e6
    assert not evidence.sufficient
    assert evidence.weakness(ws.words) == (
        "a forecast with no measured skill: it is the trailing mean, the better baseline in "
        "the backtest"
    )
    assert "No measured skill: the forecast is this baseline." in evidence.forecast_text(ws.words)


REFUSALS = [
    (["--run", "3"], ["run 3 has no forecast", "partnerscope run"]),
    (
        ["--run", "1", "--period", "FY2028-Q1"],
        ["--period FY2028-Q1", "run 1", "FY2027-Q1 to FY2027-Q4"],
    ),
    (
        ["--run", "1", "--scope", "region=Nowhere"],
        ["--scope region=Nowhere", "run 1", "region 'Nowhere'"],
    ),
    (
        ["--run", "1", "--scope", "partner=P0001"],
        ["run 1 has no forecast of partner=P0001 for FY2027-Q1", "too little history"],
    ),
    (["--run", "1", "--grain", "year"], ["--grain year", "quarter"]),
]


@pytest.mark.parametrize(("args", "words"), REFUSALS)
def test_citing_a_forecast_the_run_does_not_have_is_refused_with_where(
    demo: Path, args: list[str], words: list[str]
) -> None:
    number = _decision(demo)
    result = run(
        "-w", str(demo), "decide", "cite", str(number), "won_revenue", "--forecast", *args,
        ok=False,
    )  # fmt: skip
    assert_one_error_line(result, *words)


def test_only_won_revenue_is_forecast(demo: Path) -> None:
    number = _decision(demo)
    result = run("-w", str(demo), "decide", "cite", str(number), "win_rate", "--forecast", ok=False)
    assert_one_error_line(result, "only won revenue is forecast")


# -- 3. the scenario model calibrated from the forecast ------------------------------------------


def _last_quarters(root: Path, run_id: int) -> list[float]:
    """The portfolio's won revenue in the four complete quarters before the forecast."""
    results = pq.read_table(run_folder(Workspace.open(root), run_id) / "results.parquet")
    rows = [
        r
        for r in results.to_pylist()
        if r["level"] == "portfolio"
        and r["grain"] == "quarter"
        and r["complete"]
        and r["period_start"] < QUARTERS[0][0]
    ]
    rows.sort(key=lambda r: r["period_start"])
    assert [r["label"] for r in rows[-4:]] == ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"]
    return [r["won_revenue"] for r in rows[-4:]]


def test_the_scenario_model_takes_the_next_years_growth_from_a_skilled_forecast(
    demo: Path,
) -> None:
    from partnerscope.scenarios.calibration import calibrate_run

    ws = Workspace.open(demo)
    history = calibrate_run(ws, 1)
    grown = calibrate_run(ws, 1, from_forecast=True)
    factor = sum(PORTFOLIO) / sum(_last_quarters(demo, 1))
    assert factor > 1.0  # the demo at scale 0.05 sells about $26M a quarter
    before = history["deal_size"].distribution.center()
    after = grown["deal_size"].distribution.center()
    assert after == pytest.approx(before * factor, rel=1e-12)
    assert grown["deal_size"].source == "forecast"
    note = grown["deal_size"].note
    assert f"× {factor:.4f}" in note
    assert "252,000,000 in FY2027-Q1–FY2027-Q4" in note
    assert "FY2026-Q1–FY2026-Q4" in note
    assert "forecast, run 1, method AutoETS" in note
    assert "backtest MASE 0.80 against 1.00 for the better baseline over 4 cases" in note
    # every other input is the history's
    for name in history:
        if name != "deal_size":
            assert grown[name] == history[name], name


@pytest.mark.parametrize(
    ("run_id", "why"),
    [
        (2, "the portfolio forecast of run 2 has no measured skill (it is the trailing mean"),
        (3, "run 3 has no forecast (made before predictions), so the last 12 months are used"),
    ],
)
def test_without_a_skilled_forecast_the_scenario_model_keeps_the_history_and_says_why(
    demo: Path, run_id: int, why: str
) -> None:
    from partnerscope.scenarios.calibration import calibrate_run

    ws = Workspace.open(demo)
    history = calibrate_run(ws, run_id)
    kept = calibrate_run(ws, run_id, from_forecast=True)
    assert kept["deal_size"].distribution == history["deal_size"].distribution
    assert kept["deal_size"].source == "measured"
    assert why in kept["deal_size"].note
    assert kept["deal_size"].note.startswith(history["deal_size"].note)


# -- the demo's own forecast (the session's web demo, read only) ---------------------------------


def test_the_demos_own_forecast_is_shown_cited_and_calibrated_exactly(web_world: Any) -> None:
    from partnerscope.decisions.evidence import cite_forecast
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.executive import executive
    from partnerscope.scenarios.calibration import calibrate_run

    ws = Workspace.open(web_world.root)
    data = RunData(ws)
    table = pq.read_table(data.folder / FORECAST).to_pylist()

    def series(level: str) -> list[dict[str, Any]]:
        rows = [r for r in table if r["level"] == level and r["grain"] == "quarter"]
        return sorted(rows, key=lambda r: r["step"])

    portfolio, company = series("portfolio"), series("company")
    assert portfolio and all(r["forecast"] is not None for r in portfolio)
    outlook = executive(data).sections["forecast"]
    assert [r["label"] for r in outlook["rows"]] == [r["label"] for r in portfolio]
    assert [r["forecast"].value for r in outlook["rows"]] == [r["forecast"] for r in portfolio]
    shares = [p["forecast"] / c["forecast"] for p, c in zip(portfolio, company, strict=True)]
    assert [r["share"].value for r in outlook["rows"]] == shares
    skilled = portfolio[0]["skill"]
    assert outlook["skill"].startswith("Chosen by backtest" if skilled else "No measured skill")

    evidence = cite_forecast(ws, period=portfolio[1]["label"], grain="quarter")
    assert evidence.value == portfolio[1]["forecast"]
    assert evidence.forecast is not None
    assert (evidence.forecast.lo_80, evidence.forecast.hi_80) == (
        portfolio[1]["lo_80"],
        portfolio[1]["hi_80"],
    )
    assert evidence.forecast.method == portfolio[1]["method"]
    assert evidence.sufficient is skilled

    history = calibrate_run(ws)["deal_size"]
    calibrated = calibrate_run(ws, from_forecast=True)["deal_size"]
    if skilled:
        assert calibrated.source == "forecast"
    else:
        assert calibrated.distribution == history.distribution
        assert "has no measured skill" in calibrated.note


def test_scenario_from_forecast_on_the_command_line(demo: Path) -> None:
    """``partnerscope scenario --from-forecast`` calibrates from run 1's skilled forecast: the
    revenue per deal's source is the forecast."""
    result = run(
        "-w", str(demo), "scenario", "--run", "1", "--from-forecast", "--trials", "200",
    )  # fmt: skip
    base = result.stdout.split("Base inputs", 1)[1]
    line = next(x for x in base.splitlines() if "forecast" in x)
    assert "run 1" in " ".join(base.split())
    assert line
