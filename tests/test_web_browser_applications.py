"""Apply → qualify → approve → onboard in a real browser (Debian's chromium through
Playwright): a prospective partner sends the form of an invitation link (a problem is shown
next to its field first), an admin owns and scores the application with evidence on its page,
is refused the approval while a required criterion is missing, approves it with the initial
tier and the partner manager, and opens the new partner's onboarding plan.

The small workspace of tests/test_web_applications.py (P0001 Acme Gold, P0002 Beta Silver).
"""

from __future__ import annotations

import shutil
import time

import pytest

from partnerscope.lifecycle import applications as apps
from partnerscope.web.current import POLL
from partnerscope.workspace import Workspace
from tests.browser import launch
from tests.test_web_applications import template  # noqa: F401
from tests.test_web_browser import sign_in
from tests.webtools import live_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("applications")]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def world(template, tmp_path):  # noqa: F811
    root = tmp_path / "ws"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("lock"))
    ws = Workspace.open(root)
    from partnerscope.web import create_app

    with live_server(create_app(root, warm=False)) as base:
        yield ws, base


def test_apply_qualify_approve_onboard(browser, world):
    ws, base = world
    link = apps.invite(ws, by="ada", company="Nordlicht IT GmbH").link
    problems: list[str] = []

    # the applicant, without an account
    applicant = browser.new_context()
    page = applicant.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(base + link)
    assert page.input_value("input[name=company]") == "Nordlicht IT GmbH"
    page.fill("input[name=contact_name]", "Jana Berg")
    page.fill("input[name=contact_email]", "jana")
    page.fill("input[name=country]", "DE")
    page.fill("input[name=vertical]", "Manufacturing")
    page.select_option("select[name=partner_type]", "si")
    page.fill("input[name=employees]", "42")
    page.click("#apply-form button[type=submit]")
    assert page.text_content("[data-error=contact_email]") == (
        "'jana' is not an email address (name@company.com)"
    )
    assert page.input_value("input[name=contact_name]") == "Jana Berg"
    page.fill("input[name=contact_email]", "jana@nordlicht.example")
    page.click("#apply-form button[type=submit]")
    page.wait_for_url(base + "/apply/sent")
    assert "What happens next" in page.text_content("#apply-sent")
    applicant.close()

    # the admin qualifies it
    staff = browser.new_context()
    page = staff.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, base, "ada", "/applications")
    row = page.locator("#application-list tr[data-status=submitted]")
    assert row.count() == 1 and "Nordlicht IT GmbH" in row.text_content()
    row.locator("a").click()
    page.wait_for_selector("#assessment")
    n = int(page.get_attribute("#application-status", "data-application"))
    page.fill("#owner-form input[name=owner]", "Maria Keller")
    page.click("#owner-form button[type=submit]")
    assert page.text_content("#application-owner") == "Maria Keller"
    scores = {
        "technical_capability": "4",
        "sales_capability": "4",
        "service_capability": "3",
        "cultural_fit": "3",
        "financial_stability": "4",
        "references": "3",
    }
    for criterion, value in scores.items():
        page.select_option("#score-form select[name=criterion]", criterion)
        page.select_option("#score-form select[name=score]", value)
        page.fill("#score-form textarea[name=evidence]", f"{criterion} checked on a call")
        page.click("#score-form button[type=submit]")
        page.wait_for_selector(f"tr[data-criterion={criterion}]")
    # market fit is still missing: the approval is refused, saying so
    page.select_option("#approve-form select[name=program_tier]", "Silver")
    page.click("#approve-form button[type=submit]")
    assert "Market fit has no score with evidence" in page.text_content("[data-errors=application]")
    assert apps.get(ws, n).status is apps.Status.SUBMITTED
    page.select_option("#score-form select[name=criterion]", "market_fit")
    page.select_option("#score-form select[name=score]", "5")
    page.fill("#score-form textarea[name=evidence]", "Priority 1 cell, no partner in it")
    page.click("#score-form button[type=submit]")
    # (20·4 + 20·4 + 10·3 + 15·5 + 10·3 + 15·4 + 10·3) / 100 = 3.85
    assert "3.85 of 5" in page.text_content("#weighted-score")
    page.select_option("#approve-form select[name=program_tier]", "Silver")
    page.fill("#approve-form input[name=partner_manager]", "Marco Rossi")
    page.click("#approve-form button[type=submit]")
    page.wait_for_selector("#onboarding-link")
    assert "was approved by ada" in page.text_content("#application-status")
    found = apps.get(ws, n)
    assert (found.partner_id, found.program_tier) == ("P0003", "Silver")

    # the next run makes it a partner; its onboarding plan is there
    ws.run()
    # the server looks for a new run at most once a second (its pages' live updates keep
    # asking): a page opened a second after the run is the new run's
    time.sleep(POLL + 0.1)
    page.click("#onboarding-link")
    page.wait_for_load_state("networkidle")
    assert page.url == base + "/onboarding/P0003"
    body = page.text_content("main")
    assert "Nordlicht IT GmbH" in body
    assert page.locator("main table tr").count() > 3, body
    assert not problems, problems
    staff.close()
