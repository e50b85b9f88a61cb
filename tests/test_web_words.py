"""The operations and money pages speak the users' language (issue 25): partners by name,
linked to their page, money with the workspace currency, dates by the locale, searchable
partner pickers that take a name or an id, and a period picker that offers only the periods with
data. Values are checked against the stores of the demo web world (tests/webtools.py): a real
lead, registration, MDF request and payout ledger, the warehouse's partner names and its
opportunities' close dates."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.webtools import ASSIGNED, FOREIGN, OWN, WebWorld, csrf_of

#: the pages of this part of the app (a partner manager or admin reads each)
PAGES = (
    "/leads",
    "/registrations",
    "/mdf",
    "/payouts",
    "/tiers",
    "/runs",
    "/runs/1",
    "/quality",
    "/audit",
    "/scenarios",
)


@pytest.fixture(scope="module")
def world(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """A copy of the web world: the picker tests add requests, registrations and overrides."""
    return web_world.copy(tmp_path_factory.mktemp("words") / "demo")


@pytest.fixture(scope="module")
def names(world: WebWorld) -> dict[str, str]:
    from partnerscope.warehouse import partner_names
    from partnerscope.workspace import Workspace

    return partner_names(Workspace.open(world.root))


@pytest.fixture(scope="module")
def ada(world: WebWorld) -> Any:
    return world.client("ada")


def text_of(page: str) -> str:
    """The text a reader sees: no scripts, styles, tags or attributes."""
    page = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def linked(page: str, pid: str, name: str) -> bool:
    """Whether the page names the partner, linked to its page, with its id beside."""
    escaped = html.escape(name, quote=False)
    return bool(
        re.search(
            rf'<a href="/partners/{pid}"[^>]*>{re.escape(escaped)}</a> <span class="muted">{pid}'
            r"</span>",
            page,
        )
    )


def dollars(amount: Decimal | float) -> str:
    """An amount as the demo workspace (en_US, USD) writes it in a table: ``$120,000``."""
    return f"${Decimal(str(amount)).quantize(Decimal(1)):,}"


# ------------------------------------------------------------------------------ names


def test_a_lead_shows_its_partner_by_name_linked(world, ada, names):
    lead = world.leads[OWN]
    listing = ada.get("/leads").text
    row = re.search(rf'<tr data-lead="{lead}".*?</tr>', listing, re.S)
    assert row and linked(row.group(), OWN, names[OWN])
    assert "$50,000" in text_of(row.group())  # the world's leads are worth 50000 each
    detail = ada.get(f"/leads/{lead}").text
    assert linked(detail, OWN, names[OWN])
    # the explanation names the partner too, its id as secondary text
    assert f"{names[OWN]} ({OWN}): " in text_of(detail)


def test_a_registration_shows_its_partner_and_amount(world, ada, names):
    from partnerscope.operations import registrations as regs
    from partnerscope.workspace import Workspace

    rid = world.registrations[OWN]
    (found,) = [
        r for r in regs.registrations(Workspace.open(world.root)) if r.registration_id == rid
    ]
    listing = ada.get("/registrations").text
    row = re.search(rf'<tr data-registration="{rid}".*?</tr>', listing, re.S)
    assert row and linked(row.group(), OWN, names[OWN])
    assert dollars(found.amount) in text_of(row.group())
    detail = ada.get(f"/registrations/{rid}")
    assert linked(detail.text, OWN, names[OWN])
    text = text_of(detail.text)
    assert f"won ({dollars(found.amount)})" in text
    when = found.expected_close
    assert f"Expected close {when:%b} {when.day}, {when.year}" in text  # "Feb 4, 2027"


def test_an_mdf_request_shows_its_partner_and_money(world, ada, names):
    rid = world.requests[OWN]
    listing = ada.get("/mdf").text
    row = re.search(rf'<tr data-request="{rid}".*?</tr>', listing, re.S)
    assert row and linked(row.group(), OWN, names[OWN])
    # the world's requests: 900 asked and approved, 800 claimed and paid
    assert re.search(r"\$900 \$900 .* \$800 \$800", text_of(row.group()))
    detail = ada.get(f"/mdf/requests/{rid}").text
    assert linked(detail, OWN, names[OWN])
    assert "Paid $800 by test" in text_of(detail)


def test_a_payout_ledger_shows_names_rules_in_words_and_dollars(world, names):
    from partnerscope.money.payouts import Payouts
    from partnerscope.workspace import Workspace

    ledger = Payouts(Workspace.open(world.root)).ledger(world.approved)
    mine = [ln for ln in ledger.lines if ln.partner_id == OWN]
    total = sum((ln.amount for ln in mine), Decimal(0))
    fin = world.client("fin")
    page = fin.get(f"/payouts/{world.approved}", params={"partner": OWN}).text
    text = text_of(page)
    assert f"total {dollars(total)} for {names[OWN]}" in text
    assert linked(page, OWN, names[OWN])
    for ln in mine:
        assert f"${ln.amount:,.2f}" in text  # a payout line to the cent
        assert ln.rule not in text  # the rule by its name, not its key
    # the line's explanation, stored with bare amounts, is shown with the currency
    assert "2 new customer(s) × $1,000.00" in text
    whole = fin.get(f"/payouts/{world.approved}").text
    assert dollars(ledger.total) in text_of(whole)
    assert f'{names[OWN]}</a> <span class="muted">{OWN}</span>' in whole


def test_a_partner_user_sees_its_own_name_and_no_other(world, names):
    pat = world.client("pat")
    pages = [
        "/leads",
        f"/leads/{world.leads[OWN]}",
        "/registrations",
        f"/registrations/{world.registrations[OWN]}",
        "/mdf",
        f"/mdf/requests/{world.requests[OWN]}",
        f"/payouts/{world.approved}",
    ]
    for path in pages:
        got = pat.get(path)
        assert got.status_code == 200, path
        assert names[FOREIGN] not in got.text, path
        assert "/partners/" not in got.text, path  # a partner user has no partner pages
    assert names[OWN] in pat.get(f"/payouts/{world.approved}").text
    max_ = world.client("max")  # a partner manager who may not see FOREIGN
    for path in ("/leads", "/registrations", "/mdf", "/tiers"):
        assert names[FOREIGN] not in max_.get(path).text, path


# -------------------------------------------------------------------------- the pickers


def _periods_with_deals(world: WebWorld) -> list[str]:
    """The scored periods in which some opportunity closed, newest first, from the
    warehouse."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.warehouse import read_warehouse
    from partnerscope.workspace import Workspace

    ws = Workspace.open(world.root)
    closed = {
        d
        for (d,) in read_warehouse(
            ws,
            "SELECT DISTINCT CAST(closed_at AS DATE) FROM opportunities WHERE closed_at IS "
            "NOT NULL",
        )
    }
    periods = RunData(ws).periods
    ends = [s for s, _ in periods[1:]] + [date.max]
    return [
        label
        for (start, label), end in reversed(list(zip(periods, ends, strict=True)))
        if any(start <= d < end for d in closed)
    ]


