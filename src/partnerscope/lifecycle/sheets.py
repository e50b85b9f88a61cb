"""A team's own spreadsheet read for an import (applications, onboarding task completions,
business plans): a CSV or XLSX file read by the ingest's readers, its columns found by their
names or the other names a team gives them (case, spaces, dashes and underscores aside), and
each row with its number in the file.

An import checks every row before it stores anything: each problem is told with the file, the
row, the column and the value, and one problem refuses the whole file
(:class:`ImportRefusedError`), so a file is imported whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from partnerscope.errors import DataFileError, PartnerscopeError

if TYPE_CHECKING:
    from pathlib import Path

#: problems listed in one refusal (the rest are counted)
SHOWN = 50


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one cell (or, with column ``(row)``, a whole line) of the file."""

    file: str
    row: int
    column: str
    message: str
    #: the cell as written (None: not shown)
    value: str | None = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" ({self.value!r})"
        return f"{self.file}, row {self.row}, column {self.column}{shown}: {self.message}"


class ImportRefusedError(PartnerscopeError, ValueError):
    """A file with bad rows: nothing was stored; every problem is listed."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:SHOWN])
        more = f"\n  - ... and {count - SHOWN:,} more" if count > SHOWN else ""
        super().__init__(
            f"{count:,} problem{'s' * (count != 1)} in the file; nothing was imported (fix "
            f"the file and import it again):\n{shown}{more}"
        )


@dataclass(frozen=True)
class Sheet:
    """The rows of a file, by field."""

    #: the file's name, as problems name it
    file: str
    #: field → the file's column it was read from
    found: dict[str, str]
    #: (row number in the file, field → the cell's text, stripped; "" when empty), blank rows
    #: left out
    rows: list[tuple[int, dict[str, str]]]
    #: the lines the reader could not split into the header's columns
    problems: list[RowProblem]

    def problem(self, row: int, field: str, cells: Mapping[str, str], message: str) -> RowProblem:
        """A problem of ``field`` on ``row``, named by the file's own column."""
        return RowProblem(self.file, row, self.found[field], message, cells.get(field, ""))


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def read_sheet(
    path: Path,
    names: Mapping[str, Iterable[str]],
    *,
    required: Sequence[str],
    layout: str,
) -> Sheet:
    """The rows of the CSV or XLSX file at ``path``; ``names``: each field → the column names it
    may have (its own name always counts); a required field without a column is a
    :class:`DataFileError` that lists the file's columns and says the ``layout`` expected."""
    from partnerscope.config import SourceConfig
    from partnerscope.ingest.readers import ROW_COLUMN, read_file

    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    data = read_file(path, SourceConfig(entity="partners", path=str(path)))
    wanted = {f: {_words(f), *(_words(n) for n in others)} for f, others in names.items()}
    found: dict[str, str] = {}
    for column in data.columns:
        words = _words(column)
        for field, known in wanted.items():
            if words in known and field not in found:
                found[field] = column
                break
    missing = [field for field in required if field not in found]
    if missing:
        raise DataFileError(
            f"{path}: no {', '.join(missing)} column (the file has {', '.join(data.columns)}); "
            f"{layout}"
        )
    problems = [
        RowProblem(
            path.name,
            m.row,
            "(row)",
            f"{m.actual} fields where the header has {m.expected}; fix the quoting or the "
            "delimiter of this line",
        )
        for m in data.malformed
    ]
    columns = {field: data.table[column].to_pylist() for field, column in found.items()}
    rows = []
    for i, number in enumerate(data.table[ROW_COLUMN].to_pylist()):
        cells = {f: "" if v[i] is None else str(v[i]).strip() for f, v in columns.items()}
        if any(cells.values()):
            rows.append((int(number), cells))
    return Sheet(path.name, found, rows, problems)
