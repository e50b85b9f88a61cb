"""What a partner user sees is the partner view that docs/web.md lists ("What a partner user
sees"), and nothing else: every answer a partner user gets from the API holds only the fields
listed there for it, and its pages name no one at the vendor.

The list is read from the docs, so a field added to a partner's answer without a line in the
docs fails here, and so does a staff field let through.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from partnerscope.lifecycle import onboarding
from partnerscope.operations import registrations
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[1] / "docs" / "web.md"
#: subtrees whose keys are data, not fields: Vega-Lite specs and a payout rule's inputs
OPAQUE = {"charts", "inputs"}


def documented() -> dict[str, set[str]]:
    """Each answer of the docs' list → the fields it may hold (every `code` span of its item
    that is not a path)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## What a partner user sees", 1)[1].split("\n## ", 1)[0]
    items = re.findall(r"^- \*\*(.+?)\*\*(.*?)(?=^- \*\*|\Z)", section, re.M | re.S)
    assert len(items) >= 7, "the list in docs/web.md has lost its items"
    return {
        name: {span for span in re.findall(r"`([^`]+)`", body) if not span.startswith("/")}
        for name, body in items
    }


def keys(answer: Any) -> set[str]:
    """Every field name in a JSON answer, at any depth (the keys inside OPAQUE not)."""
    found: set[str] = set()
    if isinstance(answer, dict):
        for key, value in answer.items():
            found.add(key)
            if key in OPAQUE and isinstance(value, dict):
                continue
            found |= keys(value)
    elif isinstance(answer, list):
        for item in answer:
            found |= keys(item)
    return found


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    return web_world.copy(tmp_path_factory.mktemp("partner-view") / "demo")


@pytest.fixture(scope="module")
def clients(world):
    app = world.app()
    signed = {user: world.client(user, app=app) for user in ("ana", "pat", "fin")}
    for client in signed.values():
        client.headers["X-CSRF-Token"] = csrf_of(client, "/payouts")
    return signed


@pytest.fixture(scope="module")
def answers(world, clients) -> list[tuple[str, str, Any]]:
    """(answer kind, request, JSON) of every kind of answer a partner user gets, each after
    the workflow step that makes it say the most."""
    pat, ana, fin = clients["pat"], clients["ana"], clients["fin"]
    ws = Workspace.open(world.root)
    out: list[tuple[str, str, Any]] = []

    def get(kind: str, path: str) -> Any:
        answer = pat.get(path)
        assert answer.status_code == 200, (path, answer.text)
        out.append((kind, f"GET {path}", answer.json()))
        return answer.json()

    def post(kind: str, path: str, body: dict[str, Any]) -> Any:
        answer = pat.post(path, json=body)
        assert answer.status_code in (200, 201), (path, answer.text)
        out.append((kind, f"POST {path}", answer.json()))
        return answer.json()

    get("Me", "/api/v1/me")
    get("Scorecard", f"/api/v1/partners/{OWN}")
    # leads: a batch gives P0001 new leads; one is declined (re-routed), one touched and closed
    rows = [{"lead_id": f"PV-{i}", "country": "DE", "estimated_value": "60000"} for i in range(26)]
    assert ana.post("/api/v1/leads/route", json={"leads": rows}).status_code == 200
    mine = get("Lead", "/api/v1/leads?status=assigned")
    assert len(mine) >= 2, "the round robin gives P0001 two of 26 German leads"
    post("Lead", f"/api/v1/leads/{mine[0]['lead_id']}/decline", {"reason": "no capacity"})
    post("Lead", f"/api/v1/leads/{mine[1]['lead_id']}/touch", {})
    post("Lead", f"/api/v1/leads/{mine[1]['lead_id']}/close", {"converted": True})
    get("Lead", f"/api/v1/leads/{mine[1]['lead_id']}")
    # registrations: one that conflicts with another partner's live registration
    close = date.today() + timedelta(days=50)
    registrations.submit(
        ws, FOREIGN, account_name="Osprey Shipping AS", amount=1000, expected_close=close, by="ana"
    )
    made = post(
        "Registration",
        "/api/v1/registrations",
        {"account_name": "Osprey Shipping", "amount": "5000", "expected_close": str(close)},
    )
    assert made["conflicts"], "the submission found the other partner's registration"
    get("Registration", "/api/v1/registrations")
    get("Registration", f"/api/v1/registrations/{made['registration']['registration_id']}")
    # MDF: requested by the partner, approved by finance, claimed by the partner
    request = post(
        "MDF request",
        "/api/v1/mdf/requests",
        {"activity_type": "event", "name": "Expo", "amount": "500"},
    )
    approved = fin.post(f"/api/v1/mdf/requests/{request['request_id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    post(
        "MDF request",
        f"/api/v1/mdf/requests/{request['request_id']}/claim",
        {"amount": "450", "proof": "INV-77"},
    )
    get("MDF request", "/api/v1/mdf/requests")
    get("MDF request", f"/api/v1/mdf/requests/{request['request_id']}")
    get("MDF budget", "/api/v1/mdf/budgets")
    get("Payout ledger", "/api/v1/payouts")
    get("Payout ledger", f"/api/v1/payouts/{world.approved}")
    # the lifecycle: its onboarding plan (a task of its own completed), certifications, plan
    onboarding.complete(ws, OWN, "kickoff", evidence="call held on 4 August", by="test")
    get("Onboarding", "/api/v1/onboarding")
    plan = get("Onboarding", f"/api/v1/onboarding/{OWN}")
    tasks = [task for phase in plan["phases"] for task in phase["tasks"]]
    assert [t["key"] for t in tasks if t["can_complete"]] == ["agreement"]
    post(
        "Onboarding",
        f"/api/v1/onboarding/{OWN}/tasks/agreement/complete",
        {"evidence": "signed copy uploaded"},
    )
    get("Certifications", "/api/v1/enablement")
    get("Certifications", f"/api/v1/enablement/{OWN}")
    get("Certifications", "/api/v1/enablement/expiring")
    get("Business plan", "/api/v1/business-plans")
    get("Business plan", f"/api/v1/business-plans/{OWN}")
    return out


