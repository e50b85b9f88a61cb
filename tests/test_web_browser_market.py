"""The market opportunity map in a real browser (Debian's chromium through Playwright): the
heat map is drawn by vega under the strict CSP, a cell per territory and vertical, its tooltip
tells the market value and the coverage in words; the filters choose a vertical and regions."""

from __future__ import annotations

import pytest

from partnerscope.lifecycle.market import opportunity_map
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
def server(web_world):
    with live_server(web_world.app()) as base:
        yield base


def test_the_heat_map_is_drawn_with_its_tooltips_and_filters(browser, server, web_world):
    ws = Workspace.open(web_world.root)
    market = opportunity_map(ws)
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "ana", "/market")
    page.wait_for_selector("#chart-market .vega svg", timeout=15_000)
    cells = page.locator("#chart-market svg g.mark-rect path")
    assert cells.count() == len(market.cells)
    # the first cell drawn is the first row of the data: the map's first cell
    cells.first.hover(force=True)  # its label (a text mark) lies on it, with the same tooltip
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    told = " ".join(tooltip.inner_text().split())
    first = market.cells[0]
    assert first.territory in told and first.priority in told
    assert ws.words.money(first.value) in told and "present" in told
    # one vertical, by region
    page.select_option("#market-filters select[name=by]", "region")
    page.select_option("#market-filters select[name=vertical]", "Retail")
    page.click("#market-filters button[type=submit]")
    page.wait_for_url("**/market?by=region&vertical=Retail")
    page.wait_for_selector("#chart-market .vega svg", timeout=15_000)
    regional = opportunity_map(ws, by="region").only("Retail")
    assert page.locator("#chart-market svg g.mark-rect path").count() == len(regional.cells)
    assert page.locator("#cells tbody tr").count() == len(regional.cells)
    assert not problems, problems
    context.close()
