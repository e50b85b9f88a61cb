"""Routed leads and deal registrations in the web app: what each role sees (a partner user its
own leads and registrations, never who else was eligible or whose a conflict is), routing a
batch through the API and a file on the page, a partner working its lead, and the registration
workflow with its refusals; then a partner and its manager in a real browser.

Who may call which route is the access matrix's (tests/test_web_access.py). These tests change
leads and registrations, so they work on a copy of the web world.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from partnerscope.operations import registrations
from partnerscope.operations.routing import service
from partnerscope.operations.routing.store import Rerouted
from partnerscope.workspace import Workspace
from tests.webtools import ASSIGNED, FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    return web_world.copy(tmp_path_factory.mktemp("operations") / "demo")


@pytest.fixture(scope="module")
def clients(world):
    app = world.app()
    signed = {user: world.client(user, app=app) for user in ("ada", "ana", "max", "pat")}
    for client in signed.values():
        client.headers["X-CSRF-Token"] = csrf_of(client, "/leads")
    return signed


def ws(world) -> Workspace:
    return Workspace.open(world.root)


# -------------------------------------------------------------------------------- leads


def test_a_partner_user_sees_its_own_leads_without_who_else_was_eligible(world, clients):
    mine = clients["pat"].get("/api/v1/leads").json()
    assert mine and {a["partner_id"] for a in mine} == {OWN}
    # the partner view: no eligible partners, band, rule or attempt number, and the reason
    # says what qualified the partner, not how it was picked among the others
    assert all("eligible" not in a and "rule" not in a and "attempt" not in a for a in mine)
    own = world.leads[OWN]
    (told,) = clients["pat"].get(f"/api/v1/leads/{own}").json()["attempts"]
    (stored,) = service.lead_history(ws(world), own)
    assert told["reason"] == stored.partner_reason
    assert told["reason"].startswith("covers DE, ") and "round robin" not in told["reason"]
    # a lead of another partner and one that does not exist get the same answer
    foreign = clients["pat"].get(f"/api/v1/leads/{world.leads[FOREIGN]}")
    missing = clients["pat"].get("/api/v1/leads/NO-SUCH-LEAD")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(world.leads[FOREIGN], "X") == missing.json()[
        "detail"
    ].replace("NO-SUCH-LEAD", "X")
    # an analyst sees the explanation whole: who else was eligible and who was left out
    (first,) = clients["ana"].get(f"/api/v1/leads/{own}").json()["attempts"]
    assert first["eligible"]["ids"] == stored.eligible["ids"]
    assert first["eligible"]["count"] == 12  # the German partners
    assert first["reason"].startswith(f"{OWN}: ") and "round robin" in first["reason"]
    # the manager sees only the eligible partners it may see
    visible = set(clients["max"].get("/api/v1/me").json()["partners"])
    shown = clients["max"].get(f"/api/v1/leads/{own}").json()["attempts"][0]["eligible"]["ids"]
    assert set(shown) == set(stored.eligible["ids"]) & visible


def test_analysts_route_a_batch_through_the_api(world, clients):
    batch = {
        "leads": [
            {"lead_id": "API-1", "country": "DE", "estimated_value": "10000"},
            {"lead_id": "API-2", "country": "DE", "estimated_value": "25000.00"},
            {"lead_id": "API-3", "estimated_value": "30000"},
            {"lead_id": world.leads[OWN], "country": "DE", "estimated_value": "50000"},
        ]
    }
    answer = clients["ana"].post("/api/v1/leads/route", json=batch)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    routed = {a["lead_id"]: a for a in out["routed"]}
    # under 25,000: the self-service queue; exactly 25,000: the round robin's band
    assert routed["API-1"]["partner_id"] is None and routed["API-1"]["queue"] == "self-service"
    assert routed["API-2"]["partner_id"] is not None and routed["API-2"]["band"] != "self_service"
    # no country and no coordinates: the row is refused with where and how to fix it
    assert out["problems"] == [
        "request, row 3, column country (''): give the lead's country (ISO code or name) "
        "or its latitude and longitude"
    ]
    assert out["already_routed"] == [world.leads[OWN]]
    assert clients["pat"].post("/api/v1/leads/route", json=batch).status_code == 403


def test_a_partner_works_its_lead_and_a_decline_hides_where_it_went(world, clients):
    pat = clients["pat"]
    rows = [{"lead_id": f"PAT-{i}", "country": "DE", "estimated_value": "50000"} for i in range(13)]
    clients["ana"].post("/api/v1/leads/route", json={"leads": rows})
    mine = [a["lead_id"] for a in pat.get("/api/v1/leads", params={"status": "assigned"}).json()]
    assert mine, "the round robin gave P0001 one of 13 German leads"
    lead = mine[0]
    touched = pat.post(f"/leads/{lead}/touch", follow_redirects=False)
    assert touched.status_code == 303
    assert pat.get(f"/api/v1/leads/{lead}").json()["attempts"][-1]["status"] == "touched"
    # a second touch is refused with the reason, on the page
    again = pat.post(f"/leads/{lead}/touch")
    assert again.status_code == 400 and "only the first touch is recorded" in again.text
    # declining re-routes the lead; the partner user is not told to whom
    empty = pat.post(f"/leads/{lead}/decline", data={"reason": ""})
    assert empty.status_code == 422 and 'data-errors="lead"' in empty.text
    declined = pat.post(f"/api/v1/leads/{lead}/decline", json={"reason": "no capacity in Q4"})
    assert declined.json()["status"] == "declined"
    history = service.lead_history(ws(world), lead)
    assert [a.status.value for a in history] == ["declined", "assigned"]
    assert history[-1].partner_id not in (OWN, None)
    seen = pat.get(f"/leads/{lead}").text
    assert history[-1].partner_id not in seen
    moved = pat.post(f"/api/v1/leads/{lead}/touch", json={})
    assert moved.status_code == 400 and "moved on to another partner" in moved.json()["detail"]
    # the partner it went to is told what qualified it, not who declined before: the stored
    # reason is data, whoever reads it (an analyst sees who declined)
    new = history[-1]
    assert (new.rerouted_from, new.rerouted_after) == (OWN, Rerouted.DECLINED)
    assert OWN not in (new.partner_reason or "") and OWN not in new.reason
    staff = clients["ana"].get(f"/api/v1/leads/{lead}").json()["attempts"][-1]
    assert staff["reason"].startswith(f"re-routed after {OWN} declined: {new.partner_id}: ")
    assert (staff["rerouted_from"], staff["rerouted_after"]) == (OWN, "declined")


def test_routing_a_file_on_the_page(world, clients):
    ana = clients["ana"]
    content = b"lead_id,country,estimated_value\nF-1,US,120000\nF-2,,5000\n"
    answer = ana.post(
        "/leads/route",
        files={"file": ("leads.csv", content, "text/csv")},
        data={"seed": "7"},
    )
    assert answer.status_code == 200, answer.text
    assert 'data-routed="1"' in answer.text and 'data-problems="1"' in answer.text
    assert "leads.csv, row 3, column country" in answer.text
    wrong = ana.post("/leads/route", files={"file": ("leads.exe", b"x", "text/plain")})
    assert wrong.status_code == 422 and "upload a .csv" in wrong.text


# ------------------------------------------------------------------------ registrations


def test_first_valid_registration_wins_and_each_sees_what_it_may(world, clients):
    pat, manager, admin = clients["pat"], clients["max"], clients["ada"]
    close = str(date.today() + timedelta(days=45))
    first = pat.post(
        "/api/v1/registrations",
        json={
            "account_name": "Nordwind Energie GmbH",
            "domain": "https://www.nordwind-energie.de/kontakt",
            "country": "DE",
            "amount": "80000",
            "expected_close": close,
        },
    )
    assert first.status_code == 201, first.text
    assert first.json()["registration"]["partner_id"] == OWN
    assert first.json()["conflicts"] == []
    first_id = first.json()["registration"]["registration_id"]
    # the manager's other partner registers the same account: the conflict is found by name
    later = manager.post(
        "/api/v1/registrations",
        json={
            "partner_id": ASSIGNED,
            "account_name": "NORDWIND ENERGIE",
            "country": "Germany",
            "amount": "95000",
            "expected_close": close,
        },
    ).json()
    (conflict,) = later["conflicts"]
    assert conflict["other_partner_id"] == OWN and conflict["matched_on"] == "name"
    # a partner the manager may not see registers it by domain: the manager cannot open it
    foreign = admin.post(
        "/api/v1/registrations",
        json={
            "partner_id": FOREIGN,
            "account_name": "Nordwind AG",
            "domain": "nordwind-energie.de",
            "amount": "50000",
            "expected_close": close,
        },
    ).json()
    # the same domain conflicts whatever the names
    assert ("domain", OWN) in {
        (c["matched_on"], c["other_partner_id"]) for c in foreign["conflicts"]
    }
    foreign_id = foreign["registration"]["registration_id"]
    assert manager.get(f"/api/v1/registrations/{foreign_id}").status_code == 404
    # the first registrant is not told who came later; the manager sees only its own partners
    assert "later" not in pat.get(f"/api/v1/registrations/{first_id}").json()
    later_seen = manager.get(f"/api/v1/registrations/{first_id}").json()["later"]
    assert [r["partner_id"] for r in later_seen] == [ASSIGNED]
    # the later one cannot be approved while the first is live
    refused = manager.post(
        f"/api/v1/registrations/{later['registration']['registration_id']}/approve"
    )
    assert refused.status_code == 400 and f"#{first_id}" in refused.json()["detail"]
    approved = manager.post(f"/api/v1/registrations/{first_id}/approve").json()
    protection = ws(world).config.registration.protection_days
    assert approved["status"] == "protected"
    assert approved["protected_until"] == str(date.today() + timedelta(days=protection))
    # partners do not approve
    assert pat.post(f"/api/v1/registrations/{first_id}/won", json={}).status_code == 403


def test_a_partner_user_is_shown_a_conflict_without_whose_it_is(world, clients):
    theirs = registrations.submit(
        ws(world),
        FOREIGN,
        account_name="Helios Solar Ltd",
        amount=70_000,
        expected_close=date.today() + timedelta(days=30),
        by="test",
    )
    mine = (
        clients["pat"]
        .post(
            "/api/v1/registrations",
            json={
                "account_name": "Helios Solar Limited",
                "amount": "70000",
                "expected_close": str(date.today() + timedelta(days=30)),
            },
        )
        .json()
    )
    (conflict,) = mine["conflicts"]
    assert set(conflict) == {"kind", "matched_on", "score", "described"}
    assert FOREIGN not in conflict["described"]
    assert str(theirs.registration.registration_id) not in conflict["described"]
    page = clients["pat"].get(f"/registrations/{mine['registration']['registration_id']}").text
    assert "Helios Solar Ltd" not in page and "an earlier registration of another partner" in page


def test_an_approve_refusal_does_not_name_a_partner_the_manager_may_not_see(world, clients):
    """The manager's partner registered an account after a partner the manager may not see:
    approving it is refused, on the API and the form, without that partner, its registration's
    number, account name, approver or protection date."""
    close = date.today() + timedelta(days=40)
    earlier = registrations.submit(
        ws(world),
        FOREIGN,
        account_name="Falcon Aerospace GmbH",
        amount=90_000,
        expected_close=close,
        by="test",
    ).registration
    registrations.approve(ws(world), earlier.registration_id, by="ada")
    protected = registrations.detail(ws(world), earlier.registration_id).registration
    later = (
        clients["max"]
        .post(
            "/api/v1/registrations",
            json={
                "partner_id": ASSIGNED,
                "account_name": "FALCON AEROSPACE",
                "amount": "60000",
                "expected_close": str(close),
            },
        )
        .json()
    )
    (conflict,) = later["conflicts"]  # the manager's view: redacted, not whose it is
    assert conflict["other_partner_id"] is None and conflict["other_id"] == ""
    target = f"/registrations/{later['registration']['registration_id']}"
    api = clients["max"].post(f"/api/v1{target}/approve")
    form = clients["max"].post(f"{target}/approve")
    assert api.status_code == form.status_code == 400
    told = api.json()["detail"]
    assert "an earlier registration of another partner" in told
    assert "the first valid registration wins" in told and told in form.text
    secrets = (
        FOREIGN,
        f"#{earlier.registration_id} ",
        "Falcon Aerospace GmbH",
        "by ada",
        str(protected.protected_until),
    )
    for secret in secrets:
        assert secret not in told and secret not in form.text, secret
    # an admin, who sees every partner, is told whose it is
    full = clients["ada"].post(f"/api/v1{target}/approve").json()["detail"]
    assert FOREIGN in full and f"#{earlier.registration_id}" in full


def test_the_registration_pages_take_the_forms(world, clients):
    pat, manager = clients["pat"], clients["max"]
    listing = pat.get("/registrations").text
    assert 'id="registration-submit"' in listing and 'name="partner_id"' not in listing
    missing = pat.post("/registrations", data={"account_name": "Acme", "amount": "10"})
    assert missing.status_code == 422 and "expected_close" in missing.text
    made = pat.post(
        "/registrations",
        data={
            "account_name": "Kestrel Robotics BV",
            "amount": "41000.50",
            "expected_close": str(date.today() + timedelta(days=20)),
            "products": "arms, grippers",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    target = made.headers["location"]
    detail = manager.get(target).text
    assert 'id="registration-approve"' in detail and "arms, grippers" in detail
    no_reason = manager.post(f"{target}/reject", data={"reason": ""})
    assert no_reason.status_code == 422
    rejected = manager.post(f"{target}/reject", data={"reason": "customer is a direct account"})
    assert rejected.status_code == 200  # the redirect, followed
    assert pat.get(f"/api/v1{target}").json()["registration"]["reason"] == (
        "customer is a direct account"
    )


# ----------------------------------------------------------------------------- browser


def test_a_partner_registers_a_deal_and_its_manager_approves_it_in_the_browser(world):
    from playwright.sync_api import sync_playwright

    from tests.browser import launch
    from tests.test_web_browser import sign_in
    from tests.webtools import live_server

    with live_server(world.app()) as base, sync_playwright() as p:
        browser = launch(p)
        problems: list[str] = []
        partner = browser.new_context().new_page()
        partner.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(partner, base, "pat", "/registrations")
        partner.fill("#registration-submit input[name=account_name]", "Osprey Maritime S.p.A.")
        partner.fill("#registration-submit input[name=amount]", "230000")
        partner.fill(
            "#registration-submit input[name=expected_close]",
            str(date.today() + timedelta(days=75)),
        )
        partner.click("#registration-submit button[type=submit]")
        partner.wait_for_url("**/registrations/*")
        assert partner.locator("#registration-status [data-status]").inner_text() == "submitted"
        path = partner.url.removeprefix(base)

        manager = browser.new_context().new_page()
        manager.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(manager, base, "max", path)
        manager.click("#registration-approve button[type=submit]")
        manager.wait_for_selector("#registration-status [data-status='protected']")
        manager.goto(base + "/leads")
        manager.wait_for_selector("#chart-leads .vega svg", timeout=15_000)

        partner.reload()
        assert partner.locator("#registration-status [data-status]").inner_text() == "protected"
        assert not problems, problems
        browser.close()
