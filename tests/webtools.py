"""The web app under test: a demo workspace with one user per role, signed-in clients and a
live server (uvicorn in a thread) for the browser and load tests.

The world: the demo at scale 0.1 (100 partners, seed 42). ``own`` is P0001, the partner of the
partner user ``pat``; the partner manager ``max`` looks after every partner whose
partner_manager is Marco Rossi (P0001 among them) and, assigned by id, P0003; ``foreign``
(P0002, Jordan Lee's) is visible to neither. ``fin`` (finance) sees every partner's money.

Money: besides the demo's draft ledger of its latest complete quarter, the quarter before it
(``approved``) is approved, and ``own`` and ``foreign`` each have an MDF request taken through
to paid (``requests``: partner id → request id).

Operations: 45 leads are routed round-robin to the German and US partners, one each; the leads
of ``own`` and ``foreign`` (``leads``: partner id → lead id) are touched and converted. ``own``
has a registration marked won and ``foreign`` one rejected (``registrations``). Each ends in a
state no further step applies to, so a test may post to them without changing them.

Lifecycle: ``own`` and ``foreign`` each have an onboarding plan started on 3 August 2026.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.ports import free_port

PASSWORD = "correct horse battery staple"
OWN = "P0001"
FOREIGN = "P0002"
ASSIGNED = "P0003"
MANAGER_NAME = "Marco Rossi"
#: user name → role
USERS = {
    "ada": "admin",
    "ana": "analyst",
    "max": "partner_manager",
    "pat": "partner_user",
    "fin": "finance",
}


@dataclass
class WebWorld:
    root: Path
    own: str = OWN
    foreign: str = FOREIGN
    assigned: str = ASSIGNED
    #: an approved payout ledger's quarter
    approved: str = ""
    #: partner id → its paid MDF request
    requests: dict[str, int] = field(default_factory=dict)
    #: partner id → its converted lead
    leads: dict[str, str] = field(default_factory=dict)
    #: partner id → its registration (won for own, rejected for foreign)
    registrations: dict[str, int] = field(default_factory=dict)

    def app(self, **kwargs: Any) -> Any:
        """The app; its pages are built on demand unless ``warm=True`` (a background thread
        reading a test's temporary workspace would outlive it)."""
        from partnerscope.web import create_app

        return create_app(self.root, **{"warm": False, **kwargs})

    def copy(self, root: Path) -> WebWorld:
        """The same world in ``root``, for a test module that changes it (the workspace lock
        file is left behind)."""
        from tests.conftest import copy_workspace

        return replace(self, root=copy_workspace(self.root, root))

    def client(self, user: str | None = None, app: Any = None) -> TestClient:
        """A client over HTTPS (so Secure cookies are sent), signed in as ``user``."""
        client = TestClient(app or self.app(), base_url="https://testserver")
        if user is not None:
            sign_in(client, user)
        return client


def build(root: Path) -> WebWorld:
    """Make the demo workspace and its users (about 25 s)."""
    command = [sys.executable, "-m", "partnerscope", "demo", str(root), "--scale", "0.1"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    from partnerscope.accounts import Accounts, Role
    from partnerscope.workspace import Workspace

    accounts = Accounts.open(Workspace.open(root))
    for name, role in USERS.items():
        accounts.add(
            name,
            Role(role),
            PASSWORD,
            partner_id=OWN if role == "partner_user" else None,
            manages=MANAGER_NAME if role == "partner_manager" else None,
            partners=[ASSIGNED] if role == "partner_manager" else (),
            by="test",
        )
    _onboarding(root)
    return WebWorld(root, **_money(root), **_operations(root))


def _onboarding(root: Path) -> None:
    """Onboarding plans for ``own`` and ``foreign`` (the demo's plans are its newest partners')."""
    from datetime import date

    from partnerscope.lifecycle.onboarding import start_plan
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    for partner in (OWN, FOREIGN):
        start_plan(ws, partner, started_on=date(2026, 8, 3), by="test")


def _money(root: Path) -> dict[str, Any]:
    from partnerscope.evaluation.view import RunData
    from partnerscope.money import mdf
    from partnerscope.money.payouts import Payouts, quarters
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    approved = [q for q, complete in quarters(RunData(ws)).items() if complete][-2]
    Payouts(ws).compute(approved, by="test")
    Payouts(ws).approve(approved, by="test")
    requests = {}
    for partner in (OWN, FOREIGN):
        done = mdf.submit(
            ws, partner, activity_type="event", name=f"{partner} roadshow", amount=900, by="test"
        )
        mdf.approve(ws, done.request_id, by="test")
        mdf.claim(ws, done.request_id, amount=800, proof="INV-1", by="test")
        requests[partner] = mdf.pay(ws, done.request_id, by="test").request_id
    return {"approved": approved, "requests": requests}


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    response = client.post(
        "/login",
        data={"name": user, "password": password, "csrf_token": login_token(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The session's CSRF token, read from a page (the hx-headers of its body)."""
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, with the settings of `partnerscope
    serve`; yields its base URL."""
    import uvicorn

    from partnerscope.web.app import UVICORN

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **UVICORN
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _operations(root: Path) -> dict[str, Any]:
    from datetime import UTC, date, datetime, timedelta

    from partnerscope.operations import registrations
    from partnerscope.operations.routing import service
    from partnerscope.operations.routing.leadfile import read_rows
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rows = [
        {"lead_id": f"W-{country}-{i}", "country": country, "estimated_value": "50000"}
        for country, count in (("DE", 12), ("US", 33))
        for i in range(count)
    ]
    leads, problems = read_rows(ws, rows, now.date())
    assert not problems, problems
    routed = service.route_leads(ws, leads, now=now, by="test").assignments
    assigned = {a.partner_id: a.lead_id for a in routed}
    for partner in (OWN, FOREIGN):
        service.record_touch(ws, assigned[partner], partner, now=now, by="test")
        service.record_outcome(ws, assigned[partner], partner, converted=True, now=now, by="test")
    made = {}
    for partner, account in (
        (OWN, "Rheinmetall Logistik GmbH"),
        (FOREIGN, "Pacific Rim Foods Inc"),
    ):
        done = registrations.submit(
            ws,
            partner,
            account_name=account,
            amount=120_000,
            expected_close=date.today() + timedelta(days=60),
            by="test",
        ).registration
        if partner == OWN:
            registrations.approve(ws, done.registration_id, by="test")
            registrations.mark_won(ws, done.registration_id, by="test")
        else:
            registrations.reject(ws, done.registration_id, reason="duplicate", by="test")
        made[partner] = done.registration_id
    return {"leads": {p: assigned[p] for p in (OWN, FOREIGN)}, "registrations": made}
