"""A run with ``[engine] kind = "postgres"`` stores what DuckDB computes (every metric on the
fixture and the demo is compared in tests/test_engine_parity.py), its copy of the warehouse
keeps every value, and its dialect gives wall-clock time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import ibis
import pytest

from partnerscope.errors import ConfigError
from partnerscope.metrics import postgres
from tests.test_engine_parity import SETTINGS, fixture_workspace, two_runs_match_duckdb
from tests.test_metrics_fixture import AS_OF

pytestmark = pytest.mark.postgres


def test_a_run_on_postgresql_stores_the_same_values(pg_url: str, tmp_path: Path) -> None:
    engine = f'[engine]\nkind = "postgres"\nurl = "{pg_url}"\nschema_name = "analytics"\n'
    ws = fixture_workspace(tmp_path / "ws", engine + SETTINGS["utc"])
    first = two_runs_match_duckdb(ws)
    # the run records the version the server reports of itself, whichever major version it is
    import psycopg

    with psycopg.connect(**postgres.connect_params(pg_url)) as pg:
        version = pg.execute("SHOW server_version").fetchone()[0]
        number = int(pg.execute("SHOW server_version_num").fetchone()[0])
    assert (first.engine["kind"], first.engine["postgres"]) == ("postgres", version)
    # e.g. "15.8 (Debian 15.8-0+deb12u1)" and 150008, "17.2" and 170002
    assert version.split(".")[0] == str(number // 10000), (version, number)


def test_postgres_without_a_server_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(postgres.ENV_URL, raising=False)
    ws = fixture_workspace(tmp_path / "ws", '[engine]\nkind = "postgres"\n')
    with pytest.raises(ConfigError, match="PARTNERSCOPE_ENGINE_URL"):
        ws.run(as_of=AS_OF)


def test_the_postgres_dialect_gives_wall_clock_time(pg_url: str) -> None:
    from datetime import datetime

    from partnerscope.metrics.dialects import PostgresDialect

    backend = postgres.backend(pg_url, "public")
    try:
        moment = ibis.literal(datetime(2025, 4, 1, 2, 0), type="timestamp")
        local = PostgresDialect().local(moment, "America/New_York")
        assert backend.to_pyarrow(local).as_py() == datetime(2025, 3, 31, 22, 0)
    finally:
        backend.disconnect()


def test_empty_strings_and_nulls_survive_the_copy(pg_url: str, tmp_path: Path) -> None:
    import duckdb
    import psycopg

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        "CREATE TABLE t (s VARCHAR, d DECIMAL(18,2), x DOUBLE, ts TIMESTAMP, b BOOLEAN);"
        "INSERT INTO t VALUES ('', 1.10, 0.1, '2025-04-01 02:00:00.123456', true), "
        "(NULL, NULL, NULL, NULL, NULL), ('a,\"b\"\nc', -0.01, 1e-300, '1999-12-31', false)"
    )
    assert postgres.sync_warehouse(con, pg_url, "w") == {"t": 3}
    with psycopg.connect(**postgres.connect_params(pg_url)) as pg:
        rows = pg.execute("SELECT s, d, x, ts, b FROM w.t ORDER BY d NULLS LAST").fetchall()
    assert rows == con.execute("SELECT * FROM t ORDER BY d NULLS LAST").fetchall()
    assert rows[1][0] == "" and rows[1][1] == Decimal("1.10") and rows[1][2] == 0.1