def test_the_docs_list_each_partner_answer():
    listed = documented()
    assert {"Me", "Scorecard", "Lead", "Registration", "MDF request", "MDF budget"} <= set(listed)
    assert "Payout ledger" in listed
    assert {"eligible", "decided_by", "cohort_percentile", "flags"}.isdisjoint(
        set().union(*listed.values())
    )


def test_every_partner_answer_holds_only_the_fields_the_docs_list(answers):
    listed = documented()
    kinds = {kind for kind, _, _ in answers}
    assert kinds == set(listed), "every kind of answer is checked"
    for kind, request, answer in answers:
        extra = keys(answer) - listed[kind]
        assert not extra, f"{request} gave a partner user fields not in docs/web.md: {extra}"


def test_the_same_check_finds_staff_fields_in_a_staff_answer(world, clients, answers):
    # the check is not vacuous: an analyst's answers to the same requests hold fields a
    # partner is not shown
    listed = documented()
    lead = next(a for kind, request, a in answers if request.startswith("GET /api/v1/leads/"))
    staff = clients["ana"].get(f"/api/v1/leads/{lead['lead_id']}").json()
    assert {"eligible", "rule", "band", "attempt"} <= keys(staff) - listed["Lead"]
    card = clients["ana"].get(f"/api/v1/partners/{OWN}").json()
    assert {"cohort_percentile", "flags", "plan", "cohort_median"} <= keys(card) - listed[
        "Scorecard"
    ]
    request = next(a for kind, _, a in answers if kind == "MDF request" and "ref" in a)
    full = clients["fin"].get(f"/api/v1/mdf/requests/{request['request_id']}").json()
    assert {"submitted_by", "decided_by", "claimed_by"} <= keys(full) - listed["MDF request"]


def test_a_partners_pages_name_no_one_at_the_vendor(world, clients, answers):
    """The actors of the world's steps are `test`, `ana` and `fin`; the pages say when, never
    by whom, and show no audit history."""
    pat = clients["pat"]
    lead = next(a for _, request, a in answers if request.startswith("GET /api/v1/leads/"))
    request = next(a for kind, _, a in answers if kind == "MDF request" and "ref" in a)
    registration = next(a for kind, _, a in answers if kind == "Registration" and "conflicts" in a)
    pages = [
        f"/partners/{OWN}",
        "/leads",
        f"/leads/{lead['lead_id']}",
        "/registrations",
        f"/registrations/{registration['registration']['registration_id']}",
        "/mdf",
        f"/mdf/requests/{request['request_id']}",
        "/payouts",
        f"/payouts/{world.approved}",
        "/onboarding",
        f"/enablement/{OWN}",
        f"/business-plans/{OWN}",
    ]
    for path in pages:
        page = pat.get(path)
        assert page.status_code == 200, (path, page.text)
        for actor in ("by test", "by ana", "by fin", "request-history", "Percentile"):
            assert actor not in page.text, (path, actor)
    card = pat.get(f"/partners/{OWN}").text
    for internal in ("cohort median", "Alerts and flags", "Improvement plan", "config "):
        assert internal not in card, internal
