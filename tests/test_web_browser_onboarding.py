"""Onboarding in a real browser (Debian's chromium through Playwright): the partner manager's
list with the ramp chart drawn under the strict CSP, a task completed with its evidence on the
plan's page; the partner user taken to its own plan, completing its own task."""

from __future__ import annotations

from datetime import date

import pytest

from partnerscope.lifecycle import onboarding as ob
from partnerscope.workspace import Workspace
from tests.browser import launch
from tests.test_web_browser import sign_in
from tests.webtools import OWN, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(web_world, tmp_path_factory):
    world = web_world.copy(tmp_path_factory.mktemp("onboarding-browser") / "ws")
    ws = Workspace.open(world.root)
    if OWN not in {p.partner_id for p in ob.plans(ws)}:
        ob.start_plan(ws, OWN, started_on=date(2026, 8, 3), by="test")
    with live_server(world.app()) as base:
        yield base


def test_staff_and_partner_work_the_plan(browser, server):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "ada", "/onboarding")
    assert page.locator(f'#onboarding-list tr[data-partner="{OWN}"]').count() == 1
    page.wait_for_selector("#chart-onboarding-ramp .vega svg", timeout=15_000)
    assert page.locator("#chart-onboarding-ramp svg g.mark-line path").count() >= 1
    page.click(f'#onboarding-list tr[data-partner="{OWN}"] a')
    page.wait_for_load_state("networkidle")
    kickoff = page.locator('tr[data-task="kickoff"]')
    kickoff.locator('input[name="evidence"]').fill("Kickoff held on Zoom")
    kickoff.locator('form[data-form="task-complete"] button').click()
    page.wait_for_load_state("networkidle")
    assert page.locator('tr[data-task="kickoff"]').get_attribute("data-status") == "done"
    assert "Kickoff held on Zoom" in page.locator('tr[data-task="kickoff"]').inner_text()
    assert not problems, problems
    context.close()

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, "pat", "/onboarding")
    assert page.locator("#onboarding-status").get_attribute("data-partner") == OWN
    # the vendor's own task shows neither its evidence nor a form; the partner's has its form
    kickoff = page.locator('tr[data-task="kickoff"]')
    assert "Kickoff held on Zoom" not in kickoff.inner_text()
    assert page.locator('tr[data-task="assessment"] form').count() == 0
    agreement = page.locator('tr[data-task="agreement"]')
    agreement.locator('input[name="evidence"]').fill("Signed agreement uploaded")
    agreement.locator("form button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('tr[data-task="agreement"]').get_attribute("data-status") == "done"
    context.close()
