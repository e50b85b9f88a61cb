"""Predictions in the web app: the partner page's outlook (forecast band, risk, scored open
deals), "How good are these predictions?", the dashboard's line and the REST twins, for vendor
staff only (a partner user sees none of it; a partner manager only their partners).

The test world's run gets prediction files written by hand (the stored files' schemas,
predict/store.py) with values a person can check: every expectation below is read back from
those files and written in the workspace's words. A copy without them is a run made before
predictions."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.predict import store
from partnerscope.workspace import Workspace
from tests.webtools import ASSIGNED, FOREIGN, MANAGER_NAME, OWN, WebWorld

pytestmark = pytest.mark.slow

#: a partner with too little history to forecast
NOTE = "too little history to forecast: 4 complete quarters, 6 needed"
DOCUMENT: dict[str, Any] = {
    "as_of": "2026-10-01T00:00:00",
    "model": {
        "partnerscope": "0.test",
        "statsforecast": "2.0.1",
        "lightgbm": "4.5.0",
        "scikit-learn": "1.5.2",
        "seed": 7,
    },
    "settings": {},
    "backtest": {
        "forecast": {
            "n": 400,
            "mase": 0.8,
            "mase_seasonal_naive": 1.1,
            "mase_trailing_mean": 1.0,
            "coverage_80": 0.78,
            "coverage_95": 0.93,
            "reason": None,
            "detail": {},
        },
        "risk": {
            "n": 300,
            "auc": 0.84,
            "brier": 0.12,
            "brier_base_rate": 0.16,
            "reason": None,
            "reliability": [
                {"decile": 1, "cases": 150, "predicted": 0.05, "observed": 0.04},
                {"decile": 2, "cases": 150, "predicted": 0.45, "observed": 0.5},
            ],
            "detail": {},
        },
        "deals": {
            "n": 3,
            "auc": None,
            "brier": None,
            "brier_base_rate": None,
            "reason": "only 3 deals closed after a cutoff; 50 needed",
            "reliability": [],
            "detail": {},
        },
    },
}


def factor(feature: str, text: str, effect: float) -> dict[str, Any]:
    return {"feature": feature, "text": text, "effect": effect}


def quarters_ahead(data: RunData, n: int) -> list[tuple[date, date, str]]:
    """(start, end, label) of the ``n`` quarters after the run's last complete one."""
    table = data.results("quarter").table
    last = table.filter(pc.equal(table["complete"], True)).sort_by("period_start")
    label = last["label"][-1].as_py()
    start = last["period_end"][-1].as_py()
    year, q = int(label[2:6]), int(label[-1])
    out = []
    for _ in range(n):
        end = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
        q, year = (q + 1, year) if q < 4 else (1, year + 1)
        out.append((start, end, f"FY{year}-Q{q}"))
        start = end
    return out


