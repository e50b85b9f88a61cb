"""The web app in a real browser (Debian's chromium through Playwright): sign in, the
dashboard, drilling into a partner, charts drawn under the strict CSP, and a partner user who
cannot reach another partner by URL or by the API."""

from __future__ import annotations

import pytest

from tests.browser import launch
from tests.webtools import FOREIGN, OWN, PASSWORD, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(web_world):
    with live_server(web_world.app()) as base:
        yield base


def sign_in(page, base: str, user: str, target: str = "/") -> None:
    page.goto(base + target)
    assert "/login" in page.url
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_analyst_signs_in_opens_the_dashboard_and_drills_into_a_partner(browser, server):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "ana")
    assert page.url == server + "/"
    assert page.locator("h1").first.inner_text().strip()
    page.wait_for_selector(".vega svg", timeout=15_000)  # the dashboard's charts are drawn
    page.click("nav.top a[href='/partners']")
    page.wait_for_load_state("networkidle")
    # the search box filters the list in place (HTMX swaps the rows)
    page.fill("#partner-q", OWN)
    page.press("#partner-q", "Enter")
    page.wait_for_selector("#partner-count[data-total='1']", timeout=10_000)
    page.locator(f"a[href^='/partners/{OWN}?']").first.click()
    page.wait_for_url(f"**/partners/{OWN}?*")
    assert "scorecard" in page.locator("h1").inner_text()
    score = page.locator("[data-metric='score']").first
    assert float(score.get_attribute("data-value")) >= 0
    page.wait_for_selector("#chart-history .vega svg", timeout=15_000)
    # the period picker reloads the page for the chosen period
    options = page.locator("select[name=period] option")
    earlier = options.nth(1).inner_text()
    page.select_option("select[name=period]", earlier)
    # (the list's link already names a period: wait for this one, not any)
    page.wait_for_url(f"**/partners/{OWN}?period={earlier}")
    assert earlier in page.locator("h1").inner_text()
    # nothing was refused by the Content-Security-Policy, no script failed
    assert not problems, problems
    context.close()


def test_partner_user_cannot_reach_another_partner(browser, server):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, "pat")
    assert page.url == server + "/"  # the partner's own landing page
    nav = page.locator("nav.top").inner_text()
    assert "Partners" not in nav and "Dashboard" not in nav
    for path in (f"/partners/{FOREIGN}", "/partners", f"/partners/{FOREIGN}?period=x"):
        response = page.goto(server + path)
        assert response is not None and response.status in (403, 404), path
        assert FOREIGN not in page.content().replace(f"'{FOREIGN}'", "")
    fetched = page.evaluate("async (id) => (await fetch('/api/v1/partners/' + id)).status", FOREIGN)
    assert fetched == 404
    own = page.evaluate("async (id) => (await fetch('/api/v1/partners/' + id)).status", OWN)
    assert own == 200
    context.close()


def test_the_api_page_shows_every_operation_under_the_csp(browser, server):
    """Swagger UI, vendored and started by a static script, draws the OpenAPI document's
    operations for a signed-in user; nothing is refused by the CSP or loaded from elsewhere,
    and "Try it out" calls the API with the page's session."""
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server, "data:")) else elsewhere.append(r.url),
    )
    sign_in(page, server, "pat", "/api/v1/docs")
    assert page.url == server + "/api/v1/docs"
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".info .title").first.inner_text().startswith("partnerscope")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/v1/me", "/api/v1/partners/{partner_id}", "/api/v1/leads/route"} <= set(paths)
    assert len(paths) > 40
    # try GET /api/v1/me: the answer names the signed-in user
    me = page.locator(".opblock-get", has=page.locator("[data-path='/api/v1/me']"))
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    answer = me.locator(".live-responses-table tbody td.response-col_status").first
    answer.wait_for(timeout=10_000)
    assert answer.inner_text().strip() == "200"
    assert '"name": "pat"' in me.locator(".live-responses-table tbody").first.inner_text()
    assert not problems, problems
    assert not elsewhere, elsewhere
    context.close()
