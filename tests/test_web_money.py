"""Payouts and MDF in the web app: what each role sees of a ledger (totals checked against the
ledger itself), the ledger's lifecycle and the MDF workflow through the API and the page forms,
each refusal with its reason, and a partner user and finance working an MDF request in a real
browser.

Who may call which route is the access matrix's (tests/test_web_access.py); here, what the
allowed callers get. Tests that change money work on a copy of the web world.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.money.payouts import Payouts, latest_complete_quarter, quarters
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    """A copy of the web world this module may change."""
    return web_world.copy(tmp_path_factory.mktemp("money") / "demo")


@pytest.fixture(scope="module")
def clients(world):
    """Signed-in clients; their API calls carry the session's CSRF token like the pages' do."""
    app = world.app()
    signed = {user: world.client(user, app=app) for user in ("ada", "ana", "max", "pat", "fin")}
    for client in signed.values():
        client.headers["X-CSRF-Token"] = csrf_of(client, "/mdf")
    return signed


def money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


# ----------------------------------------------------------------------------- ledgers


def test_each_role_sees_the_ledger_of_the_partners_it_may_see(world, clients):
    ws = Workspace.open(world.root)
    ledger = Payouts(ws).ledger(world.approved)
    # finance: the whole ledger, totals summing exactly to the lines
    whole = clients["fin"].get(f"/api/v1/payouts/{world.approved}").json()
    assert money(whole["total"]) == ledger.total
    assert sum(money(t["total"]) for t in whole["by_partner"]) == ledger.total
    assert sum(money(t["total"]) for t in whole["by_rule"]) == ledger.total
    assert len(whole["lines"]) == len(ledger.lines)
    # the partner manager: only its partners' lines, and their total
    visible = set(clients["max"].get("/api/v1/me").json()["partners"])
    managed = clients["max"].get(f"/api/v1/payouts/{world.approved}").json()
    assert {line["partner_id"] for line in managed["lines"]} <= visible
    assert FOREIGN not in {t["key"] for t in managed["by_partner"]}
    assert money(managed["total"]) == sum(
        line.amount for line in ledger.lines if line.partner_id in visible
    )
    # the partner user: its own lines only
    own = clients["pat"].get(f"/api/v1/payouts/{world.approved}").json()
    assert {line["partner_id"] for line in own["lines"]} <= {OWN}
    assert money(own["total"]) == ledger.partner_totals().get(OWN, Decimal(0))


def test_a_partner_user_does_not_see_a_draft(world, clients):
    draft = latest_complete_quarter(RunData(Workspace.open(world.root)))
    assert Payouts(Workspace.open(world.root)).ledger(draft).status == "draft"
    listed = [x["period"] for x in clients["pat"].get("/api/v1/payouts").json()]
    assert world.approved in listed and draft not in listed
    assert draft in [x["period"] for x in clients["fin"].get("/api/v1/payouts").json()]
    assert clients["pat"].get(f"/api/v1/payouts/{draft}").status_code == 404
    assert clients["pat"].get(f"/payouts/{draft}").status_code == 404


def test_a_ledger_goes_from_draft_to_paid_through_the_api(world, clients):
    ws = Workspace.open(world.root)
    earlier = [q for q, complete in quarters(RunData(ws)).items() if complete][-3]
    computed = clients["ana"].post(f"/api/v1/payouts/{earlier}/compute", json={})
    assert computed.status_code == 200, computed.text
    assert computed.json()["status"] == "draft" and computed.json()["computed_by"] == "ana"
    assert money(computed.json()["total"]) == Payouts(ws).ledger(earlier).total
    # analysts compute, only finance and admins approve
    assert clients["ana"].post(f"/api/v1/payouts/{earlier}/approve").status_code == 403
    approved = clients["fin"].post(f"/api/v1/payouts/{earlier}/approve")
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == "fin"
    # locked: no second approval, no recomputation
    again = clients["fin"].post(f"/api/v1/payouts/{earlier}/approve")
    assert again.status_code == 400 and "approved" in again.json()["detail"]
    recomputed = clients["ana"].post(f"/api/v1/payouts/{earlier}/compute", json={})
    assert recomputed.status_code == 400, recomputed.text
    # a payment needs its reference
    missing = clients["fin"].post(f"/api/v1/payouts/{earlier}/pay", json={"reference": ""})
    assert missing.status_code == 422 and "reference" in missing.json()["detail"]
    paid = clients["fin"].post(f"/api/v1/payouts/{earlier}/pay", json={"reference": "PAY-77"})
    assert paid.json()["status"] == "paid" and paid.json()["payment_ref"] == "PAY-77"
    # the partner user sees it now
    assert clients["pat"].get(f"/api/v1/payouts/{earlier}").status_code == 200
    # the export for payment sums to the ledger's total
    exported = clients["fin"].get(f"/api/v1/payouts/{earlier}/export?format=csv")
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="payouts-{earlier}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sum(Decimal(r["amount"]) for r in rows) == Payouts(ws).ledger(earlier).total
    xlsx = clients["ada"].get(f"/api/v1/payouts/{earlier}/export?format=xlsx")
    assert xlsx.content[:2] == b"PK"
    # every step in the audit log
    log = (
        clients["ada"]
        .get("/api/v1/audit", params={"object_type": "payout_period", "object_id": earlier})
        .json()
    )
    assert [e["action"] for e in reversed(log["entries"])] == ["compute", "approve", "pay"]


def test_the_ledger_pages_show_totals_and_take_the_forms(world, clients):
    fin = clients["fin"]
    listing = fin.get("/payouts")
    assert f'data-period="{world.approved}"' in listing.text
    assert 'id="payout-compute"' in listing.text and 'id="chart-ledgers"' in listing.text
    ledger = Payouts(Workspace.open(world.root)).ledger(world.approved)
    page = fin.get(f"/payouts/{world.approved}")
    assert f'data-total="{ledger.total}"' in page.text and 'id="chart-rules"' in page.text
    # one partner's lines, explained
    one = fin.get(f"/payouts/{world.approved}", params={"partner": OWN})
    assert one.text.count(f'<tr data-partner="{OWN}" data-rule=') == sum(
        1 for line in ledger.lines if line.partner_id == OWN
    )
    # the pay form without a reference is shown again with what to fix
    token = csrf_of(fin, "/payouts")
    refused = fin.post(f"/payouts/{world.approved}/pay", data={"csrf_token": token})
    assert refused.status_code == 422 and 'data-errors="ledger"' in refused.text
    # a form without the session's token is refused
    unsigned = fin.post(
        f"/payouts/{world.approved}/pay", data={"reference": "X"}, headers={"X-CSRF-Token": ""}
    )
    assert unsigned.status_code == 403
    # analysts see the compute form but not approve/pay; partner users neither
    assert 'id="payout-compute"' in clients["ana"].get("/payouts").text
    own = clients["pat"].get(f"/payouts/{world.approved}").text
    assert 'id="payout-compute"' not in own and 'id="payout-pay"' not in own


def test_finance_lands_on_the_payouts(world):
    from tests.webtools import login_token

    client = world.client()
    signed = client.post(
        "/login",
        data={
            "name": "fin",
            "password": "correct horse battery staple",
            "csrf_token": login_token(client),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/"  # finance's own page: payouts and MDF to do
    nav = client.get("/payouts").text
    assert 'href="/mdf"' in nav and 'href="/partners"' not in nav


# --------------------------------------------------------------------------------- MDF


def left(client, partner: str) -> Decimal:
    (budget,) = [b for b in client.get("/api/v1/mdf/budgets").json() if b["partner_id"] == partner]
    return Decimal(budget["left"])


def test_a_partner_requests_finance_approves_the_partner_claims_finance_pays(world, clients):
    pat, fin = clients["pat"], clients["fin"]
    before = left(pat, OWN)
    created = pat.post(
        "/api/v1/mdf/requests",
        json={"activity_type": "event", "name": "Roadshow Madrid", "amount": "5000.00"},
    )
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["partner_id"] == OWN and request["status"] == "requested"
    rid = request["request_id"]
    # finance grants 4,000 of the 5,000; the claim deadline is claim_days after today
    approved = fin.post(f"/api/v1/mdf/requests/{rid}/approve", json={"amount": "4000"}).json()
    assert money(approved["approved_amount"]) == Decimal("4000.00")
    days = Workspace.open(world.root).config.mdf.claim_days
    decided = date.fromisoformat(approved["decided_at"][:10])
    assert approved["deadline"] == str(decided + timedelta(days=days))
    assert left(pat, OWN) == before - Decimal("4000.00")
    # a claim over the approved amount is refused with the reason
    over = pat.post(
        f"/api/v1/mdf/requests/{rid}/claim", json={"amount": "4000.01", "proof": "INV-9"}
    )
    assert over.status_code == 400
    assert "more than the 4,000.00 approved" in over.json()["detail"]
    claimed = pat.post(
        f"/api/v1/mdf/requests/{rid}/claim", json={"amount": "3999.50", "proof": "INV-9"}
    ).json()
    assert claimed["status"] == "claimed" and claimed["proof_ref"] == "INV-9"
    # the partner cannot pay itself; finance pays the claimed amount
    assert pat.post(f"/api/v1/mdf/requests/{rid}/pay").status_code == 403
    paid = fin.post(f"/api/v1/mdf/requests/{rid}/pay").json()
    assert money(paid["paid_amount"]) == Decimal("3999.50") and paid["paid_by"] == "fin"
    # the partner's list has only its own requests
    assert {r["partner_id"] for r in pat.get("/api/v1/mdf/requests").json()} == {OWN}
    # finance reads the request's history, who did what; the partner is shown when, not who
    history = fin.get(f"/mdf/requests/{rid}").text
    for action in ("submit", "approve", "claim", "pay"):
        assert f'data-action="{action}"' in history
    mine = pat.get(f"/mdf/requests/{rid}").text
    assert "data-action=" not in mine and "by fin" not in mine and "Paid" in mine


def test_requests_are_for_partners_the_caller_may_see(world, clients):
    body = {"activity_type": "digital", "name": "Search ads", "amount": "100.00"}
    assert (
        clients["pat"]
        .post("/api/v1/mdf/requests", json={**body, "partner_id": FOREIGN})
        .status_code
        == 404
    )
    assert (
        clients["max"]
        .post("/api/v1/mdf/requests", json={**body, "partner_id": FOREIGN})
        .status_code
        == 404
    )
    made = clients["max"].post("/api/v1/mdf/requests", json={**body, "partner_id": OWN})
    assert made.status_code == 201 and made.json()["submitted_by"] == "max"
    # a manager must say which partner
    assert clients["max"].post("/api/v1/mdf/requests", json=body).status_code == 422
    # another partner's request is answered like one that does not exist
    foreign = world.requests[FOREIGN]
    assert clients["pat"].get(f"/api/v1/mdf/requests/{foreign}").status_code == 404
    assert clients["pat"].get(f"/mdf/requests/{foreign}").status_code == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"amount": "100.001"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"activity_type": "party"}, "activity_type"),
        ({"name": ""}, "name"),
    ],
)
def test_a_request_that_is_not_valid_is_refused_with_the_field(clients, body, problem):
    request = {"activity_type": "event", "name": "Roadshow", "amount": "100.00", **body}
    answer = clients["pat"].post("/api/v1/mdf/requests", json=request)
    assert answer.status_code == 422 and answer.json()["detail"].startswith(problem)


def test_a_request_for_a_year_not_open_is_refused_with_the_years_open(world, clients):
    config = Workspace.open(world.root).config.workspace
    # the demo's fiscal years start in October and "today" is a date in UTC
    assert (config.fiscal_year_start_month, config.timezone) == (10, "UTC")
    today = datetime.now(UTC).date()
    current = today.year + (today.month >= 10)
    pat = clients["pat"]
    before = len(pat.get("/api/v1/mdf/requests").json())
    body = {"activity_type": "event", "name": "Roadshow", "amount": "100.00"}
    for year in ("FY1999", "FY2035"):
        answer = pat.post("/api/v1/mdf/requests", json={**body, "fiscal_year": year})
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"] == (
            f"{year} is not open for MDF requests; requests can be filed for FY{current} or "
            f"FY{current + 1}"
        )
    # a year no calendar holds is refused in words too, not a server error
    answer = pat.post("/api/v1/mdf/requests", json={**body, "fiscal_year": "FY0000"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("'FY0000' is not a fiscal year")
    # the page's form is shown again with the reason
    token = csrf_of(pat, "/mdf")
    shown = pat.post("/mdf/requests", data={"csrf_token": token, **body, "fiscal_year": "FY2035"})
    assert shown.status_code == 400 and 'data-errors="mdf"' in shown.text
    assert "FY2035 is not open for MDF requests" in shown.text
    assert len(pat.get("/api/v1/mdf/requests").json()) == before
    # next year is open
    made = pat.post("/api/v1/mdf/requests", json={**body, "fiscal_year": f"FY{current + 1}"})
    assert made.status_code == 201 and made.json()["fiscal_year"] == f"FY{current + 1}"


def test_finance_rejects_with_a_reason_through_the_page(world, clients):
    pat, fin = clients["pat"], clients["fin"]
    token = csrf_of(pat, "/mdf")
    submitted = pat.post(
        "/mdf/requests",
        data={
            "csrf_token": token,
            "activity_type": "content",
            "name": "Case study",
            "amount": "750",
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 303, submitted.text
    target = submitted.headers["location"]
    assert 'id="mdf-reject"' in fin.get(target).text
    fin_token = csrf_of(fin, "/mdf")
    # no reason: the page again, saying what to fix
    empty = fin.post(f"{target}/reject", data={"csrf_token": fin_token, "reason": ""})
    assert empty.status_code == 422 and 'data-errors="request"' in empty.text
    done = fin.post(
        f"{target}/reject",
        data={"csrf_token": fin_token, "reason": "no budget for content this year"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = pat.get(f"/api/v1{target}").json()
    assert shown["status"] == "rejected" and shown["reason"] == "no budget for content this year"
    # a rejected request cannot be approved
    answer = fin.post(f"/api/v1{target}/approve", json={})
    assert answer.status_code == 400 and "rejected" in answer.json()["detail"]


def test_the_mdf_page_shows_budgets_requests_and_the_form(world, clients):
    own = clients["pat"].get("/mdf").text
    assert f'<tr data-partner="{OWN}"' in own and 'id="mdf-submit"' in own
    assert 'name="partner_id"' not in own  # a partner user's requests are its own
    assert f'data-request="{world.requests[OWN]}"' in own
    assert f'data-request="{world.requests[FOREIGN]}"' not in own
    finance = clients["fin"].get("/mdf?status=paid").text
    assert f'data-request="{world.requests[FOREIGN]}"' in finance
    assert 'id="mdf-submit"' not in finance and 'id="chart-requests"' in finance


# ----------------------------------------------------------------------------- browser


def test_an_mdf_request_in_the_browser(world):
    from playwright.sync_api import sync_playwright

    from tests.browser import launch
    from tests.test_web_browser import sign_in
    from tests.webtools import live_server

    with live_server(world.app()) as base, sync_playwright() as p:
        browser = launch(p)
        problems: list[str] = []
        partner = browser.new_context().new_page()
        partner.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(partner, base, "pat", "/mdf")
        partner.select_option("#mdf-submit select[name=activity_type]", "training")
        partner.fill("#mdf-submit input[name=name]", "Sales bootcamp")
        partner.fill("#mdf-submit input[name=amount]", "1200.00")
        partner.click("#mdf-submit button[type=submit]")
        partner.wait_for_url("**/mdf/requests/*")
        assert partner.locator("#request-status [data-status]").inner_text() == "requested"
        path = partner.url.removeprefix(base)

        finance = browser.new_context().new_page()
        finance.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(finance, base, "fin", path)
        finance.fill("#mdf-approve input[name=amount]", "1000")
        finance.click("#mdf-approve button[type=submit]")
        finance.wait_for_selector("#request-status [data-status='approved']")
        finance.goto(base + "/payouts")
        finance.wait_for_selector("#chart-ledgers .vega svg", timeout=15_000)

        partner.reload()
        partner.fill("#mdf-claim input[name=amount]", "999.99")
        partner.fill("#mdf-claim input[name=proof]", "INV-2026-118")
        partner.click("#mdf-claim button[type=submit]")
        partner.wait_for_selector("#request-status [data-status='claimed']")
        assert "INV-2026-118" in partner.locator("#request-detail").inner_text()
        assert not problems, problems
        browser.close()
