"""Reports opened the way people open them: HTML parsed, workbooks read back with openpyxl, PDFs
rendered to PNG with pdftoppm, and the HTML scorecard drawn by headless Chromium.

The fixture's values are worked out by hand (as of 2024-07-01, calendar quarters):

=========  ==============================  ===============================  =======
partner    FY2024-Q1 won (closed)          FY2024-Q2 won (closed)           Q2 quota
=========  ==============================  ===============================  =======
P1 Acme    100 (won 100, lost 50)          300 (Apr 200, Jun 100; lost 40)  400
P2 Beta    300 (won 300)                   100 (May 100; lost 80)           100
P3 Core    60 (won 60)                     150 (May 150)                    100
direct     —                               150 (May)                        —
=========  ==============================  ===============================  =======

FY2024-Q2: win rate P1 2/3, P2 1/2, P3 1; quota attainment P1 0.75, P2 1.0, P3 1.5, so two of
three partners are at quota; partners' won revenue 550 of 700 in all: channel share 11/14.
Three partners are fewer than the smallest cohort (5), so each is compared with the portfolio:
the cohort median of won revenue is median(300, 100, 150) = 150, of win rate 2/3.
P1's QBR: the quarter's quota 400 is planned at 400/3 a month; won to date 200, 200, 300, so
the quarter's attainment to date is 0.5, 0.5, 0.75.
"""

from __future__ import annotations

import gc
import math
import shutil
import subprocess
import tracemalloc
from datetime import datetime
from html.parser import HTMLParser

import openpyxl
import pyarrow.parquet as pq
import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.reports import content, render
from partnerscope.reports.executive import executive
from partnerscope.reports.scorecard import scorecard
from partnerscope.reports.write import Format, Kind, write_reports
from partnerscope.runs import get_run, read_results, run_folder
from tests.browser import launch, need_chromium
from tests.conftest import copy_workspace, make_workspace
from tests.requires import SETUP_SYSTEM, need
from tests.test_cli import assert_one_error_line, run

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
partner_type = "type"
region = "region"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = "attribution"
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"

[sources.quotas]
entity = "targets"
path = "data/quotas.csv"
[sources.quotas.columns]
partner_id = "partner"
period_start = "start"
quota = "quota"

[metrics.win_rate]
min_evidence = 1
"""
PARTNERS = "id,name,type,region\nP1,Acme,var,EMEA\nP2,Beta,si,EMEA\nP3,Core,var,AMER\n"
OPPS = (
    "id,partner,attribution,account,status,amount,created,closed\n"
    "O1,P1,sourced,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P1,sourced,A2,lost,50,2024-01-20,2024-03-02\n"
    "O3,P2,sourced,A3,won,300,2024-01-10,2024-03-20\n"
    "O4,P3,sourced,A4,won,60,2024-02-01,2024-02-25\n"
    "O5,P1,sourced,A5,won,200,2024-04-02,2024-04-20\n"
    "O6,P1,sourced,A6,won,100,2024-04-10,2024-06-05\n"
    "O7,P1,sourced,A7,lost,40,2024-04-15,2024-05-10\n"
    "O8,P2,sourced,A8,won,100,2024-04-03,2024-05-11\n"
    "O9,P2,sourced,A9,lost,80,2024-04-05,2024-06-01\n"
    "O10,P3,sourced,A10,won,150,2024-05-01,2024-05-30\n"
    "D1,,,A11,won,150,2024-04-01,2024-05-15\n"
)
QUOTAS = (
    "partner,start,quota\n"
    "P1,2024-01-01,100\nP2,2024-01-01,200\nP3,2024-01-01,100\n"
    "P1,2024-04-01,400\nP2,2024-04-01,100\nP3,2024-04-01,100\n"
)
AS_OF = datetime(2024, 7, 1)
Q2 = "FY2024-Q2"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports") / "ws"
    ws = make_workspace(
        root,
        CONFIG,
        {"data/partners.csv": PARTNERS, "data/opps.csv": OPPS, "data/quotas.csv": QUOTAS},
    )
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=AS_OF)
        yield ws


class Page(HTMLParser):
    """The figures (data-metric, data-value, text) of a report under each data-row, and every
    address the page refers to."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: dict[str, list[tuple[str, float | None, str]]] = {}
        self.figures: list[tuple[str, float | None, str]] = []
        self.addresses: list[str] = []
        self.meta: dict[str, str] = {}
        self._row: str | None = None
        self._figure: tuple[str, float | None] | None = None
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a:
                self.addresses.append(a[key])
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        if "data-run" in a:
            self.meta.update({k: v for k, v in a.items() if k.startswith("data-")})
        if tag == "tr" and "data-row" in a:
            self._row = a["data-row"]
            self.rows[self._row] = []
        if "data-metric" in a:
            value = a.get("data-value")
            self._figure = (a["data-metric"], None if value is None else float(value))
            self._text = ""

    def handle_data(self, data):
        if self._figure is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._figure is not None and tag in ("span", "td"):
            figure = (*self._figure, self._text.strip())
            self.figures.append(figure)
            if self._row is not None:
                self.rows[self._row].append(figure)
            self._figure = None
        if tag == "tr":
            self._row = None


