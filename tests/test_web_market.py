"""The market opportunity map in the web app (issue 28, item 1): ``/market``, ``/market.csv``
and ``/api/v1/market`` for admins, analysts and partner managers only; the page in words
(money with its currency, shares as percentages, no raw fraction or key); a partner manager
reads by name only the partners they look after.

The world is the session's demo (tests/webtools.py), read only: every expectation is the
map the service computes on it (tests/test_lifecycle_market.py checks the map by hand)."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from partnerscope.lifecycle.market import opportunity_map
from partnerscope.warehouse import partner_names
from partnerscope.workspace import Workspace
from tests.webtools import FOREIGN, OWN, WebWorld

pytestmark = pytest.mark.slow

PATHS = ("/market", "/market.csv", "/api/v1/market")


@pytest.fixture(scope="module")
def app(web_world: WebWorld):
    return web_world.app()


@pytest.mark.parametrize("user", ["pat", "fin"])
def test_partner_users_and_finance_are_refused(web_world: WebWorld, app, user: str) -> None:
    client = web_world.client(user, app)
    for path in PATHS:
        response = client.get(path)
        assert response.status_code == 403, (path, response.status_code)
        assert "Priority" not in response.text


def test_signed_out_callers_see_nothing(web_world: WebWorld, app) -> None:
    client = web_world.client(None, app)
    assert client.get("/api/v1/market").status_code == 401
    page = client.get("/market", follow_redirects=False)
    assert page.status_code in (303, 401) and "Priority" not in page.text


def test_the_page_shows_the_heat_map_and_the_gaps_in_words(web_world: WebWorld, app) -> None:
    ws = Workspace.open(web_world.root)
    market = opportunity_map(ws)
    page = web_world.client("ana", app).get("/market")
    assert page.status_code == 200
    text = html.unescape(page.text)
    # the heat map: a Vega-Lite spec with a cell per territory and vertical, told in words
    found = re.search(r'<script type="application/json" id="spec-market">(.*?)</script>', text)
    assert found
    spec = json.loads(found.group(1))
    values = spec["datasets"]["values"]
    assert len(values) == len(market.cells)
    first = market.cells[0]
    assert values[0]["priority"] == first.priority
    assert values[0]["value"].startswith(ws.words.money(first.value))  # "$1,234 (high value…"
    assert re.search(r"present, \d+% of the won revenue through partners|no won revenue", text)
    # the gaps, largest first, each with its sentence
    section = text.split('id="gaps"')[1].split("</section>")[0]
    rows = re.findall(r'<tr data-cell="([^"]+)">', section)
    assert rows == [f"{c.territory}|{c.vertical}" for c in market.gaps]
    assert market.gaps, "the demo has gaps (tests/test_lifecycle_market.py plants none)"
    for cell in market.gaps:
        assert cell.why in text
        assert ws.words.money(cell.value) in section
    # words, not keys or raw fractions
    assert f"{ws.words.money(market.total_value, compact=True)} of market value" in text
    assert "value_band" not in text.split('id="spec-market"')[0]
    cells = text.split('id="cells"')[1]
    assert not re.search(r"<td[^>]*>0\.\d+</td>", cells)
    assert re.search(r'<td class="num">\d+%</td>', cells)


def test_the_api_and_the_csv_agree_with_the_service(web_world: WebWorld, app) -> None:
    ws = Workspace.open(web_world.root)
    market = opportunity_map(ws, by="region").only("Retail")
    client = web_world.client("ada", app)
    answer = client.get("/api/v1/market", params={"by": "region", "vertical": "retail"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["by"] == "region" and body["currency"] == ws.words.currency
    assert [(c["territory"], c["priority"]) for c in body["cells"]] == [
        (c.territory, c.priority) for c in market.cells
    ]
    assert {c["vertical"] for c in body["cells"]} == {"Retail"}
    exported = client.get("/market.csv", params={"by": "region", "vertical": "Retail"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["territory"] for r in rows] == [c.territory for c in market.cells]
    bad = client.get("/api/v1/market", params={"vertical": "Retial"})
    assert bad.status_code == 400
    assert "no such vertical" in bad.text and "did you mean 'Retail'?" in bad.text


def test_a_partner_manager_reads_by_name_only_their_partners(web_world: WebWorld, app) -> None:
    ws = Workspace.open(web_world.root)
    names = partner_names(ws)
    market = opportunity_map(ws)
    # both partners are present somewhere: the admin reads them by name
    assert any(FOREIGN in c.partners for c in market.cells)
    assert any(OWN in c.partners for c in market.cells)
    admin = web_world.client("ada", app)
    assert html.escape(names[FOREIGN]) in admin.get("/market").text
    manager = web_world.client("max", app)
    for path in PATHS:
        response = manager.get(path)
        assert response.status_code == 200, path
        assert names[FOREIGN] not in html.unescape(response.text), path
    page = html.unescape(manager.get("/market").text)
    assert names[OWN] in page
    answer = manager.get("/api/v1/market").json()
    counted = [c for c in answer["cells"] if c["partners_present"] > len(c["partners"])]
    assert counted, "cells with partners the manager does not look after count them"


def test_the_demo_says_what_its_market_implies_and_what_the_map_found(
    web_world: WebWorld,
) -> None:
    """The demo plants nothing for the market: its lines say which countries have target
    accounts and no partner (the demo's Argentina and United Arab Emirates: no partner there),
    then the map's counts per priority and its largest gap."""
    from datetime import date

    from partnerscope.demo import plant_market

    ws = Workspace.open(web_world.root)
    planted = plant_market.plant(ws, today=date(2026, 10, 1), seed=42)
    assert planted[1].startswith("Market: 2 countries with target accounts and no partner: ")
    assert "Argentina (" in planted[1] and "United Arab Emirates (" in planted[1]
    market = opportunity_map(ws)
    found = plant_market.found(ws)
    counts = ", ".join(f"{p} {n}" for p, n in market.counts().items())
    top = market.gaps[0]
    assert found == [
        f"Market map: {len(market.cells)} countries × verticals: {counts}",
        f"Market map: {len(market.gaps)} gaps to recruit in; the largest {top.territory} · "
        f"{top.vertical} ({top.priority}): {top.why}",
    ]
    assert market.cell("Argentina", None).coverage == "none"  # type: ignore[union-attr]
