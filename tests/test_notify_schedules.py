"""``[[schedules]]``: fire times by cron in the workspace time zone, each fired once (a missed
one caught up once, two processes at the same time: one fire), what each schedule writes and
to whom, and the scorecard a partner receives: a PDF of its partner edition.

Times are given explicitly (``now=``); the schedules' notifications are read back from the
outbox (``notifications``), the attachments rendered and read with pdfplumber.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerscope import appdb, clock
from partnerscope.appdb.tables import notifications, schedule_fires
from partnerscope.errors import ConfigError
from partnerscope.notify import attachments, schedules
from partnerscope.notify.schedules import cron_words
from partnerscope.workspace import Workspace
from tests.webtools import ASSIGNED, FOREIGN, MANAGER_NAME, OWN

TOML = """
[workspace]
name = "Schedules"
timezone = "{tz}"

[[schedules]]
name = "{name}"
what = "executive_summary"
cron = "{cron}"
roles = ["admin"]
"""


def small(factory: Any, cron: str, tz: str = "Europe/Berlin", name: str = "exec") -> Workspace:
    ws: Workspace = factory(TOML.format(tz=tz, cron=cron, name=name))
    return ws


def fires(ws: Workspace) -> list[tuple[str, datetime, str]]:
    with appdb.connect(ws).connect() as connection:
        rows = connection.execute(
            select(
                schedule_fires.c.schedule, schedule_fires.c.fire_at, schedule_fires.c.claimed_by
            ).order_by(schedule_fires.c.fire_at)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


# ------------------------------------------------------------------------------ when


def test_a_new_schedule_starts_from_now_and_fires_nothing_for_the_past(workspace_factory):
    ws = small(workspace_factory, "0 7 * * *")
    start = datetime(2026, 12, 7, 12, 0)
    assert schedules.run_due(ws, start) == []
    # recorded as its start, not as a firing
    assert [(n, at) for n, at, _ in fires(ws)] == [("exec", start)]
    assert fires(ws)[0][2].startswith(schedules.START)
    assert schedules.run_due(ws, start + timedelta(hours=1)) == []


def test_cron_in_the_workspace_time_zone_fires_at_the_right_utc_instant(workspace_factory):
    # 07:00 in Berlin is 06:00 UTC in winter (CET) and 05:00 UTC in summer (CEST)
    ws = small(workspace_factory, "0 7 1 * *")
    schedules.run_due(ws, datetime(2026, 12, 15, 0, 0))
    assert schedules.run_due(ws, datetime(2027, 1, 1, 5, 59)) == []
    [fired] = schedules.run_due(ws, datetime(2027, 1, 1, 6, 0))
    assert fired.fire_at == datetime(2027, 1, 1, 6, 0)
    assert fired.missed_since is None
    # the summer's: 05:00 UTC on 1 July (walking there fires June's, the latest missed, first)
    schedules.run_due(ws, datetime(2027, 6, 30, 0, 0))
    assert schedules.run_due(ws, datetime(2027, 7, 1, 4, 59)) == []
    [summer] = schedules.run_due(ws, datetime(2027, 7, 1, 5, 0))
    assert summer.fire_at == datetime(2027, 7, 1, 5, 0)


def test_weekday_numbers_are_cron_s_sunday_is_0(workspace_factory):
    # "1" is Monday in cron (APScheduler 3 by itself would read it as Tuesday)
    ws = small(workspace_factory, "0 8 * * 1", tz="America/New_York")
    schedules.run_due(ws, datetime(2026, 12, 1, 0, 0))  # a Tuesday
    [fired] = schedules.run_due(ws, datetime(2026, 12, 7, 23, 0))
    # Monday 7 December 2026, 08:00 in New York (EST, UTC-5)
    assert fired.fire_at == datetime(2026, 12, 7, 13, 0)
    assert fired.fire_at.strftime("%A") == "Monday"


def test_missed_times_are_caught_up_once_not_repeated(workspace_factory):
    ws = small(workspace_factory, "0 7 1 * *")
    schedules.run_due(ws, datetime(2026, 9, 15, 0, 0))
    # down over three fire times: 1 Oct, 1 Nov, 1 Dec (07:00 Berlin)
    fired = schedules.run_due(ws, datetime(2026, 12, 7, 10, 0))
    assert len(fired) == 1
    assert fired[0].fire_at == datetime(2026, 12, 1, 6, 0)  # the latest, in CET
    assert fired[0].missed_since == datetime(2026, 10, 1, 5, 0)  # the first, in CEST
    assert schedules.run_due(ws, datetime(2026, 12, 7, 10, 0)) == []
    assert schedules.run_due(ws, datetime(2026, 12, 31, 23, 0)) == []
    real = [at for _, at, by in fires(ws) if not by.startswith(schedules.START)]
    assert real == [datetime(2026, 12, 1, 6, 0)]
    # in words, in the workspace's time
    assert "fired for 2026-12-01 07:00 (Europe/Berlin)" in fired[0].sentence("Europe/Berlin")
    assert "caught up once for the times missed since 2026-10-01 07:00" in fired[0].sentence(
        "Europe/Berlin"
    )


def test_a_long_gap_of_a_frequent_schedule_is_found_quickly(workspace_factory):
    ws = small(workspace_factory, "* * * * *", tz="UTC")
    schedules.run_due(ws, datetime(2026, 1, 1))
    [fired] = schedules.run_due(ws, datetime(2026, 12, 31, 23, 59, 30))
    assert fired.fire_at == datetime(2026, 12, 31, 23, 59)
    assert fired.missed_since == datetime(2026, 1, 1, 0, 1)


def test_two_threads_at_the_same_time_fire_once(workspace_factory):
    ws = small(workspace_factory, "0 7 * * *")
    schedules.run_due(ws, datetime(2026, 12, 6, 12, 0))
    now = datetime(2026, 12, 7, 12, 0)
    barrier = threading.Barrier(4)
    results: list[list[Any]] = []

    def caller(i: int) -> None:
        opened = Workspace.open(ws.root)
        barrier.wait()
        results.append(schedules.run_due(opened, now, who=f"thread-{i}"))

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    real = [row for row in fires(ws) if not row[2].startswith(schedules.START)]
    assert len(real) == 1


def test_two_processes_running_due_at_the_same_time_fire_once(workspace_factory):
    ws = small(workspace_factory, "0 7 * * *")
    schedules.run_due(ws, datetime(2026, 12, 6, 12, 0))
    command = [
        sys.executable,
        "-m",
        "partnerscope",
        "-w",
        str(ws.root),
        "schedule",
        "run-due",
        "--now",
        "2026-12-07T13:00",
    ]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("exec (executive summary) fired for 2026-12-07 07:00" in o for o in outs) == 1
    real = [row for row in fires(ws) if not row[2].startswith(schedules.START)]
    assert [(n, at) for n, at, _ in real] == [("exec", datetime(2026, 12, 7, 6, 0))]


# ----------------------------------------------------------------------- configuration


def test_a_bad_cron_or_role_is_a_config_error_naming_the_schedule(tmp_path):
    from tests.conftest import make_workspace

    text = TOML.format(tz="UTC", cron="0 7 32 * *", name="monthly") + (
        '\n[[schedules]]\nname = "digest"\nwhat = "manager_digest"\ncron = "0 8 * * 1"\n'
        'roles = ["ceo"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        make_workspace(tmp_path / "ws", text).config  # noqa: B018
    problems = caught.value.problems
    assert any(
        "schedule 'monthly'" in p and "cron '0 7 32 * *'" in p and "31" in p for p in problems
    ), problems
    assert any("schedule 'digest'" in p and "roles" in p and "'ceo'" in p for p in problems)


def test_a_name_used_twice_is_a_config_error(workspace_factory):
    text = TOML.format(tz="UTC", cron="0 7 * * *", name="same") + (
        '\n[[schedules]]\nname = "same"\nwhat = "scorecards"\ncron = "0 7 1 * *"\n'
    )
    ws = workspace_factory(text)
    with pytest.raises(ConfigError, match=r"'same' is the name of schedules\.0 too"):
        schedules.run_due(ws, datetime(2026, 12, 7))


def test_cron_in_words():
    assert cron_words("0 7 1 * *", "Europe/Berlin") == (
        "on the 1st of every month at 07:00 (Europe/Berlin)"
    )
    assert cron_words("0 8 * * 1", "UTC") == "every Monday at 08:00 (UTC)"
    assert cron_words("30 6 * * 1-5", "UTC") == "every weekday (Monday to Friday) at 06:30 (UTC)"
    assert cron_words("0 7 2 1,4,7,10 *", "UTC") == (
        "on the 2nd of January, April, July and October at 07:00 (UTC)"
    )
    assert cron_words("0 9 * * *", "UTC") == "every day at 09:00 (UTC)"
    assert cron_words("*/15 * * * *", "UTC") == "cron */15 * * * * (UTC)"


# ---------------------------------------------------------------- what, and to whom

SCHEDULES = f"""
[[schedules]]
name = "scorecards"
what = "scorecards"
cron = "0 7 1 * *"

