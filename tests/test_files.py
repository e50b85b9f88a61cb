"""Input files: wrong files raise one clear DataFileError (exit 1 through the CLI, no
traceback); encodings, delimiters, headerless files, XLSX and Parquet are read correctly."""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.errors import DataFileError
from tests.conftest import quarantine, query, snapshot

PARTNERS = """
[sources.partners]
entity = "partners"
path = "data/partners.{ext}"
{extra}
[sources.partners.columns]
partner_id = "id"
name = "name"
country = "country"
"""


def partners_config(ext: str = "csv", extra: str = "") -> str:
    return PARTNERS.replace("{ext}", ext).replace("{extra}", extra)


def generated_file(tmp_path, suffix):
    """A new file name for a generated test file, apart from the workspaces."""
    folder = tmp_path / "generated"
    folder.mkdir(exist_ok=True)
    return folder / f"file{len(list(folder.iterdir()))}{suffix}"


def xlsx_bytes(tmp_path, rows, sheet="Sheet1", extra_sheets=()):
    path = generated_file(tmp_path, ".xlsx")
    book = xlsxwriter.Workbook(str(path))
    for name in (*extra_sheets, sheet):
        ws = book.add_worksheet(name)
        if name != sheet:
            ws.write(0, 0, "not this sheet")
            continue
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    ws.write_datetime(r, c, value, date_format)
                else:
                    ws.write(r, c, value)
    book.close()
    return path.read_bytes()


def parquet_bytes(tmp_path, table):
    path = generated_file(tmp_path, ".parquet")
    pq.write_table(table, path)
    return path.read_bytes()


# -- wrong files ------------------------------------------------------------------------------


