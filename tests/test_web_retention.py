"""The retention page (/retention, /api/v1/retention) and `partnerscope retention` on the
hand-checked fixture of tests/test_metrics_retention.py: the values as people read them, the
renewal rate below its goal marked, the revenue share by family, and who may see what (staff
only; a partner manager sees only their own partners)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from tests.conftest import make_workspace
from tests.test_metrics_fixture import AS_OF, csv_file, source
from tests.test_metrics_retention import TABLES
from tests.webtools import PASSWORD, WebWorld

#: Marco Rossi looks after P1 Acme and P3 Gamma; P2 Beta is Jordan Lee's
PARTNERS = (
    "partners",
    "partner_id,name,partner_type,region,program_tier,partner_manager",
    "P1,Acme,var,EMEA,Gold,Marco Rossi\nP2,Beta,si,EMEA,Silver,Jordan Lee\n"
    "P3,Gamma,msp,AMER,Gold,Marco Rossi",
)
USERS = {
    "ana": ("analyst", None, None),
    "max": ("partner_manager", None, "Marco Rossi"),
    "pat": ("partner_user", "P1", None),
    "fin": ("finance", None, None),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    from partnerscope.accounts import Accounts, Role

    root = tmp_path_factory.mktemp("retention-web") / "ws"
    tables = {**TABLES, "partners": PARTNERS}
    config = "".join(source(n, e, h) for n, (e, h, _) in tables.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in tables.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    ws.run(as_of=AS_OF)
    accounts = Accounts.open(ws)
    for name, (role, partner, manages) in USERS.items():
        accounts.add(name, Role(role), PASSWORD, partner_id=partner, manages=manages, by="test")
    return WebWorld(root)


@pytest.fixture(scope="module")
def clients(world: WebWorld) -> dict[str, Any]:
    app = world.app()
    return {name: world.client(name, app) for name in USERS}


def row_of(text: str, section: str, partner: str) -> str:
    return text.split(f'id="{section}"')[1].split(f'data-partner="{partner}"')[1].split("</tr>")[0]


def test_the_page_shows_retention_and_mix_in_words(clients: dict[str, Any]) -> None:
    page = clients["ana"].get("/retention?period=FY2025-Q2")
    assert page.status_code == 200, page.text
    text = page.text
    acme = row_of(text, "retention-table", "P1")
    # P1: 5 terms due, 3 renewed (60 %, under the 95 % goal), 5,500 due, GRR 2300/5500,
    # NRR 2800/5500, expansion 500, churn 1 of 4 customers
    assert '<td class="num miss">60.0%</td>' in acme
    assert '<td class="num">5</td>' in acme
    assert "$5,500" in acme and "$500" in acme
    assert '<td class="num">41.8%</td>' in acme and '<td class="num">50.9%</td>' in acme
    assert '<td class="num">25.0%</td>' in acme
    # all partners: 5 of 9 renewed
    assert '<td class="num miss">55.6%</td>' in row_of(text, "retention-table", "all")
    mix = row_of(text, "product-mix", "P1")
    # Compute 6000, Security 2000, Storage 2000 of 10000: diversity 1 − 0.44
    assert '<td class="num">56.0%</td>' in mix
    assert "100.0% (complete)" in mix
    assert "Compute 60%, Security 20%, Storage 20%" in mix
    assert "Compute 100%" in row_of(text, "product-mix", "P2")
    assert 'id="chart-retention"' in text and 'id="chart-mix"' in text
    assert 'id="no-terms"' not in text
    # FY2025-Q1: only S1 (P1) ends, renewed
    q1 = clients["ana"].get("/retention?period=FY2025-Q1").text
    assert '<td class="num">100.0%</td>' in row_of(q1, "retention-table", "P1")
    assert 'id="no-terms"' not in q1
    for raw in ("renewal_rate", "product_diversity", "0.56", "0.6<"):
        assert raw not in text.split('<script type="application/json"')[0]


def test_a_period_without_terms_says_what_to_load(clients: dict[str, Any]) -> None:
    text = clients["ana"].get("/retention?period=FY2024-Q4").text
    assert 'id="no-terms"' in text and "load subscriptions" in text


def test_the_api_twin(clients: dict[str, Any]) -> None:
    got = clients["ana"].get("/api/v1/retention?period=FY2025-Q2")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["renewal_goal"] == 0.95
    acme = next(p for p in body["partners"] if p["partner_id"] == "P1")
    assert acme["values"]["renewal_rate"] == pytest.approx(0.6)
    assert acme["values"]["product_diversity"] == pytest.approx(0.56)
    assert acme["below_renewal_goal"] is True
    assert [(f["family"], f["revenue"], f["share"]) for f in acme["families"]] == [
        ("Compute", 6000.0, 0.6),
        ("Security", 2000.0, 0.2),
        ("Storage", 2000.0, 0.2),
    ]
    assert body["portfolio"]["values"]["product_diversity"] == pytest.approx(208 / 361)


def test_who_may_see_it(clients: dict[str, Any]) -> None:
    mine = clients["max"].get("/retention?period=FY2025-Q2").text
    assert 'data-partner="P1"' in mine and 'data-partner="P3"' in mine
    assert 'data-partner="P2"' not in mine and "Beta" not in mine
    api = clients["max"].get("/api/v1/retention?period=FY2025-Q2").json()
    assert sorted(p["partner_id"] for p in api["partners"]) == ["P1", "P3"]
    for user in ("pat", "fin"):
        assert clients[user].get("/retention").status_code == 403
        assert clients[user].get("/api/v1/retention").status_code == 403


def test_the_cli(world: WebWorld) -> None:
    runner = CliRunner()
    where = ["--workspace", str(world.root)]
    got = runner.invoke(app, [*where, "retention", "--period", "FY2025-Q2", "--format", "json"])
    assert got.exit_code == 0, got.output
    rows = json.loads(got.stdout)
    acme = next(r for r in rows if r["partner"] == "Acme")
    assert acme["Renewal rate"] == "60.0%"
    assert acme["Product diversity"] == "56.0%"
    got = runner.invoke(
        app, [*where, "retention", "--period", "FY2025-Q2", "--families", "--format", "csv"]
    )
    assert got.exit_code == 0, got.output
    assert 'Acme,Compute,"$6,000",60%' in got.stdout
