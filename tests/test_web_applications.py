"""The applications pages and API: the applicant's form of an invitation link (its states,
located problems, CSRF, the rate limit, a confirmation without any judgement), the staff's
assessment and decision, and who may see what (partner users and finance never, not even a
name).

A small workspace of its own (P0001 Acme, Gold, managed by Marco Rossi; P0002 Beta, Silver),
copied for each test, with one user per role.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from partnerscope.accounts import Accounts, Role
from partnerscope.lifecycle import applications as apps
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.webtools import PASSWORD, csrf_of, sign_in

pytestmark = pytest.mark.xdist_group("applications")

CONFIG = """
[workspace]
timezone = "UTC"

[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
program_tier = "tier"
country = "country"
partner_manager = "manager"
"""
PARTNERS = "id,name,tier,country,manager\nP0001,Acme,Gold,DE,Marco Rossi\nP0002,Beta,Silver,FR,\n"
USERS = {
    "ada": Role.ADMIN,
    "ana": Role.ANALYST,
    "max": Role.PARTNER_MANAGER,
    "pat": Role.PARTNER_USER,
    "fin": Role.FINANCE,
}
FORM = {
    "company": "Nordlicht IT GmbH",
    "contact_name": "Jana Berg",
    "contact_email": "jana@nordlicht.example",
    "country": "DE",
    "vertical": "Manufacturing",
    "partner_type": "si",
    "employees": "42",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("applications") / "ws"
    ws = make_workspace(root, CONFIG, {"data/partners.csv": PARTNERS})
    assert ws.ingest().quarantined == 0
    ws.run()
    accounts = Accounts.open(ws)
    for name, role in USERS.items():
        accounts.add(
            name,
            role,
            PASSWORD,
            partner_id="P0001" if role is Role.PARTNER_USER else None,
            manages="Marco Rossi" if role is Role.PARTNER_MANAGER else None,
            by="test",
        )
    return root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("lock"))
    return Workspace.open(root)


def _app(ws: Workspace) -> Any:
    from partnerscope.web import create_app

    return create_app(ws.root, warm=False)


def _client(app: Any, user: str | None = None) -> TestClient:
    client = TestClient(app, base_url="https://testserver")
    if user:
        sign_in(client, user)
    return client


def _apply_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


# ------------------------------------------------------------------ the applicant


def test_the_applicant_s_form_from_link_to_confirmation(ws: Workspace) -> None:
    made = apps.invite(ws, by="ada", company="Nordlicht IT GmbH", email="jana@nordlicht.example")
    client = _client(_app(ws))
    page = client.get(made.link)
    assert page.status_code == 200
    assert 'value="Nordlicht IT GmbH"' in page.text
    token = _apply_token(page.text)
    # every problem next to its field, the form again with what was typed
    wrong = client.post(
        made.link,
        data={**FORM, "contact_name": "", "contact_email": "jana", "csrf_token": token},
    )
    assert wrong.status_code == 422
    errors = dict(re.findall(r'data-error="([a-z_]+)">([^<]+)<', wrong.text))
    assert errors == {
        "contact_name": "give the contact name",
        "contact_email": "&#39;jana&#39; is not an email address (name@company.com)",
    }
    assert 'value="Nordlicht IT GmbH"' in wrong.text
    # a form without its token (another site's) is refused, nothing stored
    forged = TestClient(client.app, base_url="https://testserver").post(
        made.link, data={**FORM, "csrf_token": "forged"}
    )
    assert forged.status_code == 403 and "expired before it was sent" in forged.text
    assert apps.listing(ws) == []
    sent = client.post(
        made.link, data={**FORM, "csrf_token": _apply_token(wrong.text)}, follow_redirects=False
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/apply/sent")
    told = client.get("/apply/sent")
    assert "What happens next" in told.text
    for internal in ("score", "weight", "threshold", "evidence", "recommend"):
        assert internal not in told.text.lower()
    [stored] = apps.listing(ws)
    assert (stored.company, stored.source, stored.details) == (
        "Nordlicht IT GmbH",
        "form",
        {"employees": 42},
    )
    again = client.get(made.link)
    assert again.status_code == 410 and 'data-state="used"' in again.text
    twice = client.post(made.link, data={**FORM, "csrf_token": token})
    assert twice.status_code == 410
    assert len(apps.listing(ws)) == 1


def test_an_expired_or_unknown_link_says_so(ws: Workspace) -> None:
    old = apps.invite(ws, by="ada", days=1, now=datetime(2020, 1, 1))
    client = _client(_app(ws))
    expired = client.get(old.link)
    assert expired.status_code == 410
    assert "expired on 2020-01-02" in expired.text
    unknown = client.get("/apply/abcdefghijklmnop")
    assert unknown.status_code == 404 and "not valid" in unknown.text


def test_the_form_is_rate_limited_per_client(ws: Workspace) -> None:
    made = apps.invite(ws, by="ada")
    client = _client(_app(ws))
    token = _apply_token(client.get(made.link).text)
    for _ in range(10):
        wrong = client.post(made.link, data={"csrf_token": token})
        assert wrong.status_code == 422
        token = _apply_token(wrong.text)
    throttled = client.post(made.link, data={**FORM, "csrf_token": token})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert apps.listing(ws) == []


def test_the_gate_lets_an_applicant_send_the_form(ws: Workspace) -> None:
    made = apps.invite(ws, by="ada")
    client = _client(_app(ws))
    token = _apply_token(client.get(made.link).text)
    sent = client.post(made.link, data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/apply/sent")


# ----------------------------------------------------------------------- the staff


def _post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(
        path, data={**data, "csrf_token": csrf_of(client, "/applications")}, follow_redirects=False
    )


def test_assess_and_decide_on_the_pages(ws: Workspace) -> None:
    n = apps.submit(ws, FORM, by="ada").application_id
    client = _client(_app(ws), "max")
    refused = _post(client, f"/applications/{n}/approve", program_tier="Gold")
    assert refused.status_code == 400
    assert (
        "cannot be approved yet: no owner; Technical capability has no score with evidence; "
        "Sales capability has no score with evidence; Market fit has no score with evidence; "
        "Financial stability has no score with evidence; References has no score with evidence"
    ) in refused.text
    no_evidence = _post(
        client, f"/applications/{n}/scores", criterion="market_fit", score="4", evidence=" "
    )
    assert no_evidence.status_code == 400 and "Market fit needs its evidence" in no_evidence.text
    assert _post(client, f"/applications/{n}/owner", owner="Max Mustermann").status_code == 303
    given = {
        "technical_capability": 4,
        "sales_capability": 4,
        "service_capability": 3,
        "market_fit": 5,
        "cultural_fit": 3,
        "financial_stability": 4,
        "references": 3,
    }
    for criterion, value in given.items():
        done = _post(
            client,
            f"/applications/{n}/scores",
            criterion=criterion,
            score=str(value),
            evidence=f"{criterion} checked",
        )
        assert done.status_code == 303
    page = client.get(f"/applications/{n}")
    # (20·4 + 20·4 + 10·3 + 15·5 + 10·3 + 15·4 + 10·3) / 100 = 3.85
    assert "Weighted score: <strong>3.85 of 5</strong>" in page.text
    assert "approve: 3.85 of 5 against the threshold of 3.5" in page.text
    assert '<option value="Gold">Gold</option>' in page.text and 'placeholder="P0003"' in page.text
    unknown = _post(client, f"/applications/{n}/approve", program_tier="Platinum")
    assert unknown.status_code == 400 and "no program tier &#39;Platinum&#39;" in unknown.text
    approved = _post(client, f"/applications/{n}/approve", program_tier="Gold")
    assert (approved.status_code, approved.headers["location"]) == (303, f"/applications/{n}")
    shown = client.get(f"/applications/{n}").text
    assert 'href="/onboarding/P0003"' in shown and "approve-form" not in shown
    again = _post(client, f"/applications/{n}/reject", reason="no")
    assert again.status_code == 400 and "only an application awaiting a decision" in again.text
    listed = client.get("/api/v1/applications").json()
    assert [(a["status"], a["partner_id"], a["weighted_score"], a["owner"]) for a in listed] == [
        ("approved", "P0003", 3.85, "Max Mustermann")
    ]


def test_reject_needs_a_reason_on_the_page(ws: Workspace) -> None:
    n = apps.submit(ws, FORM, by="ada").application_id
    client = _client(_app(ws), "ada")
    assert _post(client, f"/applications/{n}/reject", reason=" ").status_code == 400
    assert (
        _post(client, f"/applications/{n}/reject", reason="Outside our markets").status_code == 303
    )
    got = client.get(f"/api/v1/applications/{n}").json()["application"]
    assert (got["status"], got["reason"], got["decided_by"]) == (
        "rejected",
        "Outside our markets",
        "ada",
    )


def test_an_invitation_link_is_shown_once(ws: Workspace) -> None:
    client = _client(_app(ws), "max")
    made = _post(client, "/applications/invite", company="Zeta", email="z@zeta.example", days="7")
    assert made.status_code == 201
    link = re.search(r'data-link="(/apply/[^"]+)"', made.text)
    assert link is not None
    assert apps.invite_for(ws, link.group(1).removeprefix("/apply/")).company == "Zeta"
    assert link.group(1) not in client.get("/applications").text


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("user", ["pat", "fin"])
def test_partner_users_and_finance_never_see_an_application(ws: Workspace, user: str) -> None:
    n = apps.submit(ws, FORM, by="ada").application_id
    apps.score(ws, n, "market_fit", 2, "secret judgement", by="ada")
    client = _client(_app(ws), user)
    for path in (
        "/applications",
        f"/applications/{n}",
        "/api/v1/applications",
        f"/api/v1/applications/{n}",
    ):
        got = client.get(path)
        assert got.status_code == 403, path
        assert "Nordlicht" not in got.text and "secret" not in got.text
    token = csrf_of(client, "/")
    for path in (f"/applications/{n}/approve", f"/applications/{n}/scores", "/applications/invite"):
        got = client.post(path, data={"csrf_token": token, "program_tier": "Gold"})
        assert got.status_code == 403 and "Nordlicht" not in got.text


def test_an_analyst_reads_but_does_not_decide(ws: Workspace) -> None:
    n = apps.submit(ws, FORM, by="ada").application_id
    client = _client(_app(ws), "ana")
    page = client.get(f"/applications/{n}")
    assert page.status_code == 200 and "approve-form" not in page.text
    assert _post(client, f"/applications/{n}/owner", owner="ana").status_code == 403
    assert client.get("/api/v1/applications/99").status_code == 404


def test_the_api_filters_by_status_and_owner(ws: Workspace) -> None:
    first = apps.submit(ws, FORM, by="ada").application_id
    second = apps.submit(ws, {**FORM, "company": "Other"}, by="ada").application_id
    apps.set_owner(ws, first, "Max", by="ada")
    apps.reject(ws, second, by="ada", reason="duplicate", now=datetime.now() + timedelta(0))
    client = _client(_app(ws), "ana")
    assert [a["application_id"] for a in client.get("/api/v1/applications").json()] == [
        second,
        first,
    ]
    got = client.get("/api/v1/applications?status=rejected").json()
    assert [a["company"] for a in got] == ["Other"]
    got = client.get("/api/v1/applications?owner=Max").json()
    assert [a["missing"][0] for a in got] == ["Technical capability has no score with evidence"]


# ------------------------------------------------------------------------- the demo


def test_the_demo_s_applications(web_world: Any) -> None:
    """The demo's most recently joined partners are approved applications with their CRM ids
    (the warehouse keeps its 100 partners), three await a decision (one cannot be approved: no
    market fit), one was rejected with its reason."""
    from partnerscope.demo import plant_applications
    from tests.conftest import query

    ws = Workspace.open(web_world.root)
    approved = apps.listing(ws, apps.Status.APPROVED)
    joined = query(
        ws,
        "SELECT partner_id FROM partners WHERE joined_at IS NOT NULL "
        "ORDER BY joined_at DESC, partner_id LIMIT 3",
    )
    assert sorted(a.partner_id or "" for a in approved) == sorted(r[0] for r in joined)
    assert query(ws, "SELECT count(*) FROM partners") == [(100,)]
    assert apps.joined_rows(ws, "state/applications/joined-partners.csv") == []
    assert apps.joined_partners(ws) is not None  # there are approvals; none posted
    lines = plant_applications.found(ws)
    assert lines[0].startswith("3 applications await a decision: #")
    assert "cannot be approved yet: Market fit has no score with evidence" in lines[0]
    assert lines[-1] == "1 rejected with its reason"
    client = web_world.client("ada")
    page = client.get("/applications")
    assert "3 applications await a decision." in page.text
    assert "Brightpath Solutions" in page.text
    partner = web_world.client("pat").get("/applications")
    assert partner.status_code == 403 and "Brightpath" not in partner.text


def test_the_api_decides_with_a_token(ws: Workspace) -> None:
    """An API token (no CSRF): a partner manager owns, scores and approves; the answer is the
    approved application; a partner user's token is refused."""
    n = apps.submit(ws, FORM, by="ada").application_id
    accounts = Accounts.open(ws)
    client = _client(_app(ws))
    mine = {"Authorization": f"Bearer {accounts.issue_token('max', 'test', by='test')[1]}"}
    theirs = {"Authorization": f"Bearer {accounts.issue_token('pat', 'test', by='test')[1]}"}
    assert (
        client.post(
            f"/api/v1/applications/{n}/owner", json={"owner": "Max"}, headers=theirs
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/applications/{n}/owner", json={"owner": "Max"}, headers=mine).json()[
            "owner"
        ]
        == "Max"
    )
    for criterion in ("technical_capability", "sales_capability", "market_fit"):
        body = {"criterion": criterion, "score": 4, "evidence": "seen"}
        got = client.post(f"/api/v1/applications/{n}/scores", json=body, headers=mine)
        assert got.status_code == 200
    refused = client.post(
        f"/api/v1/applications/{n}/approve", json={"program_tier": "Gold"}, headers=mine
    )
    assert refused.status_code == 400
    assert (
        "Financial stability has no score with evidence; References has no score"
        in (refused.json()["detail"])
    )
    for criterion in ("financial_stability", "references"):
        body = {"criterion": criterion, "score": 3, "evidence": "seen"}
        got = client.post(f"/api/v1/applications/{n}/scores", json=body, headers=mine)
    # (20·4 + 20·4 + 15·4 + 15·3 + 10·3) / 80 = 295 / 80 = 3.6875
    assert got.json()["application"]["weighted_score"] == 3.6875
    done = client.post(
        f"/api/v1/applications/{n}/approve",
        json={"program_tier": "Gold", "partner_id": "NEW-1"},
        headers=mine,
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["partner_id"]) == ("approved", "NEW-1")
    invite = client.post("/api/v1/applications/invites", json={"days": 3}, headers=mine)
    assert invite.status_code == 201 and invite.json()["link"].startswith("/apply/")
