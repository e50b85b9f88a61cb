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


#: the settings of every session a run opens: UTC, as the warehouse; Parquet's timestamps without
#: a time zone read as TIMESTAMP_NTZ, as DuckDB wrote them
SQL_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}


def session(settings: EngineSettings) -> SparkSession:
    """A Spark session for a run, in UTC.

    On a Spark Connect server (``sc://``) a session of its own on the server, opened with
    Spark Connect's client directly: pyspark's generic builder would switch the whole process
    to Connect mode (an environment variable it never unsets) and refuses while a classic
    session runs in the process. Otherwise the process's classic session: one started here
    (no web UI, the driver sized by ``memory_limit``, few shuffle partitions in local mode), or
    the one already running in the process, whatever its master. Spark's own settings
    (``spark.*``, in ``$SPARK_CONF_DIR/spark-defaults.conf`` or the ``PYSPARK_SUBMIT_ARGS``
    environment) still apply to what is not set here.
    """
    url = master(settings)
    if url.startswith("sc://"):
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        remote = ConnectSession.builder.remote(url).create()
        for key, value in SQL_SETTINGS.items():
            remote.conf.set(key, value)
        return remote  # type: ignore[return-value]
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("partnerscope")
        .master(url)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in SQL_SETTINGS.items():
        builder = builder.config(key, value)
    memory = _memory(settings.memory_limit)
    if memory:
        # the driver runs in this process on every master (client mode), a JVM sized as it starts
        builder = builder.config("spark.driver.memory", memory)
    if url.startswith("local"):
        # the default 200 shuffle partitions cost more than they share out on one machine
        builder = builder.config("spark.sql.shuffle.partitions", str(os.cpu_count() or 1))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's warnings are not the user's business
    return spark


def session_master(spark: SparkSession, settings: EngineSettings) -> str:
    """The master ``spark`` really runs on, for the run's manifest: a classic session found
    running in the process keeps its own, whatever ``[engine] url`` says."""
    url = master(settings)
    return url if url.startswith("sc://") else str(spark.sparkContext.master)


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
    remote = master(settings).startswith("sc://")
    if importlib.util.find_spec("pyspark") is None:
        problems.append('[engine] kind = "spark" needs pyspark: pip install "partnerscope[spark]"')
    elif remote and importlib.util.find_spec("grpc") is None:
        problems.append(
            "a Spark Connect url (sc://) needs Spark Connect's client (grpcio): "
            'pip install "partnerscope[spark]"'
        )
    if not remote and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
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
    """An Ibis backend on a Spark session holding the warehouse's tables, and the engine's name,
    version and master for the run's manifest. A session this opened is stopped at the end (on
    Spark Connect, only this run's session on the server)."""
    check(settings, where)
    import ibis
    from pyspark.sql import SparkSession

    remote = master(settings).startswith("sc://")
    had_session = not remote and SparkSession.getActiveSession() is not None
    spark = session(settings)
    staged: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="partnerscope-spark-", dir=settings.staging) as folder:
        try:
            staged = stage_warehouse(warehouse, spark, Path(folder))
            backend: Backend = ibis.pyspark.connect(spark)
            engine = {"kind": "spark", "spark": spark.version}
            yield backend, engine | {"master": session_master(spark, settings)}
        finally:
            for name in staged:
                spark.catalog.dropTempView(name)
            if not had_session:
                spark.stop()