def write_predictions(folder: Path, data: RunData) -> None:
    ahead = quarters_ahead(data, 4)
    rows = []

    def series(level: str, key: str, base: float | None, **extra: Any) -> None:
        for step, (start, end, label) in enumerate(ahead, start=1):
            value = None if base is None else base + 10_000 * step
            rows.append(
                {
                    "level": level,
                    "group_key": key,
                    "grain": "quarter",
                    "period_start": start,
                    "period_end": end,
                    "label": label,
                    "step": step,
                    "forecast": value,
                    "lo_80": None if value is None else value - 20_000,
                    "hi_80": None if value is None else value + 20_000,
                    "lo_95": None if value is None else value - 30_000,
                    "hi_95": None if value is None else value + 30_000,
                    "seasonal_naive": None,
                    "trailing_mean": None,
                    "note": None,
                    **extra,
                }
            )

    series("partner", OWN, 110_000, method="AutoETS", skill=True, mase=0.82, mase_baseline=1.0)
    series(
        "partner",
        ASSIGNED,
        50_000,
        method="trailing mean",
        skill=False,
        mase=1.0,
        mase_baseline=1.0,
    )
    series("partner", FOREIGN, None, method=None, skill=False, mase=None, mase_baseline=None)
    rows[-4:] = [{**r, "note": NOTE} for r in rows[-4:]]
    series("portfolio", "all", 990_000, method="AutoETS", skill=True, mase=0.9, mase_baseline=1)
    series("company", "all", 1_990_000, method="AutoETS", skill=True, mase=0.9, mase_baseline=1)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=store.FORECAST_SCHEMA), folder / store.FORECAST
    )
    table = data.results("quarter").table
    complete = table.filter(pc.equal(table["complete"], True)).sort_by("period_start")
    start, label = complete["period_start"][-1].as_py(), complete["label"][-1].as_py()
    risk = [
        {
            "partner_id": OWN,
            "probability": 0.32,
            "base_rate": 0.2,
            "skill": True,
            "previous": 0.12,
            "alert": "rising",
            "factors": [
                factor("revenue_trend", "Won revenue last quarter was 38% of its average", 0.8),
                factor("lead_sla_rate", "Leads were answered within the SLA 95% of the time", -0.3),
            ],
        },
        {
            "partner_id": FOREIGN,
            "probability": 0.71,
            "base_rate": 0.2,
            "skill": True,
            "previous": 0.65,
            "alert": "high",
            "factors": [factor("attainment", "Quota attainment fell to 20%", 1.2)],
        },
        {
            "partner_id": ASSIGNED,
            "probability": 0.2,
            "base_rate": 0.2,
            "skill": False,
            "previous": None,
            "alert": None,
            "factors": [],
        },
    ]
    risk = [{**r, "period_start": start, "label": label} for r in risk]
    pq.write_table(pa.Table.from_pylist(risk, schema=store.RISK_SCHEMA), folder / store.RISK)
    deal = {"stage": "Proposal", "created_at": None, "skill": True, "product": "Cloud Suite"}
    deals = [
        {**deal, "opportunity_id": "D-1", "partner_id": OWN, "account_id": "ACC-1"}
        | {"account_name": "Kestrel Robotics"}
        | {"amount": 10_000.0, "age_days": 30, "probability": 0.5, "expected_value": 5_000.0}
        | {"factors": [factor("stage", "At the proposal stage", 0.4)]},
        {**deal, "opportunity_id": "D-2", "partner_id": OWN, "account_id": "ACC-2"}
        | {"account_name": "Osprey Shipping"}
        | {"amount": 40_000.0, "age_days": 95, "probability": 0.25, "expected_value": 10_000.0}
        | {"factors": [factor("age", "Open for 95 days, longer than most won deals", -0.6)]},
        {**deal, "opportunity_id": "D-3", "partner_id": OWN, "account_id": "ACC-3"}
        | {"account_name": None}
        | {"amount": None, "age_days": 3, "probability": 0.3, "expected_value": None}
        | {"factors": []},
        {**deal, "opportunity_id": "D-9", "partner_id": FOREIGN, "account_id": "ACC-9"}
        | {"account_name": "Helios Solar"}
        | {"amount": 5_000.0, "age_days": 12, "probability": 0.6, "expected_value": 3_000.0}
        | {"factors": []},
    ]
    pq.write_table(pa.Table.from_pylist(deals, schema=store.DEALS_SCHEMA), folder / store.DEALS)
    (folder / store.PREDICTIONS).write_text(json.dumps(DOCUMENT), encoding="utf-8")