def page(ws, kind, **options) -> tuple[Page, str]:
    written = write_reports(ws, kind, Format.HTML, **options)
    text = written.files[0].read_text(encoding="utf-8")
    return Page(text), text


def test_scorecard_shows_the_runs_values_worked_by_hand(ws):
    parsed, text = page(ws, Kind.SCORECARD, partner="P1", period=Q2)
    # metric rows: value, previous, change, cohort median (the order of the table)
    won = parsed.rows["won_revenue"]
    assert [f[1] for f in won[:2]] == [300.0, 100.0]
    assert won[0][2] == "$300"
    assert won[2][2] == "+200%"
    assert won[3][1] == 150.0
    rate = parsed.rows["win_rate"]
    assert rate[0][1] == pytest.approx(2 / 3) and rate[0][2] == "66.7%"
    assert rate[1][1] == pytest.approx(1 / 2)
    assert rate[3][1] == pytest.approx(2 / 3)
    assert parsed.rows["quota_attainment"][0][1] == 0.75
    # the same values the run stored
    results = read_results(ws).to_pylist()
    stored = next(
        r
        for r in results
        if r["level"] == "partner" and r["group_key"] == "P1" and r["label"] == Q2
    )
    for metric in ("won_revenue", "win_rate", "quota_attainment", "open_pipeline"):
        assert parsed.rows[metric][0][1] == stored[metric]
    # the score and its explanation: the points add up to the score
    card = pq.read_table(run_folder(ws, get_run(ws).run_id) / "scorecards.parquet").to_pylist()
    score = next(c["score"] for c in card if c["partner_id"] == "P1" and c["period"] == Q2)
    assert ("score", score, f"{score:.1f}") in parsed.figures
    points = [f[1] for row in parsed.rows.values() for f in row if f[0] == "contribution"]
    assert sum(p for p in points if p is not None) == pytest.approx(score)
    # the formula in words, in the "Definitions" appendix at the end (no catalog key)
    assert text.index('id="definitions"') > text.index('data-row="won_revenue"')
    # (its last two words held by a no-break space: no line ends on a lone word)
    assert "won revenue ÷\u00a0quota" in text and "won_revenue / quota" not in text
    # the partner's type in words, the id only beside it
    assert "P1 · Value-added reseller · EMEA" in text


def test_every_report_names_its_run(ws):
    manifest = get_run(ws)
    for kind, options in (
        (Kind.SCORECARD, {"partner": "P2"}),
        (Kind.QBR, {"partner": "P2"}),
        (Kind.EXECUTIVE, {}),
    ):
        parsed, text = page(ws, kind, **options)
        assert parsed.meta["data-run"] == str(manifest.run_id)
        assert parsed.meta["data-config-hash"] == manifest.config_hash
        assert parsed.meta["data-definitions"] == manifest.definitions_version
        # the run in words in the header and in "About this run" at the end; the hashes only
        # in the footer's attributes, for a check against the run (no reading matter)
        assert "data as of Jul 1, 2024, 00:00 UTC" in text
        assert text.index("About this run") > text.index("<footer")
        assert text.count(manifest.config_hash) == 1


def test_reports_are_self_contained(ws):
    for kind, options in ((Kind.SCORECARD, {"partner": "P1"}), (Kind.EXECUTIVE, {})):
        parsed, text = page(ws, kind, **options)
        images = [a for a in parsed.addresses if a.startswith("data:image/svg+xml;base64,")]
        assert len(images) >= 2
        assert [a for a in parsed.addresses if not a.startswith("data:")] == []
        assert "<script" not in text and "<link" not in text and "@import" not in text


