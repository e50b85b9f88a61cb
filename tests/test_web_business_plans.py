"""Joint business plans in the web app (issue 28, item 5), on the web tests' demo world: the
demo plants plans for P0001 (own: every milestone met), P0002 (foreign), P0003 and the first
planted decliner (every milestone missed) for the fiscal year of the data's last complete
quarter, and one upcoming milestone for the next year.

The staff list puts missed and at-risk first; a partner user reads its own plan in the partner
model (no internal note, no vendor owner, no vendor user names) and gets a 404 naming no one
for another partner's; the partner hub, the portal home and the QBR pack show the statuses;
only admins and partner managers change plans.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.lifecycle import business_plans as bp
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN, csrf_of

pytestmark = pytest.mark.slow

NOTE = "Watch the renewal pipeline"


def decliner(root: Path) -> str:
    return str(json.loads((root / "data" / "planted.json").read_text())["decliners"][0])


def year_of(root: Path) -> int:
    """The fiscal year of the demo's plans with milestones tracked (not the upcoming one)."""
    return min(p.fiscal_year for p in bp.plans(Workspace.open(root)))


@pytest.fixture(scope="module")
def app(web_world: Any) -> Any:
    return web_world.app()


def test_the_staff_list_puts_missed_milestones_first(web_world: Any, app: Any) -> None:
    ana = web_world.client("ana", app=app)
    listed = ana.get("/api/v1/business-plans").json()
    first = listed[0]
    assert (first["partner_id"], first["missed"], first["met"]) == (decliner(web_world.root), 3, 0)
    assert [p["missed"] for p in listed] == sorted((p["missed"] for p in listed), reverse=True)
    page = ana.get("/business-plans")
    assert page.status_code == 200
    assert page.text.index(f'data-plan="{first["partner_id"]}-') < page.text.index(
        f'data-plan="{OWN}-'
    )


def test_a_partner_user_reads_its_own_plan_without_staff_only_fields(
    web_world: Any, app: Any
) -> None:
    pat = web_world.client("pat", app=app)
    year = year_of(web_world.root)
    answer = pat.get(f"/api/v1/business-plans/{OWN}?year={year}")
    assert answer.status_code == 200
    plan = answer.json()
    assert {"internal_note", "vendor_owner", "updated_by"}.isdisjoint(plan)
    assert all("changed_by" not in v for v in plan["history"])
    assert all("Vendor owner" not in v["change"] for v in plan["history"])
    assert [m["status"] for m in plan["milestones"]] == ["met", "met", "met"]
    page = pat.get(f"/business-plans/{OWN}?year={year}")
    assert page.status_code == 200
    assert NOTE not in page.text and "Marco Rossi" not in page.text
    assert page.text.count('data-chip="met"') == 3
    staff = web_world.client("ana", app=app).get(f"/business-plans/{OWN}?year={year}")
    assert NOTE in staff.text and "Marco Rossi" in staff.text
    # the list is its own plans only, and /business-plans takes it to its plan
    assert {p["partner_id"] for p in pat.get("/api/v1/business-plans").json()} == {OWN}
    moved = pat.get("/business-plans", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, f"/business-plans/{OWN}")


def test_another_partners_plan_is_a_404_naming_no_one(web_world: Any, app: Any) -> None:
    name = RunData(Workspace.open(web_world.root)).partner_name(FOREIGN)
    for user in ("pat", "max"):
        client = web_world.client(user, app=app)
        for path in (f"/business-plans/{FOREIGN}", f"/api/v1/business-plans/{FOREIGN}"):
            answer = client.get(path)
            assert answer.status_code == 404, (user, path)
            assert name not in answer.text
    ana = web_world.client("ana", app=app)
    assert ana.get(f"/api/v1/business-plans/{FOREIGN}").json()["partner_name"] == name


def test_only_admins_and_partner_managers_change_plans(web_world: Any, app: Any) -> None:
    body = {"quarter": "1", "metric": "won_revenue", "target": "1"}
    for user in ("ana", "pat", "fin"):
        client = web_world.client(user, app=app)
        client.headers["X-CSRF-Token"] = csrf_of(client, "/payouts")
        answer = client.post(f"/api/v1/business-plans/{OWN}/milestones", json=body)
        assert answer.status_code == 403, (user, answer.text)


def test_the_hub_the_portal_home_and_the_qbr_show_the_statuses(web_world: Any, app: Any) -> None:
    from partnerscope.reports.qbr import qbr

    slider = decliner(web_world.root)
    hub = web_world.client("ana", app=app).get(f"/partners/{slider}")
    section = hub.text.split('id="business-plan"', 1)[1].split("</section>", 1)[0]
    assert section.count('data-chip="missed"') == 3
    home = web_world.client("pat", app=app).get("/")
    section = home.text.split('id="business-plan"', 1)[1].split("</section>", 1)[0]
    assert section.count('data-chip="met"') == 3 and NOTE not in home.text
    data = RunData(Workspace.open(web_world.root))
    plan = qbr(data, slider).sections["business_plan"]
    assert plan["quarter"] == 4
    assert [(r["measure"], r["status"]) for r in plan["rows"]] == [
        ("Won deals", "missed"),
        ("Won revenue", "missed"),
    ]


# ------------------------------------------------------------------------ changes (a copy)


@pytest.fixture(scope="module")
def changed(web_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return web_world.copy(tmp_path_factory.mktemp("business-plans") / "demo")


def test_a_partner_manager_changes_a_target_and_the_status_follows(changed: Any) -> None:
    year = year_of(changed.root)
    max_ = changed.client("max")
    max_.headers["X-CSRF-Token"] = csrf_of(max_, "/payouts")
    before = max_.get(f"/api/v1/business-plans/{OWN}?year={year}").json()
    q4 = next(m for m in before["milestones"] if m["metric"] == "won_revenue" and m["quarter"] == 4)
    raised = q4["actual"] + 1000
    answer = max_.post(
        f"/api/v1/business-plans/{OWN}/milestones?year={year}",
        json={"quarter": "4", "metric": "won_revenue", "target": str(raised)},
    )
    assert answer.status_code == 200, answer.text
    after = answer.json()
    q4_after = next(
        m for m in after["milestones"] if m["metric"] == "won_revenue" and m["quarter"] == 4
    )
    assert (q4_after["status"], after["version"]) == ("missed", before["version"] + 1)
    words = Workspace.open(changed.root).words
    assert after["history"][0]["change"] == (
        f"Q4 Won revenue target {words.money(q4['target'])} → {words.money(raised)}"
    )
    assert after["history"][0]["changed_by"] == "max"
    # a milestone on a metric that does not exist: one clear error, nothing stored
    wrong = max_.post(
        f"/api/v1/business-plans/{OWN}/milestones?year={year}",
        json={"quarter": "4", "metric": "won_revenu", "target": "5"},
    )
    assert wrong.status_code == 400
    assert "did you mean 'won_revenue'?" in wrong.json()["detail"]
    # another partner's plan is not the manager's to change
    foreign = max_.post(
        f"/api/v1/business-plans/{FOREIGN}/agree?year={year}",
    )
    assert foreign.status_code == 404