@pytest.fixture(scope="module")
def world(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """The test world with the hand-made predictions in its run."""
    copy = web_world.copy(tmp_path_factory.mktemp("predicted") / "ws")
    data = RunData(Workspace.open(copy.root))
    write_predictions(data.folder, data)
    return copy


@pytest.fixture(scope="module")
def bare(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """The test world as a run made before predictions: no prediction files."""
    copy = web_world.copy(tmp_path_factory.mktemp("bare") / "ws")
    folder = RunData(Workspace.open(copy.root)).folder
    for name in (store.FORECAST, store.RISK, store.DEALS, store.PREDICTIONS):
        (folder / name).unlink(missing_ok=True)
    return copy


@pytest.fixture(scope="module")
def clients(world: WebWorld) -> dict[str, Any]:
    app = world.app()
    return {user: world.client(user, app=app) for user in ("ada", "ana", "max", "pat", "fin")}


@pytest.fixture(scope="module")
def stored(world: WebWorld) -> dict[str, pa.Table]:
    folder = RunData(Workspace.open(world.root)).folder
    return {
        name: pq.read_table(folder / name) for name in (store.FORECAST, store.RISK, store.DEALS)
    }


@pytest.fixture(scope="module")
def words(world: WebWorld) -> Any:
    return Workspace.open(world.root).words


def text(page: str) -> str:
    """A page's text: tags out, entities resolved, spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def of(table: pa.Table, **equal: Any) -> list[dict[str, Any]]:
    for column, value in equal.items():
        table = table.filter(pc.equal(table[column], value))
    return table.to_pylist()


# ------------------------------------------------------------------------ the partner page


def test_partner_page_shows_the_forecast_band_and_its_skill(clients, stored, words) -> None:
    page = clients["ana"].get(f"/partners/{OWN}")
    assert page.status_code == 200
    rows = sorted(
        of(stored[store.FORECAST], level="partner", group_key=OWN), key=lambda r: r["step"]
    )
    said = text(page.text)
    # 1 - 0.82 / 1.0 = 18 % lower error than the better baseline
    assert f"Chosen by backtest: AutoETS had {words.share(0.18)} lower error" in said
    for r in rows:
        cells = re.search(rf'<tr data-period="{r["label"]}">(.*?)</tr>', page.text).group(1)
        cell = text(cells)
        assert words.money(r["forecast"]) in cell
        assert f"{words.money(r['lo_80'])} – {words.money(r['hi_80'])}" in cell
        assert f"{words.money(r['lo_95'])} – {words.money(r['hi_95'])}" in cell
    spec = json.loads(
        html.unescape(re.search(r'id="spec-forecast">(.*?)</script>', page.text, re.S).group(1))
    )
    values = spec["data"]["values"]
    ahead = [v for v in values if v.get("actual") is None]
    assert [v["period"] for v in ahead] == [r["label"] for r in rows]
    assert [v["hi_95"] for v in ahead] == [r["hi_95"] for r in rows]
    # the band starts at the last actual, after the actuals
    actuals = [v for v in values if v.get("actual") is not None]
    assert actuals[-1]["forecast"] == actuals[-1]["actual"]
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["area", "area", "line", "line"]
    assert spec["layer"][2]["mark"]["strokeDash"]


def test_partner_page_says_why_a_forecast_falls_back_or_is_missing(clients) -> None:
    assigned = text(clients["ana"].get(f"/partners/{ASSIGNED}").text)
    assert "No measured skill: the forecast is the trailing mean" in assigned
    foreign = text(clients["ana"].get(f"/partners/{FOREIGN}").text)
    assert "Too little history to forecast: 4 complete quarters, 6 needed." in foreign


def test_partner_page_shows_the_risk_with_its_alert_and_factors(clients, stored, words) -> None:
    page = clients["ana"].get(f"/partners/{OWN}").text
    (risk,) = of(stored[store.RISK], partner_id=OWN)
    said = text(page)
    chance = words.share(risk["probability"], digits=0)
    assert (
        f"{chance} chance of falling short of half its quota (or of its own trailing level) "
        "in the next two quarters." in said
    )
    assert f"Rising from {words.share(risk['previous'], digits=0)}" in said
    ups = re.findall(r'<li data-factor="(up|down)">', page)
    assert ups == ["up", "down"]
    for f in risk["factors"]:
        assert f["text"] in said
    assert "raises risk" in said and "lowers risk" in said
    assert "data-no-skill" not in page
    # no measured skill: the base rate, said so
    assigned = text(clients["ana"].get(f"/partners/{ASSIGNED}").text)
    assert "No measured skill: the model did not beat the base rate" in assigned
    assert f"this is the base rate ({words.share(0.2, digits=0)} of partners" in assigned
    foreign = text(clients["ana"].get(f"/partners/{FOREIGN}").text)
    assert "High risk" in foreign


def test_partner_page_lists_scored_deals_by_expected_value(clients, stored, words) -> None:
    page = clients["ana"].get(f"/partners/{OWN}").text
    deals = of(stored[store.DEALS], partner_id=OWN)
    order = re.findall(r'<tr data-deal="([^"]+)">', page)
    ranked = sorted(deals, key=lambda d: -(d["expected_value"] or 0))
    assert order == [d["opportunity_id"] for d in ranked] == ["D-2", "D-1", "D-3"]
    pipeline = sum(d["amount"] or 0 for d in deals)
    expected = sum(d["expected_value"] or 0 for d in deals)
    (nxt,) = of(stored[store.FORECAST], level="partner", group_key=OWN, step=1)
    said = text(page)
    assert (
        f"Open pipeline {words.money(pipeline)}, expected to bring {words.money(expected)} at "
        f"the deals' win probabilities, against a forecast of {words.money(nxt['forecast'])} "
        f"for {nxt['label']}." in said
    )
    row = text(re.search(r'<tr data-deal="D-2">(.*?)</tr>', page).group(1))
    assert row.split()[1:3] == ["Osprey", "Shipping"]  # the customer's name, not its id
    assert row.split()[3:] == [
        "Cloud",
        "Suite",
        words.money(40_000),
        "95",
        "days",
        words.share(0.25, digits=0),
        words.money(10_000),
        "↓",
        "Open",
        "for",
        "95",
        "days,",
        "longer",
        "than",
        "most",
        "won",
        "deals",
    ]


def test_partner_page_names_the_deals_customer(clients, stored) -> None:
    page = clients["ana"].get(f"/partners/{OWN}").text
    cells = {
        deal: text(re.search(rf'<tr data-deal="{deal}">(.*?)</tr>', page).group(1)).split()[:3]
        for deal in ("D-2", "D-3")
    }
    assert cells["D-2"] == ["D-2", "Osprey", "Shipping"]
    assert cells["D-3"][:2] == ["D-3", "ACC-3"]  # no name in the warehouse: its id


def test_pages_say_no_predictions_in_a_run_without_them(bare: WebWorld) -> None:
    app = bare.app()
    ana = bare.client("ana", app=app)
    page = ana.get(f"/partners/{OWN}")
    assert page.status_code == 200
    assert "No predictions in this run." in text(page.text)
    assert "No predictions in this run" in text(ana.get("/predictions").text)
    assert "No predictions in this run." in text(ana.get("/").text)
    summary = ana.get("/api/v1/predictions").json()
    assert summary["present"] is False
    assert summary["message"] == "No predictions in this run"
    risk = ana.get(f"/api/v1/partners/{OWN}/risk").json()
    assert risk["present"] is False and risk["probability"] is None


# ------------------------------------------------------------ How good are these predictions


def test_predictions_page_shows_each_backtest_in_words_and_numbers(clients, words) -> None:
    page = clients["ana"].get("/predictions")
    assert page.status_code == 200
    said = text(page.text)
    forecast = DOCUMENT["backtest"]["forecast"]
    # 1 - 0.8 / min(1.1, 1.0) = 20 % less error than the better baseline
    assert (
        f"Measured skill: over {words.number(forecast['n'])} backtest forecasts, the chosen "
        f"methods erred {words.share(0.2, digits=0)} less than the better baseline." in said
    )
    for key, digits in (("mase", 2), ("mase_seasonal_naive", 2), ("mase_trailing_mean", 2)):
        cell = re.search(rf'data-measure="{key}">(.*?)</tr>', page.text).group(1)
        assert words.number(forecast[key], digits=digits) in text(cell)
    cell = text(re.search(r'data-measure="coverage_80">(.*?)</tr>', page.text).group(1))
    assert words.share(0.78, digits=0) in cell and "nominal 80%" in cell
    risk = DOCUMENT["backtest"]["risk"]
    assert (
        f"Measured skill: over {risk['n']} partners in the backtest, the probabilities erred "
        "less than always saying the base rate (a Brier score 25% lower)." in said
    )
    cell = text(re.search(r'data-measure="auc">(.*?)</tr>', page.text).group(1))
    assert words.share(0.84, digits=0) in cell
    assert "Not backtested: only 3 deals closed after a cutoff; 50 needed." in said
    assert '<div class="model" data-model="deals" data-skill="no">' in page.text
    assert "statsforecast 2.0.1" in said and "lightgbm 4.5.0" in said and "seed 7" in said
    assert "docs/predictions.md" in said
    spec = json.loads(
        html.unescape(
            re.search(r'id="spec-reliability-risk">(.*?)</script>', page.text, re.S).group(1)
        )
    )
    assert spec["layer"][0]["data"]["values"] == [{"x": 0, "y": 0}, {"x": 1, "y": 1}]
    assert [(v["predicted"], v["observed"]) for v in spec["layer"][1]["data"]["values"]] == [
        (0.05, 0.04),
        (0.45, 0.5),
    ]
    # no key, underscore or raw fraction on the page
    assert "brier_base_rate" not in said and "coverage_80" not in said
    assert "0.78" not in said and "0.84" not in said


def test_predictions_page_forecast_table_and_channel_share(clients, stored, words) -> None:
    page = clients["ana"].get("/predictions").text
    portfolio = sorted(of(stored[store.FORECAST], level="portfolio"), key=lambda r: r["step"])
    company = sorted(of(stored[store.FORECAST], level="company"), key=lambda r: r["step"])
    for p, c in zip(portfolio, company, strict=True):
        row = re.search(rf'<tr data-period="{p["label"]}">(.*?)</tr>', page, re.S).group(1)
        cells = text(row)
        assert words.money(p["forecast"]) in cells
        assert words.money(c["forecast"]) in cells
        assert words.share(p["forecast"] / c["forecast"], digits=0) in cells
    share = portfolio[0]["forecast"] / company[0]["forecast"]  # 1,000,000 / 2,000,000
    assert (
        f"Forecast channel share in {portfolio[0]['label']}: {words.share(share, digits=0)} of "
        f"the company's revenue through partners, against a goal of "
        f"{words.share(0.6, digits=0)} (below the goal)." in text(page)
    )


def test_risk_list_is_scoped_to_the_managers_partners(clients, world) -> None:
    everyone = re.findall(
        r'<tr data-row="([^"]+)" data-alert', clients["ana"].get("/predictions").text
    )
    assert everyone == [FOREIGN, OWN, ASSIGNED]  # 71 %, 32 %, 20 %
    alerts = clients["ana"].get("/predictions?risk=alert").text
    assert re.findall(r'<tr data-row="([^"]+)" data-alert', alerts) == [FOREIGN, OWN]
    data = RunData(Workspace.open(world.root))
    managed = {p for p, m in data.managers.items() if m == MANAGER_NAME} | {ASSIGNED}
    assert OWN in managed and FOREIGN not in managed
    page = clients["max"].get("/predictions").text
    assert re.findall(r'<tr data-row="([^"]+)" data-alert', page) == [OWN, ASSIGNED]
    assert FOREIGN not in page


def test_dashboard_line(clients, stored, words) -> None:
    (nxt,) = of(stored[store.FORECAST], level="portfolio", step=1)
    (company,) = of(stored[store.FORECAST], level="company", step=1)
    for user, path, at_risk in (("ana", "/", 2), ("max", "/dashboard", 1)):
        page = clients[user].get(path).text
        line = text(re.search(r'<p class="outlook" id="outlook">(.*?)</p>', page, re.S).group(1))
        assert (
            f"Forecast through partners for {nxt['label']}: "
            f"{words.money(nxt['forecast'])} (80% interval "
            f"{words.money(nxt['lo_80'])} – "
            f"{words.money(nxt['hi_80'])})"
            f", a channel share of {words.share(nxt['forecast'] / company['forecast'], digits=0)}"
            f" against the {words.share(0.6, digits=0)} goal." in line
        )
        noun = "partner" if at_risk == 1 else "partners"
        assert f"{at_risk} {noun} with a high or rising risk" in line
        assert 'href="/predictions?risk=alert#risk"' in page


# ------------------------------------------------------------------------------- the API


def test_api_partner_forecast_risk_and_deals(clients, stored) -> None:
    ana = clients["ana"]
    forecast = ana.get(f"/api/v1/partners/{OWN}/forecast").json()
    rows = sorted(
        of(stored[store.FORECAST], level="partner", group_key=OWN), key=lambda r: r["step"]
    )
    assert forecast["method"] == "AutoETS" and forecast["skill"] is True
    assert [p["forecast"] for p in forecast["periods"]] == [r["forecast"] for r in rows]
    assert [p["lo_95"] for p in forecast["periods"]] == [r["lo_95"] for r in rows]
    none = ana.get(f"/api/v1/partners/{FOREIGN}/forecast").json()
    assert none["method"] is None and none["note"] == NOTE
    risk = ana.get(f"/api/v1/partners/{OWN}/risk").json()
    assert risk["probability"] == 0.32 and risk["alert"] == "rising" and risk["previous"] == 0.12
    assert [(f["feature"], f["raises"]) for f in risk["factors"]] == [
        ("revenue_trend", True),
        ("lead_sla_rate", False),
    ]
    deals = ana.get(f"/api/v1/partners/{OWN}/deals").json()
    assert [d["opportunity_id"] for d in deals["deals"]] == ["D-2", "D-1", "D-3"]
    # the API keeps the account's id and adds its name (null where the warehouse has none)
    assert [(d["account_id"], d["account_name"]) for d in deals["deals"]] == [
        ("ACC-2", "Osprey Shipping"),
        ("ACC-1", "Kestrel Robotics"),
        ("ACC-3", None),
    ]
    assert deals["open_pipeline"] == 50_000 and deals["expected_value"] == 15_000
    assert deals["next_quarter_forecast"] == rows[0]["forecast"]
    summary = ana.get("/api/v1/predictions").json()
    assert summary["model"]["seed"] == 7
    assert summary["backtest"]["forecast"]["measures"]["mase"] == 0.8
    assert summary["backtest"]["risk"]["skill"] is True
    assert summary["backtest"]["deals"]["reason"] == DOCUMENT["backtest"]["deals"]["reason"]
    assert summary["backtest"]["deals"]["measures"]["auc"] is None
    first = summary["portfolio"][0]
    (nxt,) = of(stored[store.FORECAST], level="portfolio", step=1)
    (company,) = of(stored[store.FORECAST], level="company", step=1)
    assert (first["label"], first["portfolio"], first["company"]) == (
        nxt["label"],
        nxt["forecast"],
        company["forecast"],
    )
    assert first["channel_share"] == nxt["forecast"] / company["forecast"]
    assert summary["channel_goal"] == 0.6 and summary["at_risk"] == 2
    assert [r["partner_id"] for r in summary["risks"]] == [FOREIGN, OWN, ASSIGNED]
    mine = clients["max"].get("/api/v1/predictions").json()
    assert [r["partner_id"] for r in mine["risks"]] == [OWN, ASSIGNED]
    assert mine["at_risk"] == 1


ROUTES = ("/api/v1/partners/{}/forecast", "/api/v1/partners/{}/risk", "/api/v1/partners/{}/deals")


def test_partner_users_see_no_predictions(clients) -> None:
    pat = clients["pat"]
    for route in ROUTES:
        for pid in (OWN, FOREIGN):
            assert pat.get(route.format(pid)).status_code == 403
    assert pat.get("/api/v1/predictions").status_code == 403
    assert pat.get("/predictions").status_code == 403
    for path in (f"/partners/{OWN}", "/", "/portal"):
        page = pat.get(path)
        assert page.status_code == 200, path
        said = text(page.text)
        for secret in ("Outlook", "chance of falling short", "Forecast by", "Win chance"):
            assert secret not in said, (path, secret)
        assert 'id="predictions"' not in page.text and "spec-forecast" not in page.text
        assert "/predictions" not in page.text


def test_a_manager_sees_only_their_partners_predictions(clients) -> None:
    mx = clients["max"]
    for route in ROUTES:
        assert mx.get(route.format(OWN)).status_code == 200
        assert mx.get(route.format(ASSIGNED)).status_code == 200
        assert mx.get(route.format(FOREIGN)).status_code == 404
    assert "Outlook" in text(mx.get(f"/partners/{OWN}").text)
    # finance, at the vendor, sees a partner's predictions
    assert clients["fin"].get(ROUTES[1].format(FOREIGN)).json()["alert"] == "high"


def test_the_demo_runs_own_predictions_on_its_pages(web_world: WebWorld) -> None:
    """The session demo's run as the pipeline made it: each partner page of the first partners
    with a forecast shows its values, and /predictions its backtest's case counts (a run made
    without predictions says so instead)."""
    data = RunData(Workspace.open(web_world.root))
    words = Workspace.open(web_world.root).words
    ana = web_world.client("ana")
    table = store.read_table(data.folder, store.FORECAST)
    if store.read_predictions(data.folder) is None or table is None:
        assert "No predictions in this run." in text(ana.get(f"/partners/{OWN}").text)
        return
    partners = table.filter(pc.equal(table["level"], "partner"))
    partners = partners.filter(pc.equal(partners["grain"], "quarter"))
    shown = 0
    for pid in sorted(set(partners["group_key"].to_pylist()))[:3]:
        page = ana.get(f"/partners/{pid}")
        if page.status_code == 404:
            continue  # not scored in the run: no partner page
        rows = sorted(of(partners, group_key=pid), key=lambda r: r["step"])
        said = text(page.text)
        for r in rows:
            if r["forecast"] is not None:
                assert words.money(r["forecast"]) in said, (pid, r["label"])
            elif r["note"]:
                assert r["note"][1:] in said
        shown += 1
    assert shown
    summary = ana.get("/api/v1/predictions").json()
    page = text(ana.get("/predictions").text)
    for section, out in summary["backtest"].items():
        assert (out["reason"] or "") in page, section


def test_the_risk_list_names_how_many_it_leaves_out(clients, monkeypatch) -> None:
    from partnerscope.web.routes import predictions

    monkeypatch.setattr(predictions, "RISKS_SHOWN", 2)
    page = clients["ana"].get("/predictions").text
    assert re.findall(r'<tr data-row="([^"]+)" data-alert', page) == [FOREIGN, OWN]
    assert "The 2 highest of 3 partners;" in text(page)
    assert len(clients["ana"].get("/api/v1/predictions").json()["risks"]) == 3
