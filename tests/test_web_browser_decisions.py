"""The decision workflow in a real browser: sign in, frame a decision, cite evidence and commit
it through the pages' forms, then find it committed and its audit entries in the log."""

from __future__ import annotations

import pytest

from tests.browser import launch
from tests.webtools import PASSWORD, live_server

pytestmark = pytest.mark.slow


def test_frame_cite_and_commit_a_decision_in_the_browser(web_world):
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from partnerscope.appdb import connect
    from partnerscope.appdb.tables import audit_log
    from partnerscope.workspace import Workspace

    with live_server(web_world.app()) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            tab = browser.new_page()
            tab.goto(f"{base}/login?next=/decisions/new")
            tab.fill("input[name=name]", "ana")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("form button[type=submit]")
            tab.wait_for_url(f"{base}/decisions/new")

            form = tab.locator("#frame-form")
            form.locator("input[name=decision]").fill("Open a second distributor in Iberia?")
            form.locator("input[name=owner]").fill("Head of Channel")
            form.locator("input[name=horizon_months]").fill("18")
            # the standard options A, B, C and criteria are filled in already
            form.locator("#frame-submit").click()
            tab.wait_for_selector('#decision-status [data-status="draft"]')
            decision_id = int(tab.url.rstrip("/").rsplit("/", 1)[1])
            assert tab.locator("#options tr[data-option]").count() == 3

            cite = tab.locator("#cite-form")
            cite.locator("input[name=metric]").fill("coverage")
            cite.locator("input[name=scope]").fill("company")
            cite.locator("input[name=note]").fill("a quarter of target accounts uncovered")
            cite.locator("#cite-submit").click()
            tab.wait_for_selector('#evidence tr[data-evidence="coverage"]')

            commit = tab.locator("#commit-form")
            commit.locator("select[name=option]").select_option("B")
            commit.locator("textarea[name=rationale]").fill("Coverage gap, low risk in phases")
            commit.locator("textarea[name=signals]").fill("coverage < 0.5")
            commit.locator("#commit-submit").click()
            tab.wait_for_selector('#decision-status [data-status="committed"]')
            assert tab.locator("[data-option-chosen]").get_attribute("data-option-chosen") == "B"
            # new, edit (the options and criteria of the Frame form), cite, commit
            assert tab.locator("#history-list tr[data-action]").count() == 4
        finally:
            browser.close()

    engine = connect(Workspace.open(web_world.root))
    t = audit_log.c
    with engine.connect() as con:
        rows = con.execute(
            select(t.actor, t.action)
            .where(t.object_type == "decision", t.object_id == str(decision_id))
            .order_by(t.entry_id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("ana", "new"),
        ("ana", "edit"),
        ("ana", "cite"),
        ("ana", "commit"),
    ]
