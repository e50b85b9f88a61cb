"""Enablement in the web app: /enablement (staff: partners with gaps to their tier first, the
certifications expiring soon), /enablement/<partner_id> and the JSON twins; a partner user sees
its own page only (another partner's id is a 404 with no name in it).

Hand-worked values on the small workspace of tests/test_lifecycle_enablement.py (judged on
2026-02-01); role isolation on the demo world of tests/webtools.py."""

from __future__ import annotations

from datetime import date

import pytest

from partnerscope.lifecycle.enablement import partner_gaps
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.test_lifecycle_enablement import AR, CERTS, IS, PARTNERS, SA, SM, config
from tests.webtools import FOREIGN, OWN, PASSWORD, WebWorld, sign_in


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Workspace:
    from partnerscope.accounts import Accounts, Role

    ws = make_workspace(
        tmp_path_factory.mktemp("web-enablement") / "ws",
        config(),
        {"data/partners.csv": PARTNERS, "data/certs.csv": CERTS},
    )
    assert ws.ingest().quarantined == 0
    accounts = Accounts.open(ws)
    accounts.add("ada", Role.ADMIN, PASSWORD, by="test")
    accounts.add("pat", Role.PARTNER_USER, PASSWORD, partner_id="P3", by="test")
    return ws


def client(ws: Workspace, user: str):
    from fastapi.testclient import TestClient

    from partnerscope.web import create_app

    c = TestClient(create_app(ws.root, warm=False), base_url="https://testserver")
    sign_in(c, user)
    return c


def test_the_staff_page_lists_the_partners_with_gaps_first(small):
    c = client(small, "ada")
    page = c.get("/enablement?on=2026-02-01")
    assert page.status_code == 200
    text = page.text
    assert "Judged on Feb 1, 2026" in text
    assert "2 of 3 partners miss a certification their tier requires." in text
    # Gamma (3 missing), Acme (1), Beta (0)
    assert (
        text.index('data-partner="P3"')
        < text.index('data-partner="P1"')
        < text.index('data-partner="P2"')
    )
    assert f"{AR} (needs {IS} first)" in text
    # C2 of Acme's U1 expires 2026-03-31, 58 days after 2026-02-01
    assert "Mar 31, 2026" in text and "58 days" in text
    found = c.get("/api/v1/enablement?on=2026-02-01").json()
    assert [(p["partner_id"], p["held_required"], len(p["required"])) for p in found] == [
        ("P3", 1, 4),
        ("P1", 3, 4),
        ("P2", 2, 2),
    ]
    assert found[1]["next_tier"] == "Platinum"
    assert [g["name"] for g in found[1]["next_missing"]] == [SM]
    soon = c.get("/api/v1/enablement/expiring?on=2026-01-30&days=60").json()
    assert [(e["partner_id"], e["person_id"], e["certification"], e["days"]) for e in soon] == [
        ("P1", "U1", SA, 60)
    ]
    assert c.get("/api/v1/enablement/expiring?on=2026-01-29&days=60").json() == []


def test_a_partners_page_and_its_json(small):
    c = client(small, "ada")
    text = c.get("/enablement/P3?on=2026-02-01").text
    assert "1 of the 4 certifications Gold requires are held. Still needed:" in text
    assert f"needs {IS} first" in text
    assert "Besides what Gold requires, Platinum needs:" in text
    got = c.get("/api/v1/enablement/P1?on=2026-02-01").json()
    assert got["tier"] == "Gold" and [g["name"] for g in got["missing"]] == [AR]
    assert {p["key"]: p["highest"] for p in got["paths"]} == {
        "sales": SA,
        "technical": "Master Technical Specialist",
    }
    assert got == c.get("/api/v1/enablement/P1?on=2026-02-01").json()
    assert got["missing"] == [
        {"name": g.name, "needs": list(g.needs), "described": g.describe()}
        for g in partner_gaps(small, "P1", date(2026, 2, 1)).missing
    ]
    assert c.get("/enablement/P11").status_code == 404


def test_a_partner_user_sees_its_own_page_and_no_other(small):
    c = client(small, "pat")
    own = c.get("/enablement?on=2026-02-01")
    assert own.status_code == 200 and "Gamma" in own.text
    assert "Acme" not in own.text and "Beta" not in own.text
    (mine,) = c.get("/api/v1/enablement?on=2026-02-01").json()
    assert mine["partner_id"] == "P3"
    assert "held_required" not in mine and "other_held" not in mine  # the partner model
    for path in ("/enablement/P1", "/api/v1/enablement/P1", "/enablement/P9"):
        answer = c.get(path)
        assert answer.status_code == 404
        assert "Acme" not in answer.text and "P1" not in answer.text
    assert c.get("/api/v1/enablement/expiring?on=2026-01-30").json() == []  # P1's is not its


@pytest.mark.slow
def test_roles_on_the_demo(web_world: WebWorld):
    pat = web_world.client("pat")
    page = pat.get("/enablement")
    assert page.status_code == 200
    (mine,) = pat.get("/api/v1/enablement").json()
    assert mine["partner_id"] == OWN
    assert pat.get(f"/enablement/{OWN}").status_code == 200
    names = {
        p["partner_id"]: p["partner"]
        for p in web_world.client("ada").get("/api/v1/enablement").json()
    }
    for path in (f"/enablement/{FOREIGN}", f"/api/v1/enablement/{FOREIGN}"):
        answer = pat.get(path)
        assert answer.status_code == 404 and names[FOREIGN] not in answer.text
    assert {e["partner_id"] for e in pat.get("/api/v1/enablement/expiring?days=730").json()} <= {
        OWN
    }
    manager = web_world.client("max")
    seen = {p["partner_id"] for p in manager.get("/api/v1/enablement").json()}
    assert OWN in seen and web_world.assigned in seen and FOREIGN not in seen
    assert manager.get(f"/enablement/{FOREIGN}").status_code == 404
    assert web_world.client("fin").get("/enablement").status_code == 403
    staff = web_world.client("ana").get("/api/v1/enablement").json()
    missing = [len(p["missing"]) for p in staff]
    assert missing == sorted(missing, reverse=True)
    assert len(staff) == len(names)