def test_the_period_picker_offers_the_periods_with_data(world, ada):
    wanted = _periods_with_deals(world)
    # the demo's deals start in its sixth quarter: the first five have no data
    assert len(wanted) == 12 and wanted[-1] == "FY2024-Q1"
    page = ada.get("/tiers").text
    select = re.search(r'<select name="period">(.*?)</select>', page, re.S)
    assert select
    offered = re.findall(r'<option value="([^"]+)"', select.group(1))
    assert offered == wanted
    # a period without data named in the address says so, and shows no scores
    early = ada.get("/tiers", params={"period": "FY2023-Q1"}).text
    assert 'id="no-data"' in early and "FY2023-Q1 (no data)" in text_of(early)
    # the payout form offers the complete quarters with data only
    compute = re.search(r'<select name="period">(.*?)</select>', ada.get("/payouts").text, re.S)
    assert compute
    quarters = re.findall(r'<option value="([^"]+)"', compute.group(1))
    assert quarters and set(quarters) <= set(wanted) and "FY2023-Q1" not in quarters


def test_pickers_list_names_and_take_a_name_or_an_id(world, names):
    max_ = world.client("max")
    page = max_.get("/mdf").text
    options = re.findall(r'<datalist id="mdf-partners">(.*?)</datalist>', page, re.S)
    assert (
        options and f'<option value="{html.escape(names[ASSIGNED])} ({ASSIGNED})">' in (options[0])
    )
    assert FOREIGN not in options[0]
    token = csrf_of(max_, "/mdf")
    body = {"csrf_token": token, "activity_type": "event", "amount": "100"}
    for given in (f"{names[ASSIGNED]} ({ASSIGNED})", names[ASSIGNED].upper(), ASSIGNED):
        made = max_.post(
            "/mdf/requests",
            data={**body, "partner_id": given, "name": given},
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        request = max_.get(made.headers["location"]).text
        assert linked(request, ASSIGNED, names[ASSIGNED])
    unknown = max_.post("/mdf/requests", data={**body, "partner_id": "Nobody Inc", "name": "x"})
    assert unknown.status_code == 422
    assert "partner_id: no partner &#39;Nobody Inc&#39;" in unknown.text
    # naming a partner the manager may not see is refused as before, without its name
    foreign = max_.post("/mdf/requests", data={**body, "partner_id": FOREIGN, "name": "x"})
    assert foreign.status_code == 404 and names[FOREIGN] not in foreign.text

    registered = max_.post(
        "/registrations",
        data={
            "csrf_token": token,
            "partner_id": f"{names[ASSIGNED]} ({ASSIGNED})",
            "account_name": "Picker Test Holdings",
            "amount": "5000",
            "expected_close": "2027-06-30",
        },
        follow_redirects=False,
    )
    assert registered.status_code == 303, registered.text
    assert linked(max_.get(registered.headers["location"]).text, ASSIGNED, names[ASSIGNED])

    ana = world.client("ana")
    held = ana.post(
        "/tiers/overrides",
        data={
            "csrf_token": csrf_of(ana, "/tiers"),
            "partner_id": f"{names[ASSIGNED]} ({ASSIGNED})",
            "ruleset": "performance",
            "tier": "Elite",
            "reason": "picked by name",
        },
        follow_redirects=False,
    )
    assert held.status_code == 303, held.text
    overrides = ana.get("/tiers").text
    row = re.search(r'<tr data-override="\d+">.*?picked by name.*?</tr>', overrides, re.S)
    assert row and linked(row.group(), ASSIGNED, names[ASSIGNED])


# ------------------------------------------------------------------------- nothing raw


def test_the_pages_show_no_key_code_raw_number_or_bare_money(world):
    from partnerscope.present import ALERT_KINDS, CRITERIA, RULES
    from partnerscope.workspace import Workspace

    catalog = Workspace.open(world.root).catalog
    keys = {m.name for m in catalog if "_" in m.name} | {
        k for k in (*RULES, *ALERT_KINDS, *CRITERIA) if "_" in k
    }
    key = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, sorted(keys))) + r")(?![\w.-])")
    found = []
    for user in ("ada", "fin"):
        client = world.client(user)
        for path in (
            *PAGES,
            f"/payouts/{world.approved}",
            f"/leads/{world.leads[OWN]}",
            f"/registrations/{world.registrations[OWN]}",
            f"/mdf/requests/{world.requests[OWN]}",
        ):
            got = client.get(path)
            if got.status_code == 403:
                continue
            assert got.status_code == 200, (user, path)
            text = text_of(got.text)
            for what, pattern in (
                ("long float", r"\d\.\d{5,}"),
                ("NaN", r"\bNaN\b"),
                ("JSON", r"\{\""),
                ("money without currency", r"(?<![$\d,.])\d{1,3}(?:,\d{3})+\.\d{2}\b"),
                ("hash", r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,}\b"),
            ):
                found += [(user, path, what, m) for m in re.findall(pattern, text)]
            found += [(user, path, "key", m) for m in key.findall(text)]
    assert not found, found[:20]


