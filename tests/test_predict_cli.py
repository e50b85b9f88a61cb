"""The prediction commands on the demo: what they print is what the run stored, the backtest
measured again gives the same numbers, and a run without predictions says so."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.predict import store
from partnerscope.runs import latest_run, run_folder
from partnerscope.workspace import Workspace
from tests.conftest import PARTNERS_CSV
from tests.webtools import WebWorld

pytestmark = pytest.mark.slow


def invoke(root: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["-w", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def stored(root: Path) -> tuple[Path, dict[str, Any]]:
    ws = Workspace.open(root)
    manifest = latest_run(ws)
    assert manifest is not None
    folder = run_folder(ws, manifest.run_id)
    document = store.read_predictions(folder)
    assert document is not None
    return folder, document


def test_backtest_json_has_exactly_the_keys_and_the_stored_numbers(
    web_world: WebWorld, tmp_path: Path
) -> None:
    folder, _ = stored(web_world.root)
    out = tmp_path / "bt.json"
    result = invoke(web_world.root, "predict", "backtest", "--json", str(out))
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert {k: sorted(v) for k, v in written.items()} == {
        "forecast": sorted(
            [
                "n",
                "mase",
                "mase_seasonal_naive",
                "mase_trailing_mean",
                "coverage_80",
                "coverage_95",
                "reason",
            ]
        ),
        "risk": sorted(["n", "auc", "brier", "brier_base_rate", "reason"]),
        "deals": sorted(["n", "auc", "brier", "brier_base_rate", "reason"]),
    }
    # measured again on the same run's data with the same seed: the numbers the run stored
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert written == {k: v for k, v in manifest["predictions"].items() if k != "seconds"}
    for section in ("forecast", "risk", "deals"):
        assert written[section]["n"] > 0
        assert written[section]["reason"] is None
    assert "Forecast backtest" in result.output
    assert "Reliability by decile" in result.output


def test_forecast_prints_the_stored_portfolio_forecast(web_world: WebWorld) -> None:
    folder, _ = stored(web_world.root)
    ws = Workspace.open(web_world.root)
    table = store.read_table(folder, store.FORECAST)
    assert table is not None
    rows = [
        r
        for r in table.to_pylist()
        if r["level"] == "portfolio" and r["grain"] == "quarter" and r["step"] == 1
    ]
    (row,) = rows
    assert row["label"] == "FY2027-Q1" and row["period_start"] == date(2026, 10, 1)
    result = invoke(web_world.root, "forecast")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "All partners" in x and "FY2027-Q1" in x)
    assert ws.words.money(row["forecast"]) in line
    assert ws.words.money(row["trailing_mean"]) in line
    # one partner, as csv
    partner = web_world.own
    result = invoke(web_world.root, "forecast", "--partner", partner, "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("series,period,forecast")
    assert len(lines) == 1 + 4  # four quarters ahead


def test_risk_and_deals_print_the_stored_scores(web_world: WebWorld) -> None:
    folder, _ = stored(web_world.root)
    ws = Workspace.open(web_world.root)
    risk = store.read_table(folder, store.RISK)
    assert risk is not None and risk.num_rows > 0
    top = max(risk.to_pylist(), key=lambda r: (r["probability"], r["partner_id"]))
    result = invoke(web_world.root, "risk", "--limit", "0", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert len(listed) == risk.num_rows
    assert listed[0]["chance"] == ws.words.share(top["probability"], digits=0)
    assert "_" not in listed[0]["why"]  # factors in words, never feature keys
    deals = store.read_table(folder, store.DEALS)
    assert deals is not None and deals.num_rows > 0
    best = max(deals.to_pylist(), key=lambda r: r["expected_value"] or 0)
    result = invoke(web_world.root, "deals", "score", "--limit", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    (first,) = json.loads(result.stdout)
    assert first["deal"] == best["opportunity_id"]
    assert first["expected value"] == ws.words.money(best["expected_value"])
    # the customer by the name the warehouse gives its account (the id was shown before)
    with ws.warehouse(read_only=True) as warehouse:
        (name,) = warehouse.con.sql(
            f"SELECT name FROM accounts WHERE account_id = '{best['account_id']}'"
        ).fetchall()[0]
    assert name and best["account_name"] == name
    assert first["customer"] == name
    result = invoke(
        web_world.root, "deals", "score", "--by-partner", "--limit", "0", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    by_partner = json.loads(result.stdout)
    assert len(by_partner) == len({r["partner_id"] for r in deals.to_pylist()})


def test_a_run_without_predictions_says_so(workspace_factory: Any) -> None:
    from tests.test_runs import CONFIG, LEADS, OPPS

    ws = workspace_factory(
        "[predict]\nenabled = false\n" + CONFIG,
        {"data/partners.csv": PARTNERS_CSV, "data/opps.csv": OPPS, "data/leads.csv": LEADS},
    )
    ws.ingest()
    manifest = ws.run(as_of=datetime(2024, 7, 1))
    assert manifest.predictions == {}
    assert store.read_predictions(run_folder(ws, manifest.run_id)) is None
    for args in (("forecast",), ("risk",), ("deals", "score")):
        result = invoke(ws.root, *args)
        assert result.exit_code == 1
        assert "holds no predictions" in result.output
        assert "[predict] enabled = false" in result.output
        assert "Traceback" not in result.output


def test_risk_alerts_read_in_words() -> None:
    from partnerscope.evaluation.alerts import risk_alerts
    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings

    risk = pa.Table.from_pylist(
        [
            _risk("P1", 0.72, None, "high"),
            _risk("P2", 0.41, 0.12, "rising"),
            _risk("P3", 0.30, 0.25, None),
        ],
        schema=store.RISK_SCHEMA,
    )
    alerts = risk_alerts(
        risk, Words(), PredictSettings(), start=date(2026, 7, 1), label="FY2026-Q4"
    ).to_pylist()
    assert [(a["partner_id"], a["severity"], a["kind"]) for a in alerts] == [
        ("P1", "high", "risk"),
        ("P2", "medium", "risk"),
    ]
    assert alerts[0]["message"] == (
        "72% chance of falling short of half its quota (or of its own trailing level) in the "
        "next two quarters"
    )
    assert alerts[1]["message"] == (
        "Chance of falling short of half its quota (or of its own trailing level) in the next "
        "two quarters rose to 41% from 12%"
    )
    assert (alerts[0]["reference"], alerts[1]["reference"]) == (0.6, 0.12)


def _risk(pid: str, p: float, previous: float | None, alert: str | None) -> dict[str, Any]:
    return {
        "partner_id": pid,
        "period_start": date(2026, 7, 1),
        "label": "FY2026-Q4",
        "probability": p,
        "base_rate": 0.2,
        "skill": True,
        "previous": previous,
        "alert": alert,
        "factors": [],
    }
