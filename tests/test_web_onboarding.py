"""Onboarding in the web app (issue 28, item 3): staff see the plans and the measures, complete
and skip tasks; a partner user sees its own plan only (another partner's is 404 without its
name), completes the partner's own tasks, and is never shown who at the vendor closed a task,
the evidence of the vendor's tasks or the application the plan came from.

These tests start plans and close tasks, so they work on a copy of the web world.
"""

from __future__ import annotations

from datetime import date

import pytest

from partnerscope.lifecycle import onboarding as ob
from partnerscope.warehouse import partner_names
from partnerscope.workspace import Workspace
from tests.webtools import ASSIGNED, FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    copy = web_world.copy(tmp_path_factory.mktemp("onboarding") / "demo")
    ws = Workspace.open(copy.root)
    for partner in (OWN, FOREIGN, ASSIGNED):
        if partner not in {p.partner_id for p in ob.plans(ws)}:
            ob.start_plan(ws, partner, started_on=date(2026, 8, 3), by="test")
    return copy


@pytest.fixture(scope="module")
def clients(world):
    app = world.app()
    signed = {user: world.client(user, app=app) for user in ("ada", "ana", "max", "pat")}
    for client in signed.values():
        client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return signed


def names(world) -> dict[str, str]:
    return partner_names(Workspace.open(world.root))


def test_a_partner_user_sees_its_own_plan_and_never_another(world, clients):
    pat = clients["pat"]
    # /onboarding (the portal's link) is its own plan
    landing = pat.get("/onboarding")
    assert landing.status_code == 200 and f'data-partner="{OWN}"' in landing.text
    mine = pat.get(f"/onboarding/{OWN}")
    assert mine.status_code == 200 and "Kickoff call with the partner" in mine.text
    foreign_name = names(world)[FOREIGN]
    for path in (f"/onboarding/{FOREIGN}", f"/api/v1/onboarding/{FOREIGN}"):
        foreign = pat.get(path)
        assert foreign.status_code == 404
        assert foreign_name not in foreign.text
    # the same answer as for a partner without a plan
    assert pat.get("/api/v1/onboarding/P9999").status_code == 404
    listed = pat.get("/api/v1/onboarding").json()
    assert [p["partner_id"] for p in listed] == [OWN]
    # the measures are staff's
    assert pat.get("/api/v1/onboarding/measures").status_code == 403


