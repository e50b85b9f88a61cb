"""The metric engine on PostgreSQL: the warehouse's tables copied into a PostgreSQL schema, and
an Ibis backend on it.

The warehouse stays the DuckDB file ingest writes; before a run computes on PostgreSQL, every
table of it that the metrics may read (the canonical tables and the posted ones; not the ledgers
whose names begin with ``_``) is replaced in the schema by ``COPY``: DuckDB writes CSV, psycopg
streams it in, no row passes through Python. DuckDB's postgres extension would do it in one
statement, but it downloads at run time, which a server without internet cannot.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.warehouse import warehouse_tables

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.postgres import Backend

    from partnerscope.config import EngineSettings

#: DuckDB column types of the warehouse → PostgreSQL's (what is not listed is kept as spelled:
#: DATE, BOOLEAN, DECIMAL(p,s), TIMESTAMP).
_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def connect_params(url: str) -> dict[str, Any]:
    """psycopg's (and Ibis's) keyword arguments from a SQLAlchemy-style PostgreSQL URL
    (``postgresql://``, ``postgresql+psycopg://``; a ``host=`` query names a socket folder)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    params: dict[str, Any] = {}
    if parsed.username:
        params["user"] = parsed.username
    if parsed.password:
        params["password"] = parsed.password
    host = parsed.host or parsed.query.get("host")
    if isinstance(host, str):
        params["host"] = host
    if parsed.port:
        params["port"] = parsed.port
    if parsed.database:
        params["dbname"] = parsed.database
    return params


def sync_warehouse(con: duckdb.DuckDBPyConnection, url: str, schema: str) -> dict[str, int]:
    """Replace ``schema``'s copy of every warehouse table; rows copied per table."""
    import psycopg
    from psycopg import sql

    tables = warehouse_tables(con)
    copied: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="partnerscope-sync-") as folder,
        psycopg.connect(**connect_params(url)) as pg,
    ):
        pg.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for table in tables:
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            target = sql.Identifier(schema, table)
            pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            pg.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    target,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(
                            sql.Identifier(name), sql.SQL(_TYPES.get(kind, kind))
                        )
                        for name, kind in columns
                    ),
                )
            )
            path = Path(folder) / f"{table}.csv"
            # NULL unquoted and empty, an empty string quoted: the CSV PostgreSQL reads back
            con.execute(
                f"COPY \"{table}\" TO '{path}' "
                "(FORMAT csv, HEADER false, FORCE_QUOTE *, NULLSTR '')"
            )
            with (
                pg.cursor() as cursor,
                cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy,
                path.open("rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            copied[table] = int(
                pg.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]  # type: ignore[index]
            )
            path.unlink()
        pg.execute(sql.SQL("ANALYZE"))
    return copied


def backend(url: str, schema: str) -> Backend:
    """An Ibis backend on ``schema`` of the PostgreSQL database at ``url``."""
    import ibis

    params = connect_params(url)
    params["database"] = params.pop("dbname", None)
    result: Backend = ibis.postgres.connect(schema=schema, **params)
    # naive timestamps are UTC, as in the warehouse (Ibis sets it too; a given server's
    # default must not decide)
    result.raw_sql("SET TIME ZONE 'UTC'").close()
    for setting in SESSION:
        result.raw_sql(setting).close()
    return result


#: The session's settings for a run's statements, each a few large scans and aggregates
#: (bench/engines.py measured them, bench/README.md "Engines"): room for a per-partner ×
#: period aggregate to hash instead of sorting on disk (the planner cannot estimate how few
#: groups a truncated date gives, and PostgreSQL's 4 MB default makes it sort a million rows
#: externally), and no JIT compilation, which those estimates make it buy for every statement
#: at a second or more each, more than it saves at these sizes.
SESSION = ("SET work_mem = '256MB'", "SET jit = off")


ENV_URL = "PARTNERSCOPE_ENGINE_URL"


def engine_url(settings: EngineSettings, where: str) -> str:
    """The PostgreSQL server of ``[engine] kind = "postgres"``: the environment, then the file."""
    import os

    from partnerscope.errors import ConfigError

    url = os.environ.get(ENV_URL) or settings.url
    if not url:
        raise ConfigError(
            where,
            [
                '[engine] kind = "postgres" needs the server: set [engine] url = '
                f'"postgresql://user@host/database" or {ENV_URL}'
            ],
        )
    return url


def server_version(backend: Backend) -> str:
    rows = backend.raw_sql("SHOW server_version").fetchall()
    return str(rows[0][0])