def test_qbr_plans_the_quarter_by_month(ws):
    parsed, text = page(ws, Kind.QBR, partner="P1", period=Q2)
    plan = {month: parsed.rows[month] for month in ("2024-04", "2024-05", "2024-06")}
    assert [plan[m][0][1] for m in plan] == [200.0, 0.0, 100.0]
    assert [plan[m][1][1] for m in plan] == [pytest.approx(400 / 3)] * 3
    assert [plan[m][2][1] for m in plan] == [200.0, 200.0, 300.0]
    assert [plan[m][3][1] for m in plan] == [0.5, 0.5, 0.75]
    assert "a third of the quarter" in text
    # section rows: this quarter, the previous, the change, a year ago (none: no 2023 data)
    rate = parsed.rows["win_rate"]
    assert rate[0][1] == pytest.approx(2 / 3) and rate[1][1] == pytest.approx(1 / 2)
    assert rate[3][1] is None and rate[3][2] == "—"


def test_qbr_period_must_be_a_quarter_of_the_run(ws):
    result = run(
        "-w", str(ws.root), "report", "qbr", "--partner", "P1", "--period", "2024-05", ok=False
    )
    assert_one_error_line(result, "a QBR covers a complete quarter of the run")


def test_executive_summary_against_its_goals(ws):
    parsed, text = page(ws, Kind.EXECUTIVE, period=Q2)
    figures = {f[0]: f for f in parsed.figures}
    share = figures["channel_revenue_share"]
    assert share[1] == pytest.approx(11 / 14) and share[2] == "78.6%"
    assert figures["share_partners_at_quota"][1] == pytest.approx(2 / 3)
    assert 'class="fig  good" data-metric="channel_revenue_share"' in text  # 78.6 % ≥ 60 %
    assert 'class="fig  bad" data-metric="share_partners_at_quota"' in text  # 66.7 % < 85 %
    # the tier table counts every partner once per rule set
    report = executive(RunData(ws), Q2)
    for ruleset in ("revenue", "performance"):
        assert sum(t["partners"] for t in report.sections["tiers"] if t["ruleset"] == ruleset) == 3
    # risers and decliners: the score changes of the stored scorecards, largest first
    cards = pq.read_table(run_folder(ws, get_run(ws).run_id) / "scorecards.parquet").to_pylist()
    score = {(c["partner_id"], c["period"]): c["score"] for c in cards}
    change = {p: score[(p, Q2)] - score[(p, "FY2024-Q1")] for p in ("P1", "P2", "P3")}
    risers = sorted((p for p in change if change[p] > 0), key=lambda p: -change[p])
    decliners = sorted((p for p in change if change[p] < 0), key=lambda p: change[p])
    assert [r["partner_id"] for r in report.sections["risers"]] == risers
    assert [r["partner_id"] for r in report.sections["decliners"]] == decliners
    for r in report.sections["risers"] + report.sections["decliners"]:
        assert r["change"].value == pytest.approx(change[r["partner_id"]])


def test_same_run_same_bytes(ws, tmp_path):
    first = write_reports(ws, Kind.EXECUTIVE, Format.HTML, out=tmp_path / "a").files[0]
    second = write_reports(ws, Kind.EXECUTIVE, Format.HTML, out=tmp_path / "b").files[0]
    assert first.read_bytes() == second.read_bytes()


