"""Reading export files (CSV in any encoding and delimiter, XLSX, Parquet) into Arrow tables.

A reader returns every cell as text plus the row number a person would see when opening the file
(the header is row 1), and the records it could not split into the right number of fields. It
raises :class:`DataFileError` only when the file as a whole cannot be what it is declared to be.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.errors import DataFileError

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.config import FileSettings

ROW_COLUMN = "__row"
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
_MAGIC = {
    b"PK\x03\x04": "xlsx",
    b"PAR1": "parquet",
    b"%PDF": "pdf",
    b"\x89PNG": "png",
    b"\x1f\x8b": "gzip",
    b"\xd0\xcf\x11\xe0": "xls (Excel 97-2003)",
}


@dataclass
class MalformedRow:
    row: int
    text: str
    expected: int
    actual: int


@dataclass
class FileData:
    """What a reader found in one file."""

    table: pa.Table  # all columns as text, plus ROW_COLUMN
    columns: list[str]  # the file's own column names, in order
    malformed: list[MalformedRow] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows_in(self) -> int:
        return int(self.table.num_rows) + len(self.malformed)


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def read_file(path: Path, source: FileSettings) -> FileData:
    """Read ``path`` as declared by ``source``; every cell comes back as text."""
    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty; expected an export with a header row")
    fmt = detect_format(path, source.format)
    head = _read_head(path, 8)
    actual = next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)
    if fmt == "csv" and actual is not None:
        raise DataFileError(
            f"{path}: this is a {actual} file, not CSV text; "
            + (
                f"set format = {actual!r} on the source"
                if actual in ("xlsx", "parquet")
                else "export the data as CSV, XLSX or Parquet"
            )
        )
    if fmt in ("xlsx", "parquet") and actual != fmt:
        raise DataFileError(
            f"{path}: expected a {fmt} file but the content is not {fmt}; "
            "check the file or the source's format"
        )
    if fmt == "xlsx":
        return _read_xlsx(path, source)
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_csv(path, source)


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def detect_encoding(sample: bytes) -> str:
    """The codec of a text sample: BOMs first, then UTF-8, then UTF-16 without BOM, then a guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # a multi-byte character may be cut at the end of the sample
        sample.decode("utf-8") if len(sample) < SAMPLE_BYTES else sample[:-4].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    even, odd = sample[0::2], sample[1::2]
    if sample and odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if sample and even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    from charset_normalizer import from_bytes

    results = from_bytes(sample)
    best = results.best()
    if best is None:
        return "cp1252"
    # On short samples the detector ties the Windows code pages and may pick cp1250, which reads
    # "Crème" as "Crčme". Take cp1252, the code page of most exports, unless it scores worse or
    # puts symbols inside words where the other has letters ("£ódŸ" for "Łódź").
    western = next((m for m in results if "cp1252" in m.could_be_from_charset), None)
    if (
        western is not None
        and western.chaos <= best.chaos
        and _symbols_in_words(str(western)) <= _symbols_in_words(str(best))
    ):
        return "cp1252"
    return str(best.encoding)


