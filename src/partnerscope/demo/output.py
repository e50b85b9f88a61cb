"""Writers for the export formats the demo imitates; each returns the number of data rows."""

from __future__ import annotations

import codecs
import io
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import xlsxwriter

#: Fixed document timestamp, so that the workbook is byte-identical from run to run.
XLSX_CREATED = datetime(2026, 10, 1)


def write_csv(table: pa.Table, path: Path, *, delimiter: str = ",") -> int:
    """UTF-8 CSV with a header row; blanks for nulls, strings quoted."""
    pa_csv.write_csv(table, path, pa_csv.WriteOptions(delimiter=delimiter))
    return int(table.num_rows)


def write_utf16_csv(table: pa.Table, path: Path, *, delimiter: str = ";") -> int:
    """UTF-16 little-endian text with a byte-order mark and CRLF lines, as Excel saves it."""
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(delimiter=delimiter))
    text = buffer.getvalue().decode("utf-8").replace("\n", "\r\n")
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return int(table.num_rows)


def write_parquet(table: pa.Table, path: Path) -> int:
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def write_xlsx(table: pa.Table, path: Path, *, sheet: str) -> int:
    """One sheet with a bold header; dates as real Excel dates, numbers as numbers."""
    # constant_memory streams rows to disk, so the workbook never holds the whole sheet
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties(
        {"title": sheet, "author": "partnerscope demo", "created": XLSX_CREATED}
    )
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, name in enumerate(table.column_names):
        worksheet.write_string(0, col, name, bold)
        worksheet.set_column(col, col, max(12, len(name) + 2))
    for row, record in enumerate(table.to_pylist(), start=1):
        for col, value in enumerate(record.values()):
            if value is None:
                continue
            if isinstance(value, date):
                worksheet.write_datetime(
                    row, col, datetime(value.year, value.month, value.day), date_format
                )
            elif isinstance(value, bool):
                worksheet.write_boolean(row, col, value)
            elif isinstance(value, int | float):
                worksheet.write_number(row, col, value)
            else:
                worksheet.write_string(row, col, str(value))
    workbook.close()
    return int(table.num_rows)
