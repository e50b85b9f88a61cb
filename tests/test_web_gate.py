"""The body gate (web/gate.py) on a live uvicorn server: a request with a body is signed in
before a byte of it is read, and no body is larger than its route's limit.

The served app is wrapped in ``Counted``, which adds up the body bytes the server hands the
app: what the server read of each request. Requests go over a raw socket where it matters, so
that a test can send a request's head alone (a declared 50 MB body that never comes) or stream
a body until the server answers.

These tests route leads, so they work on a copy of the web world.
"""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from partnerscope.accounts import Accounts
from partnerscope.web.gate import DEFAULT_LIMIT, LIMITS, MIB
from partnerscope.web.routes.leads import MAX_UPLOAD
from partnerscope.workspace import Workspace
from tests.webtools import PASSWORD, live_server, login_token

pytestmark = pytest.mark.slow

#: what an anonymous client says it will send
FIFTY_MB = 50_000_000


class Counted:
    """An ASGI app, counting the request body bytes the server hands it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: body bytes the client had sent when the answer came
    sent: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    base: str
    counted: Counted
    #: ana's (analyst) API token, and her signed-in session (cookie and CSRF token)
    token: str
    cookie: str
    csrf: str
    extra: dict[str, Any] = field(default_factory=dict)

    def raw(
        self, head: str, body: Iterable[bytes] = (), *, chunked: bool = False, timeout: float = 20
    ) -> Answer:
        """Send ``head`` (request line and headers, without the blank line), then ``body``
        piece by piece until the server answers; read the whole answer."""
        parts = urlsplit(self.base)
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
            s.sendall(head.encode() + b"\r\n\r\n")
            sent = 0
            for piece in body:
                if select.select([s], [], [], 0)[0]:
                    break  # the server answered: stop sending
                try:
                    s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
            data = b""
            while not _complete(data):
                try:
                    more = s.recv(65536)
                except ConnectionResetError:
                    break
                if not more:
                    break
                data += more
        top, _, content = data.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Answer(int(lines[0].split()[1]), headers, content, sent)


def _complete(data: bytes) -> bool:
    top, found, content = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", top)
    return bool(found and length and len(content) >= int(length.group(1)))


def head(method: str, path: str, *headers: str) -> str:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers])


def endless(piece: int = 64 * 1024, total: int = 200 * MIB) -> Iterator[bytes]:
    """Pieces of a body the client would go on sending (``total`` bytes at most)."""
    for _ in range(total // piece):
        yield b"x" * piece


@pytest.fixture(scope="module")
def server(web_world, tmp_path_factory) -> Iterator[Server]:
    world = web_world.copy(tmp_path_factory.mktemp("gate") / "demo")
    token = Accounts.open(Workspace.open(world.root)).issue_token("ana", "gate", by="test")[1]
    counted = Counted(world.app())
    with live_server(counted) as base, httpx.Client(base_url=base) as browser:
        token_of_form = login_token(browser)
        browser.post(
            "/login",
            data={"name": "ana", "password": PASSWORD, "csrf_token": token_of_form, "next": "/"},
        )
        cookie = browser.cookies["partnerscope_session"]
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', browser.get("/leads").text)
        assert csrf is not None
        yield Server(base, counted, token, cookie, csrf.group(1))


def test_an_anonymous_body_is_refused_before_a_byte_of_it_is_read(server):
    before = server.counted.read
    # only the head is sent: the answer comes without the 50 MB the client declared
    api = server.raw(
        head(
            "POST",
            "/api/v1/leads/route",
            "Content-Type: application/json",
            f"Content-Length: {FIFTY_MB}",
        )
    )
    assert api.status == 401 and api.json() == {"detail": "not signed in: sign in first"}
    assert api.headers["www-authenticate"] == "Bearer"
    assert api.headers["connection"] == "close"
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]
    # an unknown token and a streamed body: the same, before the first piece is taken
    streamed = server.raw(
        head(
            "POST",
            "/api/v1/leads/route",
            "Authorization: Bearer ps_not-a-token",
            "Transfer-Encoding: chunked",
        )
    )
    assert streamed.status == 401
    assert streamed.json() == {"detail": "not signed in: the API token is unknown or revoked"}
    # a page: to the sign-in form, which comes back here afterwards
    page = server.raw(
        head(
            "POST",
            "/leads/route",
            "Content-Type: multipart/form-data; boundary=x",
            f"Content-Length: {FIFTY_MB}",
        )
    )
    assert page.status == 303 and page.headers["location"] == "/login?next=/leads/route"
    assert server.counted.read == before  # the server read nothing of the three bodies


def test_a_signed_in_body_over_its_routes_limit_is_refused_413(server):
    bearer = f"Authorization: Bearer {server.token}"
    limit = LIMITS[("POST", "/api/v1/leads/route")]
    assert limit == 16 * MIB
    before = server.counted.read
    declared = server.raw(
        head(
            "POST",
            "/api/v1/leads/route",
            bearer,
            "Content-Type: application/json",
            f"Content-Length: {limit + 1}",
        )
    )
    assert declared.status == 413
    assert declared.json() == {
        "detail": "the request is too large: POST /api/v1/leads/route takes at most 16 MiB "
        "(16,777,216 bytes)"
    }
    assert server.counted.read == before  # refused on its Content-Length, unread
    # a page form over the default 1 MiB: the message page, saying the limit
    form = server.raw(
        head(
            "POST",
            "/decisions/new",
            f"Cookie: partnerscope_session={server.cookie}",
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {DEFAULT_LIMIT + 1}",
        )
    )
    assert form.status == 413 and b"<h1>Too large</h1>" in form.body
    assert b"POST /decisions/new takes at most 1 MiB (1,048,576 bytes)" in form.body
    assert server.counted.read == before
    # a streamed body is counted as it comes and refused once it passes the limit: the
    # client would send 200 MiB, the server reads a little over 1 MiB of it
    streamed = server.raw(
        head(
            "POST",
            "/api/v1/decisions",
            bearer,
            "Content-Type: application/json",
            "Transfer-Encoding: chunked",
        ),
        endless(),
        chunked=True,
    )
    assert streamed.status == 413, streamed.body
    assert b"POST /api/v1/decisions takes at most 1 MiB" in streamed.body
    read = server.counted.read - before
    assert DEFAULT_LIMIT < read <= DEFAULT_LIMIT + MIB // 2, read
    assert streamed.sent < 20 * MIB, streamed.sent


def test_signed_in_posts_and_the_page_upload_still_work(server):
    with httpx.Client(base_url=server.base) as client:
        routed = client.post(
            "/api/v1/leads/route",
            json={"leads": [{"lead_id": "G-1", "country": "US", "estimated_value": "90000"}]},
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert routed.status_code == 200, routed.text
        assert [a["lead_id"] for a in routed.json()["routed"]] == ["G-1"]
        client.cookies.set("partnerscope_session", server.cookie)
        upload = client.post(
            "/leads/route",
            files={"file": ("leads.csv", b"lead_id,country,estimated_value\nG-2,US,90000\n")},
            data={"csrf_token": server.csrf},
        )
        assert upload.status_code == 200, upload.text
        assert 'data-routed="1"' in upload.text and "G-2" in upload.text
        # a file just over the 50 MB the page takes still reaches the route, which says so
        big = client.post(
            "/leads/route",
            files={"file": ("leads.csv", b"x" * (MAX_UPLOAD + 1))},
            data={"csrf_token": server.csrf},
        )
        assert big.status_code == 422 and "keep it under 50 MB" in big.text


def test_each_limit_is_the_largest_body_taken(web_world):
    """In-process: a body of exactly the limit passes the gate (the route then judges it), one
    byte more is refused."""
    from fastapi.testclient import TestClient

    token = Accounts.open(Workspace.open(web_world.root)).issue_token("ana", "limits", by="t")[1]
    client = TestClient(web_world.app(), base_url="https://testserver")
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for path, limit in (("/api/v1/leads/route", 16 * MIB), ("/api/v1/decisions", MIB)):
        at = client.post(path, content=b" " * limit, headers=bearer)
        assert at.status_code == 422, (path, at.text)  # read, and not JSON
        over = client.post(path, content=b" " * (limit + 1), headers=bearer)
        assert over.status_code == 413, (path, over.text)
    # the sign-in form takes 64 KiB, from anyone
    assert LIMITS[("POST", "/login")] == 64 * 1024
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/login", content=b"a" * (64 * 1024 + 1), headers=form).status_code == 413


def test_ten_thousand_leads_fit_the_routing_limit(web_world):
    """The API takes up to 10,000 leads a request: realistic ones are 2.3 MB, ones with every
    text at its longest 9.2 MB indented; both pass the gate (refused for their seed only)."""
    from fastapi.testclient import TestClient

    realistic = {
        "lead_id": "L-2026-000001",
        "estimated_value": "125000.00",
        "currency": "EUR",
        "country": "DE",
        "region": "Bavaria",
        "latitude": 48.137154,
        "longitude": 11.576124,
        "product": "Cloud Backup Enterprise",
        "source": "webinar 2026-11",
    }
    longest = {
        "lead_id": "L" * 128,
        "estimated_value": "99999999999999.99",
        "currency": "EUR",
        "country": "C" * 64,
        "region": "R" * 64,
        "latitude": -89.12345678901234,
        "longitude": -179.12345678901234,
        "product": "P" * 200,
        "source": "S" * 200,
    }
    limit = LIMITS[("POST", "/api/v1/leads/route")]
    token = Accounts.open(Workspace.open(web_world.root)).issue_token("ana", "10k", by="t")[1]
    client = TestClient(web_world.app(), base_url="https://testserver")
    sizes = []
    for lead, indent in ((realistic, None), (longest, 2)):
        body = json.dumps({"leads": [lead] * 10_000, "seed": "not a number"}, indent=indent)
        sizes.append(len(body))
        answer = client.post(
            "/api/v1/leads/route",
            content=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 422 and answer.json()["detail"].startswith("seed:")
    assert sizes == [2_330_035, 9_200_045]
    assert max(sizes) < limit / 1.7