def test_workbook_reads_back_the_run(ws, tmp_path):
    written = write_reports(ws, Kind.EXECUTIVE, Format.XLSX, period=Q2, out=tmp_path)
    book = openpyxl.load_workbook(written.files[0])
    assert book.sheetnames == [
        "Summary",
        "Scorecards",
        "Metrics",
        "Tiers",
        "Alerts",
        "Flags",
        "Definitions",
    ]
    manifest = get_run(ws)
    assert f"run {manifest.run_id}" in book["Summary"]["A2"].value
    # the run and its date in words; the configuration's hash is no reading matter
    assert "data as of Jul 1, 2024, 00:00 UTC" in book["Summary"]["A2"].value
    assert manifest.config_hash not in book["Summary"]["A2"].value
    # Metrics: every partner × quarter of the run, numbers as numbers, units as formats
    sheet = book["Metrics"]
    header = [c.value for c in sheet[1]]
    rows = {(r[0].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    p1 = rows[("P1", Q2)]
    assert p1[1].value == "Acme"
    column = {m.name: header.index(m.label) for m in ws.catalog if not m.group_only}
    assert p1[column["won_revenue"]].value == 300
    assert p1[column["win_rate"]].value == pytest.approx(2 / 3)
    assert p1[column["win_rate"]].number_format == "0.0%"
    assert p1[column["won_revenue"]].number_format == '"$"#,##0'
    stored = read_results(ws).to_pylist()
    for r in stored:
        if r["level"] != "partner" or r["grain"] != "quarter":
            continue
        row = rows[(r["group_key"], r["label"])]
        for metric in ("won_revenue", "win_rate", "quota_attainment", "avg_deal_size"):
            cell = row[column[metric]].value
            assert (cell is None and r[metric] is None) or cell == r[metric]
    # Scorecards: the period's partners, best first
    cards = list(book["Scorecards"].iter_rows(min_row=2, values_only=True))
    assert len(cards) == 3 and [c[6] for c in cards] == [Q2] * 3
    assert [c[7] for c in cards] == sorted((c[7] for c in cards), reverse=True)
    # Definitions: the catalog, one row each
    definitions = {r[0]: r for r in book["Definitions"].iter_rows(min_row=2, values_only=True)}
    assert set(definitions) == {m.label for m in ws.catalog}
    assert definitions["Win rate"][4] == "won deals ÷ closed deals"  # in words, no key
    assert definitions["Win rate"][6] == "closed deals ≥ 1"


def test_a_partners_workbook_holds_no_other_partner(ws, tmp_path):
    written = write_reports(ws, Kind.SCORECARD, Format.XLSX, partner="P1", out=tmp_path)
    book = openpyxl.load_workbook(written.files[0])
    assert "Summary" not in book.sheetnames
    cells = [
        str(v)
        for name in book.sheetnames
        if name != "Definitions"
        for row in book[name].iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert "P1" in cells
    assert not [c for c in cells if "P2" in c or "P3" in c or "Beta" in c or "Core" in c]


def test_qbr_workbook(ws, tmp_path):
    written = write_reports(ws, Kind.QBR, Format.XLSX, partner="P1", period=Q2, out=tmp_path)
    sheet = openpyxl.load_workbook(written.files[0])["QBR"]
    plan = list(sheet.iter_rows(min_row=5, max_row=7, values_only=True))
    assert [r[0] for r in plan] == ["2024-04", "2024-05", "2024-06"]
    assert [r[1] for r in plan] == [200, 0, 100]
    assert [r[4] for r in plan] == [0.5, 0.5, 0.75]
    result = run("-w", str(ws.root), "report", "qbr", "--format", "xlsx", ok=False)
    assert_one_error_line(result, "a QBR workbook is one partner's")


def test_pdf_renders_to_pages(ws, tmp_path):
    need(shutil.which("pdftoppm"), "pdftoppm (poppler-utils)", f"{SETUP_SYSTEM} installs it")
    written = write_reports(ws, Kind.SCORECARD, Format.PDF, partner="P1", out=tmp_path)
    pdf = written.files[0]
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    from PIL import Image

    first = Image.open(pages[0]).convert("L")
    low, high = first.getextrema()
    assert low < 100 and high > 240  # ink on paper, not a blank page
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Acme — scorecard FY2024-Q2" in text
    assert f"run {get_run(ws).run_id}" in text and get_run(ws).config_hash not in text
    assert "About this run" in text


def test_report_errors_are_one_line(ws):
    for args, message in (
        (("scorecard", "--partner", "P9"), "no partner 'P9'"),
        (("scorecard", "--period", "FY2030-Q1"), "--period FY2030-Q1"),
        (("executive", "--partner", "P1"), "leave out --partner"),
        (("summary",), "'summary' is not one of"),
    ):
        result = run("-w", str(ws.root), "report", *args, ok=False)
        assert result.exit_code != 0
        assert message in result.output, result.output


def test_all_partners_with_an_index(ws, tmp_path):
    result = run("-w", str(ws.root), "report", "scorecard", "--out", str(tmp_path), "--jobs", "1")
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.glob("scorecard-P*.html"))
    assert files == [f"scorecard-P{i}-FY2024-Q2.html" for i in (1, 2, 3)]
    index = Page((tmp_path / "scorecard-index-FY2024-Q2.html").read_text(encoding="utf-8"))
    assert sorted(a for a in index.addresses) == files
    scores = [f[1] for f in index.figures if f[0] == "score"]
    assert scores == sorted(scores, reverse=True)


def test_sparkline_draws_the_trend():
    from partnerscope.reports.charts import sparkline

    assert sparkline([1.0]) == "" and sparkline([None, 2.0]) == ""
    svg = sparkline([0.0, 10.0, None, 5.0], width=24, height=10)
    # x steps of (24 − 4) / 3; y from 10 − 3 (lowest) to 3 (highest); a gap at the None
    assert 'd="M2.0,7.0 L8.7,3.0"' in svg
    assert '<circle cx="22.0" cy="5.0"' in svg


# ------------------------------------------------------------------- the demo, all partners


@pytest.fixture(scope="module")
def demo(demo_folder, tmp_path_factory):
    from partnerscope.workspace import Workspace

    return Workspace.open(copy_workspace(demo_folder, tmp_path_factory.mktemp("reports") / "demo"))


@pytest.mark.slow
def test_demo_writes_reports_and_says_where(demo):
    folder = demo.root / "reports" / "run-000001"
    names = {p.name for p in folder.iterdir()}
    assert "run-FY2026-Q4.xlsx" in names and "executive-FY2026-Q4.html" in names
    assert len([n for n in names if n.startswith("scorecard-")]) == 2
    assert len([n for n in names if n.startswith("qbr-")]) == 2


@pytest.mark.slow
def test_every_partner_in_bounded_memory(demo, tmp_path):
    """Python's peak allocation while writing every partner's scorecard stays near that of
    half of them, and far below the pages written: each page is written and dropped."""
    data = RunData(demo)
    partners = list(data.scorecards.spans)
    assert len(partners) == 50

    def peak(ids, out):
        out.mkdir()
        medians = content.CohortMedians(data)
        gc.collect()  # garbage of earlier tests is not this one's
        tracemalloc.start()
        for pid in ids:
            page = render.html(scorecard(data, pid, medians=medians))
            (out / f"{pid}.html").write_text(page, encoding="utf-8")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(partners[:2], tmp_path / "warm")  # the run's tables are read on first use
    half = peak(partners[:25], tmp_path / "half")
    every = peak(partners, tmp_path / "all")
    pages = sum(p.stat().st_size for p in (tmp_path / "all").iterdir())
    assert len(list((tmp_path / "all").iterdir())) == 50
    assert every < 1.5 * half
    assert every < pages  # holding the pages would take at least their size


@pytest.mark.slow
def test_demo_workbook_matches_the_run(demo, tmp_path):
    """Every number of the Metrics sheet is the run's value (to the 16 digits a cell keeps)."""
    written = write_reports(demo, Kind.EXECUTIVE, Format.XLSX, out=tmp_path)
    sheet = openpyxl.load_workbook(written.files[0])["Metrics"]
    rows = sheet.iter_rows(values_only=True)
    labels = {m.label: m.name for m in demo.catalog}
    header = [labels.get(h, h) for h in next(rows)]
    results = {
        (r["group_key"], r["label"]): r
        for r in read_results(demo).to_pylist()
        if r["level"] == "partner" and r["grain"] == "quarter"
    }
    seen = 0
    for row in rows:
        stored = results[(row[0], row[2])]
        for name, cell in zip(header[5:], row[5:], strict=True):
            value = stored[name]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert cell is None
            else:  # a cell holds 16 significant digits
                assert cell == pytest.approx(value, rel=1e-15, abs=0), (row[0], row[1], name)
        seen += 1
    assert seen == len(results)


@pytest.mark.slow
def test_scorecard_layout_in_chromium(demo, tmp_path):
    """The HTML scorecard drawn by a real browser, wide and phone-sized: nothing runs off the
    side, every chart loads, and the screenshot has content."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    written = write_reports(demo, Kind.SCORECARD, Format.HTML, partner="P0012", out=tmp_path)
    url = written.files[0].as_uri()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for width in (1280, 390):
                tab = browser.new_page(viewport={"width": width, "height": 900})
                tab.goto(url)
                layout = tab.evaluate(
                    """() => ({
                    scroll: document.documentElement.scrollWidth,
                    images: [...document.images].map(i => [i.complete, i.naturalWidth]),
                    sparks: [...document.querySelectorAll('svg.spark')]
                        .map(s => s.getBoundingClientRect().width),
                    tiles: [...document.querySelectorAll('.tile')]
                        .map(t => t.getBoundingClientRect().right),
                    title: document.querySelector('h1').getBoundingClientRect().height,
                })"""
                )
                assert layout["scroll"] <= width, f"wider than the window at {width} px"
                assert len(layout["images"]) == 2
                assert all(done and w > 0 for done, w in layout["images"])
                assert layout["sparks"] and all(w == 90 for w in layout["sparks"])
                assert all(right <= width for right in layout["tiles"])
                shot = tmp_path / f"scorecard-{width}.png"
                tab.screenshot(path=str(shot), full_page=True)
                from PIL import Image

                image = Image.open(shot).convert("L")
                assert image.width == width and image.height > 1500
                # text, charts and tints: many shades of grey, not one colour
                assert sum(1 for count in image.histogram() if count) > 20
                tab.close()
        finally:
            browser.close()
