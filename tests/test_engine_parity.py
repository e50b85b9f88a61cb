"""Every metric of the catalog is the same on DuckDB, PostgreSQL and Spark: on the hand-checked
fixture of tests/test_metrics_fixture.py (every level, grain and period, in UTC with calendar
years and in New York with a fiscal year from July) and on the demo workspace. Decimals, dates,
text and nulls must be identical, doubles equal within 1e-9 relative; the result's schema is the
same Arrow schema on every engine."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from ibis.backends.sql import SQLBackend

from partnerscope.config import EngineSettings
from partnerscope.metrics.engine import ALL_LEVELS, compute
from partnerscope.runs import RunManifest, read_results
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.sparktools import MARKS as SPARK
from tests.test_metrics_fixture import AS_OF, BUILTIN, GRAINS, TABLES, csv_file, source

KEYS = ("level", "group_key", "grain", "period_start")
SETTINGS = {
    "utc": "[economics]\ngross_margin = 0.6\n",
    "new-york-july": '[economics]\ngross_margin = 0.6\n[workspace]\ntimezone = "America/New_York"'
    "\nfiscal_year_start_month = 7\n",
}
ENGINES = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=SPARK),
]
Opener = Callable[[duckdb.DuckDBPyConnection], AbstractContextManager[SQLBackend]]


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


def two_runs_match_duckdb(ws: Workspace) -> RunManifest:
    """Run twice on the workspace's configured engine: both runs store DuckDB's values (the
    second reuses the first one's parts, read back into the engine) with the same digest.
    The first run's manifest."""
    first = ws.run(as_of=AS_OF)
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, as_of=AS_OF)
    assert expected.results is not None
    assert_same(expected.results, read_results(ws, first.run_id))
    second = ws.run(as_of=AS_OF)
    assert_same(expected.results, read_results(ws, second.run_id))
    assert second.digest == first.digest
    return first


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Opener:
    """Opens the engine named by the test's parameter on a copy of a warehouse's tables."""
    kind = request.param

    @contextmanager
    def on_postgres(con: duckdb.DuckDBPyConnection) -> Iterator[SQLBackend]:
        from partnerscope.metrics import postgres

        url = request.getfixturevalue("pg_url")
        postgres.sync_warehouse(con, url, "warehouse")
        backend = postgres.backend(url, "warehouse")
        try:
            yield backend
        finally:
            backend.disconnect()

    @contextmanager
    def on_spark(con: duckdb.DuckDBPyConnection) -> Iterator[SQLBackend]:
        from partnerscope.metrics import spark

        request.getfixturevalue("spark_session")  # the worker's session: not stopped after
        settings = EngineSettings(kind="spark", url="local[2]")
        with spark.backend_on(settings, con, "test") as (backend, _):
            yield backend

    return {"postgres": on_postgres, "spark": on_spark}[kind]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("settings", list(SETTINGS))
def test_every_metric_of_the_fixture_is_the_same(
    engine: Opener, settings: str, tmp_path: Path
) -> None:
    ws = fixture_workspace(tmp_path / "ws", SETTINGS[settings])
    run = {"as_of": AS_OF, "metrics": BUILTIN, "grains": GRAINS, "levels": ALL_LEVELS}
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, **run)
        with engine(wh.con) as backend:
            got = compute(backend, ws.config, ws.catalog, **run)
    assert expected.results is not None and got.results is not None
    assert expected.results.num_rows > 200
    assert_same(expected.results, got.results)
    assert (got.first_month, got.last_month) == (expected.first_month, expected.last_month)


@dataclass(frozen=True)
class Demo:
    ws: Workspace
    as_of: datetime
    results: pa.Table


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo workspace at its smallest (40 partners, ingested; the `partnerscope demo`
    data), and every metric of its catalog computed on DuckDB at the demo's as-of time."""
    from partnerscope.demo import generate_demo

    root = tmp_path_factory.mktemp("parity") / "demo"
    manifest = generate_demo(root, scale=0.04)
    ws = Workspace.open(root)
    ws.ingest()
    as_of = datetime.combine(manifest.period_end + timedelta(days=1), time(), UTC)
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, as_of=as_of)
    assert expected.results is not None
    return Demo(ws, as_of, expected.results)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_every_metric_of_the_demo_is_the_same(engine: Opener, demo: Demo) -> None:
    with demo.ws.warehouse(read_only=True) as wh, engine(wh.con) as backend:
        got = compute(backend, demo.ws.config, demo.ws.catalog, as_of=demo.as_of)
    assert got.results is not None
    # every metric, every level (the portfolio, tiers, cohorts and each of the 40 partners)
    assert len(set(demo.results.column("group_key").to_pylist())) > 40
    assert demo.results.num_rows > 4_000
    assert_same(demo.results, got.results)
