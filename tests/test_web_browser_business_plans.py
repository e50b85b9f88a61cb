"""A business plan reviewed in a QBR, in a real browser (Debian's chromium through Playwright):
the partner manager opens P0001's plan (every milestone met in the demo), sees the chart of
actual against target drawn, raises the last quarter's won revenue target above what the
partner won, and the plan, the partner hub and the QBR pack show that milestone missed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.lifecycle import business_plans as bp
from partnerscope.workspace import Workspace
from tests.browser import launch
from tests.test_web_browser import sign_in
from tests.webtools import OWN, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def world(web_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return web_world.copy(tmp_path_factory.mktemp("plans-browser") / "ws")


def test_a_business_plan_reviewed_in_a_qbr(browser: Any, world: Any) -> None:
    from partnerscope.reports.qbr import qbr

    year = min(p.fiscal_year for p in bp.plans(Workspace.open(world.root)))
    row = 'tr[data-milestone="Q4-won_revenue"]'
    with live_server(world.app()) as base:
        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(page, base, "max", f"/business-plans/{OWN}?year={year}")
        page.wait_for_selector("#chart-plan-actual .vega svg", timeout=15_000)
        assert page.locator(f"#plan-milestones {row}").get_attribute("data-status") == "met"
        actual = page.locator(f"#plan-milestones {row} td[data-field=actual]").inner_text()
        raised = int(re.sub(r"[^\d]", "", actual)) + 1000
        page.click("#milestone-forms summary")
        page.select_option("#milestone-set select[name=quarter]", "4")
        page.select_option("#milestone-set select[name=metric]", "won_revenue")
        page.fill("#milestone-set input[name=target]", str(raised))
        page.click("#milestone-set button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert f"/business-plans/{OWN}" in page.url
        assert page.locator(f"#plan-milestones {row}").get_attribute("data-status") == "missed"
        assert page.locator(f"#plan-milestones {row} [data-chip]").inner_text() == "Missed"
        latest = page.locator("#plan-versions tbody tr").first.inner_text()
        assert "Q4 Won revenue target" in latest and f"${raised:,}" in latest
        assert "max" in latest
        # the partner hub shows the new status
        page.goto(f"{base}/partners/{OWN}")
        hub = page.locator(f"#business-plan {row}")
        assert hub.get_attribute("data-status") == "missed"
        assert not problems, problems
        context.close()
    # and so does the QBR pack of that quarter
    plan = qbr(RunData(Workspace.open(world.root)), OWN).sections["business_plan"]
    revenue = next(r for r in plan["rows"] if r["measure"] == "Won revenue")
    assert (revenue["status"], revenue["target"]) == ("missed", f"${raised:,}")