def test_each_tier_keeps_its_colour_by_its_place_in_the_order(world, ada):
    from partnerscope.evaluation.overrides import tier_names
    from partnerscope.reports.charts import TIER_PALETTE
    from partnerscope.workspace import Workspace

    order = tier_names(Workspace.open(world.root).config.tiers)
    page = ada.get("/tiers").text
    for ruleset, tiers in order.items():
        for i, tier in enumerate(tiers):
            row = re.search(rf'<tr data-row="{ruleset}:{re.escape(tier)}".*?</tr>', page, re.S)
            assert row, (ruleset, tier)
            assert f"background:{TIER_PALETTE[i]}" in row.group(), (ruleset, tier)
    # the top revenue tier is the darkest, whatever period is shown
    assert TIER_PALETTE[0] == "#1e3a8a"


def test_a_run_is_written_out_without_json_or_hashes(world, ada):
    import json

    manifest = json.loads((world.root / "state" / "runs" / "000001" / "manifest.json").read_text())
    evaluation = manifest["evaluation"]
    page = ada.get("/runs/1").text
    text = text_of(page)
    assert manifest["config_hash"] not in text and manifest["config_hash"] in page  # a title
    assert "Configuration configuration 1" in text
    scored = f"Partners scored {evaluation['scored']:,} of {evaluation['partners']:,}"
    low = evaluation["low_evidence"]
    assert (f"{scored} ({low:,} on too little evidence)" if low else f"{scored} ") in text
    assert "Exit review " + str(evaluation["flags"]["exit"]) in text
    listing = text_of(ada.get("/runs").text)
    assert f"{evaluation['scored']:,} of {evaluation['partners']:,}" in listing
