"""Workbooks read back the way a spreadsheet shows them: openpyxl for the cells, their number
formats, widths and frozen panes, the drawing parts of the file for where the charts sit.

The workspace is the one of tests/test_reports.py with every amount × 1,000, so that the
amounts are wide (FY2024-Q2: P1 Acme won $300,000, P2 Beta $100,000, P3 Core $150,000; the
quarter's quota of P1 is $400,000; win rate of P1 2/3).
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from partnerscope.reports.write import Format, Kind, write_reports
from tests.conftest import make_workspace
from tests.test_reports import CONFIG, PARTNERS

AS_OF = datetime(2024, 7, 1)
Q2 = "FY2024-Q2"
OPPS = (
    "id,partner,attribution,account,status,amount,created,closed\n"
    "O1,P1,sourced,A1,won,100000,2024-01-05,2024-02-10\n"
    "O2,P1,sourced,A2,lost,50000,2024-01-20,2024-03-02\n"
    "O3,P2,sourced,A3,won,300000,2024-01-10,2024-03-20\n"
    "O4,P3,sourced,A4,won,60000,2024-02-01,2024-02-25\n"
    "O5,P1,sourced,A5,won,200000,2024-04-02,2024-04-20\n"
    "O6,P1,sourced,A6,won,100000,2024-04-10,2024-06-05\n"
    "O7,P1,sourced,A7,lost,40000,2024-04-15,2024-05-10\n"
    "O8,P2,sourced,A8,won,100000,2024-04-03,2024-05-11\n"
    "O9,P2,sourced,A9,lost,80000,2024-04-05,2024-06-01\n"
    "O10,P3,sourced,A10,won,150000,2024-05-01,2024-05-30\n"
    "D1,,,A11,won,150000,2024-04-01,2024-05-15\n"
)
QUOTAS = (
    "partner,start,quota\n"
    "P1,2024-01-01,100000\nP2,2024-01-01,200000\nP3,2024-01-01,100000\n"
    "P1,2024-04-01,400000\nP2,2024-04-01,100000\nP3,2024-04-01,100000\n"
)
MONEY = '"$"#,##0'
DATA_SHEETS = ("Scorecards", "Metrics", "Tiers", "Alerts", "Flags")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("workbooks") / "ws"
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


@pytest.fixture(scope="module")
def executive(ws, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("executive")
    return write_reports(ws, Kind.EXECUTIVE, Format.XLSX, period=Q2, out=out).files[0]


def header(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_money_in_the_workspace_currency_and_each_unit_its_format(ws, executive):
    book = openpyxl.load_workbook(executive)
    sheet = book["Metrics"]
    head = header(sheet)
    rows = {(r[0].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    p1 = rows[("P1", Q2)]
    assert p1[1].value == "Acme"  # the name beside the id
    won = p1[head.index("Won revenue")]
    assert won.value == 300_000 and won.number_format == MONEY
    win = p1[head.index("Win rate")]
    assert win.value == pytest.approx(2 / 3) and win.number_format == "0.0%"
    cards = book["Scorecards"]
    head = header(cards)
    for row in cards.iter_rows(min_row=2):
        assert row[head.index("Score")].number_format == "0.0"
        assert isinstance(row[head.index("Score")].value, int | float)
        assert row[head.index("revenue, trailing 12 months")].number_format == MONEY
        assert row[head.index("percentile in peer group")].number_format == "0%"
    names = {r[0].value: r[1].value for r in cards.iter_rows(min_row=2)}
    assert names == {"P1": "Acme", "P2": "Beta", "P3": "Core"}


def test_no_catalog_key_or_code_in_a_header_or_a_words_column(ws, executive):
    book = openpyxl.load_workbook(executive)
    keys = set(ws.catalog.metrics)
    for name in book.sheetnames:
        heads = [v for v in header(book[name]) if v is not None]
        assert not keys & set(heads), name
    cards = book["Scorecards"]
    head = header(cards)
    types = {r[head.index("partner type")] for r in cards.iter_rows(min_row=2, values_only=True)}
    assert types == {"Value-added reseller", "System integrator"}
    groups = {r[head.index("peer group")] for r in cards.iter_rows(min_row=2, values_only=True)}
    assert groups == {"all partners"}  # three partners: compared with the portfolio
    # the Definitions sheet writes formulas in words too
    definitions = {r[0]: r for r in book["Definitions"].iter_rows(min_row=2, values_only=True)}
    assert definitions["Win rate"][4] == "won deals ÷ closed deals"
    texts = [v for r in definitions.values() for v in r if isinstance(v, str)]
    assert not [t for t in texts for k in keys if "_" in k and k in t]
    assert "score" not in header(cards) and "Score" in header(cards)


def test_frozen_panes_keep_the_id_and_the_name(executive):
    book = openpyxl.load_workbook(executive)
    for name in DATA_SHEETS:
        assert header(book[name])[:2] == ["partner id", "partner"], name
        assert book[name].freeze_panes == "C2", name
    assert book["Definitions"].freeze_panes == "B2"


def test_columns_are_wider_than_their_amounts(ws, executive):
    """Every money cell's amount as the spreadsheet shows it ("$400,000") fits its column."""
    words = ws.words
    book = openpyxl.load_workbook(executive)
    checked = 0
    for name in (*DATA_SHEETS, "Summary"):
        sheet = book[name]
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.number_format != MONEY or not isinstance(cell.value, int | float):
                    continue
                width = sheet.column_dimensions[get_column_letter(cell.column)].width
                shown = words.money(cell.value)
                assert width > len(shown), (name, cell.coordinate, shown, width)
                checked += 1
    assert checked > 20
    metrics = book["Metrics"]
    column = get_column_letter(header(metrics).index("Won revenue") + 1)
    assert metrics.column_dimensions[column].width > len("$300,000")


