"""The embedded warehouse: one DuckDB file holding the canonical tables and the import ledger.

DDL comes from :mod:`partnerscope.schema`. A newer partnerscope adds the columns an older
warehouse lacks; nothing is ever dropped. Writes happen inside one transaction per command, so a
failed or killed command leaves the warehouse as it was (DuckDB persists a transaction only at
commit).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.errors import WorkspaceBusyError, WorkspaceError, did_you_mean
from partnerscope.schema import TABLES

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import duckdb

    from partnerscope.workspace import Workspace

SCHEMA_VERSION = "1"

#: The import ledger, the quarantine and the ingests' totals, beside the canonical tables.
META_DDL = (
    "CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE SEQUENCE IF NOT EXISTS _import_seq START 1",
    """CREATE TABLE IF NOT EXISTS _imports (
        import_id BIGINT, batch_id BIGINT, source VARCHAR, entity VARCHAR, file VARCHAR,
        fingerprint VARCHAR, bytes BIGINT, encoding VARCHAR, delimiter VARCHAR,
        rows_in BIGINT, loaded BIGINT, quarantined BIGINT, records BIGINT, inserted BIGINT,
        updated BIGINT, unchanged BIGINT, superseded BIGINT,
        started_at TIMESTAMP, finished_at TIMESTAMP, config_hash VARCHAR,
        changed_from TIMESTAMP, removed BIGINT)""",
    # added after the first release: older warehouses get them here
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS changed_from TIMESTAMP",
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS removed BIGINT",
    """CREATE TABLE IF NOT EXISTS _quarantine (
        import_id BIGINT, source VARCHAR, entity VARCHAR, file VARCHAR, "row" BIGINT,
        "column" VARCHAR, value VARCHAR, rule VARCHAR, message VARCHAR, problems VARCHAR[],
        record JSON)""",
    # each ingest's money total per source and column, that the next import of the same
    # files is compared with (ingest/profile.py)
    """CREATE TABLE IF NOT EXISTS _import_totals (batch_id BIGINT, source VARCHAR,
        files VARCHAR, "column" VARCHAR, total DECIMAL(38,2), "rows" BIGINT)""",
)


def table_ddl(name: str) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in TABLES[name].stored_columns())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'


def latest_quarantine(**equal: str | None) -> tuple[str, list[object]]:
    """``FROM _quarantine q WHERE ...`` over the quarantined rows of each file's latest import
    (what `partnerscope quarantine` and the web app's data-quality page show), narrowed to
    ``column = value`` for each value given; and its parameters."""
    where = ["q.import_id IN (SELECT max(import_id) FROM _imports GROUP BY source, file)"]
    params: list[object] = []
    for column, value in equal.items():
        if value:
            where.append(f"q.{column} = ?")
            params.append(value)
    return f"FROM _quarantine q WHERE {' AND '.join(where)}", params


def quarantine_summary(
    con: duckdb.DuckDBPyConnection, **equal: str | None
) -> list[tuple[str, str, str | None, int]]:
    """The quarantined rows of each file's latest import (narrowed as by
    :func:`latest_quarantine`) counted by source, rule and column, most first."""
    base, params = latest_quarantine(**equal)
    rows = con.execute(
        f'SELECT source, rule, "column", count(*) {base} GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3',
        params,
    ).fetchall()
    return [(source, rule, column, int(n)) for source, rule, column, n in rows]


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse tables an engine other than DuckDB receives a copy of: the canonical tables
    and the posted ones, not the ledgers whose names begin with ``_``."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_%' ESCAPE '\\' "
        "ORDER BY table_name"
    ).fetchall()
    return [row[0] for row in rows]


#: how long a writer (an ingest or a run) waits for readers to let go of the warehouse: the web
#: app and the CLI read it one short query at a time, and DuckDB lets no writer in beside them
WRITER_WAIT_SECONDS = 20.0


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the file; a writer waits (up to :data:`WRITER_WAIT_SECONDS`) while
    readers hold it, a reader does not (a writer holds it for the length of a command)."""
    import duckdb

    deadline = time.monotonic() + (0.0 if read_only else WRITER_WAIT_SECONDS)
    pause = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.25)


class Warehouse:
    """An open connection to the workspace's DuckDB file."""

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        import duckdb

        self.path = path
        if read_only and not path.exists():
            raise WorkspaceError(f"{path}: no warehouse yet; load data with `partnerscope ingest`")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con: duckdb.DuckDBPyConnection = _connect(path, read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                # another process writes (an ingest or run): DuckDB allows one writer and no
                # reader beside it
                raise WorkspaceBusyError(
                    f"{path} is being written by another partnerscope command; wait for it to "
                    "finish and try again"
                ) from None
            raise WorkspaceError(f"{path}: cannot open the warehouse ({exc})") from None
        self.con.execute("SET TimeZone = 'UTC'")
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = '{memory_limit.strip()}'")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if not read_only:
            self.ensure_schema()

    def ensure_schema(self) -> None:
        with self.transaction():
            for ddl in META_DDL:
                self.con.execute(ddl)
            for name in TABLES:
                self.con.execute(table_ddl(name))
                have = {
                    r[0]
                    for r in self.con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                        [name],
                    ).fetchall()
                }
                for column, sql_type in TABLES[name].stored_columns():
                    if column not in have:
                        self.con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {sql_type}')
            self.con.execute(
                "INSERT OR REPLACE INTO _meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def last_import_id(self) -> int:
        """The import ledger's high-water mark (0 before the first import)."""
        return int(
            self.con.execute("SELECT coalesce(max(import_id), 0) FROM _imports").fetchall()[0][0]
        )

    def row_counts(self) -> dict[str, int]:
        counts = {}
        for name in TABLES:
            counts[name] = int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])
        return counts

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_warehouse(workspace: Workspace, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of ``sql`` on the warehouse, opened read-only for this one query."""
    with workspace.warehouse(read_only=True) as warehouse:
        return warehouse.con.execute(sql, list(params)).fetchall()


def partner_names(workspace: Workspace) -> dict[str, str]:
    """Every partner of the warehouse: id → name."""
    rows = read_warehouse(workspace, "SELECT partner_id, name FROM partners ORDER BY partner_id")
    return {pid: name or pid for pid, name in rows}


def check_partner(
    names: dict[str, str],
    partner_id: str,
    refused: Callable[[str, str], Exception],
) -> None:
    """Refuse (``refused(check, message)``, the workflow's own error) a partner id that is not
    in the warehouse, with the nearest id that is."""
    if partner_id not in names:
        raise refused(
            "partner",
            f"no partner {partner_id!r} in the warehouse (load it with `partnerscope ingest` or "
            f"check the id){did_you_mean(partner_id, names)}",
        )
