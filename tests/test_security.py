"""Security requirements of docs/security.md that no other test shows (ASVS 3.3.3: a password
change ends the user's sessions and revokes its API tokens)."""

from __future__ import annotations

import re

import pytest

from tests.webtools import OWN, PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    """A copy of the web world whose accounts this module may change."""
    return web_world.copy(tmp_path_factory.mktemp("security") / "demo")


def test_a_password_change_ends_every_session_of_the_user(world):
    from partnerscope.accounts import Accounts, Role
    from partnerscope.workspace import Workspace

    accounts = Accounts.open(Workspace.open(world.root))
    accounts.add("sam", Role.ANALYST, PASSWORD, by="test")
    app = world.app()
    laptop, phone, other = (world.client(user, app=app) for user in ("sam", "sam", "ana"))
    for client in (laptop, phone, other):
        assert client.get(f"/partners/{OWN}").status_code == 200
    accounts.set_password("sam", "another long passphrase", by="test")
    for client in (laptop, phone):
        gone = client.get(f"/partners/{OWN}", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    # other users stay signed in
    assert other.get(f"/partners/{OWN}").status_code == 200


def test_a_password_change_revokes_every_api_token_of_the_user(world, monkeypatch):
    from sqlalchemy import select
    from typer.testing import CliRunner

    from partnerscope.accounts import Accounts, Role
    from partnerscope.appdb.tables import audit_log
    from partnerscope.cli import app as cli
    from partnerscope.workspace import Workspace

    accounts = Accounts.open(Workspace.open(world.root))
    accounts.add("tom", Role.ANALYST, PASSWORD, by="test")
    script, script_secret = accounts.issue_token("tom", "script", by="test")
    report, report_secret = accounts.issue_token("tom", "report", by="test")
    old, _ = accounts.issue_token("tom", "old", by="test")
    accounts.revoke_token(old.token_id, by="test")
    _, others = accounts.issue_token("ana", "other user", by="test")
    client = world.client(app=world.app())

    def me(secret: str) -> int:
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code

    assert me(script_secret) == me(report_secret) == 200
    monkeypatch.setenv("PARTNERSCOPE_USER", "ada")
    runner, ws = CliRunner(), ["-w", str(world.root)]
    changed = runner.invoke(
        cli, [*ws, "users", "password", "tom", "--password-stdin"], input="another passphrase\n"
    )
    assert changed.exit_code == 0, changed.output
    assert (
        f"its sessions were signed out and its 2 API tokens ({script.token_id}, "
        f"{report.token_id}) were revoked" in " ".join(changed.output.split())
    )
    assert me(script_secret) == me(report_secret) == 401
    assert me(others) == 200  # another user's token stays
    revoked = {t.label: t.revoked_at for t in accounts.tokens("tom")}
    assert set(revoked) == {"script", "report", "old"} and None not in revoked.values()
    listed = runner.invoke(cli, [*ws, "users", "tokens", "tom"]).output
    for label in ("script", "report"):
        (line,) = (line for line in listed.splitlines() if label in line)
        # issued and revoked
        assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", line)) == 2, listed
    with accounts.engine.connect() as connection:
        entries = connection.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
            .where(audit_log.c.object_type == "user", audit_log.c.object_id == "tom")
            .order_by(audit_log.c.entry_id)
        ).all()
    assert [tuple(e) for e in entries[-3:]] == [
        ("ada", "password", {}),
        ("ada", "revoke", {"token_id": script.token_id, "because": "password"}),
        ("ada", "revoke", {"token_id": report.token_id, "because": "password"}),
    ]