def test_a_partner_completes_its_own_tasks_only_and_sees_no_staff_notes(world, clients):
    pat, ada = clients["pat"], clients["ada"]
    # the agreement (the partner's) waits on the kickoff (the partner manager's)
    refused = pat.post(
        f"/api/v1/onboarding/{OWN}/tasks/agreement/complete", json={"evidence": "signed.pdf"}
    )
    assert refused.status_code == 400 and "requires 'kickoff'" in refused.text
    kicked = ada.post(
        f"/api/v1/onboarding/{OWN}/tasks/kickoff/complete",
        json={"evidence": "internal: CEO was lukewarm, push on pricing"},
    )
    assert kicked.status_code == 200 and kicked.json()["completed_by"] == "ada"
    done = pat.post(
        f"/api/v1/onboarding/{OWN}/tasks/agreement/complete", json={"evidence": "signed.pdf"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and "completed_by" not in done.json()
    # a task of the partner manager: not the partner's to complete, nor to skip
    theirs = pat.post(f"/api/v1/onboarding/{OWN}/tasks/assessment/complete", json={"evidence": "x"})
    assert theirs.status_code == 400 and "for the partner manager" in theirs.text
    skip = pat.post(f"/api/v1/onboarding/{OWN}/tasks/portal/skip", json={"reason": "x"})
    assert skip.status_code == 403
    # another partner's task: 404, without its name
    other = pat.post(f"/api/v1/onboarding/{FOREIGN}/tasks/kickoff/complete", json={"evidence": "x"})
    assert other.status_code == 404 and names(world)[FOREIGN] not in other.text
    plan = pat.get(f"/api/v1/onboarding/{OWN}").json()
    assert "application_id" not in plan and "created_by" not in plan
    tasks = {t["key"]: t for phase in plan["phases"] for t in phase["tasks"]}
    assert tasks["kickoff"]["status"] == "done" and tasks["kickoff"]["evidence"] is None
    assert tasks["agreement"]["evidence"] == "signed.pdf"
    assert all("completed_by" not in t and "outcome" not in t for t in tasks.values())
    page = pat.get(f"/onboarding/{OWN}").text
    assert "lukewarm" not in page and "by ada" not in page
    assert 'data-form="task-skip"' not in page
    # staff see it all
    staff = ada.get(f"/onboarding/{OWN}").text
    assert "lukewarm" in staff and "by ada" in staff


def test_staff_see_the_plans_and_the_measures(world, clients):
    page = clients["ana"].get("/onboarding")
    assert page.status_code == 200
    for plan in (OWN, FOREIGN, ASSIGNED):
        assert f'data-partner="{plan}"' in page.text
    assert 'id="time-to-first"' in page.text and 'id="onboarding-funnel"' in page.text
    measures = clients["ana"].get("/api/v1/onboarding/measures").json()
    assert [t["milestone"] for t in measures["time_to"]] == [
        "certification:any",
        "registered_deal",
        "won_deal",
    ]
    assert measures["partners"] >= 1
    # an analyst reads, does not change
    assert (
        clients["ana"]
        .post(f"/api/v1/onboarding/{FOREIGN}/tasks/kickoff/skip", json={"reason": "x"})
        .status_code
        == 403
    )


def test_a_partner_manager_sees_the_plans_of_its_partners_only(world, clients):
    mine = {p["partner_id"] for p in clients["max"].get("/api/v1/onboarding").json()}
    assert ASSIGNED in mine
    ws = Workspace.open(world.root)
    plans = {p.partner_id for p in ob.plans(ws)}
    everyone = {p["partner_id"] for p in clients["ada"].get("/api/v1/onboarding").json()}
    assert everyone == plans and mine <= everyone


def test_a_partner_without_a_plan_is_said_so_and_one_that_does_not_exist_is_404(world, clients):
    ws = Workspace.open(world.root)
    planned = {p.partner_id for p in ob.plans(ws)}
    without = next(p for p in sorted(names(world)) if p not in planned)
    page = clients["ada"].get(f"/onboarding/{without}")
    assert page.status_code == 200 and 'id="no-plan"' in page.text
    assert 'data-form="onboarding-start"' in page.text
    assert clients["ada"].get(f"/api/v1/onboarding/{without}").status_code == 404
    assert clients["ada"].get("/onboarding/P9999").status_code == 404
    # started from the page: the plan begins on the day given
    started = clients["ada"].post(
        "/onboarding",
        data={"partner_id": without, "started_on": "2026-09-07"},
        follow_redirects=False,
    )
    assert (started.status_code, started.headers["location"]) == (303, f"/onboarding/{without}")
    assert ob.plan(ws, without).task("kickoff").due_on == date(2026, 9, 13)


def test_forms_complete_and_skip_with_their_reasons(world, clients):
    ada = clients["ada"]
    empty = ada.post(f"/onboarding/{FOREIGN}/tasks/kickoff/skip", data={"reason": ""})
    assert empty.status_code == 422 and "reason" in empty.text
    skipped = ada.post(
        f"/onboarding/{FOREIGN}/tasks/kickoff/skip",
        data={"reason": "met at the partner summit"},
        follow_redirects=False,
    )
    assert (skipped.status_code, skipped.headers["location"]) == (303, f"/onboarding/{FOREIGN}")
    done = ada.post(
        f"/onboarding/{FOREIGN}/tasks/agreement/complete",
        data={"evidence": "countersigned"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    again = ada.post(f"/onboarding/{FOREIGN}/tasks/agreement/complete", data={"evidence": "again"})
    assert again.status_code == 400 and "already done" in again.text
    plan = ob.plan(Workspace.open(world.root), FOREIGN)
    assert plan.task("kickoff").status is ob.TaskStatus.SKIPPED
    assert plan.task("agreement").evidence == "countersigned"
