"""What differs between the engines Ibis runs metrics on, in one place.

Everything else in the metric engine is plain Ibis. An engine that needs another spelling gets a
subclass here, found by the Ibis backend's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends.sql import SQLBackend


class Dialect:
    """The default: timestamps are stored as naive UTC."""

    name = "default"

    def local(self, value: Any, timezone: str) -> Any:
        """A stored date or timestamp as wall-clock time in the reporting time zone."""
        if value.type().is_timestamp() and timezone != "UTC":
            return self.to_local(value, timezone)
        return value

    def to_local(self, value: Any, timezone: str) -> Any:
        raise NotImplementedError(f"{self.name}: reporting time zones other than UTC")

    def materialize(self, backend: SQLBackend, name: str, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` once into a temporary table of this connection."""
        return backend.create_table(name, obj=expr, temp=True)

    def upload(self, backend: SQLBackend, name: str, data: pa.Table) -> ir.Table:
        """A temporary table of this connection holding ``data``."""
        return backend.create_table(name, obj=data, temp=True)

    def read_parquet(self, backend: SQLBackend, name: str, path: Path) -> ir.Table:
        """A temporary table holding a Parquet file written by :meth:`write_parquet`."""
        import pyarrow.parquet as pq

        return self.upload(backend, name, pq.read_table(path))

    def fetch(self, backend: SQLBackend, expr: ir.Expr) -> Any:
        """An expression's value as Arrow: a table, or a scalar."""
        return expr.to_pyarrow()

    def write_parquet(self, backend: SQLBackend, table: ir.Table, path: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(self.fetch(backend, table), path)

    def digest(self, backend: SQLBackend, table: ir.Table, order: list[str]) -> str:
        """SHA-256 of a table's content in ``order``: equal for equal tables."""
        import hashlib

        import pyarrow as pa

        sink = pa.BufferOutputStream()
        data = self.fetch(backend, table.order_by(*order)).combine_chunks()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()

    def drop(self, backend: SQLBackend, name: str) -> None:
        """Drop a temporary table made by :meth:`materialize` or :meth:`upload`."""
        # raw SQL: Ibis's drop_table goes through a sqlglot printer that loses the name
        backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


class DuckDBDialect(Dialect):
    name = "duckdb"

    def to_local(self, value: Any, timezone: str) -> Any:
        import ibis
        import ibis.expr.datatypes as dt

        @ibis.udf.scalar.builtin(  # type: ignore[untyped-decorator]
            name="timezone",
            signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp),
        )
        def _timezone(zone: str, ts: Any) -> Any: ...

        return _timezone(timezone, value.cast(dt.Timestamp(timezone="UTC")))

    def materialize(self, backend: SQLBackend, name: str, expr: ir.Table) -> ir.Table:
        # one statement; Ibis's create_table creates, inserts and copies again
        import ibis

        backend.raw_sql(f'CREATE TEMP TABLE "{name}" AS {ibis.to_sql(expr, dialect="duckdb")}')
        return backend.table(name)

    def read_parquet(self, backend: SQLBackend, name: str, path: Path) -> ir.Table:
        backend.raw_sql(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM read_parquet({_path(path)})')
        return backend.table(name)

    def write_parquet(self, backend: SQLBackend, table: ir.Table, path: Path) -> None:
        # straight from the engine to the file: a million rows never pass through Python
        import ibis

        sql = ibis.to_sql(table, dialect="duckdb")
        backend.raw_sql(f"COPY ({sql}) TO {_path(path)} (FORMAT parquet)")

    def digest(self, backend: SQLBackend, table: ir.Table, order: list[str]) -> str:
        # DuckDB's 64-bit hash of each row, in key order, then SHA-256 of that list: a second
        # for a million rows (an md5 of each row's text took nine). Comparable between runs of
        # the same DuckDB version, which the manifest records.
        import ibis

        sql = ibis.to_sql(table, dialect="duckdb")
        keys = ", ".join(f'"{k}"' for k in order)
        rows = backend.raw_sql(
            "SELECT sha256(coalesce(string_agg(CAST(hash(r) AS VARCHAR), ',' "
            f"ORDER BY {keys}), '')) FROM ({sql}) AS r"
        ).fetchall()
        return str(rows[0][0])

    def upload(self, backend: SQLBackend, name: str, data: pa.Table) -> ir.Table:
        # Ibis's create_table from Arrow emits a DROP that sqlglot 30 prints without its name
        con = backend.con
        con.register(f"{name}_arrow", data)
        try:
            con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM "{name}_arrow"')
        finally:
            con.unregister(f"{name}_arrow")
        return backend.table(name)


class PostgresDialect(Dialect):
    """PostgreSQL through Ibis and psycopg: the warehouse's tables are a copy in a schema
    (partnerscope.metrics.postgres); everything this computes lives in temporary tables."""

    name = "postgres"

    def to_local(self, value: Any, timezone: str) -> Any:
        # timezone(zone, timestamptz) is PostgreSQL's AT TIME ZONE: wall-clock time in zone.
        # The cast reads the naive value in the session's zone, which the backend sets to UTC.
        return DuckDBDialect().to_local(value, timezone)

    def materialize(self, backend: SQLBackend, name: str, expr: ir.Table) -> ir.Table:
        # one statement (Ibis's create_table creates, then inserts); ANALYZE gives the planner
        # the row counts of what later joins read: temporary tables are never auto-analyzed
        # (nor are uploaded ones, below)
        import ibis

        sql = ibis.to_sql(expr, dialect="postgres")
        backend.raw_sql(f'CREATE TEMP TABLE "{name}" AS {sql}').close()
        backend.raw_sql(f'ANALYZE "{name}"').close()
        return backend.table(name)

    def upload(self, backend: SQLBackend, name: str, data: pa.Table) -> ir.Table:
        table = super().upload(backend, name, data)
        backend.raw_sql(f'ANALYZE "{name}"').close()
        return table

    def drop(self, backend: SQLBackend, name: str) -> None:
        backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"').close()


class SparkDialect(Dialect):
    """Spark through Ibis's pyspark backend: the warehouse's tables are temporary views of
    staged Parquet (partnerscope.metrics.spark); what this computes is a temporary view of a
    local checkpoint, computed once when it is made."""

    name = "pyspark"

    def to_local(self, value: Any, timezone: str) -> Any:
        # from_utc_timestamp reads the naive value as UTC and gives the wall-clock time in zone
        import ibis
        import ibis.expr.datatypes as dt

        @ibis.udf.scalar.builtin(  # type: ignore[untyped-decorator]
            name="from_utc_timestamp", signature=((dt.timestamp, dt.string), dt.timestamp)
        )
        def _from_utc(ts: Any, zone: str) -> Any: ...

        return _from_utc(value, timezone)

    def materialize(self, backend: SQLBackend, name: str, expr: ir.Table) -> ir.Table:
        # A checkpoint, not CACHE TABLE: a cached table keeps its whole lineage, which every later
        # task serializes again (ten times slower on the fixture); a checkpoint cuts it.
        return self._keep(backend, name, _frame(backend, expr))

    def upload(self, backend: SQLBackend, name: str, data: pa.Table) -> ir.Table:
        return self._keep(backend, name, backend._session.createDataFrame(data))

    def _keep(self, backend: SQLBackend, name: str, frame: Any) -> ir.Table:
        frame.localCheckpoint(eager=True).createOrReplaceTempView(name)
        return backend.table(name)

    def fetch(self, backend: SQLBackend, expr: ir.Expr) -> Any:
        # Arrow straight from Spark, in the expression's types as on the other engines (Ibis's
        # to_pyarrow goes through pandas: slower, and it trips pandas 3's deprecations)
        table = expr.as_table()
        data = _frame(backend, table).toArrow().rename_columns(table.columns)
        return expr.__pyarrow_result__(data.cast(table.schema().to_pyarrow()))

    def drop(self, backend: SQLBackend, name: str) -> None:
        backend._session.catalog.dropTempView(name)


def _frame(backend: SQLBackend, expr: ir.Table) -> Any:
    """The Spark DataFrame of an expression on the pyspark backend."""
    return backend._session.sql(backend.compile(expr))


def _path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


DIALECTS: dict[str, type[Dialect]] = {
    "duckdb": DuckDBDialect,
    "postgres": PostgresDialect,
    "pyspark": SparkDialect,
}


def dialect_for(backend_name: str) -> Dialect:
    return DIALECTS.get(backend_name, Dialect)()
