"""The searchable partner picker in a real browser (Debian's chromium through Playwright): a
partner manager types a partner's name into the MDF form, the list offers "Name (ID)", and the
request is made for that partner and shown by its name."""

from __future__ import annotations

import re

import pytest

from tests.browser import launch
from tests.webtools import ASSIGNED, FOREIGN, PASSWORD, WebWorld, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """A copy of the web world: the test submits a request."""
    return web_world.copy(tmp_path_factory.mktemp("picker") / "demo")


def test_a_manager_picks_a_partner_by_name_in_the_mdf_form(world):
    from playwright.sync_api import sync_playwright

    from partnerscope.warehouse import partner_names
    from partnerscope.workspace import Workspace

    names = partner_names(Workspace.open(world.root))
    wanted = f"{names[ASSIGNED]} ({ASSIGNED})"
    with sync_playwright() as p, live_server(world.app()) as base:
        browser = launch(p)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base + "/mdf")
            page.fill("input[name=name]", "max")
            page.fill("input[name=password]", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url(re.compile(r".*/mdf$"))
            picker = page.locator("#mdf-submit input[name=partner_id]")
            assert picker.get_attribute("list") == "mdf-partners"
            offered = page.locator("#mdf-partners option").evaluate_all(
                "options => options.map(o => o.value)"
            )
            assert wanted in offered and not any(FOREIGN in o for o in offered)
            picker.fill(wanted)
            page.select_option("#mdf-submit select[name=activity_type]", "event")
            page.fill("#mdf-submit input[name=name]", "Launch webinar")
            page.fill("#mdf-submit input[name=amount]", "250")
            page.click("#mdf-submit button[type=submit]")
            page.wait_for_url(re.compile(r".*/mdf/requests/\d+$"))
            status = page.locator("#request-status")
            assert names[ASSIGNED] in status.inner_text()
            link = status.locator(f"a[href='/partners/{ASSIGNED}']")
            assert link.inner_text() == names[ASSIGNED]
            assert "$250" in page.locator("#request-detail").inner_text()
            assert not problems, problems
        finally:
            browser.close()
