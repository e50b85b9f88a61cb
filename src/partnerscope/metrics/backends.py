"""The Ibis backend a run computes on, chosen by ``[engine] kind``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.sql import SQLBackend

    from partnerscope.config import EngineSettings


@contextmanager
def open_backend(
    settings: EngineSettings, warehouse: duckdb.DuckDBPyConnection, where: str
) -> Iterator[tuple[SQLBackend, dict[str, str]]]:
    """The backend on the warehouse's data, and the engine's name and version for the run's
    manifest. PostgreSQL and Spark first receive a fresh copy of the warehouse's tables."""
    import ibis

    match settings.kind:
        case "duckdb":
            yield ibis.duckdb.from_connection(warehouse), {"kind": "duckdb"}
        case "postgres":
            from partnerscope.metrics import postgres

            url = postgres.engine_url(settings, where)
            postgres.sync_warehouse(warehouse, url, settings.schema_name)
            backend = postgres.backend(url, settings.schema_name)
            try:
                yield backend, {"kind": "postgres", "postgres": postgres.server_version(backend)}
            finally:
                backend.disconnect()
        case "spark":
            from partnerscope.metrics import spark

            with spark.backend_on(settings, warehouse, where) as opened:
                yield opened
