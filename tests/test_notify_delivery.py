"""Delivery of notifications: the fan-out to recipients and channels (partner safety,
preferences), the email (MIME structure, the same words in text and HTML, a PDF attached), the
signed webhooks (signature, replay window, Slack and Teams payloads), and the worker's faults
(refusals, timeouts, 500s, a poisoned message) — against a real SMTP server and a real HTTP
receiver on 127.0.0.1 (tests/notifytools.py). Times are given explicitly (``now=``)."""

from __future__ import annotations

import html
import io
import shutil
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerscope import appdb
from partnerscope.accounts import Accounts, Role
from partnerscope.appdb.tables import audit_log, deliveries, notification_preferences, users
from partnerscope.notify import dispatch, webhook, worker
from partnerscope.outbox import enqueue
from partnerscope.workspace import Workspace
from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, make_workspace
from tests.notifytools import (
    Hook,
    HookServer,
    MailServer,
    Settings,
    by_key,
    configure,
    message_key,
    repeats,
)

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 12, 7, 9, 0)
SECRET = "s3cret-for-the-hook"
#: name → (role, partner, assigned partners, email)
PEOPLE = {
    "ada": (Role.ADMIN, None, (), "ada@example.com"),
    "ana": (Role.ANALYST, None, (), "ana@example.com"),
    "mia": (Role.PARTNER_MANAGER, None, ("P1",), "mia@example.com"),
    "fin": (Role.FINANCE, None, (), None),
    "pia": (Role.PARTNER_USER, "P1", (), "pia@acme.example"),
    "pete": (Role.PARTNER_USER, "P2", (), "pete@beta.example"),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The workspace and its users, made once (passwords are slow to hash on purpose)."""
    ws = make_workspace(
        tmp_path_factory.mktemp("notify") / "ws",
        PARTNERS_SOURCE,
        {"data/partners.csv": PARTNERS_CSV},
    )
    accounts = Accounts.open(ws)
    for name, (role, partner, assigned, _) in PEOPLE.items():
        accounts.add(name, role, PASSWORD, partner_id=partner, partners=assigned, by="test")
    with appdb.connect(ws).begin() as c:
        for name, (*_, address) in PEOPLE.items():
            c.execute(users.update().where(users.c.name == name).values(email=address))
    appdb.release(ws.root)
    return ws.root


@pytest.fixture
def ws(template, tmp_path):
    """A copy of the template, for a test to change."""
    shutil.copytree(template, tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def note(ws, key, **kwargs):
    """A notification written as an event would (its own transaction); its id."""
    values = {
        "kind": "alert",
        "title": "Acme's win rate fell below the tier's floor",
        "lines": ["Acme won 12 of 40 deals this quarter.", "Its tier needs 35 %."],
        "facts": [("Partner", "Acme"), ("Quarter", "Q4 2026")],
        "partner_id": "P1",
        "link": "/partners/P1",
        "now": NOW,
        **kwargs,
    }
    with appdb.connect(ws).begin() as c:
        return enqueue(c, key=key, **values)


def rows(ws, *where):
    with appdb.connect(ws).connect() as c:
        return c.execute(
            select(deliveries, users.c.name)
            .outerjoin(users, users.c.user_id == deliveries.c.user_id)
            .where(*where)
            .order_by(deliveries.c.delivery_id)
        ).all()


def who(ws, notification_id, channel="inapp"):
    return sorted(
        r.name
        for r in rows(
            ws,
            deliveries.c.notification_id == notification_id,
            deliveries.c.channel == channel,
        )
    )


def parts(message: EmailMessage) -> dict[str, str]:
    """content type → decoded text of each text part."""
    return {
        p.get_content_type(): p.get_content()
        for p in message.walk()
        if p.get_content_maintype() == "text"
    }


# ------------------------------------------------------------------------ who gets what


def test_dispatch_keeps_partner_users_to_their_partner_and_staff_to_their_scope(ws):
    configure(ws)  # no mail server: in-app only
    staff_p1 = note(ws, "a:p1", users=["pia", "pete"])  # named partner users: refused
    staff_p2 = note(ws, "a:p2", partner_id="P2", roles=["partner_manager", "admin"])
    nudge_p1 = note(
        ws,
        "nudge:p1",
        kind="nudge",
        audience="partner",
        title="Three of your sellers can take the advanced certification",
        lines=["It opens the next tier's discount."],
        facts=[],
        users=["pete", "ana"],
    )
    general = note(ws, "general", kind="signal", partner_id=None, link=None)

    made = dispatch.dispatch(ws, now=NOW)

    # the kind's role (partner_manager) among staff who see P1; partner users never
    assert who(ws, staff_p1) == ["mia"]
    # mia looks after P1 only: P2's alert reaches the admin alone
    assert who(ws, staff_p2) == ["ada"]
    # a partner notification: P1's own user, and staff named; never P2's user
    assert who(ws, nudge_p1) == ["ana", "pia"]
    # a notification about no partner: the kind's roles (admin, analyst)
    assert who(ws, general) == ["ada", "ana"]
    assert made == 1 + 1 + 2 + 2
    # fanned out once: a second dispatch finds nothing to do
    assert dispatch.dispatch(ws, now=NOW) == 0
    in_app = rows(ws)
    assert {r.status for r in in_app} == {"sent"}
    assert {r.channel for r in in_app} == {"inapp"}
    assert in_app[0].idempotency_key == f"n{staff_p1}-inapp-u{in_app[0].user_id}"


def test_dispatch_honours_preferences_off_and_daily(ws):
    with MailServer() as mail:
        configure(ws, mail=mail)
        with appdb.connect(ws).begin() as c:
            ids = dict(c.execute(select(users.c.name, users.c.user_id)).all())
            c.execute(
                notification_preferences.insert(),
                [
                    {"user_id": ids["ada"], "kind": "signal", "cadence": "off", "updated_at": NOW},
                    {"user_id": ids["ana"], "kind": "*", "cadence": "daily", "updated_at": NOW},
                ],
            )
        nid = note(ws, "sig", kind="signal", partner_id=None)
        dispatch.dispatch(ws, now=NOW)
        # ada turned signals off: nothing; ana takes everything daily: in-app now, email held
        assert who(ws, nid, "inapp") == ["ana"]
        (held,) = rows(ws, deliveries.c.notification_id == nid, deliveries.c.channel == "email")
        assert (held.name, held.status, held.cadence, held.address) == (
            "ana",
            "held",
            "daily",
            "ana@example.com",
        )
        assert worker.deliver(ws, now=NOW) == 0
        assert mail.messages == []


# --------------------------------------------------------------------------------- email


def test_email_has_text_and_html_with_the_same_sentences(ws):
    with MailServer() as mail:
        configure(ws, mail=mail)
        nid = note(ws, "a:mail", users=["ana"], only=True)
        assert dispatch.dispatch(ws, now=NOW) == 2  # ana: in-app and email
        assert worker.deliver(ws, now=NOW) == 1
        (message,) = mail.messages

    assert message["Subject"] == "Acme's win rate fell below the tier's floor"
    assert message["To"] == "ana@example.com"
    assert message["From"] == "Channel team <channel@example.com>"
    (delivery,) = rows(ws, deliveries.c.channel == "email")
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@partnerscope>"
    assert delivery.idempotency_key == f"n{nid}-email-u{delivery.user_id}"
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)
    assert message.get_content_type() == "multipart/alternative"
    texts = parts(message)
    assert list(texts) == ["text/plain", "text/html"]
    plain, page = texts["text/plain"], html.unescape(texts["text/html"])
    for sentence in [
        "Acme's win rate fell below the tier's floor",
        "Acme won 12 of 40 deals this quarter.",
        "Its tier needs 35 %.",
        "Quarter",
        "Q4 2026",
        "https://partners.example.com/partners/P1",
        "https://partners.example.com/settings/notifications",
        "https://partners.example.com/unsubscribe/",
    ]:
        assert sentence in plain, sentence
        assert sentence in page, sentence
    assert "Quarter: Q4 2026" in plain
    assert message["List-Unsubscribe"].startswith("<https://partners.example.com/unsubscribe/")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_a_password(ws, monkeypatch, tmp_path, security):
    """STARTTLS or SSL, and AUTH, against a server with a self-signed certificate that the
    client trusts through SSL_CERT_FILE (as a company's own mail server would be trusted)."""
    with MailServer(tls=security, credentials=("mailer", "pw-123"), cert_dir=tmp_path) as mail:
        monkeypatch.setenv("SSL_CERT_FILE", str(mail.cert_path))
        monkeypatch.setenv("PARTNERSCOPE_SMTP_PASSWORD", "pw-123")
        configure(ws, mail=mail, settings=Settings(security=security, username="mailer"))
        note(ws, "a:tls", users=["ana"], only=True)
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 1
        assert [m["To"] for m in mail.messages] == ["ana@example.com"]
        assert mail.logins == ["mailer"]


def test_email_attaches_the_partner_scorecard_as_a_pdf(web_world, tmp_path):
    import pdfplumber

    world = web_world.copy(tmp_path / "world")
    ws = Workspace(world.root)
    with MailServer() as mail:
        configure(ws, mail=mail)
        note(
            ws,
            "report:scorecard:own",
            kind="report",
            audience="partner",
            partner_id=world.own,
            title="Your scorecard",
            lines=["Your scorecard for the quarter is attached."],
            facts=[],
            link="/portal",
            attachment={"report": "scorecard", "partner": world.own, "run": None},
            only=True,
            addresses=["partner@own.example"],
        )
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 1
        (message,) = mail.messages
    assert message.get_content_type() == "multipart/mixed"
    body, attached = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename().endswith(".pdf")
    pdf = attached.get_content()
    assert pdf.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) >= 1
        assert document.pages[0].extract_text().strip()
    # an external address gets no preferences footer
    assert "unsubscribe" not in parts(message)["text/plain"]


# ------------------------------------------------------------------------------- webhooks


def test_webhook_is_signed_and_verifies_within_the_replay_window(ws, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    with HookServer() as hook:
        configure(ws, hooks={"ops": Hook(hook, secret_env="HOOK_SECRET")})
        nid = note(ws, "a:hook")
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 1
        (request,) = hook.requests
    assert (request.method, request.path) == ("POST", "/hook")
    stamp = request.headers["x-partnerscope-timestamp"]
    signature = request.headers["x-partnerscope-signature"]
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert request.headers["idempotency-key"] == f"n{nid}-webhook-ops"
    at = int(stamp)
    assert webhook.verify(SECRET, stamp, request.body, signature, now=at, window=300)
    assert webhook.verify(SECRET, stamp, request.body, signature, now=at + 300, window=300)
    # a replay after the window, a changed body, another secret: refused
    assert not webhook.verify(SECRET, stamp, request.body, signature, now=at + 301, window=300)
    assert not webhook.verify(SECRET, stamp, request.body + b" ", signature, now=at)
    assert not webhook.verify("other", stamp, request.body, signature, now=at)
    payload = request.json()
    assert payload["idempotency_key"] == f"n{nid}-webhook-ops"
    assert payload["title"] == "Acme's win rate fell below the tier's floor"
    assert payload["lines"] == ["Acme won 12 of 40 deals this quarter.", "Its tier needs 35 %."]
    assert payload["facts"][1] == {"label": "Quarter", "value": "Q4 2026"}
    assert payload["link"] == "https://partners.example.com/partners/P1"
    assert payload["kind"] == "alert" and payload["partner_id"] == "P1"
    assert payload["created_at"] == "2026-12-07T09:00:00Z"


def test_slack_and_teams_payloads(ws):
    with HookServer() as slack, HookServer() as teams:
        configure(
            ws,
            hooks={
                "slack": Hook(slack, format="slack"),
                "teams": Hook(teams, format="teams", kinds=("alert",)),
                "other": Hook(teams, format="json", kinds=("payout",), path="/never"),
            },
        )
        note(ws, "a:chat")
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 2  # the payout-only hook takes no alert
        (s,), (t,) = slack.requests, teams.requests
    message = s.json()
    assert message["text"].startswith("Acme's win rate fell below the tier's floor")
    types = [b["type"] for b in message["blocks"]]
    assert types == ["header", "section", "section", "actions", "context"]
    assert message["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "Acme's win rate fell below the tier's floor",
    }
    assert message["blocks"][2]["fields"][1]["text"] == "*Quarter*\nQ4 2026"
    assert message["blocks"][3]["elements"][0]["url"] == "https://partners.example.com/partners/P1"
    card = t.json()
    assert card["type"] == "message"
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    assert content["body"][0]["text"] == "Acme's win rate fell below the tier's floor"
    assert {"title": "Quarter", "value": "Q4 2026"} in next(
        b for b in content["body"] if b["type"] == "FactSet"
    )["facts"]
    assert content["actions"][0]["url"] == "https://partners.example.com/partners/P1"


def test_webhooks_take_digests_and_reports_only_when_they_name_them(ws):
    with HookServer() as everything, HookServer() as reports:
        configure(
            ws,
            hooks={"everything": everything, "reports": Hook(reports, kinds=("report",))},
        )
        note(ws, "digest:daily:ana", kind="digest", partner_id=None, users=["ana"], only=True)
        note(ws, "report:p1", kind="report", audience="partner", title="Your scorecard")
        note(ws, "a:both")
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 2
    assert [r.json()["kind"] for r in everything.requests] == ["alert"]
    assert [r.json()["kind"] for r in reports.requests] == ["report"]


# --------------------------------------------------------------------------------- faults


def test_smtp_refusing_then_accepting_delivers_once_after_the_backoff(ws):
    with MailServer(script=["451 4.3.0 Try again later"]) as mail:
        configure(ws, mail=mail)  # backoff 1 s, doubling, 3 attempts
        note(ws, "a:451", users=["ana"], only=True)
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 0
        (row,) = rows(ws, deliveries.c.channel == "email")
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == NOW + timedelta(seconds=1)
        assert "451" in row.last_error and "Try again later" in row.last_error
        # not due before the backoff
        assert worker.deliver(ws, now=NOW + timedelta(milliseconds=500)) == 0
        assert worker.deliver(ws, now=NOW + timedelta(seconds=1)) == 1
        assert len(mail.refused) == 1
        assert by_key(mail.messages) == {row.idempotency_key: 1}
    (row,) = rows(ws, deliveries.c.channel == "email")
    assert (row.status, row.attempts) == ("sent", 2)


def test_smtp_5xx_is_a_dead_letter_and_the_others_are_sent(ws):
    def refuse(message):
        return (
            "554 5.7.1 Recipient address rejected" if message["To"] == "ada@example.com" else None
        )

    with MailServer(refuse=refuse) as mail:
        configure(ws, mail=mail)
        note(ws, "sig:1", kind="signal", partner_id=None, users=["mia"])
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 2
        assert sorted(m["To"] for m in mail.messages) == ["ana@example.com", "mia@example.com"]
    email = {r.name: r for r in rows(ws, deliveries.c.channel == "email")}
    assert email["ada"].status == "dead" and email["ada"].attempts == 1
    assert "554" in email["ada"].last_error and "permanent" in email["ada"].last_error
    assert {email["ana"].status, email["mia"].status} == {"sent"}


def test_smtp_timeout_is_retried_and_delivered_once_after_dropping_repeats(ws):
    """The server stalls past the client's timeout: the worker gives up (temporary), tries again
    later; a server that accepted the stalled message after all holds a repeat with the same
    Message-ID, which a receiver drops."""
    with MailServer(stall_seconds=1.5) as mail:
        configure(ws, mail=mail, settings=Settings(timeout_seconds=0.5))
        note(ws, "a:slow", users=["ana"], only=True)
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 0
        (row,) = rows(ws, deliveries.c.channel == "email")
        assert row.status == "pending"
        assert "did not answer within 0.5 seconds" in row.last_error
        mail.stall_seconds = 0
        assert worker.deliver(ws, now=NOW + timedelta(seconds=1)) == 1
        counts = by_key(mail.wait_for(2, timeout=3))
    assert set(counts) == {row.idempotency_key}
    assert repeats(counts) <= 1
    (row,) = rows(ws, deliveries.c.channel == "email")
    assert (row.status, row.attempts) == ("sent", 2)


def test_webhook_500s_then_200_is_delivered_exactly_once(ws):
    with HookServer(statuses=[500, 503]) as hook:
        configure(ws, hooks={"ops": hook})
        note(ws, "a:500")
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 0
        assert worker.deliver(ws, now=NOW + timedelta(seconds=1)) == 0
        (row,) = rows(ws, deliveries.c.channel == "webhook")
        assert row.next_attempt_at == NOW + timedelta(seconds=1 + 2)
        assert "answered 503" in row.last_error
        assert worker.deliver(ws, now=NOW + timedelta(seconds=3)) == 1
        assert worker.deliver(ws, now=NOW + timedelta(hours=1)) == 0
    assert [r.status for r in hook.requests] == [500, 503, 200]
    assert {r.headers["idempotency-key"] for r in hook.requests} == {row.idempotency_key}
    assert by_key(hook.accepted) == {row.idempotency_key: 1}
    (row,) = rows(ws, deliveries.c.channel == "webhook")
    assert (row.status, row.attempts) == ("sent", 3)


def test_webhook_4xx_is_permanent_but_429_is_retried(ws):
    with HookServer(statuses=[429, 404]) as hook:
        configure(ws, hooks={"ops": hook})
        note(ws, "a:4xx")
        dispatch.dispatch(ws, now=NOW)
        worker.deliver(ws, now=NOW)
        (row,) = rows(ws, deliveries.c.channel == "webhook")
        assert (row.status, row.attempts) == ("pending", 1)
        worker.deliver(ws, now=NOW + timedelta(seconds=1))
    (row,) = rows(ws, deliveries.c.channel == "webhook")
    assert (row.status, row.attempts) == ("dead", 2)
    assert "answered 404" in row.last_error


def test_a_poisoned_message_is_dead_at_once_without_blocking_the_others(ws):
    with MailServer() as mail:
        configure(ws, mail=mail)
        poisoned = note(
            ws,
            "report:bad",
            kind="report",
            attachment={"report": "no-such-report", "partner": "P1"},
            users=["ana"],
            only=True,
        )
        # a title no mail header can carry (a line break)
        broken = note(ws, "a:broken", title="Two\nlines", users=["ana"], only=True)
        fine = note(ws, "a:fine", users=["ana"], only=True)
        dispatch.dispatch(ws, now=NOW)
        assert worker.deliver(ws, now=NOW) == 1
        assert [message_key(m) for m in mail.messages] == [f"n{fine}-email-u2"]
    dead, broken_dead = rows(ws, deliveries.c.status == "dead")
    assert dead.notification_id == poisoned and dead.attempts == 1
    assert "could not be built" in dead.last_error and "no-such-report" in dead.last_error
    assert broken_dead.notification_id == broken and broken_dead.attempts == 1
    assert "could not be built" in broken_dead.last_error


def test_attempts_run_out_into_a_dead_letter_that_retry_requeues_with_an_audit_entry(ws):
    with HookServer(default=502) as hook:
        configure(ws, hooks={"ops": hook})  # 3 attempts
        note(ws, "a:down")
        dispatch.dispatch(ws, now=NOW)
        for seconds in (0, 1, 3):
            worker.deliver(ws, now=NOW + timedelta(seconds=seconds))
        (row,) = rows(ws, deliveries.c.channel == "webhook")
        assert (row.status, row.attempts) == ("dead", 3)
        assert "3 attempts" in row.last_error
        assert worker.deliver(ws, now=NOW + timedelta(days=1)) == 0
        assert len(hook.requests) == 3

        assert worker.retry(ws, [row.delivery_id, 999], actor="ada") == 1
        (again,) = rows(ws, deliveries.c.channel == "webhook")
        assert (again.status, again.attempts) == ("pending", 0)
        hook.default = 200
        assert worker.deliver(ws) == 1
    with appdb.connect(ws).connect() as c:
        (entry,) = c.execute(select(audit_log).where(audit_log.c.action == "retry")).all()
    assert (entry.actor, entry.object_type, entry.object_id) == (
        "ada",
        "delivery",
        str(row.delivery_id),
    )
    assert entry.detail["attempts"] == 3


def test_two_workers_at_once_send_each_delivery_once(ws):
    import threading

    with MailServer() as mail, HookServer() as hook:
        configure(ws, mail=mail, hooks={"ops": hook})
        for i in range(20):
            note(ws, f"sig:{i}", kind="signal", partner_id=None, addresses=[f"o{i}@example.com"])
        made = dispatch.dispatch(ws, now=NOW)
        assert made == 20 * (2 + 2 + 1 + 1)  # ada, ana: in-app and email; the address; the hook
        sent: list[int] = []
        errors: list[BaseException] = []

        def work():
            try:
                sent.append(worker.deliver(ws, now=NOW))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(sent) == 20 * 4
        assert repeats(by_key(mail.messages)) == 0 and len(mail.messages) == 60
        assert repeats(by_key(hook.accepted)) == 0 and len(hook.accepted) == 20


# ------------------------------------------------------------------------------------ CLI


def cli(ws, *args):
    from partnerscope.cli import app

    return CliRunner().invoke(app, ["-w", str(ws.root), *args])


def test_cli_send_outbox_retry(ws):
    with MailServer(
        refuse=lambda m: "550 5.1.1 No such user" if m["To"] == "ada@example.com" else None
    ) as mail:
        configure(ws, mail=mail)
        note(ws, "sig:cli", kind="signal", partner_id=None)
        result = cli(ws, "notify", "send")
        assert result.exit_code == 0, result.output
        assert "4 deliveries made from new notifications; 1 message sent; 1 message could " in (
            " ".join(result.output.split())
        )
        assert [m["To"] for m in mail.messages] == ["ana@example.com"]

        result = cli(ws, "notify", "outbox", "--dead", "--format", "csv")
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0] == "Delivery,Notification,Kind,To,Channel,Status,Attempts,When,Last error"
        (dead,) = lines[1:]
        assert "ada <ada@example.com>,Email,dead letter,1" in dead
        assert "Decision signals" in dead and "550 5.1.1 No such user" in dead

        result = cli(ws, "notify", "retry")
        assert result.exit_code == 1 and "--all-dead" in result.output
        mail.refuse = None
        result = cli(ws, "notify", "retry", "--all-dead", "--by", "ada")
        assert result.exit_code == 0, result.output
        assert "1 dead letter will be sent again" in result.output
        result = cli(ws, "notify", "send")
        assert "1 message sent" in result.output
        assert sorted(m["To"] for m in mail.messages) == ["ada@example.com", "ana@example.com"]


def test_cli_test_message_and_its_errors(ws):
    with MailServer() as mail:
        configure(ws, mail=mail)
        result = cli(ws, "notify", "test", "me@example.com")
        assert result.exit_code == 0, result.output
        (message,) = mail.messages
        assert message["Subject"] == "partnerscope test message"
        assert message["To"] == "me@example.com"
        port = mail.port
    # the server is gone: the error names where and how to fix it, without a traceback
    result = cli(ws, "notify", "test", "me@example.com")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert f"nothing answers at 127.0.0.1:{port} (connection refused)" in text
    assert "[notifications.smtp] host, port" in text
    assert "Traceback" not in result.output
    result = cli(ws, "notify", "test", "not-an-address")
    assert result.exit_code == 1 and "is not an email address" in result.output


# ------------------------------------------------------------------------------- the stores


def test_dispatch_retries_and_concurrent_workers_on_sqlite_and_postgresql(
    workspace_factory, store_url
):
    import threading

    ws = workspace_factory(PARTNERS_SOURCE, {"data/partners.csv": PARTNERS_CSV})
    accounts = Accounts.open(ws)
    accounts.add("ana", Role.ANALYST, PASSWORD, by="test")
    accounts.add("pia", Role.PARTNER_USER, PASSWORD, partner_id="P1", by="test")
    with appdb.connect(ws).begin() as c:
        c.execute(users.update().where(users.c.name == "ana").values(email="ana@example.com"))
    with MailServer(script=["421 4.7.0 Busy"]) as mail, HookServer(statuses=[500]) as hook:
        configure(ws, mail=mail, hooks={"ops": hook})
        for i in range(12):
            note(ws, f"sig:{i}", kind="signal", partner_id=None, users=["pia"])
        assert dispatch.dispatch(ws, now=NOW) == 12 * 3  # ana: in-app, email; the hook
        assert dispatch.dispatch(ws, now=NOW) == 0
        sent: list[int] = []
        threads = [
            threading.Thread(target=lambda: sent.append(worker.deliver(ws, now=NOW)))
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(sent) == 24 - 2  # the first email and the first webhook are tried again
        assert worker.deliver(ws, now=NOW + timedelta(seconds=1)) == 2
        assert by_key(mail.messages) == {f"n{i + 1}-email-u1": 1 for i in range(12)}
        assert by_key(hook.accepted) == {f"n{i + 1}-webhook-ops": 1 for i in range(12)}
    # pia, a partner's user named on staff notifications, got none of them
    assert who(ws, 1) == ["ana"]
    assert {r.status for r in rows(ws)} == {"sent"}


def test_cli_send_with_notifications_off_sends_nothing(ws):
    with MailServer() as mail:
        configure(ws, mail=mail, settings=Settings(extra={"enabled": False}))
        note(ws, "a:off", users=["ana"], only=True)
        result = cli(ws, "notify", "send")
        assert result.exit_code == 0, result.output
        assert "Notifications are off ([notifications] enabled = false" in " ".join(
            result.output.split()
        )
        assert mail.messages == [] and rows(ws) == []


def test_the_send_loop_survives_a_failed_round_and_stops_when_told(ws, monkeypatch):
    import threading

    monkeypatch.setenv(appdb.ENV_URL, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    stop = threading.Event()
    errors: list[Exception] = []

    def failed(exc):
        errors.append(exc)
        if len(errors) == 2:
            stop.set()

    worker.run_forever(ws, stop, 0.01, on_error=failed)
    assert len(errors) == 2
    assert "127.0.0.1" in str(errors[0])
