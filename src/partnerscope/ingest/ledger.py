"""The import ledger (``_imports``): one row per file an ingest read, with its fingerprint and
counts, written by the loader for each source file and by the lookup reader for each lookup."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

#: the import ledger's columns, (a row is written by name)
IMPORT_COLUMNS = (
    "import_id",
    "batch_id",
    "source",
    "entity",
    "file",
    "fingerprint",
    "bytes",
    "encoding",
    "delimiter",
    "rows_in",
    "loaded",
    "quarantined",
    "records",
    "inserted",
    "updated",
    "unchanged",
    "superseded",
    "started_at",
    "finished_at",
    "config_hash",
    "changed_from",
    "removed",
)


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: Path, root: Path) -> str:
    """Relative to the workspace when inside it, else absolute without ``..`` parts."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(root.resolve()))
    except ValueError:
        return str(resolved)


def record_import(con: duckdb.DuckDBPyConnection, **values: Any) -> None:
    """One row of the import ledger; by name: an older warehouse got its later columns appended
    in its own order."""
    con.execute(
        f"INSERT INTO _imports ({', '.join(IMPORT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(IMPORT_COLUMNS))})",
        [values[c] for c in IMPORT_COLUMNS],
    )


def next_id(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT nextval('_import_seq')").fetchall()
    return int(rows[0][0])
