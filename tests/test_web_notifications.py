"""The notification centre, preferences, unsubscribe links, the outbox's dead letters and the
live updates in the web app, on a copy of the web world. Notifications are written with
``outbox.enqueue`` and fanned out by the real ``dispatch``; the demo's own (its runs' alerts)
are read first, so that each test counts from zero."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from partnerscope import appdb
from partnerscope.accounts import Accounts, Role
from partnerscope.appdb.tables import audit_log, deliveries
from partnerscope.notify import dispatch, inbox, preferences, unsubscribe
from partnerscope.outbox import enqueue
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN, PASSWORD, csrf_of

pytestmark = pytest.mark.slow
#: what a browser's EventSource asks for
STREAM = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    copy = web_world.copy(tmp_path_factory.mktemp("notify") / "demo")
    ws = Workspace.open(copy.root)
    # a user of the other partner, beside pat (OWN's)
    Accounts.open(ws).add("pim", Role.PARTNER_USER, PASSWORD, partner_id=FOREIGN, by="test")
    dispatch.dispatch(ws)
    engine = appdb.connect(ws)
    for user in Accounts.open(ws).everyone():
        inbox.mark_all_read(engine, user)
    return copy


@pytest.fixture(scope="module")
def app(world):
    return world.app()


def ws_of(world):
    return Workspace.open(world.root)


def client(world, app, user):
    c = world.client(user, app=app)
    c.headers["X-CSRF-Token"] = csrf_of(c, "/notifications")
    return c


def tell(world, key, title, *, partner=None, users=(), lines=(), link=None, kind=None):
    """A notification, fanned out at once; its id."""
    ws = ws_of(world)
    with appdb.connect(ws).begin() as c:
        nid = enqueue(
            c,
            key=key,
            kind=kind or ("registration" if partner else "alert"),
            title=title,
            lines=lines,
            audience="partner" if partner else "staff",
            partner_id=partner,
            users=list(users),
            only=True,
            link=link,
        )
    dispatch.dispatch(ws)
    return nid


def badge(html):
    found = re.search(r'id="unread-badge" data-unread="(\d+)"', html)
    assert found, html[:2000]
    return int(found.group(1))


def test_each_partner_user_sees_only_its_own_notifications_and_marks_them_read(world, app):
    own = tell(
        world, "t1:own", "Your registration for Globex was approved", partner=OWN,
        users=["pat", "pim"], lines=["It is protected for 90 days."], link="/registrations",
    )  # fmt: skip
    other = tell(world, "t1:foreign", "Your registration for Initech expires soon",
                 partner=FOREIGN, users=["pat", "pim"])  # fmt: skip
    pat, pim = client(world, app, "pat"), client(world, app, "pim")
    mine = pat.get("/api/v1/notifications").json()
    assert [n["title"] for n in mine["notifications"] if n["unread"]] == [
        "Your registration for Globex was approved"
    ]
    assert mine["unread"] == 1 and mine["notifications"][0]["kind_label"] == "Deal registrations"
    assert other not in [n["notification_id"] for n in mine["notifications"]]
    theirs = pim.get("/api/v1/notifications").json()["notifications"]
    assert [n["notification_id"] for n in theirs if n["unread"]] == [other]
    assert own not in [n["notification_id"] for n in theirs]
    page = pat.get("/notifications")
    assert page.status_code == 200 and badge(page.text) == 1
    assert "Your registration for Globex was approved" in page.text
    assert "It is protected for 90 days." in page.text
    assert "Initech" not in page.text
    # another user's notification is answered like a missing one
    assert pat.post(f"/api/v1/notifications/{other}/read").status_code == 404
    assert pat.post(f"/notifications/{other}/read", data={}).status_code == 404
    assert pim.get("/api/v1/notifications").json()["unread"] == 1
    # marking it read from the page opens what it is about
    opened = pat.post(f"/notifications/{own}/read", data={"open": "1"}, follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/registrations")
    assert badge(pat.get("/notifications").text) == 0
    assert pat.post(f"/api/v1/notifications/{own}/read").json() == {"marked": 0, "unread": 0}


def test_staff_never_see_a_partner_users_rows_and_read_all_marks_only_their_own(world, app):
    tell(world, "t2:a", "New alert on a partner", users=["ana"])
    tell(world, "t2:b", "Another alert", users=["ana", "ada"])
    ana, ada = client(world, app, "ana"), client(world, app, "ada")
    assert ana.get("/api/v1/notifications").json()["unread"] == 2
    done = ana.post("/notifications/read-all", data={}, follow_redirects=False)
    assert done.status_code == 303
    assert ana.get("/api/v1/notifications").json()["unread"] == 0
    assert ada.get("/api/v1/notifications").json()["unread"] == 1
    assert ada.post("/api/v1/notifications/read-all").json() == {"marked": 1, "unread": 0}


def test_preferences_page_and_api(world, app):
    ana = client(world, app, "ana")
    pat = client(world, app, "pat")
    page = ana.get("/settings/notifications")
    assert page.status_code == 200
    assert 'name="kind.alert"' in page.text and "New alerts" in page.text
    saved = ana.post(
        "/settings/notifications",
        data={"kind.alert": "daily", "kind.signal": "off"},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303, "/settings/notifications?saved=true",
    )  # fmt: skip
    kinds = {
        k["kind"]: k["cadence"]
        for k in ana.get("/api/v1/notifications/preferences").json()["kinds"]
    }
    assert (kinds["alert"], kinds["signal"], kinds["approval"]) == ("daily", "off", "immediately")
    assert 'value="daily" selected' in ana.get("/settings/notifications").text
    wrong = ana.post("/settings/notifications", data={"kind.alert": "hourly"})
    assert wrong.status_code == 400
    assert "&#39;hourly&#39; is not a cadence for new alerts" in wrong.text
    api = ana.post("/api/v1/notifications/preferences", json={"cadences": {"alerts": "daily"}})
    assert api.status_code == 400
    assert api.json()["detail"].startswith("there is no kind of notification 'alerts'")
    # a partner user is offered, and may set, only the kinds that reach partners
    offered = [k["kind"] for k in pat.get("/api/v1/notifications/preferences").json()["kinds"]]
    assert offered == list(preferences.PARTNER_KINDS)
    assert 'name="kind.alert"' not in pat.get("/settings/notifications").text
    refused = pat.post("/api/v1/notifications/preferences", json={"cadences": {"alert": "off"}})
    assert refused.status_code == 400 and "does not receive" in refused.json()["detail"]
    ok = pat.post("/api/v1/notifications/preferences", json={"cadences": {"report": "weekly"}})
    assert {k["kind"]: k["cadence"] for k in ok.json()["kinds"]}["report"] == "weekly"


def test_an_unsubscribe_link_works_without_signing_in_and_only_by_its_button(world, app):
    ws = ws_of(world)
    fin = Accounts.open(ws).get("fin")
    url = unsubscribe.link(ws, fin.user_id, "payout")
    path = url.removeprefix("http://127.0.0.1:8000")
    anonymous = world.client(app=app)

    def cadence():
        with appdb.connect(ws).connect() as c:
            return preferences.cadence(c, fin.user_id, "payout")

    shown = anonymous.get(path)
    assert shown.status_code == 200
    assert "Stop telling <strong>fin</strong> of payouts?" in shown.text
    assert cadence() == "immediately"  # opening the link (a mail scanner) changes nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)
    forged = world.client(app=app).post(path, data={"csrf_token": "x"})
    assert forged.status_code == 403 and cadence() == "immediately"
    done = anonymous.post(path, data={"csrf_token": token})
    assert done.status_code == 200
    assert "Done: fin will no longer be told of payouts." in done.text
    assert cadence() == "off"
    tampered = anonymous.get(path[:-3] + "abc")
    assert tampered.status_code == 404
    assert "this unsubscribe link is not valid" in tampered.text
    assert "Traceback" not in tampered.text


def test_the_outbox_shows_dead_letters_to_admins_and_sends_them_again(world, app):
    ws = ws_of(world)
    nid = tell(world, "t5", "Payout ledger approved", users=["ana"], kind="payout")
    engine = appdb.connect(ws)
    with engine.begin() as c:
        delivery = c.execute(
            deliveries.insert().values(
                notification_id=nid, address="ops@example.com", channel="email",
                cadence="immediately", idempotency_key=f"t5-dead-{nid}", status="dead",
                attempts=8, next_attempt_at=datetime(2026, 12, 7), created_at=datetime(2026, 12, 7),
                last_error="554 mailbox unavailable",
            )
        ).inserted_primary_key[0]  # fmt: skip
    ada = client(world, app, "ada")
    page = ada.get("/admin/outbox")
    assert page.status_code == 200
    row = re.search(rf'<tr data-delivery="{delivery}">.*?</tr>', page.text, re.S).group(0)
    for said in ("Payout ledger approved", "ops@example.com", "554 mailbox unavailable", ">8<"):
        assert said in row, row
    assert [d["delivery_id"] for d in ada.get("/api/v1/admin/outbox").json()] == [delivery]
    assert client(world, app, "ana").get("/admin/outbox").status_code == 403
    sent = ada.post(
        "/admin/outbox/retry", data={"delivery_id": str(delivery)}, follow_redirects=False
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/admin/outbox?requeued=1")
    with engine.connect() as c:
        status = c.execute(
            select(deliveries.c.status).where(deliveries.c.delivery_id == delivery)
        ).scalar_one()
        actors = c.execute(
            select(audit_log.c.actor).where(
                audit_log.c.object_type == "delivery", audit_log.c.object_id == str(delivery)
            )
        ).scalars().all()  # fmt: skip
    assert status == "pending" and actors == ["ada"]
    assert "1 delivery will be sent again." in ada.get("/admin/outbox?requeued=1").text
    empty = ada.post("/api/v1/admin/outbox/retry", json={})
    assert empty.status_code == 422 and "delivery_ids" in empty.json()["detail"]


def test_the_bar_shows_the_unread_badge_and_the_live_script_on_every_page(world, app):
    tell(world, "t6", "Something for max", users=["max"])
    max_ = client(world, app, "max")
    for path in ("/", "/alerts", "/notifications"):
        html = max_.get(path).text
        assert badge(html) == 1, path
        assert re.search(r'<script src="/static/live.js" defer data-run="\d+"></script>', html)
    assert ">Outbox<" not in max_.get("/").text
    assert ">Outbox<" in client(world, app, "ada").get("/").text
    inbox.mark_all_read(appdb.connect(ws_of(world)), Accounts.open(ws_of(world)).get("max"))


def test_events_tell_the_unread_count_and_a_new_run(world, app):
    """A bounded read of the stream (``seconds=0``: one look): the unread count, and a run
    event when the page shows an older run than the one served."""
    pat = client(world, app, "pat")
    served = pat.get("/api/v1/runs").status_code  # (pat may not list runs)
    assert served == 403
    answer = pat.get("/events?seconds=0")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text == "retry: 1000\n\nevent: unread\ndata: 0\n\n"
    tell(world, "t7", "A report for pat", partner=OWN, users=["pat"], kind="report")
    told = pat.get("/events?seconds=0&run=0").text
    assert "event: unread\ndata: 1\n\n" in told
    run = re.search(r"event: run\ndata: (\d+)\n\n", told)
    assert run and int(run.group(1)) >= 1
    assert world.client(app=app).get("/events", follow_redirects=False).status_code == 303
    # a client that does not ask for a stream (a page opened by hand) gets one look
    assert pat.get("/events").text == "retry: 1000\n\nevent: unread\ndata: 1\n\n"


def test_the_stream_ends_when_the_client_goes_away_and_does_not_hold_shutdown(world, tmp_path):
    """Against a real uvicorn: a client reads the first events and leaves; the server notices
    (its next look) and can shut down at once with another stream still open for at most the
    stream's lifetime."""
    import threading
    import time

    import uvicorn

    from partnerscope.web import create_app
    from partnerscope.web.app import UVICORN
    from tests.ports import free_port

    ws = ws_of(world)
    inbox.mark_all_read(appdb.connect(ws), Accounts.open(ws).get("ana"))
    app = create_app(world.root, warm=False)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **UVICORN
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base) as http:
        page = http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        http.post(
            "/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token, "next": "/"}
        )
        with http.stream("GET", "/events?seconds=20", headers=STREAM) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 1000"
            assert [next(lines) for _ in range(3)] == ["", "event: unread", "data: 0"]
        # gone: the server's stream ends at its next look (every 2 s)
        time.sleep(3)
        assert len(server.server_state.tasks) == 0, server.server_state.tasks
        # a stream left open ends by its lifetime: shutdown waits no longer than that
        with http.stream("GET", "/events?seconds=3", headers=STREAM) as stream:
            next(stream.iter_lines())
            started = time.monotonic()
            server.should_exit = True
            thread.join(15)
            assert not thread.is_alive()
            assert time.monotonic() - started < 6
