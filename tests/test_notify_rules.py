"""Rules that act (docs/notifications.md, "Rules that act") on a workspace whose win rates are
worked out by hand (as of 2024-07-01, quarters; win_rate needs 2 closed deals):

- P1 (Acme): 2024-Q1 one won, three lost → 0.25; 2024-Q2 one won, three lost → 0.25;
- P2 (Beta): 2024-Q1 two won → 1.0; 2024-Q2 one won, three lost → 0.25.

``win_rate < 0.3 for 2 periods`` matches P1 only (P2 held it one quarter); ``win_rate < 0.3``
(this period) matches both.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.accounts import Accounts, Role
from partnerscope.appdb import connect
from partnerscope.appdb.tables import deliveries, notifications, rule_actions, users
from partnerscope.cli import app as cli
from partnerscope.errors import ConfigError
from partnerscope.notify import dispatch, rules, tasks
from partnerscope.workspace import Workspace
from tests.conftest import PARTNERS_SOURCE, make_workspace

CONFIG = (
    PARTNERS_SOURCE
    + """
[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"

[metrics.win_rate]
min_evidence = 2
"""
)
RULES = """
[[rules]]
name = "low-win-rate"
when = "win_rate < 0.3 for 2 periods"
do = "task"
message = "Plan a pipeline review with the partner"

[[rules]]
name = "win-more"
when = "win_rate < 0.3"
do = "nudge"
message = "Our solution engineers can join your next two customer meetings; reply to book them."

[[rules]]
name = "co-market"
when = "partner=P1 win_rate < 0.3 for 2 quarters"
do = "mdf"
message = "a joint webinar for Acme's customers"
"""


def _opps() -> str:
    rows = ["id,partner,account,status,amount,created,closed"]
    n = 0

    def deal(partner: str, status: str, closed: str) -> None:
        nonlocal n
        n += 1
        rows.append(f"O{n},{partner},A{n},{status},100,2024-01-02,{closed}")

    for closed in ("2024-02-10", "2024-05-10"):
        deal("P1", "won", closed)
        for _ in range(3):
            deal("P1", "lost", closed)
    deal("P2", "won", "2024-02-10")
    deal("P2", "won", "2024-03-10")
    deal("P2", "won", "2024-05-10")
    for _ in range(3):
        deal("P2", "lost", "2024-05-20")
    return "\n".join(rows) + "\n"


AS_OF = datetime(2024, 7, 1)
NOW = datetime(2024, 7, 2, 8, 0)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("rules") / "ws"
    ws = make_workspace(
        root,
        CONFIG + RULES,
        {"data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n", "data/opps.csv": _opps()},
    )
    ws.ingest()
    ws.run(as_of=AS_OF)
    accounts = Accounts.open(ws)
    accounts.add("ada", Role.ADMIN, PASSWORD, by="test")
    accounts.add("max", Role.PARTNER_MANAGER, PASSWORD, partners=["P1"], by="test")
    accounts.add("pat", Role.PARTNER_USER, PASSWORD, partner_id="P1", by="test")
    accounts.add("bea", Role.PARTNER_USER, PASSWORD, partner_id="P2", by="test")
    accounts.add("mo", Role.PARTNER_MANAGER, PASSWORD, partners=["P2"], by="test")
    return ws


@pytest.fixture(scope="module")
def acted(ws) -> int:
    return rules.evaluate(ws, now=NOW)


def test_the_hand_checked_win_rates(ws):
    from partnerscope.evaluation.view import RunData

    data = RunData(ws)
    table = data.results("quarter").table.to_pylist()
    last = {
        p: [round(r["win_rate"], 4) for r in table if r["group_key"] == p and r["complete"]][-2:]
        for p in ("P1", "P2")
    }
    assert last == {"P1": [0.25, 0.25], "P2": [1.0, 0.25]}


def test_a_partner_under_the_threshold_two_periods_running_gets_a_task_once(ws, acted):
    # the task rule: P1 only; the nudge: P1 and P2; the MDF proposal: P1
    assert acted == 4
    with connect(ws).connect() as c:
        done = c.execute(
            select(rule_actions.c.rule, rule_actions.c.partner_id, rule_actions.c.action).order_by(
                rule_actions.c.rule, rule_actions.c.partner_id
            )
        ).all()
    assert [tuple(r) for r in done] == [
        ("co-market", "P1", "mdf"),
        ("low-win-rate", "P1", "task"),
        ("win-more", "P1", "nudge"),
        ("win-more", "P2", "nudge"),
    ]
    opened = tasks.list_tasks(ws, status=None)
    assert sorted(t.title for t in opened) == [
        "Plan a pipeline review with the partner",
        "Propose an MDF activity: a joint webinar for Acme's customers",
    ]
    task = next(t for t in opened if t.source == "rule:low-win-rate")
    assert task.partner_id == "P1" and task.owner == "max"
    assert task.detail is not None and "25.0%" in task.detail
    # re-running the same run acts again on nothing
    assert rules.evaluate(ws, now=NOW) == 0
    assert len(tasks.list_tasks(ws, status=None)) == 2
    # the task was audited, and its notification goes to the partner's managers
    entries = audit.entries(connect(ws), object_type="task", object_id=str(task.task_id))
    assert [(e.action, e.actor) for e in entries] == [("open", "rules")]
    with connect(ws).connect() as c:
        told = c.execute(
            select(notifications).where(notifications.c.key.like("rule:low-win-rate:P1:%"))
        ).one()
    assert told.key == "rule:low-win-rate:P1:FY2024-Q2"
    assert told.kind == "task" and told.audience == "staff"
    assert told.title == "New task on Acme: Plan a pipeline review with the partner"


def test_a_nudge_reaches_the_partners_users_only(ws, acted):
    dispatch.dispatch(ws, now=NOW)
    with connect(ws).connect() as c:
        got = c.execute(
            select(notifications.c.partner_id, users.c.name, notifications.c.title)
            .select_from(deliveries.join(notifications).join(users))
            .where(notifications.c.kind == "nudge")
            .order_by(notifications.c.partner_id, users.c.name)
        ).all()
    assert [tuple(r) for r in got] == [
        ("P1", "pat", "A suggestion for Acme"),
        ("P2", "bea", "A suggestion for Beta"),
    ]


def test_close_a_task_with_a_note_from_the_command_line(ws, acted):
    task = next(t for t in tasks.list_tasks(ws) if t.source == "rule:co-market")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--workspace", str(ws.root), "tasks", "list", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    assert "Propose an MDF activity: a joint webinar for Acme's customers" in listed.output
    assert "Acme (P1)" in listed.output
    no_note = runner.invoke(
        cli, ["--workspace", str(ws.root), "tasks", "close", str(task.task_id), "--note", " "]
    )
    assert no_note.exit_code == 1
    assert "give a note" in no_note.output
    done = runner.invoke(
        cli,
        [
            "--workspace",
            str(ws.root),
            "tasks",
            "close",
            str(task.task_id),
            "--note",
            "Webinar proposed to Acme on 3 July",
            "--by",
            "ada",
        ],
    )
    assert done.exit_code == 0, done.output
    closed = tasks.get(ws, task.task_id)
    assert closed.status == "closed" and closed.closed_by == "ada"
    assert tasks.notes(ws, [task.task_id]) == {task.task_id: "Webinar proposed to Acme on 3 July"}
    again = runner.invoke(
        cli, ["--workspace", str(ws.root), "tasks", "close", str(task.task_id), "--note", "x"]
    )
    assert again.exit_code == 1 and "already closed" in again.output


def test_the_tasks_page_shows_a_manager_its_partners_tasks_and_closes_one(ws, acted):
    from fastapi.testclient import TestClient

    from partnerscope.web import create_app
    from tests.webtools import csrf_of, sign_in

    app = create_app(ws.root, warm=False)

    def client(user: str) -> TestClient:
        made = TestClient(app, base_url="https://testserver")
        sign_in(made, user, PASSWORD)
        return made

    task = next(t for t in tasks.list_tasks(ws, status=None) if t.source == "rule:low-win-rate")
    mx, mo, bea = client("max"), client("mo"), client("bea")
    shown = mx.get("/tasks")
    assert shown.status_code == 200
    assert f'data-task="{task.task_id}"' in shown.text
    assert "Plan a pipeline review with the partner" in shown.text
    # another manager's partners' tasks are not shown, and closing one is answered 404
    assert f'data-task="{task.task_id}"' not in mo.get("/tasks").text
    assert mo.get("/api/v1/tasks?status=all").json() == {"tasks": []}
    token = csrf_of(mo, "/tasks")
    refused = mo.post(
        f"/api/v1/tasks/{task.task_id}/close",
        json={"note": "done"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 404
    # partner users never see tasks
    assert bea.get("/tasks").status_code == 403
    assert bea.get("/api/v1/tasks").status_code == 403
    # the form without a note is refused saying what to do; with one, the task is closed
    token = csrf_of(mx, "/tasks")
    empty = mx.post(f"/tasks/{task.task_id}/close", data={"note": " ", "csrf_token": token})
    assert empty.status_code == 400 and "give a note" in empty.text
    done = mx.post(
        f"/tasks/{task.task_id}/close",
        data={"note": "Pipeline review booked", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    listed = mx.get("/api/v1/tasks?status=closed").json()["tasks"]
    mine = [t for t in listed if t["task_id"] == task.task_id]
    assert [(t["partner"], t["closed_by"], t["note"], t["source"]) for t in mine] == [
        ("Acme", "max", "Pipeline review booked", "rule low-win-rate")
    ]


def test_a_rule_naming_an_unknown_metric_is_refused_with_the_nearest(tmp_path):
    from partnerscope.config import load_config

    root = tmp_path / "ws"
    bad = RULES.replace("win_rate < 0.3 for 2 periods", "win_rat < 0.3 for 2 periods")
    files = {"data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n", "data/opps.csv": _opps()}
    ws = make_workspace(root, CONFIG + bad, files)
    with pytest.raises(ConfigError) as refused:
        load_config(ws.config_path, check_files=False)
    assert refused.value.problems == [
        "rules.0 (low-win-rate).when: no metric 'win_rat'; did you mean 'win_rate'? "
        "(`partnerscope metrics list` shows them)"
    ]


def test_periods_said_twice_are_refused(tmp_path):
    from partnerscope.settings.rules import RuleSettings

    files = {"data/partners.csv": "id,name\nP1,Acme\n", "data/opps.csv": _opps()}
    ws = make_workspace(tmp_path / "ws", CONFIG, files)
    rule = RuleSettings(
        name="twice", when="win_rate < 0.3 for 2 quarters", periods=3, do="task", message="x"
    )
    with pytest.raises(ConfigError, match="say for how many periods once"):
        rules.condition(ws, rule)
