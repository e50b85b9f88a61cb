"""The compliance pages and API (/compliance) and the awards pages (/awards): who sees what.

A tiny workspace: the compliance fixture of tests/test_metrics_compliance.py (P1 Acme, P2 Beta)
and one user per role: ``ada`` admin, ``ana`` analyst, ``max`` partner manager of P2 only,
``pat`` partner user of P1, ``fin`` finance.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from partnerscope.workspace import Workspace
from tests.test_awards import awards_workspace
from tests.test_metrics_compliance import fixture_workspace
from tests.webtools import PASSWORD, sign_in

USERS = {
    "ada": ("admin", None, ()),
    "ana": ("analyst", None, ()),
    "max": ("partner_manager", None, ("P2",)),
    "pat": ("partner_user", "P1", ()),
    "fin": ("finance", None, ()),
}
PERIOD = "FY2025-Q2"


def with_users(ws: Workspace) -> Workspace:
    from partnerscope.accounts import Accounts, Role

    accounts = Accounts.open(ws)
    for name, (role, partner, partners) in USERS.items():
        accounts.add(
            name, Role(role), PASSWORD, partner_id=partner, partners=list(partners), by="test"
        )
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return with_users(fixture_workspace(tmp_path_factory.mktemp("web-compliance") / "ws"))


def client(ws: Workspace, user: str) -> TestClient:
    from partnerscope.web import create_app

    c = TestClient(create_app(ws.root, warm=False), base_url="https://testserver")
    sign_in(c, user)
    return c


@pytest.fixture(scope="module")
def clients(ws: Workspace) -> dict[str, TestClient]:
    return {name: client(ws, name) for name in USERS}


def get(c: TestClient, path: str, status: int = 200) -> Any:
    r = c.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:500])
    return r


def test_staff_see_audits_by_category_and_open_actions(clients: dict[str, TestClient]) -> None:
    o = get(clients["ada"], f"/api/v1/compliance?period={PERIOD}").json()
    assert [(c["category"], c["audits"], c["pass_rate"]) for c in o["categories"]] == [
        ("Anti-corruption", 1, 0.0),
        ("Data security", 1, 0.0),
        ("Margin requirements", 1, 1.0),
    ]
    assert [(a["partner"], a["finding"], a["owner"], a["status"]) for a in o["actions"]] == [
        ("Acme", "No access review", "Lee", "overdue"),
        ("Beta", "No training", "Sam", "open"),
        ("Acme", "Late price list", "Lee", "open"),
    ]
    assert o["overdue"] == 1
    html = get(clients["ana"], f"/compliance?period={PERIOD}").text
    assert "Data security" in html and '<td class="num">0%</td>' in html
    assert "No access review" in html and "overdue" in html
    assert "data_security" not in html


def test_a_manager_sees_their_partners_only(clients: dict[str, TestClient]) -> None:
    o = get(clients["max"], f"/api/v1/compliance?period={PERIOD}").json()
    assert [a["partner"] for a in o["actions"]] == ["Beta"]
    assert [c["category"] for c in o["categories"]] == ["Anti-corruption"]
    get(clients["max"], "/api/v1/compliance/P1", 404)
    trail = get(clients["max"], f"/api/v1/compliance/P2?period={PERIOD}").json()
    assert trail["records"][1]["notes"] == "Gifts register missing"


def test_the_staff_trail_holds_auditor_and_notes(clients: dict[str, TestClient]) -> None:
    t = get(clients["ada"], f"/api/v1/compliance/P1?period={PERIOD}").json()
    assert t["score"] == pytest.approx(300 / 7)
    assert [r["record_id"] for r in t["records"]] == ["K2", "K3", "AU1", "AU3"]
    assert t["records"][2]["auditor"] == "Ines"
    assert t["records"][2]["notes"] == "Backups untested"
    html = get(clients["ada"], f"/compliance/P1?period={PERIOD}").text
    assert "42.9 of 100" in html and "Backups untested" in html


def test_a_partner_sees_its_own_findings_only_without_internal_notes(
    clients: dict[str, TestClient],
) -> None:
    pat = clients["pat"]
    t = get(pat, f"/api/v1/compliance?period={PERIOD}").json()
    assert t["partner_id"] == "P1"
    assert all("auditor" not in r and "notes" not in r for r in t["records"])
    findings = [f["finding"] for r in t["records"] for f in r["findings"]]
    assert findings == [
        "No backup test",
        "Shared admin account",
        "No access review",
        "Late price list",
    ]
    html = get(pat, f"/compliance?period={PERIOD}").text
    assert "No access review" in html and "Lee" in html
    for internal in ("Backups untested", "Ines", "Ola", "Beta", "No training", "Gifts"):
        assert internal not in html, internal
    # another partner's trail is not found, worded as for one that does not exist
    for path in ("/api/v1/compliance/P2", "/compliance/P2", "/api/v1/compliance/P9"):
        assert get(pat, path, 404).status_code == 404


def test_finance_is_refused(clients: dict[str, TestClient]) -> None:
    get(clients["fin"], "/compliance", 403)
    get(clients["fin"], "/api/v1/compliance", 403)


def test_a_bad_period_is_told(clients: dict[str, TestClient]) -> None:
    r = get(clients["ada"], "/api/v1/compliance?period=Q9", 422)
    assert "FY2026-Q1" in r.text


# ---- /awards -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def award_clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestClient]:
    """The tiny awards workspace of tests/test_awards.py (FY2025: Growth P1 then P2), with the
    same users (``max`` looks after P2, ``pat`` is P1's)."""
    ws = with_users(awards_workspace(tmp_path_factory.mktemp("web-awards") / "ws"))
    return {name: client(ws, name) for name in USERS}


def test_staff_read_the_shortlists_with_reasons(award_clients: dict[str, TestClient]) -> None:
    found = {s["award"]: s for s in get(award_clients["ana"], "/api/v1/awards").json()}
    growth = found["growth"]
    assert (growth["period"], growth["winner"]) == ("FY2025", None)
    assert [(n["partner"], n["reasons"][0]) for n in growth["nominees"]] == [
        ("Acme", "Revenue growth YoY 200.0%: 1st of 3 eligible partners."),
        ("Beta", "Revenue growth YoY 50.0%: 2nd of 3 eligible partners."),
    ]
    html = get(award_clients["ada"], "/awards").text
    assert "Growth Award FY2025" in html and "Record the winner" in html
    assert "revenue_growth_yoy" not in html


def test_a_manager_reads_their_partners_by_name_only(award_clients: dict[str, TestClient]) -> None:
    found = {s["award"]: s for s in get(award_clients["max"], "/api/v1/awards").json()}
    assert [(n["partner"], n["partner_id"]) for n in found["growth"]["nominees"]] == [
        ("another partner", None),
        ("Beta", "P2"),
    ]
    assert found["growth"]["nominees"][0]["reasons"] == []
    html = get(award_clients["max"], "/awards").text
    assert "Acme" not in html and "Record the winner" not in html
    from tests.webtools import csrf_of

    token = csrf_of(award_clients["max"], "/awards")
    r = award_clients["max"].post(
        "/awards/growth/decide",
        data={"year": "2025", "partner_id": "P2", "reason": "x", "csrf_token": token},
    )
    assert r.status_code == 403


def test_partners_and_finance_never_see_the_shortlists(
    award_clients: dict[str, TestClient],
) -> None:
    for user in ("pat", "fin"):
        get(award_clients[user], "/awards", 403)
        get(award_clients[user], "/api/v1/awards", 403)


def test_an_analyst_records_the_winner(award_clients: dict[str, TestClient]) -> None:
    from tests.webtools import csrf_of

    ana = award_clients["ana"]
    form = {"year": "2025", "partner_id": "P1", "reason": "Tripled", "csrf_token": csrf_of(ana)}
    refused = ana.post("/awards/growth/decide", data={**form, "partner_id": "P3"})
    assert refused.status_code == 400 and "not on the Growth Award FY2025" in refused.text
    done = ana.post("/awards/growth/decide", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/awards?year=2025"
    growth = {s["award"]: s for s in get(ana, "/api/v1/awards?year=2025").json()}["growth"]
    assert growth["winner"]["partner"] == "Acme"
    assert (growth["winner"]["decided_by"], growth["winner"]["reason"]) == ("ana", "Tripled")
    # the decision is in the decisions' audit log
    audit = get(award_clients["ada"], "/api/v1/decisions").text
    assert "Growth Award FY2025" in audit


# ---- the pages speak the users' language ---------------------------------------------------------


def test_the_pages_speak_the_users_language(
    ws: Workspace,
    clients: dict[str, TestClient],
    award_clients: dict[str, TestClient],
) -> None:
    from tests.visible import problems, text_of

    keys = list(ws.catalog.metrics)
    findings = []
    for user in USERS:
        for c, path in (
            (clients[user], f"/compliance?period={PERIOD}"),
            (clients[user], f"/compliance/P1?period={PERIOD}"),
            (clients[user], f"/compliance/P2?period={PERIOD}"),
            (award_clients[user], "/awards"),
        ):
            answer = c.get(path)
            if answer.status_code == 200:
                findings += [f"{path} as {user}: {p}" for p in problems(text_of(answer.text), keys)]
    assert findings == []
