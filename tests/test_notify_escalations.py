"""Escalations (docs/notifications.md, "Escalations"): an approval or an alert nobody acted on
climbs the four default levels (48, 48, 72 and 120 hours), one level per SLA, never past the
last; acting on it stops it; each step is one escalations row, one audit entry and one
notification to the next level's owners only; escalating again changes nothing.

On a copy of the web world (tests/webtools.py: ``ada`` admin, ``ana`` analyst, ``max`` partner
manager of Marco Rossi's partners, ``fin`` finance, ``pat`` a partner user).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.appdb.tables import escalations, notifications
from partnerscope.evaluation.view import RunData
from partnerscope.lifecycle import applications as apps
from partnerscope.notify import escalations as esc
from partnerscope.operations import alert_work as work
from partnerscope.runs import list_runs
from partnerscope.workspace import Workspace

pytestmark = pytest.mark.slow

APPLICANT = {
    "company": "Nordlicht IT GmbH",
    "contact_name": "Jana Berg",
    "contact_email": "jana@nordlicht.example",
    "website": "www.nordlicht.example",
    "country": "DE",
    "vertical": "Manufacturing",
    "partner_type": "si",
    "description": "ERP integrations for mid-sized manufacturers",
}
#: a Monday, 09:00 UTC (the web world's time zone is UTC), long before the world's run raised
#: its alerts (so escalating the applications leaves the alerts alone)
MONDAY = datetime(2026, 6, 1, 9, 0)


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    return web_world.copy(tmp_path_factory.mktemp("escalations") / "demo")


@pytest.fixture(scope="module")
def ws(world) -> Workspace:
    return Workspace.open(world.root)


def levels_of(ws: Workspace, object_type: str, object_id: str) -> list[tuple[int, list[str]]]:
    with connect(ws).connect() as c:
        rows = c.execute(
            select(escalations.c.level, escalations.c.owners)
            .where(escalations.c.object_type == object_type)
            .where(escalations.c.object_id == object_id)
            .order_by(escalations.c.level)
        ).all()
    return [(r.level, list(r.owners)) for r in rows]


def test_an_application_climbs_one_level_per_sla_and_never_past_the_last(ws):
    assert MONDAY.weekday() == 0
    made = apps.submit(ws, APPLICANT, by="ada", now=MONDAY)
    n = str(made.application_id)

    def at(moment: datetime) -> list[tuple[int, list[str]]]:
        esc.escalate(ws, moment)
        return levels_of(ws, "application", n)

    wednesday = MONDAY + timedelta(days=2)
    assert at(wednesday - timedelta(minutes=1)) == []
    # level 1 waited its 48 hours: level 2 (Channel operations: the analysts)
    assert at(wednesday) == [(2, ["ana"])]
    assert at(wednesday) == [(2, ["ana"])]  # again: nothing new
    friday = wednesday + timedelta(days=2)
    assert at(friday - timedelta(minutes=1)) == [(2, ["ana"])]
    # level 2's 48 hours counted from Wednesday 09:00: level 3 (Executive sponsor: admins)
    assert at(friday) == [(2, ["ana"]), (3, ["ada"])]
    # level 3 allows 72 hours: Monday 8 June 09:00, level 4 (CEO)
    assert at(friday + timedelta(hours=72) - timedelta(minutes=1))[-1][0] == 3
    assert at(friday + timedelta(hours=72)) == [(2, ["ana"]), (3, ["ada"]), (4, ["ada"])]
    # the last level: never past it
    assert at(friday + timedelta(days=60))[-1][0] == 4
    assert len(levels_of(ws, "application", n)) == 3

    # each step: one audit entry and one notification to the level's owners only
    entries = audit.entries(connect(ws), object_type="application", object_id=n)
    steps = [e.detail["level"] for e in entries if e.action == "escalate"]
    assert sorted(steps) == [2, 3, 4]
    assert {e.actor for e in entries if e.action == "escalate"} == {"escalation"}
    with connect(ws).connect() as c:
        told = c.execute(
            select(notifications)
            .where(notifications.c.object_type == "application")
            .where(notifications.c.object_id == n)
            .where(notifications.c.kind == "escalation")
            .order_by(notifications.c.notification_id)
        ).all()
    assert [t.key for t in told] == [f"escalation:application:{n}:{k}" for k in (2, 3, 4)]
    first = told[0]
    assert first.kind == "escalation" and first.audience == "staff"
    assert first.recipients["only"] is True and first.recipients["users"] == ["ana"]
    assert first.title == (
        "Escalated to you (Channel operations): The partner application of Nordlicht IT GmbH, "
        "waiting for a decision"
    )
    assert first.body["lines"][0] == (
        "Nobody acted on this partner application at level 1 (Partner manager) for 2 days "
        "(the level allows 2 days), so it is now at level 2 (Channel operations)."
    )
    assert first.body["lines"][1] == "It has been waiting since Jun 1, 2026, 09:00 UTC."
    assert first.link == f"/applications/{n}"


def test_a_decision_stops_the_climb(ws):
    n = apps.submit(ws, {**APPLICANT, "company": "Fjord Data AS"}, by="ada", now=MONDAY)
    key = str(n.application_id)
    esc.escalate(ws, MONDAY + timedelta(days=2))
    assert [lv for lv, _ in levels_of(ws, "application", key)] == [2]
    apps.reject(ws, n.application_id, by="ada", reason="No fit", now=MONDAY + timedelta(days=3))
    esc.escalate(ws, MONDAY + timedelta(days=30))
    assert [lv for lv, _ in levels_of(ws, "application", key)] == [2]
    # its path keeps the level it reached, and promises nothing more
    steps = esc.path(ws, "application", [key], now=MONDAY + timedelta(days=30))[key]
    assert [(s.level, s.reached, s.due) for s in steps] == [
        (1, None, None),
        (2, MONDAY + timedelta(days=2), None),
        (3, None, None),
        (4, None, None),
    ]


def test_an_alert_acknowledged_or_snoozed_does_not_escalate(ws):
    data = RunData(ws)
    rows = data.alerts.table.to_pylist()
    finished = {r.run_id: r.finished_at for r in list_runs(ws)}
    untouched, acknowledged, snoozed = rows[:3]
    raised = datetime.fromisoformat(finished[untouched["first_seen_run"]])
    raised = raised.replace(tzinfo=None) - (raised.utcoffset() or timedelta())
    work.acknowledge(ws, work.AlertRef.of(acknowledged), by="ana", now=raised)
    until = raised.date() + timedelta(days=3)
    work.snooze(ws, work.AlertRef.of(snoozed), until, by="ana", now=raised)

    due = raised + timedelta(hours=48)
    esc.escalate(ws, due - timedelta(minutes=1))
    assert levels_of(ws, "alert", untouched["alert_id"]) == []
    esc.escalate(ws, due)
    # the partner manager level waited 48 hours: the analysts have it
    assert levels_of(ws, "alert", untouched["alert_id"]) == [(2, ["ana"])]
    assert levels_of(ws, "alert", acknowledged["alert_id"]) == []
    assert levels_of(ws, "alert", snoozed["alert_id"]) == []

    # the path the alert page shows: level 1 since raised, level 2 reached, level 3 due
    steps = esc.path(ws, "alert", [untouched["alert_id"]], now=due)[untouched["alert_id"]]
    assert [(s.level, s.name, s.reached, s.due) for s in steps] == [
        (1, "Partner manager", raised, None),
        (2, "Channel operations", due, None),
        (3, "Executive sponsor", None, due + timedelta(hours=48)),
        (4, "CEO", None, None),
    ]
    assert steps[1].owners == ("ana",)

    # a snooze that ran out restarts the clock on its last day, at midnight
    woke = datetime.combine(until, datetime.min.time())
    esc.escalate(ws, woke + timedelta(hours=48) - timedelta(minutes=1))
    assert levels_of(ws, "alert", snoozed["alert_id"]) == []
    esc.escalate(ws, woke + timedelta(hours=48))
    assert [lv for lv, _ in levels_of(ws, "alert", snoozed["alert_id"])] == [2]


def test_the_partner_managers_own_level_one_of_their_partners_alerts(ws):
    data = RunData(ws)
    managed = {p for p, m in data.managers.items() if m == "Marco Rossi"}
    acted = set(work.states(ws))
    row = next(
        r
        for r in data.alerts.table.to_pylist()
        if r["partner_id"] in managed and r["alert_id"] not in acted
    )
    steps = esc.path(ws, "alert", [row["alert_id"]], now=datetime(2026, 1, 1))
    assert steps[row["alert_id"]][0].owners == ("max",)


def test_the_alert_page_shows_the_escalation_path(world, ws):
    data = RunData(ws)
    start, _ = data.pick_period(None)
    managed = {p for p, m in data.managers.items() if m == "Marco Rossi"}
    acted = set(work.states(ws))
    row = next(
        r
        for r in data.alerts.table.to_pylist()
        if r["partner_id"] in managed and r["alert_id"] not in acted and r["period_start"] == start
    )
    finished = {r.run_id: r.finished_at for r in list_runs(ws)}
    raised = datetime.fromisoformat(finished[row["first_seen_run"]])
    raised = raised.replace(tzinfo=None) - (raised.utcoffset() or timedelta())
    esc.escalate(ws, raised + timedelta(hours=48))

    client = world.client("ana")
    page = client.get(f"/alerts?partner={row['partner_id']}").text
    found = re.search(
        rf'id="alert-{row["alert_id"]}".*?<details class="escalation" '
        r'data-escalation="(\d)"><summary>Escalation: level \d of 4 \(([^)]+)\)</summary>'
        r"\s*<ol>(.*?)</ol>",
        page,
        re.DOTALL,
    )
    assert found, page[:2000]
    assert int(found[1]) >= 2
    levels = re.findall(r'<li data-level="(\d)">([^:<]+): ([^<]*?)(?: <span|</li>)', found[3])
    assert levels[0] == ("1", "Partner manager", "max")
    assert levels[1] == ("2", "Channel operations", "ana")
    assert "since " in found[3]
    # the API twin: the same path
    alerts = client.get(f"/api/v1/alerts?partner={row['partner_id']}").json()["alerts"]
    path = next(a for a in alerts if a["alert_id"] == row["alert_id"])["escalation"]
    assert [(s["level"], s["name"], s["owners"]) for s in path][:2] == [
        (1, "Partner manager", ["max"]),
        (2, "Channel operations", ["ana"]),
    ]
    assert path[1]["reached"] is not None


def test_escalations_list_from_the_command_line(ws):
    from typer.testing import CliRunner

    from partnerscope.cli import app as cli

    made = apps.submit(ws, {**APPLICANT, "company": "Listed Oy"}, by="ada", now=MONDAY)
    esc.escalate(ws, MONDAY + timedelta(days=2))
    done = CliRunner().invoke(
        cli, ["--workspace", str(ws.root), "escalations", "list", "--format", "csv"]
    )
    assert done.exit_code == 0, done.output
    line = f"partner application,{made.application_id},—,2 of 4: Channel operations,ana,"
    assert any(row.startswith(line) for row in done.output.splitlines()), done.output


def test_a_level_naming_an_unknown_user_is_warned(tmp_path):
    from partnerscope.settings.escalation import LevelSettings
    from tests.conftest import PARTNERS_SOURCE, make_workspace

    toml = PARTNERS_SOURCE + (
        '\n[[escalation.levels]]\nname = "Managers"\nroles = ["partner_manager"]\n'
        '\n[[escalation.levels]]\nname = "Board"\nusers = ["chris"]\n'
    )
    ws = make_workspace(tmp_path / "ws", toml, {"data/partners.csv": "id,name\nP1,Acme\n"})
    assert ws.config.escalation.levels[1] == LevelSettings(name="Board", users=("chris",))
    assert esc.unknown_users(ws) == [
        "escalation level 2 (Board) names 'chris', who is no active staff user; add them with "
        "`partnerscope users add` or fix the name in [escalation]"
    ]
    from partnerscope.config import load_config
    from partnerscope.errors import ConfigError

    bad = tmp_path / "partnerscope.toml"
    bad.write_text('[[escalation.levels]]\nname = "Ops"\nroles = ["analist"]\n', "utf-8")
    with pytest.raises(ConfigError, match=r"unknown role 'analist'.*did you mean 'analyst'"):
        load_config(bad, check_files=False)
