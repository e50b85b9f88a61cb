"""Every page as every role sees it, in a real browser on a phone (390×844): a screenshot of each
is written under the test's temporary folder (to look at when a layout changes), and no page is
wider than the screen (``scrollWidth`` of the page at most the window's width: nothing scrolls
sideways; a wide table scrolls in its own box or is laid out as cards, see static/app.css).
The phone's menu opens from its "Menu" button.

One browser, one context per role, the pages enumerated from the app's routes as
tests/test_visible_text.py does; the first id of a route the role may open is shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import launch
from tests.test_visible_text import filled, ids, page_routes
from tests.webtools import PASSWORD, USERS, WebWorld, live_server

pytestmark = pytest.mark.slow

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(web_world: WebWorld) -> Any:
    with live_server(web_world.app()) as base:
        yield base


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("networkidle")


def settle(page: Any) -> None:
    """Wait for the page's fonts and charts (drawn after load by static/app.js, which fetches
    nothing: a wait for the network to be idle only adds its half second per page)."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.locator(".vega[data-spec]").count():
        page.wait_for_function(
            "[...document.querySelectorAll('.vega[data-spec]')].every("
            "e => e.querySelector('svg, canvas') || e.textContent.trim())",
            timeout=15_000,
        )


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def widest(page: Any) -> str:
    """The elements that reach past the window's right edge (for the failure message)."""
    return str(
        page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .filter(e => !e.closest('.scroll'))
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '')
                     + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
        )
    )


def slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "dashboard"


def test_every_page_fits_a_phone_and_is_photographed(
    browser: Any, server: str, web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out: Path = tmp_path_factory.mktemp("screens")
    routes = page_routes(web_world.app())
    values = ids(web_world)
    too_wide: list[str] = []
    shots = 0
    for user, role in USERS.items():
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        sign_in(page, server, user)
        for route in routes:
            for path in filled(route, values):
                answer = page.goto(server + path)
                if answer is None or answer.status != 200:
                    continue
                if "html" not in (answer.headers.get("content-type") or ""):
                    continue
                settle(page)
                page.screenshot(path=str(out / f"{role}-{slug(route)}-phone.png"))
                shots += 1
                if (wider := overflow(page)) > 0:
                    too_wide.append(f"{path} as {role}: {wider}px too wide: {widest(page)}")
                break  # the first id this role may open
        context.close()
    assert shots >= 60, shots
    assert not too_wide, "pages wider than a phone:\n" + "\n".join(too_wide)


def test_the_phone_menu_opens_the_sections(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, "max")
    links = page.locator("nav.top .links")
    assert not links.is_visible()  # closed: the bar is the brand and the button
    button = page.locator("nav.top button.menu")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert links.is_visible() and button.get_attribute("aria-expanded") == "true"
    titles = page.locator("nav.top .section-title").all_inner_texts()
    assert [t.strip().lower() for t in titles] == [
        "portfolio",
        "pipeline",
        "money",
        "program",
        "inbox",
    ]
    page.click("nav.top a[href='/leads']")
    page.wait_for_url("**/leads")
    assert not page.locator("nav.top .links").is_visible()  # a new page starts closed
    # on a laptop the sections are one row, the button hidden
    page.set_viewport_size(LAPTOP)
    assert page.locator("nav.top .links").is_visible()
    assert not page.locator("nav.top button.menu").is_visible()
    context.close()


def test_a_table_reads_as_cards_on_a_phone(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, server, "fin")
    page.goto(server + "/payouts")
    page.wait_for_load_state("networkidle")
    table = page.locator("table.cards").first
    assert table.count() == 1
    heads = table.evaluate(
        "t => [...(t.tHead ? t.tHead.rows[0] : t.rows[0]).cells].map(c => c.textContent.trim())"
    )
    cell = table.locator("tbody tr td").first
    assert cell.get_attribute("data-label") == heads[0]
    # the label is written before the value, the heading row hidden
    shown = cell.evaluate("c => getComputedStyle(c, '::before').content")
    assert heads[0] in shown
    assert table.locator("thead").count() == 0 or not table.locator("thead").is_visible()
    context.close()


def test_the_bar_groups_each_roles_links_in_sections() -> None:
    from partnerscope.accounts import Role
    from partnerscope.web.render import NAV, NAV_SECTIONS, sections

    placed = {path for _, paths in NAV_SECTIONS for path in paths}
    # every link of the bar has its section, but a partner user's own scorecard (first, alone)
    assert {path for path, _, _ in NAV} - placed == {"/portal"}
    titles = {
        role: [title for title, _ in sections([(p, t) for p, t, roles in NAV if role in roles])]
        for role in Role
    }
    assert titles[Role.ADMIN] == [
        "Portfolio",
        "Pipeline",
        "Money",
        "Program",
        "Planning",
        "Data",
        "Inbox",
    ]
    assert titles[Role.PARTNER_MANAGER] == ["Portfolio", "Pipeline", "Money", "Program", "Inbox"]
    assert titles[Role.PARTNER_USER][0] == ""  # "My scorecard" first, under no title
    assert "Planning" not in titles[Role.FINANCE] and "Data" not in titles[Role.FINANCE]
    # within a section, the links keep the bar's order
    admin = dict(sections([(p, t) for p, t, roles in NAV if Role.ADMIN in roles]))
    assert [t for _, t in admin["Money"]] == ["Payouts", "MDF"]
    assert [t for _, t in admin["Data"]] == [
        "Runs",
        "Data quality",
        "Account identity",
        "Audit log",
    ]
