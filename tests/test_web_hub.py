"""The partner page as the hub, and each role's landing page at ``/``: the dashboard (admins
and analysts), "My partners" (a partner manager), a partner user's own view, finance's work.

Every value is checked against the stores: the run's files, the warehouse, the ledgers and the
MDF requests, written with the workspace's words."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc
import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.money.payouts import Payouts
from partnerscope.workspace import Workspace
from tests.requires import installed, need
from tests.webtools import ASSIGNED, FOREIGN, MANAGER_NAME, OWN, WebWorld

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(web_world: WebWorld) -> Any:
    return web_world.app()


@pytest.fixture(scope="module")
def clients(web_world: WebWorld, app: Any) -> dict[str, Any]:
    return {user: web_world.client(user, app=app) for user in ("ana", "max", "pat", "fin")}


@pytest.fixture(scope="module")
def data(web_world: WebWorld) -> RunData:
    return RunData(Workspace.open(web_world.root))


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-row="([^"]+)"', page)


def latest_members(data: RunData) -> dict[str, dict[str, Any]]:
    start, _ = data.periods[-1]
    table = data.memberships.table
    return {
        m["partner_id"]: m for m in table.filter(pc.equal(table["period_start"], start)).to_pylist()
    }


def mine(data: RunData) -> set[str]:
    """The partners the manager ``max`` looks after, scored in the latest period."""
    start, _ = data.periods[-1]
    cards = data.scorecards.table
    scored = set(cards.filter(pc.equal(cards["period_start"], start))["partner_id"].to_pylist())
    managed = {p for p, m in data.managers.items() if m == MANAGER_NAME} | {ASSIGNED}
    return managed & scored


def figure(data: RunData, pid: str, metric: str) -> float | None:
    start, _ = data.periods[-1]
    rows = data.results().rows(pid, at=start)
    return rows[0][metric] if rows else None


# ------------------------------------------------------------------------------ landing pages


def test_admin_and_analyst_land_on_the_dashboard(clients, data):
    page = clients["ana"].get("/")
    assert page.status_code == 200
    assert 'id="spec-tiers"' in page.text and "My partners" not in page.text
    # the partners it names (risers, decliners, alerts) are linked to their pages
    report = clients["ana"].get("/api/v1/dashboard").json()["sections"]
    named = {(r["partner_id"], r["name"]) for r in [*report["risers"], *report["decliners"]]}
    named |= {(a["partner_id"], a["partner"]) for a in report["alerts"]}
    assert named
    for pid, name in named:
        link = f'<a href="/partners/{pid}">{html.escape(name, quote=False)}</a>'
        assert f'{link} <span class="muted">{pid}</span>' in page.text, pid


def test_a_manager_lands_on_exactly_their_partners(clients, data):
    page = clients["max"].get("/", params={"per_page": 200})
    assert page.status_code == 200 and "My partners" in page.text
    assert set(rows_of(page.text)) == mine(data)
    assert FOREIGN not in rows_of(page.text)
    # the row of OWN: its name linked to its page, its figures in the workspace's words
    words = data.workspace.words
    row = page.text.split(f'<tr data-row="{OWN}"', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="/partners/{OWN}?period=' in row and data.partner_name(OWN) in row
    revenue = figure(data, OWN, "won_revenue")
    quota = figure(data, OWN, "quota_attainment")
    pipeline = figure(data, OWN, "open_pipeline")
    assert f'data-col="revenue">{words.money(revenue, compact=True)}<' in row
    assert f'data-col="quota">{words.share(quota)}<' in row
    assert f'data-col="pipeline">{words.money(pipeline, compact=True)}<' in row
    assert latest_members(data)[OWN]["program_tier"] in row
    # no raw fraction of the quota attainment
    assert str(quota) not in row and f"{quota:.4f}" not in row


def test_a_managers_home_sorts_and_filters_on_the_server(clients, data):
    page = clients["max"].get("/", params={"sort": "-revenue", "per_page": 200}).text
    order = rows_of(page)
    revenue = {pid: figure(data, pid, "won_revenue") for pid in order}
    known = [revenue[p] for p in order if revenue[p] is not None]
    assert known == sorted(known, reverse=True)
    # the sort links stay on the home page
    assert 'href="/?' in page and "sort=revenue" in page
    region = latest_members(data)[OWN]["region"]
    same = {p for p in mine(data) if latest_members(data)[p]["region"] == region}
    filtered = clients["max"].get("/", params={"region": region, "per_page": 200}).text
    assert set(rows_of(filtered)) == same
    # an HTMX swap gets the rows only
    swap = clients["max"].get("/", params={"q": OWN}, headers={"HX-Request": "true"})
    assert "<html" not in swap.text and rows_of(swap.text) == [OWN]


def test_a_manager_still_has_the_dashboard(clients):
    page = clients["max"].get("/dashboard")
    assert page.status_code == 200 and 'id="spec-tiers"' in page.text
    assert clients["pat"].get("/dashboard").status_code == 403


def test_a_partner_user_lands_on_its_own_view(web_world, clients, data):
    pat = clients["pat"]
    page = pat.get("/")
    assert page.status_code == 200, page.text
    text = page.text
    words = data.workspace.words
    assert data.partner_name(OWN) in text and "What to do next" in text
    # incentives: the approved ledger's lines of OWN, to the cent, with the currency
    ledger = Payouts(data.workspace).ledger(web_world.approved)
    earned = sum((ln.amount for ln in ledger.lines if ln.partner_id == OWN), Decimal(0))
    assert f'data-field="earned">{words.money(earned, cents=True)}<' in text
    assert f'data-ledger="{web_world.approved}"' in text
    # a draft ledger is not shown to a partner (docs/web.md)
    drafts = [h.period for h in Payouts(data.workspace).periods() if h.status == "draft"]
    assert drafts and all(f'data-ledger="{d}"' not in text for d in drafts)
    # the revenue tier and what the next needs, as the scorecard says it
    view = data.scorecard(OWN)
    revenue = next(p for p in view.placements if p.ruleset == "revenue")
    assert f"Revenue tier: <strong>{revenue.effective}</strong>" in text
    if revenue.next_tier:
        gap = revenue.next_tier[1][0]
        assert words.needs(gap.metric, gap.bound, gap.required, gap.current) in text
    # its MDF request and lead are linked
    assert f'href="/mdf/requests/{web_world.requests[OWN]}"' in text
    assert program_tier(data) in text


def test_a_partner_sees_its_draft_total_as_an_estimate_only_where_the_program_allows(
    web_world, tmp_path_factory
):
    world = web_world.copy(tmp_path_factory.mktemp("estimates") / "demo")
    ws = Workspace.open(world.root)
    drafts = [h.period for h in Payouts(ws).periods() if h.status == "draft"]
    assert drafts
    assert "data-estimate" not in world.client("pat").get("/").text  # off by default
    toml = world.root / "partnerscope.toml"
    text = toml.read_text(encoding="utf-8")
    on = "[incentives]\nshow_estimates = true\n"
    toml.write_text(
        text.replace("[incentives]\n", on, 1) if "[incentives]\n" in text else text + "\n" + on,
        encoding="utf-8",
    )
    ws = Workspace.open(world.root)
    assert ws.config.incentives.show_estimates
    page = world.client("pat").get("/").text
    words = ws.words
    for period in drafts:
        lines = Payouts(ws).ledger(period).lines
        own = sum((ln.amount for ln in lines if ln.partner_id == OWN), Decimal(0))
        everyone = sum((ln.amount for ln in lines), Decimal(0))
        assert f'data-estimate="{period}"' in page
        assert f"Estimated for {period}: <strong>{words.money(own, cents=True)}</strong>" in page
        assert words.money(everyone, cents=True) not in page  # its own lines, not the ledger
        assert f'href="/payouts/{period}"' not in page  # the draft itself stays closed to it
    # the earned total is still the approved ledgers' only
    approved = Payouts(ws).ledger(world.approved)
    earned = sum((ln.amount for ln in approved.lines if ln.partner_id == OWN), Decimal(0))
    assert f'data-field="earned">{words.money(earned, cents=True)}<' in page


def program_tier(data: RunData) -> str:
    return str(latest_members(data)[OWN]["program_tier"])


def test_a_partner_users_landing_holds_nothing_of_another_partner(web_world, clients, data):
    text = clients["pat"].get("/").text
    others = {pid: m["name"] for pid, m in latest_members(data).items() if pid != OWN}
    for pid, name in others.items():
        assert pid not in text, pid
        assert not name or name not in text, name
    for internal in (
        "percentile",
        "Percentile",
        "Alert",
        "flag",
        "Improvement plan",
        "performance tier",
        "Performance tier",
        MANAGER_NAME,
        "by test",
        "by fin",
        "NaN",
        "None",
    ):
        assert internal not in text, internal


def test_finance_lands_on_its_work(web_world, clients, data):
    page = clients["fin"].get("/")
    assert page.status_code == 200, page.text
    words = data.workspace.words
    ledgers = Payouts(data.workspace)
    draft = next(h.period for h in ledgers.periods() if h.status == "draft")
    total = ledgers.ledger(draft).total
    assert f'data-ledger="{draft}"' in page.text
    assert words.money(total, cents=True) in page.text
    approved = ledgers.ledger(web_world.approved)
    assert words.money(approved.total, cents=True) in page.text
    assert "No MDF claim waits for payment." in page.text  # the world's claims are paid


# ---------------------------------------------------------------------------------- the hub


def test_the_partner_page_is_the_hub(web_world, clients, data):
    page = clients["ana"].get(f"/partners/{OWN}")
    assert page.status_code == 200
    text = page.text
    member = latest_members(data)[OWN]
    words = data.workspace.words
    assert f'data-field="type">{words.partner_type(member["partner_type"])}<' in text
    assert f'data-field="manager">{MANAGER_NAME}<' in text
    assert f'data-field="program-tier">{member["program_tier"]}<' in text
    revenue = figure(data, OWN, "won_revenue")
    assert f'data-field="revenue">{words.money(revenue)}<' in text
    for link in (
        f"/leads?partner={OWN}",
        f"/registrations?partner={OWN}",
        f"/mdf?partner={OWN}",
        f"/payouts/{web_world.approved}?partner={OWN}",
        f"/partners/{OWN}/scorecard.pdf",
        f"/partners/{OWN}/scorecard.xlsx",
        f"/partners/{OWN}/qbr.pdf",
    ):
        assert f'href="{link}' in text, link
        # each list accepts the filter
        if "?partner=" in link:
            assert clients["ana"].get(link).status_code == 200, link
    # deals by stage, from the warehouse
    with data.workspace.warehouse(read_only=True) as warehouse:
        stages = warehouse.con.execute(
            "SELECT stage, count(*) FROM opportunities WHERE partner_id = ? AND status = 'open' "
            "GROUP BY stage",
            [OWN],
        ).fetchall()
    for stage, n in stages:
        cells = f'<tr data-stage="{stage}"><td>{stage}</td><td class="num">{n}</td>'
        assert cells in text, stage


def test_the_plan_link_is_there_only_when_a_plan_is(clients, data):
    # an analyst's view: other modules close plans of the shared world (one of the manager's
    # among them), in whatever order the workers run them; the demo opens plans for many
    with_plan = sorted(data.open_plans)
    assert with_plan, "the demo opens improvement plans"
    ana = clients["ana"]
    page = ana.get(f"/partners/{with_plan[0]}").text
    assert f'href="/partners/{with_plan[0]}/plan">Edit the improvement plan' in page
    assert ana.get(f"/partners/{with_plan[0]}/plan").status_code == 200
    without = sorted(p for p in mine(data) if p not in data.open_plans)[0]
    page = clients["max"].get(f"/partners/{without}").text
    assert f"/partners/{without}/plan" not in page and 'data-plan="none"' in page


def test_a_partner_users_hub_is_the_partner_view(clients):
    pat = clients["pat"]
    text = pat.get(f"/partners/{OWN}").text
    for internal in ("Improvement plan", "Partner manager", MANAGER_NAME, "qbr.pdf", ".xlsx"):
        assert internal not in text, internal
    assert f'href="/leads?partner={OWN}"' in text and "scorecard.pdf" in text
    assert pat.get(f"/partners/{OWN}/qbr.pdf").status_code == 403
    assert pat.get(f"/partners/{OWN}/scorecard.xlsx").status_code == 403
    assert pat.get(f"/partners/{FOREIGN}/scorecard.pdf").status_code == 404
    assert clients["max"].get(f"/partners/{FOREIGN}/qbr.pdf").status_code == 404


def test_the_downloads_are_the_reports(web_world, clients, data):
    need(installed("weasyprint"), "WeasyPrint", "pip install -e .[reports]")
    pdf = clients["ana"].get(f"/partners/{OWN}/scorecard.pdf")
    if pdf.status_code == 503:
        need(False, "the pango text libraries", "scripts/setup-system")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    own = clients["pat"].get(f"/partners/{OWN}/scorecard.pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert clients["ana"].get(f"/partners/{OWN}/qbr.pdf").content.startswith(b"%PDF")
    book = clients["ana"].get(f"/partners/{OWN}/scorecard.xlsx")
    assert book.status_code == 200 and book.content.startswith(b"PK")
    theirs = clients["fin"].get(f"/partners/{OWN}/scorecard.xlsx")
    assert theirs.status_code == 200 and theirs.content.startswith(b"PK")
    import io

    import openpyxl

    sheets = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    ids = {
        cell
        for sheet in sheets.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str) and re.fullmatch(r"P\d{4}", cell)
    }
    assert ids == {OWN}


def test_the_partner_list_shows_the_same_columns(clients, data):
    page = clients["ana"].get("/partners", params={"q": OWN}).text
    words = data.workspace.words
    row = page.split(f'<tr data-row="{OWN}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-col="quota">{words.share(figure(data, OWN, "quota_attainment"))}<' in row
    api = clients["ana"].get("/api/v1/partners", params={"q": OWN}).json()["rows"][0]
    assert api["won_revenue"] == pytest.approx(figure(data, OWN, "won_revenue"))


def test_open_alerts_leave_out_the_resolved(web_world, tmp_path_factory):
    from partnerscope.operations import alert_work

    world = web_world.copy(tmp_path_factory.mktemp("hub-alerts") / "demo")
    ana = world.client("ana")
    rows = ana.get("/api/v1/partners", params={"per_page": 200}).json()["rows"]
    # nothing is resolved yet: every alert of the period is open
    assert all(r["open_alerts"] == r["alerts"] for r in rows)
    some = next(r for r in rows if r["alerts"])
    alert = ana.get("/api/v1/alerts", params={"partner": some["partner_id"]}).json()["alerts"]
    ws = Workspace.open(world.root)
    ref = alert_work.find(ws, alert[0]["alert_id"])
    alert_work.resolve(ws, ref, "called the partner", by="ana")
    again = ana.get("/api/v1/partners", params={"q": some["partner_id"]}).json()["rows"][0]
    assert again["alerts"] == some["alerts"]
    assert again["open_alerts"] == some["alerts"] - 1
