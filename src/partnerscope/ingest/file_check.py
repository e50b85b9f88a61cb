"""What `partnerscope validate` checks in the files themselves: every column a mapping reads is
in its file, and when it is not, the closest column that is.

Each file is read as ingest reads it (its source's format, encoding, delimiter, header and
skip_rows), but only its head: the header and a sample of rows.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.errors import DataFileError, did_you_mean

if TYPE_CHECKING:
    from partnerscope.config import ColumnMapping, Config, FileSettings

#: Bytes of a CSV file read: its header and the rows that fit.
HEAD_BYTES = 256 * 1024
#: Columns listed when a missing one has no close match.
LISTED = 20


def read_columns(path: Path, settings: FileSettings) -> list[str]:
    """The columns of ``path`` as ingest names them, read from the file's head."""
    from partnerscope.ingest.readers import detect_format, read_file

    fmt = detect_format(path, settings.format)
    if fmt != "csv" or not path.is_file() or path.stat().st_size <= HEAD_BYTES:
        return read_file(path, settings).columns
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        # UTF-16: a cut at a byte would split a character; read it whole
        return read_file(path, settings).columns
    cut = head.rfind(b"\n")
    with tempfile.TemporaryDirectory(prefix="partnerscope-head-") as folder:
        copy = Path(folder) / path.name
        copy.write_bytes(head[: cut + 1] if cut > 0 else head)
        try:
            return read_file(copy, settings).columns
        except DataFileError as exc:
            raise DataFileError(str(exc).replace(str(copy), str(path))) from None


def expr_columns(expr: str) -> list[str]:
    """The columns an ``expr`` surely reads by name: its column references, unless it holds a
    subquery (whose names may be another table's); none when it does not parse."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(expr, dialect="duckdb")
    except SqlglotError:
        return []
    if tree is None or tree.find(exp.Select) is not None:
        return []
    names = (c.name for c in tree.find_all(exp.Column) if not c.table and c.name)
    return list(dict.fromkeys(names))


@dataclass
class _Missing:
    """One mapped column missing from one or more files of a source."""

    where: str
    column: str
    used: str
    files: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        more = len(self.files) - 1
        place = self.files[0] + (f" (nor in {more} more of its files)" if more else "")
        hint = did_you_mean(self.column, self.columns)
        if not hint:
            listed = ", ".join(repr(c) for c in self.columns[:LISTED])
            rest = len(self.columns) - LISTED
            hint = f"; its columns are {listed}" + (f" and {rest} more" if rest > 0 else "")
        return f"{self.where}: column {self.column!r} ({self.used}) is not in {place}{hint}"


def _reads(mapping: ColumnMapping, canonical: str) -> list[tuple[str, str, bool]]:
    """(file column, what it is for, whether its case counts) of each column ``mapping`` reads
    from its source's file: a mapped name is the file's header exactly, an expr's names are
    SQL identifiers (DuckDB matches them in any case)."""
    out = [(column, f"for {canonical}", True) for column in mapping.file_columns()]
    if mapping.expr is not None and mapping.aggregate is None:
        out += [(c, f"in the expr of {canonical}", False) for c in expr_columns(mapping.expr)]
    return out


def file_column_problems(root: Path, config: Config) -> list[str]:
    """A sentence for each file a source or lookup declares that cannot be read, and for each
    column a mapping reads that its file does not have (with the closest one that it has)."""
    from partnerscope.config import source_files
    from partnerscope.ingest.ledger import display_path
    from partnerscope.ingest.loader import lookup_column_problems
    from partnerscope.ingest.transform import LookupTable

    problems: list[str] = []
    lookups: dict[str, LookupTable] = {}
    for name, lookup in config.lookups.items():
        for path in source_files(root, lookup)[:1]:
            shown = display_path(path, root)
            try:
                columns = read_columns(path, lookup)
            except DataFileError as exc:
                problems.append(f"lookups.{name}: {exc}")
                continue
            lookups[name] = LookupTable(name, "", shown, lookup.key, columns=tuple(columns))
            if lookup.key is not None and lookup.key not in columns:
                problems.append(
                    _Missing(
                        f"lookups.{name}.key", lookup.key, "its key", [shown], columns
                    ).sentence()
                )
    for name, source in config.sources.items():
        missing: dict[tuple[str, str], _Missing] = {}
        for path in source_files(root, source):
            shown = display_path(path, root)
            try:
                columns = read_columns(path, source)
            except DataFileError as exc:
                problems.append(f"sources.{name}: {exc}")
                continue
            exact, folded = set(columns), {c.lower() for c in columns}
            for canonical in source.columns:
                mapping = source.mapping(canonical)
                if mapping is None:
                    continue
                for column, used, case in _reads(mapping, canonical):
                    if column in exact or (not case and column.lower() in folded):
                        continue
                    found = missing.setdefault(
                        (column, used),
                        _Missing(f"sources.{name}", column, used, columns=columns),
                    )
                    found.files.append(shown)
        problems += [m.sentence() for m in missing.values()]
        if all(n in lookups for n in source.lookups_used()):
            problems += lookup_column_problems(name, source, lookups)
    return problems