def test_changes_are_numbers_with_a_format(executive):
    sheet = openpyxl.load_workbook(executive)["Summary"]
    kpis = {}
    for row in sheet.iter_rows(min_row=5, max_col=4):
        if row[0].value is None:
            break
        kpis[row[0].value] = row
    assert kpis
    for label, row in kpis.items():
        change = row[3]
        assert change.value is None or isinstance(change.value, int | float), label
        if change.value is not None:
            assert change.number_format in ("+0%;-0%;0%", '+0.0" pts";-0.0" pts";0.0" pts"')


def chart_anchors(path: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """Each sheet's charts as (first column, first row, last column, last row), 1-based, read
    from the drawing parts the sheets point to."""
    ns = {
        "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    found: dict[str, list[tuple[int, int, int, int]]] = {}
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", ns)}
        for sheet in book.findall("main:sheets/main:sheet", ns):
            part = "xl/" + targets[sheet.get(f"{{{ns['r']}}}id")].removeprefix("/xl/")
            rel_path = re.sub(r"worksheets/(sheet\d+\.xml)$", r"worksheets/_rels/\1.rels", part)
            if rel_path not in z.namelist():
                continue
            for rel in ElementTree.fromstring(z.read(rel_path)).findall("rel:Relationship", ns):
                if not rel.get("Target").endswith(".xml") or "drawing" not in rel.get("Target"):
                    continue
                drawing = "xl/drawings/" + rel.get("Target").rsplit("/", 1)[1]
                for anchor in ElementTree.fromstring(z.read(drawing)):
                    start, end = anchor.find("xdr:from", ns), anchor.find("xdr:to", ns)
                    found.setdefault(sheet.get("name"), []).append(
                        (
                            int(start.find("xdr:col", ns).text) + 1,
                            int(start.find("xdr:row", ns).text) + 1,
                            int(end.find("xdr:col", ns).text) + 1,
                            int(end.find("xdr:row", ns).text) + 1,
                        )
                    )
    return found


def assert_charts_cover_no_cell(path: Path) -> int:
    book = openpyxl.load_workbook(path)
    charts = chart_anchors(path)
    for name, anchors in charts.items():
        used = [
            (cell.column, cell.row)
            for row in book[name].iter_rows()
            for cell in row
            if cell.value is not None
        ]
        for first_col, first_row, last_col, last_row in anchors:
            covered = [
                (c, r)
                for c, r in used
                if first_col <= c <= last_col
                and first_row <= r <= last_row
                # the title rows above the tables run over empty cells, and stop at the chart
                and r > 2
            ]
            assert not covered, (name, (first_col, first_row, last_col, last_row), covered)
    return sum(len(a) for a in charts.values())


def test_charts_cover_no_used_cell(ws, executive, tmp_path):
    assert chart_anchors(executive).keys() == {"Summary"}
    assert assert_charts_cover_no_cell(executive) == 1
    qbr = write_reports(ws, Kind.QBR, Format.XLSX, partner="P1", period=Q2, out=tmp_path)
    assert chart_anchors(qbr.files[0]).keys() == {"QBR"}
    assert assert_charts_cover_no_cell(qbr.files[0]) == 1


def test_anchor_reader_sees_an_overlap(tmp_path):
    """The check itself: a chart put over a table is caught."""
    import xlsxwriter

    path = tmp_path / "over.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    for r in range(10):
        sheet.write_row(r + 3, 0, [r, r * 2, r * 3])
    chart = book.add_chart({"type": "bar"})
    chart.add_series({"values": ["S", 3, 1, 12, 1]})
    sheet.insert_chart("B5", chart)
    book.close()
    assert chart_anchors(path)["S"][0][:2] == (column_index_from_string("B"), 5)
    with pytest.raises(AssertionError):
        assert_charts_cover_no_cell(path)


def test_the_summary_names_its_run_without_a_hash(ws, executive):
    from partnerscope.runs import get_run

    manifest = get_run(ws)
    stamp = openpyxl.load_workbook(executive)["Summary"]["A2"].value
    assert stamp == "partnerscope workspace · run 1 · data as of Jul 1, 2024, 00:00 UTC"
    assert manifest.config_hash not in stamp
    with zipfile.ZipFile(executive) as z:
        assert manifest.config_hash.encode() not in z.read("docProps/core.xml")


def test_a_column_of_mixed_units_keeps_each_cells_format(tmp_path):
    """The Alerts sheet's value column holds each alert's metric in its own unit; a workspace
    in de_DE and EUR writes its money with the euro after the amount."""
    from partnerscope.metrics.definition import Unit, load_catalog
    from partnerscope.present import Words
    from partnerscope.reports.workbook import Cell, _Book

    path = tmp_path / "mixed.xlsx"
    book = _Book(path, load_catalog(), Words("de_DE", "EUR"))
    rows = [
        ["P1", "Acme", Cell(0.625, Unit.SHARE)],
        ["P2", "Beta", Cell(1_234_567, Unit.MONEY)],
        ["P3", "Core", Cell(70.96666666666667, Unit.SCORE)],
    ]
    assert (
        book.table(
            "S", [("partner id", None, 4), ("partner", None, 4), ("value", None, 4)], rows, frozen=2
        )
        == 3
    )
    book.book.close()
    sheet = openpyxl.load_workbook(path)["S"]
    cells = [sheet.cell(row=r, column=3) for r in (2, 3, 4)]
    assert [c.number_format for c in cells] == ["0.0%", '#,##0 "€"', "0.0"]
    assert cells[2].value == pytest.approx(70.96666666666667)  # shown as 71.0, kept whole
    assert sheet.column_dimensions["C"].width > len("1.234.567 €")
    assert sheet.freeze_panes == "C2"
