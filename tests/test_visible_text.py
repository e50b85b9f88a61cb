"""Nothing a user reads shows a metric key, an internal code, a z-score, a configuration hash, a
raw fraction or long float, NaN/None/null, or money without its currency (issue 25; the rule is
tests/visible.py's).

The scanner is tested on its own first, on text that must and must not be found. Then every page
of the web app is read as each role of the demo web world (tests/webtools.py) sees it: the pages
are enumerated from the app's own routes (every GET page, none left out by a list written here),
the ones with an id filled from the world's store (a partner the role may see, a lead, a
registration, an MDF request, a payout quarter, an improvement plan, a decision and its
scenario comparison, a run); a run's own pages may show hashes (the fingerprints of its inputs
are what they are for), nothing else is let through. Then the reports: the HTML scorecard, QBR
and executive summary, their PDFs (the text pdfplumber reads) and the text cells of the
workbooks. Last, the read-only commands of the CLI, as a terminal 200 columns wide shows
them. A failure lists every finding once, with the pages and roles it was found on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.visible import problems, text_of
from tests.webtools import USERS, WebWorld, csrf_of, sign_in

KEYS = ("won_revenue", "lead_sla_rate", "quota", "csat", "nps", "score_percentile")


# ---- the scanner ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Revenue by won_revenue this quarter", "metric key won_revenue"),
        ("lead_sla_rate: 0.8", "metric key lead_sla_rate"),
        ("Partner\tquota\t12", "metric key quota alone in a cell"),
        ("Kind\tanomaly_own", "alert kind anomaly_own"),
        ("Rule\tbonus_bands\t$1,200", "payout rule bonus_bands"),
        ("Why: bottom_of_cohort", "flag criterion bottom_of_cohort"),
        ("Acme\tvar\tEMEA", "partner type var alone in a cell"),
        ("Acme\tmsp", "partner type msp alone in a cell"),
        ("Rank: score_percentile", "metric key score_percentile"),
        ("won revenue 3.1 below its usual (z = -2.4)", "z-score"),
        ("z-score 2.1", "z-score"),
        ("run 4 · config 9f2c4e1ab3d0 · definitions 1", "config hash"),
        ("fingerprint 3fa94c1e2b7d5a60", "hash"),
        ("Win rate 0.6666667", "float with more than 4 decimals"),
        ("Change 1.5e-07", "scientific notation"),
        ("Win rate 0.625", "raw fraction"),
        ("Score NaN", "NaN"),
        ("owner null", "null"),
        ("Ratio inf", "infinity"),
        ("Owner: None", "None"),
        ("Amount\tNone", "None"),
        ("Payout 1,234.56", "money without its currency"),
        ("Payout 52300.00 this quarter", "money without its currency"),
        ("Betrag 1.234,56", "money without its currency"),
    ],
)
def test_the_scanner_finds_what_a_user_must_not_read(text: str, what: str) -> None:
    found = problems(text, KEYS)
    assert len(found) == 1, found
    assert found[0].startswith(what + ":"), found


@pytest.mark.parametrize(
    "text",
    [
        "Won revenue $52.3M · Quota attainment 6.2% (needs at least 80.0%)",
        "Quota attainment\t62.4%",  # "Quota" is English, not the key written alone
        "Below quota for months on end",
        "CSAT 4.25 · NPS 31",
        "Value-added reseller\tEMEA\t$1,234.56",
        "Payout €1.234,56 · 1,234.56 USD · USD 1,234.56",
        "12,345 leads · 5.9× · 0.62 rating · 62.5%",
        "Score 71.3 · up 0.6 pts",
        "None yet: no plan is open",
        "Exit review\tNeeds improvement",
        "The partner will exit the programme",  # "exit" in a sentence is English
        "FY2026-Q3 · 2026-12-06 20:15 UTC · run 4",
        "Windows e-invoicing",
        "Loaded from data/lead_sla_rate.csv",  # a file's name (a table's) is no key
        "—",
    ],
)
def test_the_scanner_leaves_plain_language_alone(text: str) -> None:
    assert problems(text, KEYS) == []


def test_the_text_of_a_page_is_what_a_browser_shows() -> None:
    html = (
        "<html><head><title>won_revenue</title><style>.x{}</style></head><body>"
        '<script>var won_revenue = 0.6666667;</script><p data-metric="won_revenue">Won revenue'
        "</p><table><tr><th>Type</th><th>Amount</th></tr><tr><td>var</td><td>$1,200</td></tr>"
        '</table><input type="hidden" name="k" value="anomaly_own">'
        '<input name="q" value="lead_sla_rate"></body></html>'
    )
    text = text_of(html)
    assert "Won revenue" in text and "won_revenue" not in text
    assert "anomaly_own" not in text  # a hidden input is not shown
    found = problems(text, KEYS)
    assert [f.split(":")[0] for f in found] == [
        "partner type var alone in a cell",
        "metric key lead_sla_rate",
    ]


# ---- the pages ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """The web world with a decision whose scenario comparison is stored (a copy: the shared
    world is left as it is)."""
    from partnerscope.decisions.service import Decisions
    from partnerscope.workspace import Workspace

    world = web_world.copy(tmp_path_factory.mktemp("visible") / "demo")
    service = Decisions(Workspace.open(world.root))
    record = service.new(
        {"decision": "Should we add a Gold onboarding program?", "owner": "Head of Channel"},
        by="test",
    )
    did = record.decision_id
    service.edit(
        did,
        patch={"compare": {"scenario": {"options": [{"key": "A"}, {"key": "B"}]}}},
        by="test",
    )
    service.cite(did, "won_revenue", scope="company", by="test")
    service.compare(did, trials=50, seed=1, by="test")
    return world


def page_routes(app: Any) -> list[str]:
    """The paths of the app's HTML pages: every GET route outside the API and the static files
    (a download, its path ending in .csv, .pdf or .xlsx, left out: a file, not a page)."""
    found: list[str] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            context = getattr(route, "include_context", None)
            if context is not None:
                walk(route.original_router.routes, prefix + context.prefix)
                continue
            path = prefix + str(getattr(route, "path", ""))
            methods = getattr(route, "methods", None) or set()
            if "GET" not in methods or path.startswith(("/api/", "/static")):
                continue
            if re.search(r"\.\w+$", path) or path in found:
                continue
            found.append(path)

    walk(app.routes, "")
    return found


def ids(world: WebWorld) -> dict[str, list[str]]:
    """Values for each path parameter, from the world's store: several where a role may see
    only some (a partner user sees its own partner, a manager its own and the assigned)."""
    from partnerscope.decisions.service import Decisions
    from partnerscope.evaluation import plans
    from partnerscope.lifecycle import applications
    from partnerscope.runs import get_run
    from partnerscope.workspace import Workspace

    ws = Workspace.open(world.root)
    planned = [p.partner_id for p in plans.load(ws.state_dir).plans if p.status == "open"]
    return {
        "partner_id": [world.own, world.assigned, world.foreign, *planned[:1]],
        "lead_id": [world.leads[world.own], world.leads[world.foreign]],
        "registration_id": [str(r) for r in world.registrations.values()],
        "request_id": [str(r) for r in world.requests.values()],
        "period": [world.approved],
        "decision_id": [str(r.decision_id) for r in Decisions(ws).store.records()],
        "run_id": [str(get_run(ws).run_id)],
        # the demo's application awaiting a decision, and an approved one
        "application_id": ["4", "1"],
        # a new invitation link's token (its form is a page anyone may open)
        "token": [applications.invite(ws, company="Anyco", by="test").token],
        "task": ["kickoff"],
    }


def filled(path: str, values: dict[str, list[str]]) -> Iterator[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        yield path
        return
    name = names[0]
    assert name in values, f"{path}: no value for {{{name}}}: add one to ids()"
    for value in values[name]:
        yield from filled(path.replace("{" + name + "}", value, 1), values)


def catalog_keys(world: WebWorld) -> list[str]:
    from partnerscope.workspace import Workspace

    return list(Workspace.open(world.root).catalog.metrics)


def summary(findings: list[str]) -> str:
    """The findings (``where: what``), each what once with the places it was found."""
    places: dict[str, list[str]] = {}
    for finding in findings:
        where, _, what = finding.partition(": ")
        places.setdefault(what, []).append(where)
    kinds: dict[str, int] = {}
    for finding in findings:
        where, _, what = finding.partition(": ")
        page = where.split(" as ")[0].split(" signed out")[0]
        key = f"{page}: {what.split(':')[0]}"
        kinds[key] = kinds.get(key, 0) + 1
    lines = [f"{len(findings)} findings, {len(places)} different; by page and kind:"]
    lines += [f"  {key} ×{count}" for key, count in sorted(kinds.items())]
    lines.append("each finding, with where it was found:")
    for what, where in places.items():
        more = f" and {len(where) - 4} more" if len(where) > 4 else ""
        lines.append(f"- {what}\n    on {', '.join(where[:4])}{more}")
    return "\n".join(lines)


@pytest.mark.slow
def test_every_page_speaks_the_users_language(world: WebWorld) -> None:
    app = world.app()
    routes = page_routes(app)
    # the enumeration reaches the pages with ids (a route added later is read the same way)
    assert {"/", "/partners/{partner_id}", "/decisions/{decision_id}", "/leads/{lead_id}"} <= set(
        routes
    )
    values = ids(world)
    keys = catalog_keys(world)
    findings: list[str] = []
    read = 0
    for user, role in USERS.items():
        # a page that fails is a finding too (not the end of the scan)
        client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        sign_in(client, user)
        for route in routes:
            for path in filled(route, values):
                answer = client.get(path)
                if answer.status_code >= 500:
                    findings.append(f"{path} as {role}: answered {answer.status_code}")
                if answer.status_code != 200 or "html" not in answer.headers["content-type"]:
                    continue
                read += 1
                found = problems(text_of(answer.text), keys)
                if route.startswith("/runs"):
                    # a run's page is where its fingerprints are shown: hashes are its content
                    found = [f for f in found if not f.startswith("hash:")]
                findings += [f"{path} as {role}: {f}" for f in found]
        if role in ("admin", "analyst"):
            # a scenario run is a page of its own (the answer of the form, nothing stored)
            client.headers["X-CSRF-Token"] = csrf_of(client, "/scenarios")
            answer = client.post("/scenarios/run", data={"trials": "200", "seed": "1"})
            if answer.status_code == 200:
                read += 1
                findings += [
                    f"POST /scenarios/run as {role}: {f}"
                    for f in problems(text_of(answer.text), keys)
                ]
    signed_out = world.client()
    findings += [
        f"/login signed out: {f}" for f in problems(text_of(signed_out.get("/login").text))
    ]
    assert read > 60, read
    assert not findings, summary(findings)


# ---- the reports --------------------------------------------------------------------------------


def report_texts(world: WebWorld, out: Path) -> Iterator[tuple[str, str]]:
    """(which report, its visible text) of each report kind and format."""
    from partnerscope.reports.write import Format, Kind, write_reports
    from partnerscope.workspace import Workspace

    ws = Workspace.open(world.root)
    for kind, options in (
        (Kind.SCORECARD, {"partner": world.own}),
        (Kind.QBR, {"partner": world.own}),
        (Kind.EXECUTIVE, {}),
    ):
        for fmt in (Format.HTML, Format.PDF, Format.XLSX):
            if kind is Kind.EXECUTIVE and fmt is Format.XLSX:
                continue
            folder = out / f"{kind.value}-{fmt.value}"
            try:
                written = write_reports(ws, kind, fmt, out=folder, **options)
            except Exception as exc:  # a format this kind has not: said, not hidden
                yield f"{kind.value} {fmt.value}", f"could not be written: {exc}"
                continue
            for file in written.files:
                name = f"{kind.value} {fmt.value} {file.name}"
                if fmt is Format.HTML:
                    yield name, text_of(file.read_text(encoding="utf-8"))
                elif fmt is Format.PDF:
                    yield name, pdf_text(file)
                else:
                    for sheet, text in workbook_texts(file):
                        yield f"{name} sheet {sheet!r}", text


def pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def workbook_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(sheet, its text cells) of every sheet (numbers are shown by their number format, not
    checked here), a row a line and a cell a tab."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        lines = ["\t".join(v if isinstance(v, str) else "" for v in row) for row in rows]
        yield str(sheet.title), "\n".join(lines)


@pytest.mark.slow
def test_every_report_speaks_the_users_language(
    world: WebWorld, tmp_path_factory: pytest.TempPathFactory
) -> None:
    keys = catalog_keys(world)
    findings: list[str] = []
    seen = 0
    for name, text in report_texts(world, tmp_path_factory.mktemp("reports")):
        seen += 1
        if text.startswith("could not be written"):
            findings.append(f"{name}: {text}")
            continue
        findings += [f"{name}: {f}" for f in problems(text, keys)]
    assert seen >= 10, seen
    assert not findings, summary(findings)


# ---- the command line ---------------------------------------------------------------------------

#: read-only commands (after ``-w WORKSPACE``); ``{own}``, ``{approved}``, ``{decision}`` filled in
COMMANDS = (
    "status",
    "runs",
    "scorecard",
    "scorecard {own}",
    "show partner {own}",
    "tiers",
    "alerts",
    "alert list",
    "payouts list",
    "payouts show {approved}",
    "mdf list",
    "mdf budgets",
    "leads list",
    "registrations list",
    "decisions list",
    "decisions show {decision}",
)


@pytest.mark.slow
def test_every_command_speaks_the_users_language(
    world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnerscope.cli.app import console

    # 200 columns whatever test made the console first: a narrower table wraps a cell's words
    # ("Past a / threshold"), and a word alone on its line reads as a code
    monkeypatch.setattr(console, "width", 200)
    from typer.testing import CliRunner

    from partnerscope.cli import app

    decision = ids(world)["decision_id"][0]
    keys = catalog_keys(world)
    runner = CliRunner()
    findings: list[str] = []
    for command in COMMANDS:
        args = command.format(own=world.own, approved=world.approved, decision=decision).split()
        done = runner.invoke(
            app, ["-w", str(world.root), *args], env={"COLUMNS": "200", "NO_COLOR": "1"}
        )
        shown = "partnerscope " + " ".join(args)
        if done.exit_code != 0:
            findings.append(f"{shown}: exited {done.exit_code}")
        found = problems(done.output, keys)
        if command == "alert list":
            # an alert's id (12 hexadecimal digits) is what `alert ack ID` and the others take
            found = [f for f in found if not f.startswith("hash:")]
        findings += [f"{shown}: {f}" for f in found]
    assert not findings, summary(findings)