def wrong_files(tmp_path):
    """(case, file extension, content, format setting, words the message must contain)."""
    return [
        (
            "opportunities export given as partners",
            "csv",
            "opportunity_id,stage,amount\nO1,Won,100\n",
            "",
            [
                "does not look like an export of partners",
                "'id' (for partner_id)",
                "'opportunity_id'",
            ],
        ),
        (
            "a mapped column missing",
            "csv",
            "id,name\nP1,Acme\n",
            "",
            ["some mapped columns are missing", "'country' (for country)"],
        ),
        ("empty file", "csv", b"", "", ["the file is empty", "expected an export with a header"]),
        ("blank lines only", "csv", "\n\n  \n", "", ["holds no rows"]),
        (
            "binary file",
            "csv",
            bytes(range(256)) * 4,
            "",
            ["binary", "expected a CSV, XLSX or Parquet export"],
        ),
        ("a PNG image", "csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "", ["png file, not CSV"]),
        (
            "XLSX declared as CSV",
            "csv",
            xlsx_bytes(tmp_path, [["id", "name", "country"], ["P1", "Acme", "DE"]]),
            "",
            ["this is a xlsx file, not CSV text", "set format = 'xlsx'"],
        ),
        (
            "XLSX content declared as format csv",
            "xlsx",
            xlsx_bytes(tmp_path, [["id", "name", "country"], ["P1", "Acme", "DE"]]),
            'format = "csv"',
            ["this is a xlsx file, not CSV text"],
        ),
        (
            "CSV named .parquet",
            "parquet",
            "id,name,country\nP1,Acme,DE\n",
            "",
            ["expected a parquet file but the content is not parquet"],
        ),
        (
            "Parquet with the wrong columns",
            "parquet",
            parquet_bytes(tmp_path, pa.table({"sku": ["A"], "price": [1.5]})),
            "",
            ["does not look like an export of partners", "'sku', 'price'"],
        ),
        (
            "XLSX without the sheet",
            "xlsx",
            xlsx_bytes(tmp_path, [["id"]], sheet="Data"),
            'sheet = "Partners"',
            ["has no sheet 'Partners'", "['Data']"],
        ),
        (
            "corrupt XLSX",
            "xlsx",
            b"PK\x03\x04" + b"\x00" * 100,
            "",
            ["cannot be opened as an XLSX workbook"],
        ),
        (
            "unknown encoding",
            "csv",
            "id,name,country\nP1,Acme,DE\n",
            'encoding = "klingon"',
            ["unknown encoding 'klingon'"],
        ),
    ]


def test_wrong_files_raise_one_clear_error(workspace_factory, tmp_path):
    cases = wrong_files(tmp_path)
    for case, ext, content, extra, words in cases:
        ws = workspace_factory(partners_config(ext, extra), {f"data/partners.{ext}": content})
        with pytest.raises(DataFileError) as info:
            ws.ingest()
        message = str(info.value)
        assert f"data/partners.{ext}" in message, case
        for word in words:
            assert word in message, (case, word, message)


def test_wrong_files_through_the_cli(workspace_factory, tmp_path):
    runner = CliRunner()
    cases = wrong_files(tmp_path)
    for case, ext, content, extra, words in cases:
        ws = workspace_factory(partners_config(ext, extra), {f"data/partners.{ext}": content})
        result = runner.invoke(app, ["-w", str(ws.root), "ingest"])
        assert result.exit_code == 1, (case, result.output)
        assert "Traceback" not in result.output, case
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(errors) == 1, (case, errors)
        assert errors[0].startswith("Error: "), case
        assert f"data/partners.{ext}" in errors[0], case
        for word in words:
            assert word in errors[0], (case, word)
        assert not (ws.root / "state" / "warehouse.duckdb").exists() or query(
            ws, "SELECT count(*) FROM partners"
        ) == [(0,)]


def test_a_failing_file_rolls_back_the_whole_ingest(workspace_factory):
    """Two sources in one ingest: the second file is wrong, so the first is not kept either."""
    ws = workspace_factory(
        partners_config()
        + """
        [sources.accounts]
        entity = "accounts"
        path = "data/accounts.csv"
        [sources.accounts.columns]
        account_id = "id"
        name = "name"
        """,
        {
            "data/partners.csv": "id,name,country\nP1,Acme,DE\n",
            "data/accounts.csv": "id,name\nA1,One\n",
        },
    )
    ws.ingest()
    before = snapshot(ws)
    (ws.root / "data/partners.csv").write_text("id,name,country\nP2,Beta,FR\n", encoding="utf-8")
    (ws.root / "data/accounts.csv").write_bytes(b"")
    with pytest.raises(DataFileError, match=r"accounts\.csv: the file is empty"):
        ws.ingest()
    assert snapshot(ws) == before


def test_header_only_file_loads_nothing(workspace_factory):
    ws = workspace_factory(partners_config(), {"data/partners.csv": "id,name,country\n"})
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (0, 0, 0)


# -- encodings and delimiters -----------------------------------------------------------------

ROWS = [("id", "name", "country"), ("P1", "Müller GmbH", "DE"), ("P2", "Café Crème", "FR")]
EXPECTED = [("P1", "Müller GmbH", "DE"), ("P2", "Café Crème", "FR")]


def encoded(text: str, encoding: str, bom: bytes = b"") -> bytes:
    return bom + text.encode(encoding)


@pytest.mark.parametrize(
    ("label", "delimiter", "encoding", "bom", "newline", "detected"),
    [
        ("utf-8", ",", "utf-8", b"", "\n", "utf-8"),
        ("utf-8 with BOM", ",", "utf-8", codecs.BOM_UTF8, "\n", "utf-8-sig"),
        ("utf-16 le with BOM, CRLF", ",", "utf-16-le", codecs.BOM_UTF16_LE, "\r\n", "utf-16"),
        ("utf-16 be with BOM", ";", "utf-16-be", codecs.BOM_UTF16_BE, "\n", "utf-16"),
        ("utf-16 le without BOM", "\t", "utf-16-le", b"", "\r\n", "utf-16-le"),
        ("cp1252, semicolons", ";", "cp1252", b"", "\r\n", "cp1252"),
        ("utf-8, tabs", "\t", "utf-8", b"", "\n", "utf-8"),
        ("utf-8, pipes", "|", "utf-8", b"", "\n", "utf-8"),
    ],
)
def test_encodings_and_delimiters_are_detected(
    workspace_factory, label, delimiter, encoding, bom, newline, detected
):
    text = "".join(delimiter.join(r) + newline for r in ROWS)
    ws = workspace_factory(partners_config(), {"data/partners.csv": encoded(text, encoding, bom)})
    report = ws.ingest()
    assert (report.rows_in, report.loaded) == (2, 2), label
    assert query(ws, "SELECT partner_id, name, country FROM partners ORDER BY 1") == EXPECTED
    assert query(ws, "SELECT encoding, delimiter FROM _imports") == [(detected, delimiter)]


def test_declared_encoding_and_delimiter_win(workspace_factory):
    # 'Ø' is 0xD8 in latin-1; the declared delimiter ';' is used although ',' also splits
    text = "id;name;country\nP1;Ørsted, A/S;DK\n"
    ws = workspace_factory(
        partners_config(extra='encoding = "latin-1"\ndelimiter = ";"'),
        {"data/partners.csv": text.encode("latin-1")},
    )
    ws.ingest()
    assert query(ws, "SELECT name FROM partners") == [("Ørsted, A/S",)]


def test_headerless_pipe_file_with_column_names(workspace_factory):
    """Like the AdventureWorks dw_* exports: pipe-delimited, no header row."""
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/resellers.txt"
        header = false
        column_names = ["key", "label", "kind", "since"]
        [sources.partners.columns]
        partner_id = "key"
        name = "label"
        partner_type = { column = "kind", map = { "Warehouse" = "distributor" } }
        joined_at = "since"
        """,
        {
            "data/resellers.txt": (
                "1|A Bike Store|Warehouse|2011-03-01\n"
                "2|Progressive Sports|Warehouse|not known\n"
                "3|Advanced Bike Components|Warehouse|2012-07-15\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (3, 2, 1)
    assert query(
        ws, "SELECT partner_id, name, partner_type, joined_at FROM partners ORDER BY 1"
    ) == [
        ("1", "A Bike Store", "distributor", date(2011, 3, 1)),
        ("3", "Advanced Bike Components", "distributor", date(2012, 7, 15)),
    ]
    # without a header the first line of the file is row 1
    assert quarantine(ws) == [(2, "joined_at", "not known", "not_date")]


def test_skip_rows_before_the_header(workspace_factory):
    ws = workspace_factory(
        partners_config(extra="skip_rows = 2"),
        {"data/partners.csv": "Partner report\nexported 2024-05-01\nid,name,country\nP1,,DE\n"},
    )
    ws.ingest()
    # two title lines, the header is row 3, so the first record is row 4
    assert quarantine(ws) == [(4, "name", None, "missing")]


# -- XLSX and Parquet -------------------------------------------------------------------------


def test_xlsx_input(workspace_factory, tmp_path):
    content = xlsx_bytes(
        tmp_path,
        [
            ["id", "name", "country", "joined", "lat", "active"],
            ["P1", "Acme", "DE", datetime(2024, 3, 5), 48.5, True],
            [101, "Numbered", None, datetime(2023, 12, 31), 10, False],
            [None, None, None, None, None, None],  # an empty row in the middle: skipped
            ["P3", None, "FR", "2024-01-02", "north", True],
            ["P4", "Extra cell", "IT", None, None, None, "surplus"],
        ],
        sheet="Partners",
        extra_sheets=("Notes",),
    )
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.xlsx"
        sheet = "Partners"
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        country = "country"
        joined_at = "joined"
        latitude = "lat"
        status = { column = "active", map = { "true" = "active", "false" = "inactive" } }
        """,
        {"data/partners.xlsx": content},
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (4, 2, 2)
    assert query(
        ws, "SELECT partner_id, name, country, joined_at, latitude, status FROM partners ORDER BY 1"
    ) == [
        # a whole number in a cell is read without ".0"
        ("101", "Numbered", None, date(2023, 12, 31), 10.0, "inactive"),
        ("P1", "Acme", "DE", date(2024, 3, 5), 48.5, "active"),
    ]
    assert quarantine(ws) == [
        (5, "name", None, "missing"),
        (6, None, "['P4', 'Extra cell', 'IT', '', '', '', 'surplus']", "malformed_row"),
    ]


def test_parquet_input(workspace_factory, tmp_path):
    table = pa.table(
        {
            "id": pa.array(["O1", "O2", "O3"]),
            "status": pa.array(["won", "open", "won"]),
            "amount": pa.array([1234.5, None, 10.125], pa.float64()),
            "created": pa.array(
                [datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 2, 1), datetime(2024, 3, 1)],
                pa.timestamp("us"),
            ),
            "closed": pa.array([date(2024, 2, 1), None, None], pa.date32()),
            "seats": pa.array([3, 4, 5], pa.int64()),
        }
    )
    ws = workspace_factory(
        """
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.parquet"
        [sources.opps.columns]
        opportunity_id = "id"
        status = "status"
        amount = "amount"
        created_at = "created"
        closed_at = "closed"
        name = { expr = "'deal of ' || seats || ' seats'" }
        """,
        {"data/opps.parquet": parquet_bytes(tmp_path, table)},
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (3, 2, 1)
    assert query(
        ws,
        "SELECT opportunity_id, name, amount, created_at, closed_at FROM opportunities ORDER BY 1",
    ) == [
        (
            "O1",
            "deal of 3 seats",
            Decimal("1234.50"),
            datetime(2024, 1, 2, 3, 4, 5),
            datetime(2024, 2, 1),
        ),
        ("O2", "deal of 4 seats", None, datetime(2024, 2, 1), None),
    ]
    # Parquet has no header row: its first record is row 1
    assert quarantine(ws) == [(3, "closed_at", None, "closed_needs_date")]


def test_parquet_with_timezone_aware_timestamps(workspace_factory, tmp_path):
    table = pa.table(
        {
            "id": ["O1"],
            "created": pa.array([datetime(2024, 3, 10, 12, 0)], pa.timestamp("us", tz="UTC")),
        }
    )
    ws = workspace_factory(
        """
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.parquet"
        timezone = "America/New_York"
        [sources.opps.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        created_at = "created"
        """,
        {"data/opps.parquet": parquet_bytes(tmp_path, table)},
    )
    ws.ingest()
    # an instant is an instant: the source zone does not move it
    assert query(ws, "SELECT created_at FROM opportunities") == [(datetime(2024, 3, 10, 12, 0),)]


def test_error_message_names_the_file_relative_to_the_workspace(workspace_factory):
    ws = workspace_factory(partners_config(), {"data/partners.csv": "x,y\n1,2\n"})
    with pytest.raises(DataFileError) as info:
        ws.ingest()
    assert re.match(
        r"^\S*data/partners\.csv: this does not look like an export of partners", str(info.value)
    )
