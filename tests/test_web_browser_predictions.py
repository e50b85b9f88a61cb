"""The partner page's forecast band in a real browser (Debian's chromium through Playwright):
drawn by vega under the strict CSP as two bands (80 % and 95 %) and a dashed forecast line
after the actuals; the reliability charts of "How good are these predictions?" are drawn too."""

from __future__ import annotations

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.workspace import Workspace
from tests.browser import launch
from tests.test_web_browser import sign_in
from tests.test_web_predictions import write_predictions
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
    world = web_world.copy(tmp_path_factory.mktemp("predicted-browser") / "ws")
    data = RunData(Workspace.open(world.root))
    write_predictions(data.folder, data)
    with live_server(world.app()) as base:
        yield base


def test_partner_page_draws_the_forecast_band(browser, server):
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "ana", f"/partners/{OWN}")
    page.wait_for_selector("#chart-forecast .vega svg", timeout=15_000)
    chart = page.locator("#chart-forecast svg")
    # vega draws each area mark as a path in a group of role "mark" and class "mark-area"
    bands = chart.locator("g.mark-area path")
    assert bands.count() == 2
    for i in range(2):
        assert len(bands.nth(i).get_attribute("d") or "") > 20
    lines = chart.locator("g.mark-line path")
    assert lines.count() == 2
    dashes = [lines.nth(i).get_attribute("stroke-dasharray") for i in range(2)]
    assert sorted(d or "" for d in dashes)[-1]  # one of the two lines is dashed
    page.goto(server + "/predictions")
    page.wait_for_selector("#chart-reliability-risk .vega svg", timeout=15_000)
    assert not problems, problems
    context.close()
