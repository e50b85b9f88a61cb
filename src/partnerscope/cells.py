"""Cells of files people open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading single quote. Numbers are written as numbers."""
    if isinstance(value, list):
        value = " ".join(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


class CsvWriter:
    """A ``csv.writer`` with ``\\n`` line ends that also quotes a text holding a carriage return.

    Python's writer quotes only the characters of its own line end, so with ``\\n`` it wrote
    ``a\\r=1+1`` bare, and a spreadsheet splits the row there: the text after the carriage
    return starts a new line and runs as a formula. A row holding one is written with every
    text quoted (numbers stay numbers); other rows as before.
    """

    def __init__(self, out: Any) -> None:
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row: Iterable[Any]) -> None:
        cells = list(row)
        if any(isinstance(c, str) and "\r" in c for c in cells):
            self._quoted.writerow(cells)
        else:
            self._plain.writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """``rows`` as CSV text with a header of ``columns`` (``\\n`` line ends), written as given."""
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(columns)
    for row in rows:
        extra = set(row) - set(columns)
        if extra:
            raise ValueError(f"dict contains fields not in fieldnames: {sorted(extra)}")
        writer.writerow(row.get(c, "") for c in columns)
    return out.getvalue()
