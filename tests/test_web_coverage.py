"""/coverage, /api/v1/coverage and the channel conflicts beside deal registrations, on the
hand-checked fixture of tests/test_metrics_coverage.py (each account record its own customer)
with one user per role: the partner manager ``max`` looks after P1 (Acme) only, the partner
user ``pat`` is P2's (Beta).

Two opportunities more, created in the last month, make the registrations page's year of
conflicts: O11 (P1, A4, 5000) and O12 (P2, A4, 700), both open beside direct sales' O6 and each
other."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.test_metrics_coverage import fixture_workspace, separate
from tests.webtools import PASSWORD, WebWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    from partnerscope.accounts import Accounts, Role
    from partnerscope.workspace import Workspace

    recent = date.today() - timedelta(days=30)
    root = tmp_path_factory.mktemp("web-coverage") / "ws"
    more = (
        f"O11,P1,sourced,A4,open,5000,{recent}T00:00:00,\n"
        f"O12,P2,sourced,A4,open,700,{recent + timedelta(days=10)}T00:00:00,\n"
    )
    separate(fixture_workspace(root, more))
    accounts = Accounts.open(Workspace.open(root))
    users = {
        "ada": (Role.ADMIN, None, ()),
        "ana": (Role.ANALYST, None, ()),
        "max": (Role.PARTNER_MANAGER, None, ("P1",)),
        "pat": (Role.PARTNER_USER, "P2", ()),
        "fin": (Role.FINANCE, None, ()),
    }
    for name, (role, partner, partners) in users.items():
        accounts.add(name, role, PASSWORD, partner_id=partner, partners=partners, by="test")
    return WebWorld(root)


Q2_END = {"at": "2025-06-30"}


@pytest.mark.parametrize("user", ["pat", "fin"])
def test_partner_users_and_finance_are_refused(world: WebWorld, user: str) -> None:
    client = world.client(user)
    assert client.get("/coverage").status_code == 403
    assert client.get("/api/v1/coverage").status_code == 403


def test_the_page_for_an_analyst(world: WebWorld) -> None:
    page = world.client("ana").get("/coverage", params=Q2_END)
    assert page.status_code == 200
    text = page.text
    assert "20%" in text and "(1 of 5)" in text and "goal 95%" in text and "Below goal" in text
    for territory in ("T-FR", "T-DE-FIN", "T-IT", "T-ES"):
        assert f'data-territory="{territory}"' in text
    assert 'data-territory="T-DE"' not in text
    assert "Delta (53 km, not certified)" in text
    assert "4 partner opportunities created from" in text and "$6,400" in text
    assert "Direct sales" in text and "partner vs partner" in text
    # no metric key, no raw fraction in what a person reads (the chart's data is a script)
    shown = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert "market_coverage" not in shown and "0.2" not in shown


def test_the_api_for_an_analyst(world: WebWorld) -> None:
    got = world.client("ana").get("/api/v1/coverage", params=Q2_END).json()
    assert (got["target_territories"], got["covered_territories"]) == (5, 1)
    assert got["market_coverage"] == 0.2 and got["goal"] == 0.95
    assert [g["territory_id"] for g in got["gaps"]] == ["T-FR", "T-DE-FIN", "T-IT", "T-ES"]
    assert [n["partner_id"] for n in got["gaps"][-1]["nearest"]] == ["P4", "P2", "P1"]
    assert got["conflicted_opportunities"] == 4 and got["revenue_at_stake"] == "6400.00"
    assert got["conflict_pairs"] == 4
    few = world.client("ana").get("/api/v1/coverage", params={**Q2_END, "limit": 1}).json()
    assert len(few["conflicts"]) == 1 and few["conflict_pairs"] == 4
    pairs = [
        (c["opportunity"]["opportunity_id"], c["other"]["opportunity_id"]) for c in got["conflicts"]
    ]
    assert pairs == [("O4", "O3"), ("O3", "O4"), ("O1", "O2"), ("O7", "O6")]
    # the trend: quarter ends up to the date, the last one the date itself
    assert got["trend"][-1] == {"at": "2025-06-30", "market_coverage": 0.2}
    assert got["trend"][-2] == {"at": "2025-03-31", "market_coverage": 0.6}


def test_a_partner_manager_sees_only_their_partners(world: WebWorld) -> None:
    client = world.client("max")
    got = client.get("/api/v1/coverage", params=Q2_END).json()
    # P1's conflicts: O3 (against P2's O4, not named), O1 (direct), O7 (direct)
    assert [c["opportunity"]["opportunity_id"] for c in got["conflicts"]] == ["O3", "O1", "O7"]
    other = got["conflicts"][0]["other"]
    assert (other["partner_id"], other["opportunity_id"], other["party"]) == (
        None,
        "",
        "another partner",
    )
    assert got["revenue_at_stake"] == "3400.00"
    assert {n["partner_id"] for g in got["gaps"] for n in g["nearest"]} == {"P1"}
    text = client.get("/coverage", params=Q2_END).text
    body = str(got) + text
    for leak in ("Beta", "Gamma", "Delta", "P2", "P3", "P4", "O4"):
        assert leak not in body, leak
    assert "another partner" in text


def test_beside_the_deal_registrations(world: WebWorld) -> None:
    staff = world.client("ana").get("/registrations").text
    # O11 (against O6 and O12) and O12 (against O6, O7 and O11): 5000 + 700
    assert 'id="channel-conflicts"' in staff
    assert "2 partner opportunities created in the last year" in staff and "$5,700" in staff
    assert 'href="/coverage#conflicts"' in staff
    manager = world.client("max").get("/registrations").text
    assert "1 partner opportunity created in the last year" in manager and "$5,000" in manager
    partner = world.client("pat").get("/registrations")
    assert partner.status_code == 200
    assert 'id="channel-conflicts"' not in partner.text and "/coverage" not in partner.text


def test_a_date_out_of_range_is_refused_in_words(world: WebWorld) -> None:
    got = world.client("ana").get("/api/v1/coverage", params={"at": "1900-01-01"})
    assert got.status_code == 422 and "Traceback" not in got.text


def test_the_workspace_root(world: WebWorld) -> None:
    assert Path(world.root, "partnerscope.toml").is_file()
