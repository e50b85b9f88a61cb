"""Which quarantined rows are still worth showing: those of the files that still exist.

A file loaded once and deleted since keeps its rows in the quarantine ledger (the ledger is
history), but `partnerscope quarantine` and the web app's data-quality page leave them out by
default, saying which files were left out; both narrow the query here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.warehouse import latest_quarantine

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class QuarantineScope:
    """``FROM _quarantine q WHERE ...`` over the rows to show, its parameters, and the files
    loaded before but since deleted (sorted; their rows left out unless asked for)."""

    base: str
    params: list[object]
    gone: list[str]


def deleted_files(
    con: duckdb.DuckDBPyConnection, root: Path, base: str, params: list[object]
) -> list[str]:
    """The files of the quarantined rows in ``base`` that no longer exist (a relative path is
    read from the workspace folder ``root``)."""
    files = [r[0] for r in con.execute(f"SELECT DISTINCT file {base}", params).fetchall()]
    return sorted(f for f in files if not (root / f).exists())


def quarantine_scope(
    con: duckdb.DuckDBPyConnection, root: Path, *, deleted: bool = False, **equal: str | None
) -> QuarantineScope:
    """The quarantined rows of each file's latest import (narrowed to ``column = value`` for
    each value given, as :func:`partnerscope.warehouse.latest_quarantine`), without the rows
    of files since deleted unless ``deleted``."""
    base, params = latest_quarantine(**equal)
    gone = deleted_files(con, root, base, params)
    if gone and not deleted:
        base += " AND NOT list_contains(?, q.file)"
        params = [*params, gone]
    return QuarantineScope(base, params, gone)


def quarantine_counts(
    con: duckdb.DuckDBPyConnection, scope: QuarantineScope
) -> list[tuple[str, str, str | None, int]]:
    """The scope's rows counted by source, rule and column, most first."""
    rows = con.execute(
        f'SELECT source, rule, "column", count(*) {scope.base} GROUP BY ALL '
        "ORDER BY 4 DESC, 1, 2, 3",
        scope.params,
    ).fetchall()
    return [(source, rule, column, int(n)) for source, rule, column, n in rows]


def left_out_note(gone: list[str], how: str) -> str:
    """The sentence that says which deleted files' rows are left out, and ``how`` to list
    them ("list them with --deleted")."""
    files = ", ".join(gone)
    many = len(gone) > 1
    return (
        f"{len(gone)} file{'s' if many else ''} loaded before but since deleted ({files}): "
        f"{'their' if many else 'its'} rows are left out; {how}"
    )