def _symbols_in_words(text: str) -> int:
    return sum(
        1
        for i, c in enumerate(text)
        if ord(c) > 127
        and not c.isalpha()
        and any(0 <= j < len(text) and text[j].isalpha() for j in (i - 1, i + 1))
    )


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path, source: FileSettings) -> FileData:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sample = _read_head(path, SAMPLE_BYTES)
    encoding = detect_encoding(sample) if source.encoding == "auto" else source.encoding
    try:
        codecs.lookup(encoding)
        text = sample.decode(encoding, errors="replace")
    except LookupError:
        raise DataFileError(
            f"{path}: unknown encoding {encoding!r}; use a Python codec name such "
            "as 'utf-8', 'utf-16' or 'cp1252'"
        ) from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise DataFileError(
            f"{path}: the file is binary, not CSV text; expected a CSV, XLSX or Parquet export"
        )
    lines = text.splitlines()[source.skip_rows :]
    if not any(line.strip() for line in lines):
        raise DataFileError(f"{path}: the file holds no rows; expected an export with a header row")
    delimiter = (
        detect_delimiter("\n".join(lines)) if source.delimiter == "auto" else (source.delimiter)
    )
    if source.header:
        if not lines[0].strip():
            raise DataFileError(
                f"{path}: line {source.skip_rows + 1}, the header row, is blank; remove the "
                "lines above the header or set skip_rows on the source"
            )
        header = next(csv.reader(io.StringIO(lines[0]), delimiter=delimiter))
        names = _unique([h.strip().lstrip("\ufeff") for h in header])
        skip = source.skip_rows + 1
    else:
        names = list(source.column_names or [])
        skip = source.skip_rows
    malformed: list[MalformedRow] = []

    def on_invalid(row: Any) -> str:
        malformed.append(
            MalformedRow(row.number or 0, row.text[:500], row.expected_columns, row.actual_columns)
        )
        return "skip"

    # Arrow decodes a malformed row's text before it calls on_invalid; when that text is not
    # valid in the encoding, Arrow prints the UnicodeDecodeError as "Exception ignored"
    # with a traceback, then fails the read. Keep that error to say what is wrong instead.
    undecodable: list[BaseException | None] = []

    def parse(threads: bool) -> pa.Table:
        malformed.clear()
        previous = sys.unraisablehook

        def hook(unraisable: Any) -> None:
            if unraisable.object is on_invalid:
                undecodable.append(unraisable.exc_value)
            else:
                previous(unraisable)

        sys.unraisablehook = hook
        try:
            return _read(threads)
        finally:
            sys.unraisablehook = previous

    def _read(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=_arrow_codec(encoding),
                column_names=names,
                skip_rows=skip,
                use_threads=threads,
                block_size=16 << 20,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
                # blank lines are counted so that the row numbers are those a person sees
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = parse(threads=True)
        if malformed:  # numbers are only known when parsing on one thread
            table = parse(threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if undecodable:
            raise DataFileError(
                f"{path}: cannot be read as CSV: a row with the wrong number of fields is not "
                f"valid {encoding} text ({str(exc).splitlines()[0]}); set the source's encoding to "
                "the one the file was saved in"
            ) from None
        raise DataFileError(
            f"{path}: cannot be read as CSV ({encoding}, delimiter "
            f"{delimiter!r}): {exc}; check the encoding and delimiter"
        ) from None
    first = skip + 1
    numbers = np.arange(first, first + table.num_rows + len(malformed), dtype=np.int64)
    if malformed:
        numbers = np.setdiff1d(numbers, [m.row for m in malformed])[: table.num_rows]
    table = _drop_blank_records(table.append_column(ROW_COLUMN, pa.array(numbers, pa.int64())))
    return FileData(table, names, malformed, encoding=encoding, delimiter=delimiter)


def _drop_blank_records(table: pa.Table) -> pa.Table:
    """Without the records whose every cell is empty (blank lines): nothing to load or report."""
    import pyarrow.compute as pc

    blank = None
    for name in table.column_names:
        if name == ROW_COLUMN:
            continue
        empty = pc.equal(table[name], "")
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return table
    return table if blank is None else table.filter(pc.invert(blank))


def _arrow_codec(encoding: str) -> str:
    # Arrow hands non-UTF-8 input to Python codecs; it strips a UTF-8 BOM itself.
    return "utf8" if encoding in ("utf-8", "utf-8-sig", "utf8") else encoding


def _read_xlsx(path: Path, source: FileSettings) -> FileData:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise DataFileError(f"{path}: cannot be opened as an XLSX workbook ({exc})") from None
    sheet_names = book.sheet_names
    wanted = source.sheet if source.sheet is not None else 0
    if isinstance(wanted, int):
        if wanted >= len(sheet_names):
            raise DataFileError(f"{path}: has no sheet number {wanted}; sheets: {sheet_names}")
        sheet_name = sheet_names[wanted]
    elif wanted in sheet_names:
        sheet_name = wanted
    else:
        raise DataFileError(f"{path}: has no sheet {wanted!r}; sheets are {sheet_names}")
    rows = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    rows = rows[source.skip_rows :]
    while rows and all(c in ("", None) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise DataFileError(f"{path}: sheet {sheet_name!r} is empty")
    if source.header:
        header = [_cell_text(c).strip() for c in rows[0]]
        # the sheet is as wide as its widest row: cells right of the header are not columns
        while header and not header[-1]:
            header.pop()
        names = _unique(header)
        body, first = rows[1:], source.skip_rows + 2
    else:
        names, body, first = list(source.column_names or []), rows, source.skip_rows + 1
    columns: dict[str, list[str]] = {n: [] for n in names}
    malformed: list[MalformedRow] = []
    numbers: list[int] = []
    for i, row in enumerate(body):
        extra = [c for c in row[len(names) :] if c not in ("", None)]
        if extra:
            malformed.append(
                MalformedRow(first + i, str(row)[:500], len(names), len(names) + len(extra))
            )
            continue
        numbers.append(first + i)
        for j, name in enumerate(names):
            columns[name].append(_cell_text(row[j]) if j < len(row) else "")
    arrays = {n: pa.array(v, pa.string()) for n, v in columns.items()}
    arrays[ROW_COLUMN] = pa.array(numbers, pa.int64())
    return FileData(_drop_blank_records(pa.table(arrays)), names, malformed)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _read_parquet(path: Path) -> FileData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = [str(n) for n in pq.read_schema(path).names]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DataFileError(
                f"{path}: the Parquet file has more than one column named "
                f"{', '.join(map(repr, repeated))}; export it again with unique column names"
            )
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        # one line: Arrow's messages may list the whole schema
        message = " ".join(str(exc).split())
        raise DataFileError(f"{path}: cannot be read as Parquet ({message})") from None
    names = [str(n) for n in table.column_names]
    table = table.append_column(ROW_COLUMN, pa.array(range(1, table.num_rows + 1), pa.int64()))
    return FileData(table, names)


def _unique(names: list[str]) -> list[str]:
    """Make header names unique (a repeated name gets _2, _3) and name blank headers."""
    seen: dict[str, int] = {}
    result = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        result.append(name)
    return result
