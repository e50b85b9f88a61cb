"""The metric engine on Spark: the warehouse's tables staged as Parquet, read by a Spark session
as temporary views, and an Ibis backend on that session.

The warehouse stays the DuckDB file ingest writes. Before a run computes on Spark, DuckDB writes
every table the metrics may read (the canonical tables and the posted ones; not the ledgers whose
names begin with ``_``) as one Parquet file into the staging folder, with no row passing through
Python, and the session reads each as a temporary view of the same name. On a cluster the staging
folder must be one every executor reads at the same path (a shared mount); in local mode any
folder will do, and a temporary one is used.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.warehouse import warehouse_tables

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.pyspark import Backend
    from pyspark.sql import SparkSession

    from partnerscope.config import EngineSettings

ENV_URL = "PARTNERSCOPE_ENGINE_URL"
#: The master when neither the file nor the environment names one: Spark in this process, one
#: worker thread per core.
LOCAL = "local[*]"


def master(settings: EngineSettings) -> str:
    """The Spark master of ``[engine] kind = "spark"``: the environment, then the file, then local
    mode. ``sc://host:15002`` is a Spark Connect server."""
    return os.environ.get(ENV_URL) or settings.url or LOCAL


def _memory(limit: str) -> str:
    """``[engine] memory_limit`` as Spark spells a size, in MiB ("3GB" → "3072m"); a share of
    the machine's memory ("50%") has no Spark spelling and leaves Spark's default."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", limit)
    if not match:
        return ""
    mib = float(match.group(1)) * 1024.0 ** ("KMGT".index(match.group(2)) - 1)
    return f"{max(1, round(mib))}m"


def session(settings: EngineSettings) -> SparkSession:
    """A Spark session for a run: UTC, no web UI, few shuffle partitions on one machine.

    Spark's own settings (``spark.*``, in ``$SPARK_HOME/conf/spark-defaults.conf`` or the
    ``PYSPARK_SUBMIT_ARGS`` environment) still apply to what is not set here.
    """
    from pyspark.sql import SparkSession

    url = master(settings)
    builder = SparkSession.builder.appName("partnerscope")
    if url.startswith("sc://"):
        return builder.remote(url).getOrCreate()
    builder = (
        builder.master(url)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Parquet's timestamps without a time zone are read as TIMESTAMP_NTZ, as DuckDB wrote them
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
    )
    if url.startswith("local"):
        # the default 200 shuffle partitions cost more than they share out on one machine
        builder = builder.config("spark.sql.shuffle.partitions", str(os.cpu_count() or 1))
        memory = _memory(settings.memory_limit)
        if memory:
            # the driver is the only JVM in local mode; it must be sized before it starts
            builder = builder.config("spark.driver.memory", memory)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's warnings are not the user's business
    return spark


def stage_warehouse(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, folder: Path
) -> dict[str, int]:
    """Write every warehouse table to ``folder`` as Parquet and make each a temporary view of
    ``spark``; rows staged per table."""
    tables = warehouse_tables(con)
    folder.mkdir(parents=True, exist_ok=True)
    staged: dict[str, int] = {}
    for table in tables:
        path = folder / f"{table}.parquet"
        quoted = "'" + str(path).replace("'", "''") + "'"
        con.execute(f'COPY "{table}" TO {quoted} (FORMAT parquet)')
        view = spark.read.parquet(str(path))
        view.createOrReplaceTempView(table)
        staged[table] = int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # type: ignore[index]
    return staged


def check(settings: EngineSettings, where: str) -> None:
    """Refuse, saying how to fix it, what would stop Spark from starting."""
    import importlib.util
    import shutil

    from partnerscope.errors import ConfigError

    problems = []
    if importlib.util.find_spec("pyspark") is None:
        problems.append('[engine] kind = "spark" needs pyspark: pip install "partnerscope[spark]"')
    if not master(settings).startswith("sc://") and not (
        os.environ.get("JAVA_HOME") or shutil.which("java")
    ):
        problems.append(
            '[engine] kind = "spark" needs Java 17 or later (Debian: apt-get install '
            "openjdk-17-jre-headless), or JAVA_HOME set to one"
        )
    staging = settings.staging
    if staging is not None and not (Path(staging).is_absolute() and Path(staging).is_dir()):
        problems.append(
            f"[engine] staging = {staging!r} is not an existing folder: write the absolute path "
            "of a folder every Spark executor reads, or leave it out in local mode"
        )
    if problems:
        raise ConfigError(where, problems)


@contextmanager
def backend_on(
    settings: EngineSettings, warehouse: duckdb.DuckDBPyConnection, where: str
) -> Iterator[tuple[Backend, dict[str, str]]]:
    """An Ibis backend on a Spark session holding the warehouse's tables, and the engine's name
    and version for the run's manifest. A session this opened is stopped at the end."""
    check(settings, where)
    import ibis
    from pyspark.sql import SparkSession

    had_session = SparkSession.getActiveSession() is not None
    spark = session(settings)
    staged: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="partnerscope-spark-", dir=settings.staging) as folder:
        try:
            staged = stage_warehouse(warehouse, spark, Path(folder))
            backend: Backend = ibis.pyspark.connect(spark)
            yield backend, {"kind": "spark", "spark": spark.version, "master": master(settings)}
        finally:
            for name in staged:
                spark.catalog.dropTempView(name)
            if not had_session:
                spark.stop()
