"""Security requirements of docs/security.md that no other test shows (ASVS 3.3.3)."""

from __future__ import annotations

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