[[schedules]]
name = "some-scorecards"
what = "scorecards"
cron = "0 7 1 * *"
partners = ["{OWN}", "{FOREIGN}", "P9999"]
roles = ["partner_manager"]

[[schedules]]
name = "digest"
what = "manager_digest"
cron = "0 8 * * 1"

[[schedules]]
name = "executive"
what = "executive_summary"
cron = "0 7 2 1,4,7,10 *"
roles = ["admin"]
addresses = ["leadership@example.com"]

[[schedules]]
name = "statements"
what = "payout_statements"
cron = "0 9 * * *"
"""


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    """The web tests' demo (users pat of OWN, max the manager, ada, fin) with the schedules,
    started now (after the world's own ledger was approved); a payout ledger approved after
    that; fired 100 days later (every schedule has missed times by then: each fires once)."""
    from partnerscope.money.payouts import Payouts

    copy = web_world.copy(tmp_path_factory.mktemp("schedules") / "demo")
    config = copy.root / "partnerscope.toml"
    config.write_text(config.read_text(encoding="utf-8") + SCHEDULES, encoding="utf-8")
    ws = Workspace.open(copy.root)
    start = clock.now_utc()
    schedules.run_due(ws, start)
    payouts = Payouts(ws)
    draft = next(ledger for ledger in payouts.periods() if ledger.status == "draft")
    payouts.approve(draft.period, by="fin")
    # every approved ledger before the start (the world's own) is not sent again
    fired = {f.schedule: f for f in schedules.run_due(ws, start + timedelta(days=100))}
    return copy, ws, fired, draft.period


def written(ws: Workspace, schedule: str) -> list[dict[str, Any]]:
    with appdb.connect(ws).connect() as connection:
        rows = connection.execute(
            select(notifications)
            .where(notifications.c.object_id == schedule)
            .order_by(notifications.c.notification_id)
        ).mappings()
        return [dict(row) for row in rows]


def text_of(row: dict[str, Any]) -> str:
    return "\n".join(
        [row["title"], *row["body"]["lines"], *(f"{k}: {v}" for k, v in row["body"]["facts"])]
    )


def test_scorecards_go_to_each_partner_with_users_with_its_own_scorecard(world):
    _, ws, fired, _ = world
    from partnerscope.evaluation.view import RunData

    data = RunData(ws)
    [row] = written(ws, "scorecards")  # pat is the only partner user: OWN's
    assert row["kind"] == "report"
    assert row["audience"] == "partner"
    assert row["partner_id"] == OWN
    at = fired["scorecards"].fire_at
    assert (at.day, at.hour, at.minute) == (1, 7, 0)  # the demo's time zone is UTC
    assert row["key"] == f"schedule:scorecards:{at:%Y%m%dT%H%M}:{OWN}"
    assert row["recipients"]["roles"] == [] and row["recipients"]["addresses"] == []
    assert row["attachment"] == {
        "report": "scorecard",
        "partner": OWN,
        "run": data.run.run_id,
        "period": data.pick_period(None)[1],
    }
    text = text_of(row)
    assert data.partner_name(OWN) in text
    assert f"your scorecard for {data.pick_period(None)[1]}" in row["title"]
    assert fired["scorecards"].notifications == 1
    assert "99 partners have no user to send it to" in fired["scorecards"].notes


def test_a_schedule_for_named_partners_warns_of_an_unknown_one(world):
    _, ws, fired, _ = world
    rows = written(ws, "some-scorecards")
    # with roles, every named partner gets one (its managers read it), P9999 is noted
    assert [r["partner_id"] for r in rows] == [OWN, FOREIGN]
    assert all(r["recipients"]["roles"] == ["partner_manager"] for r in rows)
    assert fired["some-scorecards"].notes == ["partner P9999 is not in the latest run (left out)"]


def test_the_manager_digest_goes_to_each_manager_about_their_partners(world):
    _, ws, fired, _ = world
    from partnerscope.accounts import Accounts, visible_partners
    from partnerscope.evaluation.view import RunData

    data = RunData(ws)
    [row] = written(ws, "digest")  # max is the only partner manager
    assert row["audience"] == "staff"
    assert row["recipients"]["users"] == ["max"] and row["recipients"]["only"] is True
    at = fired["digest"].fire_at
    assert (at.strftime("%A"), at.hour) == ("Monday", 8)
    assert row["key"] == f"schedule:digest:{at:%Y%m%dT%H%M}:max"
    mine = visible_partners(Accounts.open(ws).get("max"), data.managers)
    assert mine is not None and OWN in mine and ASSIGNED in mine and FOREIGN not in mine
    text = text_of(row)
    assert f"Your {len(mine):,} partners in the week to" in text
    assert ("Partners", f"{len(mine):,}") in [tuple(f) for f in row["body"]["facts"]]
    # every alert named is one of max's partners', new in the run, by the partner's name
    alerts = data.alerts.table.to_pylist()
    new_mine = [a for a in alerts if a["status"] == "new" and a["partner_id"] in mine]
    assert ("New alerts", f"{len(new_mine):,}") in [tuple(f) for f in row["body"]["facts"]]
    for alert in new_mine[:3]:
        assert f"New alert on {data.partner_name(alert['partner_id'])}: " in text
    assert data.partner_name(FOREIGN) not in text
    assert MANAGER_NAME not in text
    assert " z" not in text and "P00" not in text  # names, never ids or z-scores


def test_the_executive_summary_goes_to_its_roles_and_addresses(world):
    _, ws, fired, _ = world
    [row] = written(ws, "executive")
    assert row["audience"] == "staff"
    assert row["recipients"]["roles"] == ["admin"]
    assert row["recipients"]["addresses"] == ["leadership@example.com"]
    assert row["attachment"]["report"] == "executive"
    at = fired["executive"].fire_at
    assert (at.month in (1, 4, 7, 10), at.day, at.hour) == (True, 2, 7)
    assert row["key"] == f"schedule:executive:{at:%Y%m%dT%H%M}:all"


def test_payout_statements_of_a_ledger_approved_since_the_last_firing(world):
    _, ws, fired, period = world
    from partnerscope.money.payouts import Payouts

    ledger = Payouts(ws).ledger(period)
    [row] = written(ws, "statements")  # only OWN has a user; the older ledger was not sent
    assert row["partner_id"] == OWN and row["audience"] == "partner"
    assert row["key"] == f"schedule:statements:{period}:{OWN}"
    total = ws.words.money(ledger.partner_totals()[OWN], cents=True)
    assert f"Your payout for {period} comes to {total}" in text_of(row)
    assert row["attachment"] == {"report": "payout_statement", "partner": OWN, "period": period}
    statement = attachments.render(ws, row["attachment"])
    assert statement.content.startswith(b"%PDF-")
    words = pdf_text(statement.content)
    assert total in words
    # firing again (the next day) sends no statement twice
    schedules.run_due(ws, fired["statements"].fire_at + timedelta(days=1))
    assert len(written(ws, "statements")) == 1


def pdf_text(content: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(content)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


#: words of the vendor's judgements of a partner that its scorecard (staff edition) holds
INTERNAL = ("percentile", "median", "peer", "Peer", "flag", "alert", "Alert", "plan", "Rank")


def test_the_scorecard_attached_is_a_pdf_of_the_partner_edition(world):
    _, ws, _, _ = world
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports import render, scorecard
    from partnerscope.reports.content import CohortMedians

    data = RunData(ws)
    [row] = written(ws, "scorecards")
    attached = attachments.render(ws, row["attachment"])
    assert attached.mime == "application/pdf"
    assert attached.filename == f"scorecard-{OWN}-{row['attachment']['period']}.pdf"
    assert attached.content.startswith(b"%PDF-")
    text = pdf_text(attached.content)
    assert data.partner_name(OWN) in text and "Score (0–100)" in text
    # the staff edition of the same scorecard holds the internal words; the partner's none
    staff = pdf_text(
        render.pdf(render.html(scorecard.scorecard(data, OWN, None, medians=CohortMedians(data))))
    )
    assert all(word in staff for word in ("percentile", "median", "peer"))
    assert [word for word in INTERNAL if word in text] == []
    assert data.partner_name(FOREIGN) not in text
    assert MANAGER_NAME not in text


def test_an_attachment_that_cannot_be_made_says_which(world):
    _, ws, _, _ = world
    with pytest.raises(attachments.AttachmentError, match="no partner 'P9999'"):
        attachments.render(ws, {"report": "scorecard", "partner": "P9999"})
    with pytest.raises(attachments.AttachmentError, match="no report 'qbr'"):
        attachments.render(ws, {"report": "qbr", "partner": OWN})


def test_schedule_list_names_when_and_to_whom(world):
    copy, _, fired, _ = world
    from typer.testing import CliRunner

    from partnerscope.cli.app import app

    result = CliRunner().invoke(
        app, ["-w", str(copy.root), "schedule", "list", "--format", "csv"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "name,sends,when,to whom,next,last fired"
    executive = next(line for line in lines if line.startswith("executive,"))
    assert "on the 2nd of January, April, July and October at 07:00" in executive
    assert "admins; leadership@example.com" in executive
    assert f"{fired['executive'].fire_at:%Y-%m-%d %H:%M}, 1 notification" in executive


def test_the_server_s_scheduler_ticks_at_once_and_stops(workspace_factory):
    import time

    from partnerscope.notify import scheduler

    ws = small(workspace_factory, "0 7 * * *")
    handle = scheduler.start(ws)
    try:
        deadline = time.monotonic() + 30
        while not fires(ws) and time.monotonic() < deadline:
            time.sleep(0.1)
        # its first tick, at once: the schedule's start, claimed by this server process
        [(name, _, by)] = fires(ws)
        assert name == "exec" and by.startswith(f"{schedules.START}serve:")
    finally:
        scheduler.stop(handle)
    assert not handle.running
    assert handle.stopping.is_set()  # the delivery job stops after the message it is on


def test_fanned_out_each_reaches_only_its_readers(world):
    """Through dispatch (the delivery side): who each schedule's notifications reach in the
    app — a partner's scorecard its own user (and, with roles, the managers who may see it),
    the digest its manager, the executive summary the admins."""
    from partnerscope.appdb.tables import deliveries, users
    from partnerscope.notify import dispatch

    _, ws, _, _ = world
    dispatch.dispatch(ws)

    def readers(schedule: str) -> dict[str, set[str]]:
        with appdb.connect(ws).connect() as connection:
            rows = connection.execute(
                select(notifications.c.partner_id, users.c.name)
                .select_from(deliveries.join(notifications).join(users))
                .where(notifications.c.object_id == schedule, deliveries.c.channel == "inapp")
            ).all()
        out: dict[str, set[str]] = {}
        for partner, name in rows:
            out.setdefault(partner or "-", set()).add(name)
        return out

    assert readers("scorecards") == {OWN: {"pat"}}
    # FOREIGN's scorecard: no user of its own, and max may not see it
    assert readers("some-scorecards") == {OWN: {"pat", "max"}}
    assert readers("digest") == {"-": {"max"}}
    assert readers("executive") == {"-": {"ada"}}
    assert readers("statements") == {OWN: {"pat"}}
