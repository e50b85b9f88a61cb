"""Decisions, scenarios and improvement plans in the web app, and their audit entries: the
workflow through the API and the pages' forms, refusals with every reason, roles, bounds."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.webtools import ASSIGNED, FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow

API = "/api/v1"


def api_client(web_world: Any, user: str, app: Any = None) -> Any:
    """A signed-in client that sends the session's CSRF token with every request (as HTMX
    does), for the JSON API."""
    client = web_world.client(user, app)
    client.headers["X-CSRF-Token"] = csrf_of(client)
    return client


def audit_of(web_world: Any, object_type: str, object_id: str) -> list[Any]:
    from partnerscope import audit
    from partnerscope.appdb import connect
    from partnerscope.workspace import Workspace

    engine = connect(Workspace.open(web_world.root))
    return list(reversed(audit.entries(engine, object_type=object_type, object_id=object_id)))


def frame_json(**extra: Any) -> dict[str, Any]:
    return {
        "decision": "Should we add a Gold onboarding program?",
        "owner": "Head of Channel",
        "horizon_months": 12,
        "options": [
            {"key": "A", "label": "Keep the current approach"},
            {"key": "B", "label": "Onboarding program", "description": "two regions first"},
        ],
        **extra,
    }


def test_every_change_to_a_decision_writes_an_audit_entry_with_its_history(web_world):
    from partnerscope.decisions.record import Outcome
    from partnerscope.decisions.service import Decisions
    from partnerscope.workspace import Workspace

    service = Decisions(Workspace.open(web_world.root))
    record = service.new({"decision": "Audit me", "owner": "Olga"}, by="cli-user")
    did = record.decision_id
    service.edit(
        did,
        patch={"compare": {"scenario": {"options": [{"key": "A"}, {"key": "B"}]}}},
        by="cli-user",
    )
    service.cite(did, "coverage", scope="company", by="cli-user")
    service.compare(did, trials=50, seed=1, by="cli-user")
    service.commit(did, option="B", rationale="it wins", owner=None, by="cli-user")
    service.review(did, outcome=Outcome.CONTINUE, why="on track", by="reviewer")

    entries = audit_of(web_world, "decision", str(did))
    assert [e.action for e in entries] == ["new", "edit", "cite", "compare", "commit", "review"]
    assert [e.actor for e in entries] == ["cli-user"] * 5 + ["reviewer"]
    assert [e.detail["version"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert "compare.evidence[0].metric" in entries[2].detail["fields"]
    assert entries[2].detail["sections"] == ["compare.evidence"]
    assert {"status", "commit.option"} <= set(entries[4].detail["fields"])
    # values stay in the history, not in the log
    assert "old" not in str(entries[4].detail) and "it wins" not in str(entries[4].detail)
    # a comparison changes thousands of band values: the entry names 40 and counts the rest
    assert len(entries[3].detail["fields"]) == 40 and entries[3].detail["more_fields"] > 0
    assert [c.action for c in service.store.history(did)] == [e.action for e in entries]


def test_frame_cite_commit_review_through_the_api(web_world):
    from partnerscope.decisions.evidence import cite
    from partnerscope.workspace import Workspace

    client = api_client(web_world, "ana")
    created = client.post(f"{API}/decisions", json=frame_json(owner=None))
    assert created.status_code == 201, created.text
    did = created.json()["summary"]["decision_id"]
    assert created.json()["summary"]["status"] == "draft"
    assert [o["key"] for o in created.json()["record"]["compare"]["scenario"]["options"]] == [
        "A",
        "B",
    ]

    refused = client.post(f"{API}/decisions/{did}/commit", json={"option": "B", "rationale": "x"})
    assert refused.status_code == 422
    reasons = refused.json()["reasons"]
    assert len(reasons) == 2
    assert reasons[0].startswith("no owner") and "only assumptions" in reasons[1]
    assert client.get(f"{API}/decisions/{did}").json()["summary"]["version"] == 2  # new + edit

    cited = client.post(
        f"{API}/decisions/{did}/evidence", json={"metric": "coverage", "scope": "company"}
    )
    assert cited.status_code == 200, cited.text
    evidence = cited.json()["record"]["compare"]["evidence"][0]
    expected = cite(Workspace.open(web_world.root), "coverage", scope="company")
    assert evidence["value"] == expected.value and evidence["period"] == expected.period

    unknown = client.post(f"{API}/decisions/{did}/evidence", json={"metric": "win_rat"})
    assert unknown.status_code == 400 and "win_rate" in unknown.json()["detail"]

    done = client.post(
        f"{API}/decisions/{did}/commit",
        json={
            "option": "B",
            "rationale": "coverage gap",
            "owner": "Olga",
            "first_review": "2030-01-15",
            "post_review": "2030-12-31",
            "signals": ["coverage < 0.5"],
        },
    )
    assert done.status_code == 200, done.text
    summary = done.json()["summary"]
    assert summary["status"] == "committed" and summary["option"] == "B"
    assert summary["next_review_on"] == "2030-01-15"

    reviewed = client.post(
        f"{API}/decisions/{did}/reviews", json={"outcome": "continue", "why": "on plan"}
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["record"]["reviews"][0]["kind"] == "initial"
    history = client.get(f"{API}/decisions/{did}/history").json()
    assert [h["action"] for h in history] == ["new", "edit", "cite", "commit", "review"]
    assert {h["changed_by"] for h in history} == {"ana"}
    assert [e.actor for e in audit_of(web_world, "decision", str(did))] == ["ana"] * 5
    listed = client.get(f"{API}/decisions", params={"status": "committed"}).json()
    assert did in [d["decision_id"] for d in listed]
    assert all(d["status"] == "committed" for d in listed)


def test_decisions_and_scenarios_are_for_analysts_only(web_world):
    for user in ("max", "pat"):
        client = web_world.client(user)
        for path in (
            "/decisions",
            "/decisions/1",
            "/scenarios",
            f"{API}/decisions",
            f"{API}/scenarios",
        ):
            assert client.get(path).status_code == 403, (user, path)
    assert web_world.client().get(f"{API}/decisions").status_code == 401
    assert web_world.client("ada").get("/decisions").status_code == 200


def test_parameters_are_bounded_and_errors_say_what_to_fix(web_world):
    client = api_client(web_world, "ana")
    assert client.get(f"{API}/decisions/0").status_code == 422
    assert client.get(f"{API}/decisions/{10**15}").status_code == 422
    missing = client.get(f"{API}/decisions/999999")
    assert missing.status_code == 404 and "no decision 999999" in missing.json()["detail"]
    assert client.get(f"{API}/decisions", params={"status": "open"}).status_code == 422
    assert client.get("/decisions", params={"status": "open"}).status_code == 422
    assert client.get("/decisions", params={"status": ""}).status_code == 200
    demo = client.get("/decisions/1")  # the demo's committed decision, with its comparison
    assert demo.status_code == 200 and 'data-status="committed"' in demo.text
    assert 'id="review-form"' in demo.text and 'id="spec-decision"' in demo.text
    far = {"option": "B", "rationale": "r", "owner": "o", "first_review": "9999-12-01"}
    assert client.post(f"{API}/decisions/1/commit", json=far).status_code == 422
    assert client.post(f"{API}/decisions", json=frame_json(horizon_months=0)).status_code == 422
    bad_weights = frame_json(criteria=[{"name": "m", "weight": 0.5, "outcome": "margin"}])
    before = len(client.get(f"{API}/decisions").json())
    refused = client.post(f"{API}/decisions", json=bad_weights)
    assert refused.status_code == 400 and "sum to 1" in refused.json()["detail"]
    assert len(client.get(f"{API}/decisions").json()) == before  # nothing stored
    too_many = client.post(f"{API}/scenarios/run", json={"trials": 5001})
    assert too_many.status_code == 422
    bad_toml = client.post(f"{API}/scenarios/run", json={"trials": 10, "spec_toml": "[options"})
    assert bad_toml.status_code == 400 and "not valid TOML" in bad_toml.json()["detail"]


def test_compare_on_the_served_run_and_the_scenarios_page(web_world):
    client = api_client(web_world, "ana")
    did = client.post(f"{API}/decisions", json=frame_json()).json()["summary"]["decision_id"]
    compared = client.post(f"{API}/decisions/{did}/compare", json={"trials": 200, "seed": 3})
    assert compared.status_code == 200, compared.text
    result = compared.json()["record"]["compare"]["result"]
    assert result["spec"]["trials"] == 200 and result["spec"]["seed"] == 3
    assert result["spec"]["horizon_months"] == 12  # the Frame's horizon
    assert result["recommended"] in ("A", "B")
    assert [o["key"] for o in result["options"]] == ["A", "B"]
    assert len(result["options"][0]["bands"]["revenue"]["p50"]) == 12

    listed = {s["decision_id"]: s for s in client.get(f"{API}/scenarios").json()}
    assert listed[did]["summary"]["recommended"] == result["recommended"]
    assert listed[did]["chart"]["facet"]  # the bands' Vega-Lite spec
    page = client.get("/scenarios")
    assert page.status_code == 200 and f'id="spec-dec{did}"' in page.text
    detail = client.get(f"/decisions/{did}")
    assert 'id="spec-decision"' in detail.text
    assert f'data-recommended="{result["recommended"]}"' in detail.text

    ran = client.post(f"{API}/scenarios/run", json={"trials": 100, "seed": 1, "horizon_months": 6})
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["decision_id"] is None and [o["key"] for o in body["summary"]["options"]] == ["A"]
    assert body["summary"]["spec"]["trials"] == 100
    assert len(body["summary"]["options"][0]["bands"]["margin"]["p50"]) == 6
    token = csrf_of(client, "/scenarios")
    spec = '[[options]]\nkey = "A"\n[[options]]\nkey = "B"\noverrides.win_rate = { scale = 1.2 }\n'
    form = client.post(
        "/scenarios/run",
        data={"spec_toml": spec, "trials": "100", "horizon": "6", "csrf_token": token},
    )
    assert form.status_code == 200 and 'id="scenario-result"' in form.text
    assert 'data-option="B"' in form.text
    wrong = client.post(
        "/scenarios/run",
        data={"spec_toml": spec.replace("win_rate", "win_rat"), "csrf_token": token},
    )
    assert wrong.status_code == 400 and "did you mean &#39;win_rate&#39;" in wrong.text


def test_the_workflow_through_the_pages_forms(web_world):
    client = web_world.client("ana")
    token = csrf_of(client, "/decisions/new")
    reader = api_client(web_world, "ana")
    assert client.post("/decisions/new", data={"decision": "no token"}).status_code == 403
    created = client.post(
        "/decisions/new",
        data={
            "decision": "Recruit in the Nordics?",
            "horizon_months": "6",
            "options": "A=Keep the current approach",
            "criteria": "margin=0.6\nrevenue@p10=0.4",
            "facts": "Two partners cover Sweden",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    did = int(created.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/decisions/{did}")
    assert 'data-status="draft"' in page.text and "Two partners cover Sweden" in page.text

    bad = client.post(
        "/decisions/new",
        data={"decision": "x", "criteria": "margin=lots", "csrf_token": token},
    )
    assert bad.status_code == 400 and "margin=lots" in bad.text and "data-errors" in bad.text

    # refused with every reason, next to the form; nothing stored
    version = reader.get(f"{API}/decisions/{did}").json()["summary"]["version"]
    refused = client.post(
        f"/decisions/{did}/commit",
        data={"option": "A", "rationale": "why not", "signals": "win_rat < 2", "csrf_token": token},
    )
    assert refused.status_code == 422
    errors = re.search(r'data-errors="commit">(.*?)</ul>', refused.text, re.S)
    assert errors is not None
    items = re.findall(r"<li>(.*?)</li>", errors.group(1), re.S)
    assert len(items) == 4
    assert items[0].startswith("no owner") and items[1].startswith("no real choice")
    assert "only assumptions" in items[2] and "win_rat" in items[3]
    assert reader.get(f"{API}/decisions/{did}").json()["summary"]["version"] == version

    cited = client.post(
        f"/decisions/{did}/evidence",
        data={"metric": "coverage", "scope": "company", "note": "gap", "csrf_token": token},
        follow_redirects=False,
    )
    assert cited.status_code == 303 and cited.headers["location"] == f"/decisions/{did}"
    assert 'data-evidence="coverage"' in client.get(f"/decisions/{did}").text
    missing = client.post(
        f"/decisions/{did}/evidence",
        data={"metric": "coverage", "scope": "region=Atlantis", "csrf_token": token},
    )
    assert missing.status_code == 400 and 'data-errors="evidence"' in missing.text


def test_improvement_plans_are_changed_by_analysts_and_their_managers_and_audited(web_world):
    from partnerscope.evaluation import plans
    from partnerscope.workspace import Workspace

    ws = Workspace.open(web_world.root)
    app = web_world.app()
    manager = api_client(web_world, "max", app)
    open_ids = [p.partner_id for p in plans.load(ws.state_dir).plans if p.status == "open"]
    visible = [
        pid
        for pid in open_ids
        if pid not in (OWN, FOREIGN, ASSIGNED)
        and manager.get(f"{API}/partners/{pid}/plan").status_code == 200
    ]
    hidden = [pid for pid in open_ids if pid not in visible and pid not in (OWN, ASSIGNED)]
    assert visible and hidden
    pid, other = visible[0], hidden[0]

    changed = manager.post(
        f"{API}/partners/{pid}/plan",
        json={"owner": "Max", "actions": ["Call weekly", "Joint pipeline review"], "notes": "ok"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["actions"] == ["Call weekly", "Joint pipeline review"]
    stored = plans.load(ws.state_dir).of(pid)
    assert (stored.owner, stored.notes) == ("Max", "ok")
    entry = audit_of(web_world, "plan", pid)[-1]
    assert (entry.actor, entry.action) == ("max", "update")
    assert entry.detail["fields"] == ["owner", "actions", "notes"]

    assert manager.post(f"{API}/partners/{other}/plan", json={"notes": "x"}).status_code == 404
    assert web_world.client("pat", app).get(f"{API}/partners/{OWN}/plan").status_code == 403
    assert manager.post(f"{API}/partners/{pid}/plan", json={"owner": "x" * 121}).status_code == 422

    analyst = web_world.client("ana", app)
    token = csrf_of(analyst, f"/partners/{pid}/plan")
    empty = analyst.post(f"/partners/{pid}/plan/close", data={"reason": " ", "csrf_token": token})
    assert empty.status_code == 422 and plans.load(ws.state_dir).open_plan(pid) is not None
    closed = analyst.post(
        f"/partners/{pid}/plan/close",
        data={"reason": "improved", "csrf_token": token},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    assert plans.load(ws.state_dir).open_plan(pid) is None
    assert 'data-status="closed"' in analyst.get(f"/partners/{pid}/plan").text
    last = audit_of(web_world, "plan", pid)[-1]
    assert (last.actor, last.action, last.detail["reason"]) == ("ana", "close", "improved")


def test_the_plans_commands_write_audit_entries(web_world, monkeypatch):
    from typer.testing import CliRunner

    from partnerscope.cli import app
    from partnerscope.evaluation import plans
    from partnerscope.workspace import Workspace

    ws = Workspace.open(web_world.root)
    pid = next(
        p.partner_id
        for p in plans.load(ws.state_dir).plans
        if p.status == "open" and p.partner_id not in (OWN, FOREIGN, ASSIGNED)
    )
    runner = CliRunner()
    where = ["-w", str(web_world.root), "plans"]
    done = runner.invoke(app, [*where, "set", pid, "--action", "Visit", "--by", "olga"])
    assert done.exit_code == 0, done.output
    assert plans.load(ws.state_dir).of(pid).actions[-1] == "Visit"
    entry = audit_of(web_world, "plan", pid)[-1]
    assert (entry.actor, entry.action, entry.detail["fields"]) == ("olga", "update", ["actions"])
    unchanged = len(audit_of(web_world, "plan", pid))
    runner.invoke(app, [*where, "set", pid, "--by", "olga"])  # nothing to change: no entry
    assert len(audit_of(web_world, "plan", pid)) == unchanged
