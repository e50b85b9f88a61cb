"""Each event writes its notification in its own transaction (issue 29, item 1).

On a copy of the web tests' demo (tests/webtools.py): every event writes exactly the
notifications it should, with the words people read (partner names, money with its currency,
dates written out); the same event again writes nothing more (the keys); and an event whose
transaction fails after the notification was written leaves neither the event nor the
notification (the outbox is written with the event, not after it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from partnerscope import appdb, outbox
from partnerscope.appdb.tables import notifications
from partnerscope.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    return web_world.copy(tmp_path_factory.mktemp("notify_events") / "demo")


@pytest.fixture(scope="module")
def ws(world) -> Workspace:
    return Workspace.open(world.root)


def rows(ws: Workspace, **where: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    query = select(notifications).order_by(notifications.c.notification_id)
    for column, value in where.items():
        if column == "key_prefix":
            query = query.where(notifications.c.key.startswith(value))
        else:
            query = query.where(notifications.c[column] == value)
    with appdb.connect(ws).connect() as connection:
        return [dict(r) for r in connection.execute(query).mappings()]


def text_of(row: dict[str, Any]) -> str:
    body = row["body"]
    return " ".join([row["title"], *body["lines"], *(f"{k} {v}" for k, v in body["facts"])])


class Boom(RuntimeError):
    pass


@pytest.fixture
def failing_after_enqueue(monkeypatch):
    """``outbox.enqueue`` writes its row, then the transaction fails: the event's own writes
    and the notification must both be gone."""
    real = outbox.enqueue

    def enqueue(connection: Any, **kwargs: Any) -> int | None:
        real(connection, **kwargs)
        raise Boom("the process failed after the notification was written")

    monkeypatch.setattr(outbox, "enqueue", enqueue)


# ------------------------------------------------------------------------------- money


def test_payout_approved_tells_finance_and_each_partner_its_own_amount(ws, monkeypatch):
    from partnerscope.money.payouts import Payouts

    payouts = Payouts(ws)
    draft = next(p.period for p in payouts.periods() if p.status == "draft")
    before = len(rows(ws))
    real = outbox.enqueue
    calls = {"n": 0}

    def enqueue(connection: Any, **kwargs: Any) -> int | None:
        calls["n"] += 1
        done = real(connection, **kwargs)
        if calls["n"] == 2:
            raise Boom("failed after the staff notification and the first partner's")
        return done

    monkeypatch.setattr(outbox, "enqueue", enqueue)
    with pytest.raises(Boom):
        payouts.approve(draft, by="fin")
    assert payouts.ledger(draft).status == "draft"
    assert len(rows(ws)) == before
    monkeypatch.setattr(outbox, "enqueue", real)

    ledger = payouts.approve(draft, by="fin")
    staff = rows(ws, key=f"payout:{draft}:approved")
    assert len(staff) == 1
    assert staff[0]["audience"] == "staff"
    assert staff[0]["recipients"]["roles"] == ["finance"]
    money = ws.words.money(ledger.total)
    assert money.startswith("$")
    assert f"fin approved it: {money} for" in text_of(staff[0])
    mine = rows(ws, key_prefix=f"payout:{draft}:approved:")
    totals = ledger.partner_totals()
    assert sorted(r["partner_id"] for r in mine) == sorted(totals)
    one = next(r for r in mine if r["partner_id"] == "P0001")
    assert one["audience"] == "partner"
    assert one["recipients"]["roles"] == []
    # finance's summary goes to the webhooks, not a message per partner
    assert one["recipients"]["webhooks"] == [] and staff[0]["recipients"]["webhooks"] is None
    assert one["title"] == (
        f"Your payout statement for {draft} is approved: {ws.words.money(totals['P0001'])}"
    )
    # paying it tells finance once
    payouts.pay(draft, by="fin", reference="BATCH-7")
    paid = rows(ws, key=f"payout:{draft}:paid")
    assert len(paid) == 1 and "(reference BATCH-7)" in text_of(paid[0])


def test_payout_draft_computed_is_an_approval_request(ws):
    from partnerscope.evaluation.view import RunData
    from partnerscope.money.payouts import Payouts, quarters

    done = {p.period for p in Payouts(ws).periods() if p.status != "draft"}
    label = next(q for q, over in quarters(RunData(ws)).items() if over and q not in done)
    before = rows(ws, kind="approval", object_type="payout_period", object_id=label)
    Payouts(ws).compute(label, by="ana")
    after = rows(ws, kind="approval", object_type="payout_period", object_id=label)
    assert len(after) == len(before) + 1
    assert after[-1]["title"] == f"The payout ledger for {label} waits for approval"
    assert after[-1]["recipients"]["roles"] == ["finance"]


def test_mdf_request_is_an_approval_for_finance(ws, failing_after_enqueue, monkeypatch):
    from partnerscope.money import mdf

    count = len(mdf.requests(ws)) if hasattr(mdf, "requests") else None
    before = len(rows(ws))
    with pytest.raises(Boom):
        mdf.submit(ws, "P0003", activity_type="event", name="Fair booth", amount=1200, by="t")
    assert len(rows(ws)) == before
    if count is not None:
        assert len(mdf.requests(ws)) == count
    monkeypatch.undo()
    made = mdf.submit(ws, "P0003", activity_type="event", name="Fair booth", amount=1200, by="t")
    found = rows(ws, key=f"approval:mdf:{made.request_id}")
    assert len(found) == 1
    name = ws.words and _name(ws, "P0003")
    assert found[0]["title"] == f"{name} asks for $1,200 of MDF"
    assert found[0]["partner_id"] == "P0003"
    assert found[0]["audience"] == "staff"
    assert len(rows(ws)) == before + 1


def _name(ws: Workspace, pid: str) -> str:
    from partnerscope.warehouse import partner_names

    return partner_names(ws)[pid]


# ------------------------------------------------------------------------ registrations


def test_registration_conflict_and_decline_never_name_the_other_partner(ws, monkeypatch):
    from partnerscope.operations import registrations as reg

    close = date.today() + timedelta(days=40)
    first = reg.submit(
        ws,
        "P0002",
        account_name="Globex Harbour Logistics",
        amount=50_000,
        expected_close=close,
        by="t",
    ).registration
    assert len(rows(ws, key=f"approval:registration:{first.registration_id}")) == 1
    assert rows(ws, key=f"registration:{first.registration_id}:conflict") == []

    # the second registration of the same account conflicts with the first
    second = reg.submit(
        ws,
        "P0001",
        account_name="Globex Harbour Logistics",
        amount=70_000,
        expected_close=close,
        by="t",
    ).registration
    conflict = rows(ws, key=f"registration:{second.registration_id}:conflict")
    assert len(conflict) == 1
    told = text_of(conflict[0])
    other = _name(ws, "P0002")
    assert "another partner" in told
    assert "P0002" not in told and other not in told
    assert conflict[0]["audience"] == "staff"

    # declined with a reason that names the other partner: the partner is not told who
    with monkeypatch.context() as m:
        m.setattr(outbox, "enqueue", _raising(outbox.enqueue))
        with pytest.raises(Boom):
            reg.reject(ws, second.registration_id, reason=f"{other} (P0002) was first", by="t")
    assert reg.detail(ws, second.registration_id).registration.status.value == "submitted"
    assert rows(ws, key=f"registration:{second.registration_id}:declined") == []
    reg.reject(ws, second.registration_id, reason=f"{other} (P0002) was first", by="t")
    declined = rows(ws, key=f"registration:{second.registration_id}:declined")
    assert len(declined) == 1
    assert declined[0]["audience"] == "partner" and declined[0]["partner_id"] == "P0001"
    said = text_of(declined[0])
    assert "The reason given: another partner was first" in said
    assert other not in said and "P0002" not in said

    approved = reg.approve(ws, first.registration_id, by="t")
    told = rows(ws, key=f"registration:{first.registration_id}:approved")
    assert len(told) == 1
    assert told[0]["title"] == "Your deal registration of Globex Harbour Logistics is approved"
    assert ws.words.date(approved.protected_until) in text_of(told[0])


def _raising(real: Any) -> Any:
    def enqueue(connection: Any, **kwargs: Any) -> int | None:
        real(connection, **kwargs)
        raise Boom("failed after the notification")

    return enqueue


def test_registration_expiring_is_told_once_in_the_sweep(ws):
    from partnerscope.notify import events
    from partnerscope.operations import registrations as reg

    found = reg.submit(
        ws,
        "P0003",
        account_name="Initech Cold Storage",
        amount=30_000,
        expected_close=date.today() + timedelta(days=30),
        by="t",
    ).registration
    done = reg.approve(ws, found.registration_id, by="t")
    assert done.protected_until is not None
    warning = ws.config.registration.warning_days
    moment = datetime.combine(
        done.protected_until - timedelta(days=warning - 1), datetime.min.time()
    )
    events.sweep(ws, now=moment)
    told = rows(ws, key=f"registration:{found.registration_id}:expiring:{done.protected_until}")
    assert len(told) == 1
    assert told[0]["title"] == (
        f"Your deal registration of Initech Cold Storage ends in {warning - 1} days"
    )
    assert (
        events.sweep(ws, now=moment + timedelta(hours=1)) == 0
        or len(rows(ws, key_prefix=f"registration:{found.registration_id}:expiring")) == 1
    )


# ------------------------------------------------------------------------- lifecycle


APPLICANT = {
    "company": "Nordlicht IT GmbH",
    "contact_name": "Jana Berg",
    "contact_email": "jana@nordlicht.example",
    "country": "DE",
    "vertical": "Manufacturing",
    "partner_type": "si",
}


def test_application_is_an_approval_for_admins(ws, failing_after_enqueue, monkeypatch):
    from partnerscope.lifecycle import applications as apps

    count = len(apps.listing(ws))
    with pytest.raises(Boom):
        apps.submit(ws, APPLICANT, by="form")
    assert len(apps.listing(ws)) == count
    monkeypatch.undo()
    made = apps.submit(ws, APPLICANT, by="form")
    found = rows(ws, key=f"approval:application:{made.application_id}")
    assert len(found) == 1
    assert found[0]["title"] == "Nordlicht IT GmbH applied to become a partner"
    assert found[0]["recipients"]["roles"] == ["admin"]
    assert "the contact is Jana Berg" in text_of(found[0])


def test_overdue_onboarding_tasks_are_told_once(ws):
    from partnerscope.lifecycle import onboarding
    from partnerscope.notify import events

    plan = onboarding.plan(ws, "P0001")
    first = min(plan.tasks, key=lambda t: t.due_on)
    moment = datetime.combine(first.due_on + timedelta(days=1), datetime.min.time()).replace(
        hour=12
    )
    events.sweep(ws, now=moment)
    key = f"onboarding:P0001:{first.key}:{first.due_on.isoformat()}"
    staff = rows(ws, key=key)
    assert len(staff) == 1
    assert staff[0]["title"] == (f"{_name(ws, 'P0001')}'s onboarding: “{first.title}” is overdue")
    assert ws.words.date(first.due_on) in text_of(staff[0])
    partner = rows(ws, key=f"{key}:partner")
    assert len(partner) == (1 if first.for_partner else 0)
    events.sweep(ws, now=moment)
    assert len(rows(ws, key=key)) == 1


# --------------------------------------------------------------------------- routing


def test_lead_sla_breach_is_told_once_to_managers_and_partner(ws):
    from sqlalchemy import select

    from partnerscope.appdb.tables import lead_assignments
    from partnerscope.notify import events
    from partnerscope.operations.routing import service

    t = lead_assignments
    with appdb.connect(ws).connect() as connection:
        waiting = connection.execute(
            select(t.c.assignment_id, t.c.lead_id, t.c.partner_id, t.c.sla_due_at).where(
                t.c.status == "assigned"
            )
        ).all()
    assert waiting
    late = max(w.sla_due_at for w in waiting) + timedelta(hours=1)
    events.sweep(ws, now=late)
    for w in waiting:
        staff = rows(ws, key=f"sla:{w.assignment_id}")
        partner = rows(ws, key=f"sla:{w.assignment_id}:partner")
        assert len(staff) == 1 and len(partner) == 1
        assert (
            staff[0]["title"]
            == f"{_name(ws, w.partner_id)} did not accept lead {w.lead_id} in time"
        )
        assert partner[0]["title"] == f"Lead {w.lead_id} was not accepted in time"
        assert partner[0]["audience"] == "partner"
        assert _name(ws, w.partner_id) not in text_of(partner[0])
    before = len(rows(ws, kind="sla_breach"))
    # check_sla finds the same breaches: the same keys, nothing new
    service.check_sla(ws, now=late, by="t")
    assert len(rows(ws, kind="sla_breach")) == before
    assert events.sweep(ws, now=late) == 0 or len(rows(ws, kind="sla_breach")) == before


# ------------------------------------------------------------------------------ runs


def test_after_run_tells_the_latest_periods_alerts_once_and_catches_up(ws):
    from partnerscope.evaluation.view import RunData
    from partnerscope.notify import events
    from partnerscope.runs import run_folder

    data = RunData(ws)
    alerts = data.alerts.table.to_pylist()
    latest = max(a["period_start"] for a in alerts)
    expected = {a["alert_id"] for a in alerts if a["period_start"] == latest}
    assert expected
    # the demo's run was told when it landed (partnerscope run calls after_run)
    marker = run_folder(ws, data.run.run_id) / events.MARKER
    assert marker.exists()
    told = {r["object_id"] for r in rows(ws, kind="alert")}
    assert told == expected
    assert events.pending_runs(ws) == []
    assert events.after_run(ws, data.run.run_id) == 0
    # a process that died between the run and after_run: the next call catches it up
    from sqlalchemy import delete

    with appdb.connect(ws).begin() as connection:
        connection.execute(delete(notifications).where(notifications.c.kind == "alert"))
    marker.unlink()
    assert [r.run_id for r in events.pending_runs(ws)] == [data.run.run_id]
    assert events.after_run(ws) >= len(expected)
    one = next(r for r in rows(ws, kind="alert"))
    pid = one["partner_id"]
    assert one["title"].startswith(f"{data.partner_name(pid)}: ")
    assert one["recipients"]["roles"] == ["partner_manager"]
    assert marker.exists()
    assert events.after_run(ws) == 0


def test_reviews_due_are_told_once(ws):
    from partnerscope.decisions import cadence
    from partnerscope.decisions.store import DecisionStore
    from partnerscope.notify import events

    records = [r for r in DecisionStore.open(ws).records() if cadence.outstanding(r)]
    if not records:
        pytest.skip("the demo has no committed decision with a review to come")
    record = records[0]
    first = cadence.outstanding(record)[0]
    moment = datetime.combine(first.on, datetime.min.time()).replace(hour=12)
    events.sweep(ws, now=moment)
    key = f"review_due:{record.ref}:{first.on.isoformat()}"
    found = rows(ws, key=key)
    assert len(found) == 1
    assert found[0]["title"] == f"{record.ref} {record.title}: a review is due"
    assert ws.words.date(first.on) in text_of(found[0])
    events.sweep(ws, now=moment)
    assert len(rows(ws, key=key)) == 1


def test_a_fired_signal_and_a_due_review_are_told_in_words_once(tmp_path, monkeypatch):
    """On the decision tests' hand-worked fixture: a committed decision whose reversal signal
    (win_rate < 0.6 for 2 quarters) fires and whose first review is due in the run."""
    from partnerscope.decisions.service import Decisions
    from partnerscope.notify import events
    from tests.test_decisions import AS_OF, ME, build, committed

    monkeypatch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("PARTNERSCOPE_USER", ME)
    small = build(tmp_path / "ws")
    committed(Decisions(small), first_review=date(2024, 6, 15))
    run = small.run(as_of=AS_OF)
    assert events.after_run(small, now=AS_OF) >= 2
    signal = rows(small, kind="signal")
    assert len(signal) == 1
    assert signal[0]["key"] == f"signal:DEC-0001:signal:0:{run.last_month}"
    assert signal[0]["title"] == "DEC-0001 Recruit MSPs in EMEA: a reversal signal fired"
    said = text_of(signal[0])
    assert "A reversal signal fired: Win rate below 60" in said
    assert "in each of the last 2 complete quarters, across the portfolio." in said
    assert "win_rate" not in said and "0.6" not in said
    review = rows(small, kind="review_due")
    assert [r["key"] for r in review] == ["review_due:DEC-0001:2024-06-15"]
    assert "planned for Jun 15, 2024 is due (owner Dana)." in text_of(review[0])
    # told once: the same run again, and the sweep that finds the same review
    assert events.after_run(small, run.run_id, now=AS_OF) == 0
    events.sweep(small, now=AS_OF)
    assert len(rows(small, kind="review_due")) == 1
    assert len(rows(small, kind="signal")) == 1


def test_partnerscope_run_tells_the_run_and_a_failure_is_only_a_warning(tmp_path, monkeypatch):
    """`partnerscope run` stores the run whatever happens to its notifications: a failure is a
    warning, the exit code 0, and the next run tells the one left untold."""
    from partnerscope.notify import events, rules
    from partnerscope.runs import list_runs, run_folder
    from tests.test_cli import run as cli
    from tests.test_decisions import ME, build

    monkeypatch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("PARTNERSCOPE_USER", ME)
    small = build(tmp_path / "ws")
    real = rules.evaluate

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the rules could not be read")

    monkeypatch.setattr(rules, "evaluate", broken)
    done = cli("-w", str(small.root), "run", "--as-of", "2024-07-01")
    assert "warning: the run is stored, but its notifications could not be written" in " ".join(
        done.output.split()
    )
    first = list_runs(small)[-1]
    assert not (run_folder(small, first.run_id) / events.MARKER).exists()
    monkeypatch.setattr(rules, "evaluate", real)
    cli("-w", str(small.root), "run", "--as-of", "2024-07-01")
    runs = list_runs(small)
    assert all((run_folder(small, r.run_id) / events.MARKER).exists() for r in runs[-2:])


def test_a_failed_registration_submission_leaves_no_notification(ws, failing_after_enqueue):
    from partnerscope.operations import registrations as reg

    count, before = len(reg.registrations(ws)), len(rows(ws))
    with pytest.raises(Boom):
        reg.submit(
            ws,
            "P0003",
            account_name="Hooli Freight Systems",
            amount=20_000,
            expected_close=date.today() + timedelta(days=20),
            by="t",
        )
    assert len(reg.registrations(ws)) == count
    assert len(rows(ws)) == before


def test_a_failed_sla_check_leaves_the_leads_and_no_notification(ws, failing_after_enqueue):
    from sqlalchemy import select

    from partnerscope.appdb.tables import lead_assignments
    from partnerscope.operations.routing import service

    t = lead_assignments

    def states() -> list[tuple[Any, ...]]:
        with appdb.connect(ws).connect() as connection:
            query = select(t.c.assignment_id, t.c.status).order_by(t.c.assignment_id)
            return [tuple(r) for r in connection.execute(query)]

    with appdb.connect(ws).connect() as connection:
        due = (
            connection.execute(select(t.c.sla_due_at).where(t.c.status == "assigned"))
            .scalars()
            .all()
        )
    assert due
    before, told = states(), len(rows(ws))
    with pytest.raises(Boom):
        service.check_sla(ws, now=max(due) + timedelta(hours=1), by="t")
    assert states() == before
    assert len(rows(ws)) == told


def test_an_expired_registration_is_told_to_its_partner_once(ws):
    from partnerscope.operations import registrations as reg

    past = datetime(2025, 1, 6, 12)
    found = reg.submit(
        ws,
        "P0003",
        account_name="Vandelay Industrial Imports",
        amount=25_000,
        expected_close=date(2025, 3, 31),
        by="t",
        now=past,
    ).registration
    done = reg.approve(ws, found.registration_id, by="t", now=past)
    assert done.protected_until is not None
    after = datetime.combine(done.protected_until + timedelta(days=1), datetime.min.time())
    swept = reg.sweep(ws, by="t", now=after.replace(hour=12))
    assert [r.registration_id for r in swept.expired] == [found.registration_id]
    told = rows(ws, key=f"registration:{found.registration_id}:expired")
    assert len(told) == 1
    assert told[0]["audience"] == "partner" and told[0]["partner_id"] == "P0003"
    assert told[0]["title"] == ("Your deal registration of Vandelay Industrial Imports has expired")
    assert ws.words.date(done.protected_until) in text_of(told[0])
    assert reg.sweep(ws, by="t", now=after.replace(hour=13)).expired == ()
    assert len(rows(ws, key=f"registration:{found.registration_id}:expired")) == 1
