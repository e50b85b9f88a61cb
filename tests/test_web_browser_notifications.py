"""The notification centre in a real browser (Debian's chromium through Playwright): the bar's
unread badge, marking read in the centre (the badge drops), and a notification that arrives
while the page is open raising the badge without a reload (server-sent events, static/live.js,
under the strict CSP)."""

from __future__ import annotations

import pytest

from partnerscope import appdb
from partnerscope.accounts import Accounts
from partnerscope.notify import dispatch, inbox
from partnerscope.outbox import enqueue
from partnerscope.workspace import Workspace
from tests.browser import launch
from tests.test_web_browser import sign_in
from tests.webtools import live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def world(web_world, tmp_path_factory):
    world = web_world.copy(tmp_path_factory.mktemp("notify-browser") / "ws")
    ws = Workspace.open(world.root)
    dispatch.dispatch(ws)  # the demo's own notifications, read before the test starts
    inbox.mark_all_read(appdb.connect(ws), Accounts.open(ws).get("ana"))
    return world


def tell(world, key: str, title: str) -> None:
    ws = Workspace.open(world.root)
    with appdb.connect(ws).begin() as connection:
        enqueue(connection, key=key, kind="alert", title=title, users=["ana"], only=True)
    dispatch.dispatch(ws)


def test_the_badge_follows_reading_and_new_notifications_without_a_reload(browser, world):
    from playwright.sync_api import expect

    tell(world, "browser:1", "New alert on Lumen Bridge Partners")
    tell(world, "browser:2", "New alert on Titan Cloud Solutions")
    with live_server(world.app()) as base:
        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(page, base, "ana", "/notifications")
        badge = page.locator("#unread-badge")
        assert badge.inner_text() == "2"
        assert page.locator("#notifications li.unread").count() == 2
        page.locator("#notifications li.unread").first.locator(
            'form[data-step="read"] button'
        ).click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#unread-badge").inner_text() == "1"
        assert page.locator("#notifications li.unread").count() == 1
        # the page stays open: a new notification raises the badge by itself
        page.evaluate("window.stayed = true")
        tell(world, "browser:3", "New alert on Nova Systems")
        expect(page.locator("#unread-badge")).to_have_text("2", timeout=15_000)
        assert page.evaluate("window.stayed") is True  # no reload happened
        assert page.locator("#unread-badge").get_attribute("data-unread") == "2"
        # all read: the badge is hidden
        page.locator('form[data-step="read-all"] button').click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#unread-badge").is_hidden()
        assert not problems, problems
        context.close()


def test_a_new_run_is_announced_on_an_open_page(browser, world):
    """The page stays open while `partnerscope run` makes a new run: a notice offers to reload
    (the page itself is not reloaded), and reloading shows the new run."""
    import subprocess
    import sys

    from playwright.sync_api import expect

    with live_server(world.app()) as base:
        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(page, base, "ana", "/notifications")
        script = page.locator('script[src="/static/live.js"]')
        before = int(script.get_attribute("data-run"))
        page.evaluate("window.stayed = true")
        command = [sys.executable, "-m", "partnerscope", "-w", str(world.root), "run"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        notice = page.locator("#new-run")
        expect(notice).to_be_visible(timeout=20_000)
        assert "A new run is available." in notice.inner_text()
        assert int(notice.get_attribute("data-run")) > before
        assert page.evaluate("window.stayed") is True
        notice.locator("a").click()
        page.wait_for_load_state("networkidle")
        assert int(script.get_attribute("data-run")) > before
        assert page.locator("#new-run").count() == 0
        assert not problems, problems
        context.close()
