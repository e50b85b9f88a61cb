"""The metric engine on PostgreSQL gives what it gives on DuckDB: every metric of the catalog on
the hand-checked fixture of tests/test_metrics_fixture.py (decimals exact, doubles within 1e-9
relative, nulls in the same places), in UTC and calendar years and in New York with a fiscal
year from July; and a run with ``[engine] kind = "postgres"`` stores those values."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from partnerscope.errors import ConfigError
from partnerscope.metrics import postgres
from partnerscope.metrics.engine import ALL_LEVELS, compute
from partnerscope.runs import read_results
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.test_metrics_fixture import AS_OF, BUILTIN, GRAINS, TABLES, csv_file, source

pytestmark = pytest.mark.postgres

KEYS = ("level", "group_key", "grain", "period_start")
SETTINGS = {
    "utc": "[economics]\ngross_margin = 0.6\n",
    "new-york-july": '[economics]\ngross_margin = 0.6\n[workspace]\ntimezone = "America/New_York"'
    "\nfiscal_year_start_month = 7\n",
}


def fixture_workspace(root: Path, settings: str) -> Workspace:
    config = settings + "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    return ws


def assert_same(duckdb: pa.Table, other: pa.Table) -> None:
    assert other.schema == duckdb.schema
    left = {tuple(r[k] for k in KEYS): r for r in duckdb.to_pylist()}
    right = {tuple(r[k] for k in KEYS): r for r in other.to_pylist()}
    assert right.keys() == left.keys()
    differ: list[tuple[Any, ...]] = []
    for key, row in left.items():
        for column, a in row.items():
            b = right[key][column]
            if isinstance(a, float) and isinstance(b, float):
                same = math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
            else:  # decimals, dates, text and nulls: exactly
                same = a == b and type(a) is type(b)
            if not same:
                differ.append((key, column, a, b))
    assert differ == [], f"{len(differ)} values differ, e.g. {differ[:5]}"


@pytest.mark.parametrize("settings", list(SETTINGS))
def test_every_metric_is_the_same_on_postgresql(settings: str, pg_url: str, tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws", SETTINGS[settings])
    catalog = ws.catalog
    run = {"as_of": AS_OF, "metrics": BUILTIN, "grains": GRAINS, "levels": ALL_LEVELS}
    with ws.warehouse(read_only=True) as wh:
        copied = postgres.sync_warehouse(wh.con, pg_url, "warehouse")
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, catalog, **run)
    assert copied["opportunities"] == 12 and copied["partners"] == 3
    backend = postgres.backend(pg_url, "warehouse")
    try:
        got = compute(backend, ws.config, catalog, **run)
    finally:
        backend.disconnect()
    assert expected.results is not None and got.results is not None
    assert expected.results.num_rows > 200
    assert_same(expected.results, got.results)
    assert (got.first_month, got.last_month) == (expected.first_month, expected.last_month)


def test_a_run_on_postgresql_stores_the_same_values(pg_url: str, tmp_path: Path) -> None:
    engine = f'[engine]\nkind = "postgres"\nurl = "{pg_url}"\nschema_name = "analytics"\n'
    ws = fixture_workspace(tmp_path / "ws", engine + SETTINGS["utc"])
    first = ws.run(as_of=AS_OF)
    assert first.engine["kind"] == "postgres" and first.engine["postgres"].startswith("15")
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, as_of=AS_OF)
    assert expected.results is not None
    assert_same(expected.results, read_results(ws, first.run_id))
    # a second run reuses the first one's parts (read back into PostgreSQL) and agrees
    second = ws.run(as_of=AS_OF)
    assert_same(expected.results, read_results(ws, second.run_id))
    assert second.digest == first.digest


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
