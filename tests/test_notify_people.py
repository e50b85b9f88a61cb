"""People's side of notifications: users' email addresses, preferences per kind, signed
unsubscribe links, the in-app centre (inbox) and daily/weekly digests. A small workspace in
Berlin time with one user per kind of recipient; deliveries are real rows of the store."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from partnerscope import appdb
from partnerscope.accounts import AccountError, Accounts, Role
from partnerscope.appdb.tables import audit_log, deliveries, notifications
from partnerscope.notify import digest, inbox, preferences, unsubscribe
from partnerscope.outbox import enqueue
from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE

PASSWORD = "correct horse battery staple"
CONFIG = '[workspace]\ntimezone = "Europe/Berlin"\n' + PARTNERS_SOURCE


@pytest.fixture
def ws(workspace_factory):
    ws = workspace_factory(CONFIG, {"data/partners.csv": PARTNERS_CSV})
    accounts = Accounts.open(ws)
    accounts.add("ana", Role.ANALYST, PASSWORD, email="ana@example.com", by="test")
    accounts.add("pia", Role.PARTNER_USER, PASSWORD, partner_id="P1", by="test")
    accounts.add("pete", Role.PARTNER_USER, PASSWORD, partner_id="P2", by="test")
    return ws


def user(ws, name):
    return Accounts.open(ws).get(name)


def audit(ws, action):
    with appdb.connect(ws).connect() as c:
        return [
            (r.actor, r.object_id, r.detail)
            for r in c.execute(
                select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.entry_id)
            )
        ]


def deliver_inapp(ws, name, *, key, title, partner=None, at=datetime(2026, 12, 7, 9, 0)):
    """A notification and its in-app row for ``name`` (as dispatch writes them)."""
    who = user(ws, name)
    with appdb.connect(ws).begin() as c:
        nid = enqueue(
            c,
            key=key,
            kind="registration" if partner else "alert",
            title=title,
            audience="partner" if partner else "staff",
            partner_id=partner,
            users=[name],
            only=True,
            now=at,
        )
        add_delivery(c, nid, who.user_id, "inapp", "immediately", "sent", at)
    return nid


def add_delivery(c, nid, user_id, channel, cadence, status, at):
    c.execute(
        deliveries.insert().values(
            notification_id=nid,
            user_id=user_id,
            channel=channel,
            cadence=cadence,
            idempotency_key=f"n{nid}-{channel}-{user_id}",
            status=status,
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
    )


# ------------------------------------------------------------------------------ email


def test_a_user_has_an_email_address_set_and_cleared_with_an_audit_entry(ws):
    accounts = Accounts.open(ws)
    assert user(ws, "ana").email == "ana@example.com"
    assert user(ws, "pia").email is None
    accounts.set_email("pia", "  pia@acme.example  ", by="ada")
    assert user(ws, "pia").email == "pia@acme.example"
    accounts.set_email("pia", "pia@acme.example", by="ada")  # unchanged: no entry
    accounts.set_email("pia", None, by="ada")
    assert user(ws, "pia").email is None
    assert audit(ws, "email") == [
        ("ada", "pia", {"email": "pia@acme.example", "before": None}),
        ("ada", "pia", {"email": None, "before": "pia@acme.example"}),
    ]


@pytest.mark.parametrize("bad", ["pia", "pia@", "pia@acme", "pia acme@x.com", "a@b.com, c@d.com"])
def test_an_address_that_is_not_one_is_refused_saying_how_to_write_it(ws, bad):
    with pytest.raises(AccountError, match="is not an email address; write one address like"):
        Accounts.open(ws).set_email("pia", bad, by="ada")
    with pytest.raises(AccountError, match="is not an email address"):
        Accounts.open(ws).add("zed", Role.ANALYST, PASSWORD, email=bad, by="ada")
    assert user(ws, "pia").email is None


def test_users_commands_take_and_show_the_email(ws, monkeypatch):
    from typer.testing import CliRunner

    from partnerscope.cli import app as cli

    monkeypatch.setenv("PARTNERSCOPE_USER", "ada")
    runner, at = CliRunner(), ["-w", str(ws.root)]
    added = runner.invoke(
        cli,
        [*at, "users", "add", "fay", "-r", "finance", "--email", "fay@x.com", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    done = runner.invoke(cli, [*at, "users", "set-email", "pia", "pia@acme.example"])
    assert done.exit_code == 0, done.output
    assert "Notifications by email for pia go to pia@acme.example." in done.output
    listed = runner.invoke(cli, [*at, "users", "list", "--format", "csv"]).output.splitlines()
    assert listed[0] == "user,role,partners,API tokens,email"
    assert "fay,finance,all,0,fay@x.com" in listed
    assert "pia,partner_user,P1,0,pia@acme.example" in listed
    cleared = runner.invoke(cli, [*at, "users", "set-email", "pia", "--none"])
    assert "pia gets no email; notifications show in the web app only." in cleared.output
    assert user(ws, "pia").email is None
    neither = runner.invoke(cli, [*at, "users", "set-email", "pia"])
    assert neither.exit_code == 1
    assert "give the address or --none" in neither.output
    wrong = runner.invoke(cli, [*at, "users", "set-email", "pia", "not-an-address"])
    assert wrong.exit_code == 1 and "'not-an-address' is not an email address" in wrong.output
    assert "Traceback" not in wrong.output


# ------------------------------------------------------------------------ preferences


def test_preferences_are_set_per_kind_audited_and_read_back(ws):
    ana = user(ws, "ana")
    engine = appdb.connect(ws)
    with engine.connect() as c:
        assert preferences.preferences(c, ana.user_id)["alert"] == "immediately"
    changed = preferences.set_preferences(
        ws, ana, {"alert": "daily", "signal": "Weekly", "payout": "immediately"}, by="ana"
    )
    # payout was "immediately" by default but not chosen: it is recorded as chosen now
    assert changed == {"alert": "daily", "signal": "weekly", "payout": "immediately"}
    assert preferences.set_preferences(ws, ana, {"alert": "daily"}, by="ana") == {}
    preferences.set_preferences(ws, ana, {"*": "off", "alert": "weekly"}, by="ana")
    with engine.connect() as c:
        mine = preferences.preferences(c, ana.user_id)
        assert preferences.cadence(c, ana.user_id, "alert") == "weekly"
        assert preferences.cadence(c, ana.user_id, "review_due") == "off"  # the default "*"
    assert (mine["alert"], mine["signal"], mine["approval"]) == ("weekly", "weekly", "off")
    assert [d["cadences"] for _, _, d in audit(ws, "preferences")] == [
        {"alert": "daily", "signal": "weekly", "payout": "immediately"},
        {"*": "off", "alert": "weekly"},
    ]


@pytest.mark.parametrize(
    ("name", "choices", "message"),
    [
        ("ana", {"alerts": "daily"}, "no kind of notification 'alerts'; did you mean 'alert'?"),
        ("ana", {"alert": "hourly"}, "'hourly' is not a cadence for new alerts; choose one of "
         "immediately, daily, weekly, off"),
        ("ana", {"digest": "daily"}, "take them 'immediately' or turn them 'off'"),
        ("pia", {"alert": "off"}, "pia is a partner's user and does not receive 'new alerts' "
         "notifications; the kinds they may set: registration, onboarding, payout, nudge, "
         "report, digest"),
    ],
)  # fmt: skip
def test_a_preference_that_cannot_be_set_changes_nothing_and_says_why(ws, name, choices, message):
    who = user(ws, name)
    with pytest.raises(preferences.PreferenceError) as raised:
        preferences.set_preferences(ws, who, {"payout": "weekly", **choices}, by=name)
    assert message in str(raised.value)
    with appdb.connect(ws).connect() as c:
        assert preferences.chosen(c, who.user_id) == {}
    assert audit(ws, "preferences") == []


# ------------------------------------------------------------------------ unsubscribe


def test_an_unsubscribe_link_turns_its_kind_off_once_and_a_tampered_one_nothing(ws):
    ana = user(ws, "ana")
    url = unsubscribe.link(ws, ana.user_id, "alert")
    assert url.startswith("http://127.0.0.1:8000/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    # the key is made once and kept to its owner
    key = ws.state_dir / "unsubscribe.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert unsubscribe.link(ws, ana.user_id, "alert") == url
    head, _, tail = token.partition(".")
    other = unsubscribe.token(ws, user(ws, "pia").user_id, "alert").partition(".")[0]
    for bad in (token[:-1], f"{other}.{tail}", "x" + token, "nothing", head, f"{head}.", ""):
        with pytest.raises(
            unsubscribe.UnsubscribeError, match="this unsubscribe link is not valid"
        ):
            unsubscribe.apply(ws, bad)
    assert audit(ws, "preferences") == []
    request = unsubscribe.apply(ws, token)
    assert (request.user_id, request.kind, request.label) == (ana.user_id, "alert", "new alerts")
    unsubscribe.apply(ws, token)  # again: nothing changes
    with appdb.connect(ws).connect() as c:
        assert preferences.chosen(c, ana.user_id) == {"alert": "off"}
    assert audit(ws, "preferences") == [
        ("ana", "ana", {"cadences": {"alert": "off"}, "via": "unsubscribe link"})
    ]


def test_unsubscribing_from_everything_turns_every_kind_off(ws):
    pia = user(ws, "pia")
    preferences.set_preferences(ws, pia, {"report": "weekly"}, by="pia")
    unsubscribe.apply(ws, unsubscribe.token(ws, pia.user_id, "*"))
    with appdb.connect(ws).connect() as c:
        assert set(preferences.preferences(c, pia.user_id).values()) == {"off"}


def test_a_link_of_a_user_who_was_removed_changes_nothing(ws):
    token = unsubscribe.token(ws, user(ws, "pete").user_id, "*")
    Accounts.open(ws).remove("pete", by="ada")
    with pytest.raises(preferences.PreferenceError, match="a user who no longer exists"):
        unsubscribe.apply(ws, token)


# ------------------------------------------------------------------------------ inbox


def test_the_inbox_lists_a_users_own_notifications_newest_first_and_marks_them_read(ws):
    engine = appdb.connect(ws)
    pia, pete, ana = user(ws, "pia"), user(ws, "pete"), user(ws, "ana")
    first = deliver_inapp(
        ws, "pia", key="a", title="Acme's registration was approved", partner="P1",
        at=datetime(2026, 12, 7, 9, 0),
    )  # fmt: skip
    second = deliver_inapp(
        ws, "pia", key="b", title="Acme's registration expires soon", partner="P1",
        at=datetime(2026, 12, 7, 10, 0),
    )  # fmt: skip
    petes = deliver_inapp(ws, "pete", key="c", title="Beta's registration", partner="P2")
    deliver_inapp(ws, "ana", key="d", title="New alert on Acme")
    assert [i.notification_id for i in inbox.items(engine, pia)] == [second, first]
    assert [i.title for i in inbox.items(engine, pete)] == ["Beta's registration"]
    assert (inbox.unread(engine, pia), inbox.unread(engine, pete), inbox.unread(engine, ana)) == (
        2, 1, 1,
    )  # fmt: skip
    assert inbox.items(engine, pia, page=2, size=1)[0].notification_id == first
    # another user's notification is not theirs to read or mark
    assert inbox.find(engine, pia, petes) is None
    assert inbox.mark_read(engine, pia, petes) is None
    assert inbox.unread(engine, pete) == 1
    assert inbox.mark_read(engine, pia, first, now=datetime(2026, 12, 7, 11, 0)) is True
    assert inbox.mark_read(engine, pia, first) is False
    assert inbox.unread(engine, pia) == 1
    assert inbox.find(engine, pia, first).read_at == datetime(2026, 12, 7, 11, 0)
    assert inbox.mark_all_read(engine, pia) == 1
    assert (inbox.unread(engine, pia), inbox.unread(engine, pete)) == (0, 1)


def test_a_partner_user_never_sees_a_staff_or_another_partners_row_even_if_one_was_written(ws):
    """What dispatch refuses, the inbox refuses again: a row addressed to pia about P2, or a
    staff notification, is not shown."""
    engine = appdb.connect(ws)
    pia = user(ws, "pia")
    with engine.begin() as c:
        for key, audience, partner in (("s", "staff", None), ("o", "partner", "P2")):
            nid = enqueue(
                c, key=key, kind="report", title=key, audience=audience, partner_id=partner,
            )  # fmt: skip
            add_delivery(c, nid, pia.user_id, "inapp", "immediately", "sent", datetime(2026, 12, 7))
    assert inbox.items(engine, pia) == [] and inbox.unread(engine, pia) == 0


# ----------------------------------------------------------------------------- digest


def test_a_daily_digest_at_eight_in_the_workspace_time_lists_what_was_held_once(ws):
    """Two alerts held for ana's daily digest (Berlin: 08:00 is 07:00 UTC in December): nothing
    is written before 08:00, one digest listing both at 08:00, none again later that day."""
    engine = appdb.connect(ws)
    ana = user(ws, "ana")
    held = []
    with engine.begin() as c:
        for key, title, at in (
            ("x1", "New alert on Acme", datetime(2026, 12, 6, 15, 30)),
            ("x2", "New alert on Beta", datetime(2026, 12, 7, 6, 10)),
        ):
            nid = enqueue(c, key=key, kind="alert", title=title, users=["ana"], only=True, now=at)
            add_delivery(c, nid, ana.user_id, "email", "daily", "held", at)
            add_delivery(c, nid, ana.user_id, "inapp", "daily", "sent", at)
            held.append(nid)
        # a weekly one waits for Monday's weekly digest, not the daily
        nid = enqueue(c, key="x3", kind="signal", title="Signal", users=["ana"], only=True)
        add_delivery(c, nid, ana.user_id, "email", "weekly", "held", datetime(2026, 12, 7, 6, 0))

    def digests():
        with engine.connect() as c:
            return c.execute(
                select(notifications.c.key, notifications.c.title, notifications.c.body)
                .where(notifications.c.kind == "digest")
            ).all()  # fmt: skip

    # Monday 7 December 2026, 07:59 in Berlin: the daily's time has not come; the weekly of
    # Monday 30 November is due but nothing was held before it
    assert digest.send_due(ws, datetime(2026, 12, 7, 6, 59)) == 0
    assert digests() == []
    assert digest.send_due(ws, datetime(2026, 12, 7, 7, 0)) == 2
    by_key = {k: (t, b["lines"]) for k, t, b in digests()}
    assert by_key["digest:daily:ana:2026-12-07"] == (
        "Your daily digest for Dec 7, 2026: 2 notifications",
        ["Dec 6, 2026: New alert on Acme", "Dec 7, 2026: New alert on Beta"],
    )
    assert by_key["digest:weekly:ana:2026-12-07"] == (
        "Your weekly digest for Dec 7, 2026: 1 notification",
        ["Dec 7, 2026: Signal"],
    )
    with engine.connect() as c:
        statuses = dict(
            c.execute(
                select(deliveries.c.notification_id, deliveries.c.status).where(
                    deliveries.c.channel == "email"
                )
            ).all()
        )
        (recipients,) = c.execute(
            select(notifications.c.recipients).where(
                notifications.c.key == "digest:daily:ana:2026-12-07"
            )
        ).scalars()
    assert [statuses[n] for n in held] == ["digested", "digested"]
    assert recipients["users"] == ["ana"] and recipients["only"] is True
    assert digest.send_due(ws, datetime(2026, 12, 7, 7, 1)) == 0
    assert digest.send_due(ws, datetime(2026, 12, 7, 20, 0)) == 0
    assert len(digests()) == 2


def test_a_digest_missed_for_days_is_written_once_for_the_latest_day(ws):
    engine = appdb.connect(ws)
    pia = user(ws, "pia")
    with engine.begin() as c:
        nid = enqueue(
            c, key="r", kind="report", title="Your scorecard", audience="partner",
            partner_id="P1", users=["pia"], only=True,
        )  # fmt: skip
        add_delivery(c, nid, pia.user_id, "email", "daily", "held", datetime(2026, 12, 1, 12, 0))
    # down from the 1st to the 4th: at 10:00 UTC on the 4th, one digest, of the 4th
    assert digest.send_due(ws, datetime(2026, 12, 4, 10, 0)) == 1
    with engine.connect() as c:
        row = c.execute(
            select(notifications.c.key, notifications.c.audience, notifications.c.partner_id)
            .where(notifications.c.kind == "digest")
        ).one()  # fmt: skip
    # a partner's user's digest is for its partner's users (dispatch sends it to pia)
    assert tuple(row) == ("digest:daily:pia:2026-12-04", "partner", "P1")
    assert digest.send_due(ws, datetime(2026, 12, 5, 10, 0)) == 0


def test_a_digest_reaches_the_mail_server_as_one_email_listing_what_was_held(ws):
    """End to end with the real dispatch, worker and an SMTP server: ana takes alerts daily;
    two alerts are held (none emailed, both in her centre at once); at 08:00 Berlin one email
    arrives listing both, with the unsubscribe link of digests."""
    from partnerscope.notify import dispatch, worker
    from tests.notifytools import MailServer, configure

    with MailServer() as mail:
        configure(ws, mail=mail)
        ana = user(ws, "ana")
        preferences.set_preferences(ws, ana, {"alert": "daily"}, by="ana")
        engine = appdb.connect(ws)
        for key, title, at in (
            ("m1", "New alert on Acme", datetime(2026, 12, 6, 15, 30)),
            ("m2", "New alert on Beta", datetime(2026, 12, 7, 6, 10)),
        ):
            with engine.begin() as c:
                enqueue(c, key=key, kind="alert", title=title, users=["ana"], only=True, now=at)
            dispatch.dispatch(ws, at)
            worker.deliver(ws, at)
        assert mail.messages == []
        assert inbox.unread(engine, ana) == 2
        assert digest.send_due(ws, datetime(2026, 12, 7, 6, 59)) == 0
        at = datetime(2026, 12, 7, 7, 0)
        assert digest.send_due(ws, at) == 1
        dispatch.dispatch(ws, at)
        worker.deliver(ws, at)
        (message,) = mail.wait_for(1)
        assert message["Subject"] == "Your daily digest for Dec 7, 2026: 2 notifications"
        assert message["To"] == "ana@example.com"
        text = message.get_body(("plain",)).get_content()
        assert "Dec 6, 2026: New alert on Acme" in text
        assert "Dec 7, 2026: New alert on Beta" in text
        assert "/unsubscribe/" in text
        # again at 08:01 and in the evening: nothing more
        for later in (datetime(2026, 12, 7, 7, 1), datetime(2026, 12, 7, 19, 0)):
            assert digest.send_due(ws, later) == 0
            dispatch.dispatch(ws, later)
            worker.deliver(ws, later)
        assert len(mail.messages) == 1
