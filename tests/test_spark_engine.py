"""A run with ``[engine] kind = "spark"`` stores what DuckDB computes, and so does its second,
incremental run (every metric on the fixture and the demo is compared in
tests/test_engine_parity.py); the Spark dialect gives wall-clock time; what would stop Spark
from starting is a configuration error that says how to fix it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pytest

from partnerscope.config import EngineSettings
from partnerscope.errors import ConfigError
from partnerscope.metrics import spark
from tests.sparktools import MARKS
from tests.test_engine_parity import SETTINGS, fixture_workspace, two_runs_match_duckdb

pytestmark = MARKS

ENGINE = '[engine]\nkind = "spark"\nurl = "local[2]"\nmemory_limit = "2GB"\n'


def test_a_run_on_spark_stores_the_same_values(spark_session: Any, tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws", ENGINE + SETTINGS["new-york-july"])
    first = two_runs_match_duckdb(ws)
    assert first.engine["kind"] == "spark" and first.engine["spark"].startswith("4.")
    assert first.engine["master"] == "local[2]"
    # the session the run found is left running; the staged tables are gone from it
    assert not spark_session.catalog.tableExists("opportunities")


def test_the_spark_dialect_gives_wall_clock_time(spark_session: Any) -> None:
    from partnerscope.metrics.dialects import SparkDialect

    backend = ibis.pyspark.connect(spark_session)
    moment = ibis.literal(datetime(2025, 4, 1, 2, 0), type="timestamp")
    local = SparkDialect().local(moment, "America/New_York")
    assert SparkDialect().fetch(backend, local).as_py() == datetime(2025, 3, 31, 22, 0)
    summer = ibis.literal(datetime(2025, 7, 1, 3, 30), type="timestamp")
    assert SparkDialect().fetch(backend, SparkDialect().local(summer, "Asia/Kolkata")).as_py() == (
        datetime(2025, 7, 1, 9, 0)
    )


@pytest.mark.parametrize(
    ("limit", "spark_size"), [("3GB", "3072m"), ("2.5GiB", "2560m"), ("512MB", "512m"), ("50%", "")]
)
def test_the_memory_limit_sizes_the_driver(limit: str, spark_size: str) -> None:
    assert spark._memory(limit) == spark_size


def test_spark_without_java_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv(spark.ENV_URL, raising=False)
    with pytest.raises(ConfigError, match="needs Java 17") as raised:
        spark.check(EngineSettings(kind="spark"), "partnerscope.toml")
    assert raised.value.path == "partnerscope.toml"
    # a Spark Connect server runs its own Java
    spark.check(EngineSettings(kind="spark", url="sc://spark.example.com:15002"), "x")


@pytest.mark.parametrize("staging", ["relative/folder", "/no/such/folder"])
def test_a_staging_folder_must_exist(staging: str) -> None:
    with pytest.raises(ConfigError, match="is not an existing folder"):
        spark.check(EngineSettings(kind="spark", staging=staging), "partnerscope.toml")


def test_the_environment_names_the_master(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(spark.ENV_URL, raising=False)
    assert spark.master(EngineSettings(kind="spark")) == "local[*]"
    assert spark.master(EngineSettings(kind="spark", url="spark://a:7077")) == "spark://a:7077"
    monkeypatch.setenv(spark.ENV_URL, "spark://b:7077")
    assert spark.master(EngineSettings(kind="spark", url="spark://a:7077")) == "spark://b:7077"
