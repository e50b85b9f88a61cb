"""The account identity's staff page and API (issue 30): /identity, /api/v1/identity/*."""

from __future__ import annotations

import html

import pytest

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.operations import identity as ops
from partnerscope.workspace import Workspace
from tests.webtools import csrf_of

pytestmark = pytest.mark.slow

PATHS = ("/identity", "/api/v1/identity/review", "/api/v1/identity/check?a=IBM&b=UPS")


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):  # type: ignore[no-untyped-def]
    found = web_world.copy(tmp_path_factory.mktemp("identity") / "demo")
    ws = Workspace.open(found.root)
    with ws.warehouse() as warehouse:  # two accounts the engine is unsure of
        columns = [r[0] for r in warehouse.con.execute("DESCRIBE accounts").fetchall()]
        for account_id, name in (("ZZ-WWI", "WWI"), ("ZZ-WWI2", "Wide World Importers")):
            values = {"account_id": account_id, "name": name, "country": "US"}
            cells = [values.get(c) for c in columns]
            marks = ", ".join("?" for _ in columns)
            warehouse.con.execute(f"INSERT INTO accounts VALUES ({marks})", cells)
    return found


@pytest.fixture(scope="module")
def app(world):  # type: ignore[no-untyped-def]
    return world.app()


@pytest.mark.parametrize("user", ["pat", "fin", "max"])
def test_only_admins_and_analysts(world, app, user: str) -> None:  # type: ignore[no-untyped-def]
    client = world.client(user, app)
    for path in PATHS:
        assert client.get(path).status_code == 403, path
    assert world.client(None, app).get("/api/v1/identity/review").status_code == 401


def test_the_page_checks_two_accounts_and_decides_a_pair(world, app) -> None:  # type: ignore[no-untyped-def]
    client = world.client("ana", app)
    page = client.get("/identity?a=Statoil+ASA&b=Equinor+ASA&country_a=NO&country_b=NO")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "The same customer" in text and "Statoil is the former name of Equinor" in text
    assert "WWI" in text and "initials are often shared" in text
    queue = client.get("/api/v1/identity/review").json()
    ibm = next(
        p for p in queue if {p["a"]["account_id"], p["b"]["account_id"]} == {"ZZ-WWI", "ZZ-WWI2"}
    )
    assert ibm["score"] == 0.8 and ibm["decided"] is None
    client.headers["X-CSRF-Token"] = csrf_of(client, "/identity")
    bad = client.post(f"/api/v1/identity/review/{ibm['pair_id']}", json={"decision": "maybe"})
    assert bad.status_code == 422
    missing = client.post("/api/v1/identity/review/abcdef", json={"decision": "same"})
    assert missing.status_code == 404
    done = client.post(
        f"/api/v1/identity/review/{ibm['pair_id']}",
        json={"decision": "same", "reason": "one company"},
    )
    assert done.status_code == 200 and done.json()["decided"] == "same"
    ws = Workspace.open(world.root)
    assert ops.resolve_accounts(ws)["ZZ-WWI2"] == "ZZ-WWI"
    entry = audit.entries(connect(ws), object_type="account_pair")[0]
    assert (entry.actor, entry.action) == ("ana", "identity.same")
    left = client.get("/api/v1/identity/review").json()
    assert ibm["pair_id"] not in {p["pair_id"] for p in left}
    check = client.get("/api/v1/identity/check", params={"a": "Equinix", "b": "Equinox"}).json()
    assert check["decision"] == "different"
