"""Spark for the tests: one local session per test worker (``local[2]``), shared by every test
that asks for it; the tests using it carry the ``spark`` marker and one xdist group, so a run
starts one JVM. Skipped, saying why, only where pyspark or Java is missing (tests/requires.py);
CI installs both, and there a missing one fails the run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.requires import SETUP_SYSTEM, installed, need

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: the marks of every test that runs on Spark. PySpark leaves the socket each collect reads
#: results from to the garbage collector ("closed when garbage-collected", pyspark/util.py),
#: which warns as the result is handed over, inside the test.
MARKS = [
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[SparkSession]:
    need(installed("pyspark"), "pyspark", "pip install -e '.[dev]' installs it")
    need(
        shutil.which("java"),
        "a Java runtime (java on PATH)",
        f"{SETUP_SYSTEM} installs openjdk-17-jre-headless",
    )
    from partnerscope.config import EngineSettings
    from partnerscope.metrics.spark import session

    spark = session(EngineSettings(kind="spark", url="local[2]", memory_limit="2GB"))
    try:
        yield spark
    finally:
        spark.stop()
