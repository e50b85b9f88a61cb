"""Sign-in throttling when the guesses come at once (ASVS 2.2.1): each attempt is counted before
its password is checked, so however many start together, at most MAX_FAILURES_PER_NAME per name
and MAX_FAILURES_PER_CLIENT per client are checked, on SQLite and on PostgreSQL, and through
the web app."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from partnerscope.accounts import (
    FAILURE_WINDOW,
    MAX_FAILURES_PER_CLIENT,
    MAX_FAILURES_PER_NAME,
    Accounts,
    LoginError,
    LoginThrottledError,
    Role,
)
from partnerscope.appdb.tables import login_failures
from tests.webtools import PASSWORD

WRONG = "not the password at all"
ATTEMPTS = 30


@pytest.fixture
def accounts(store_url: str, workspace_factory: Callable[..., Any]) -> Accounts:
    accounts = Accounts.open(workspace_factory(""))
    accounts.add("sam", Role.ANALYST, PASSWORD, by="test")
    return accounts


def at_once(attempts: list[Callable[[], object]]) -> list[str]:
    """Run the attempts in threads released together by a barrier; the outcome of each:
    "signed in", "wrong" (its password was checked) or "throttled" (it was not)."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [""] * len(attempts)

    def run(i: int) -> None:
        barrier.wait()
        try:
            attempts[i]()
            outcomes[i] = "signed in"
        except LoginThrottledError:
            outcomes[i] = "throttled"
        except LoginError:
            outcomes[i] = "wrong"
        except Exception as exc:  # shown by the assertion on the outcomes
            outcomes[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


def failures(accounts: Accounts, name: str) -> list[datetime]:
    with accounts.engine.connect() as connection:
        return list(
            connection.execute(
                select(login_failures.c.at)
                .where(login_failures.c.name == name)
                .order_by(login_failures.c.at)
            ).scalars()
        )


def test_guesses_at_once_check_only_the_limit_of_passwords(accounts: Accounts) -> None:
    # from as many addresses as guesses, so only the name's limit applies
    outcomes = at_once(
        [
            lambda i=i: accounts.authenticate("sam", WRONG, client=f"10.0.0.{i}")
            for i in range(ATTEMPTS)
        ]
    )
    assert Counter(outcomes) == {"wrong": 5, "throttled": 25}
    assert MAX_FAILURES_PER_NAME == 5
    assert len(failures(accounts, "sam")) == 5
    with pytest.raises(LoginThrottledError):
        accounts.authenticate("sam", PASSWORD, client="10.0.1.1")


def test_guesses_at_once_from_one_address_check_only_its_limit(accounts: Accounts) -> None:
    # a different (unknown) name each time, so only the address's limit applies
    outcomes = at_once(
        [
            lambda i=i: accounts.authenticate(f"guess{i}", WRONG, client="10.0.0.9")
            for i in range(ATTEMPTS)
        ]
    )
    assert Counter(outcomes) == {"wrong": 20, "throttled": 10}
    assert MAX_FAILURES_PER_CLIENT == 20
    with pytest.raises(LoginThrottledError):
        accounts.authenticate("sam", PASSWORD, client="10.0.0.9")
    assert accounts.authenticate("sam", PASSWORD, client="10.0.0.10").name == "sam"


def test_the_right_password_in_a_burst_counts_as_one_of_the_limit(accounts: Accounts) -> None:
    started = datetime.now(UTC).replace(tzinfo=None)
    right = ATTEMPTS // 2
    outcomes = at_once(
        [
            lambda i=i: accounts.authenticate(
                "sam", PASSWORD if i == right else WRONG, client=f"10.0.0.{i}"
            )
            for i in range(ATTEMPTS)
        ]
    )
    counted = Counter(outcomes)
    checked = counted["wrong"] + counted["signed in"]
    assert counted["wrong"] + counted["throttled"] + counted["signed in"] == ATTEMPTS
    assert outcomes[right] in ("signed in", "throttled")
    rows = failures(accounts, "sam")
    if outcomes[right] == "throttled":
        # five wrong ones came first: the right password was not even checked
        assert counted == {"wrong": 5, "throttled": 25} and len(rows) == 5
        return
    # It was among the five let through, and its success forgave them by moving them to the
    # edge of the window as it stood then; every row is an attempt whose password was checked.
    assert len(rows) == checked
    forgiven = [at for at in rows if at < started]
    assert forgiven and len(set(forgiven)) == 1 and len(forgiven) <= 5
    signed_in = forgiven[0] + FAILURE_WINDOW
    # Attempts that had begun by then still counted the forgiven ones: at most five of them
    # were checked in all. Only those beginning after it start afresh (none, unless a thread
    # was held up for as long as a password check takes).
    assert len([at for at in rows if at < signed_in]) <= 5
    assert len([at for at in rows if at >= signed_in]) <= 5


def test_the_right_password_forgives_the_failures_before_it(accounts: Accounts) -> None:
    for _ in range(MAX_FAILURES_PER_NAME - 1):
        with pytest.raises(LoginError, match="wrong user name or password"):
            accounts.authenticate("sam", WRONG, client="10.0.0.1")
    assert accounts.authenticate("sam", PASSWORD, client="10.0.0.1").name == "sam"
    # the four no longer count: five more guesses are checked before the sixth is refused
    for _ in range(MAX_FAILURES_PER_NAME):
        with pytest.raises(LoginError, match="wrong user name or password"):
            accounts.authenticate("sam", WRONG, client="10.0.0.1")
    with pytest.raises(LoginThrottledError) as refused:
        accounts.authenticate("sam", PASSWORD, client="10.0.0.1")
    assert 14 * 60 < refused.value.retry_after <= 15 * 60 + 1


@pytest.mark.slow
def test_concurrent_sign_ins_over_http_check_only_the_limit(web_world, tmp_path) -> None:
    import httpx

    from tests.webtools import live_server

    world = web_world.copy(tmp_path / "demo")
    with live_server(world.app()) as base:
        clients = [httpx.Client(base_url=base, timeout=120) for _ in range(ATTEMPTS)]
        tokens = []
        for client in clients:
            # each its own sign-in form: the CSRF cookie and the token that matches it
            found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            assert found
            tokens.append(found.group(1))

        def post(i: int) -> httpx.Response:
            return clients[i].post(
                "/login",
                data={"name": "ana", "password": WRONG, "csrf_token": tokens[i], "next": "/"},
            )

        barrier = threading.Barrier(ATTEMPTS)
        answers: list[Any] = [None] * ATTEMPTS

        def run(i: int) -> None:
            barrier.wait()
            answers[i] = post(i)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(ATTEMPTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        for client in clients:
            client.close()
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {401: 5, 429: 25}
    assert all(int(a.headers["retry-after"]) > 14 * 60 for a in answers if a.status_code == 429)
