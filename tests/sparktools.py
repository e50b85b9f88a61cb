"""Spark for the tests: one local session per test worker (``local[2]``), shared by every test
that asks for it; the tests using it carry the ``spark`` marker and one xdist group, so a run
starts one JVM. And a real cluster (``spark_cluster``: a standalone master and two workers, each
a process of pyspark's own Spark on 127.0.0.1) with a Spark Connect server on it
(``spark_connect``), started once per run by the tests of another group. Skipped, saying why,
only where pyspark, Spark Connect's client or Java is missing (tests/requires.py); CI installs
them, and there a missing one fails the run."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.ports import free_port, listening
from tests.requires import SETUP_SYSTEM, installed, need

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: the JVMs' JIT at its quick tier only: a test's JVM lives for a few hundred small jobs
QUICK_JIT = "-XX:TieredStopAtLevel=1"

#: the marks of every test that runs on Spark. PySpark leaves the socket each collect reads
#: results from to the garbage collector ("closed when garbage-collected", pyspark/util.py),
#: which warns as the result is handed over, inside the test.
MARKS = [
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
]
#: the marks of every test on the standalone cluster or Spark Connect (spark_cluster): a group of
#: their own, so the cluster starts once and its tests may run beside the local session's
CLUSTER_MARKS = [
    pytest.mark.spark,
    pytest.mark.xdist_group("spark-cluster"),
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[SparkSession]:
    need_spark()
    from partnerscope.config import EngineSettings
    from partnerscope.metrics.spark import session

    # the JIT's quick tier only, as on the test cluster: the session lives for a few thousand
    # small queries (the parity fixture on Spark: 95 s -> 74 s)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_SUBMIT_ARGS", f"--driver-java-options {QUICK_JIT} pyspark-shell")
        spark = session(EngineSettings(kind="spark", url="local[2]", memory_limit="2GB"))
    try:
        yield spark
    finally:
        spark.stop()


# --- a Spark standalone cluster and a Spark Connect server -------------------------------------

#: what every process of the test cluster may use: the workers offer 2 cores (two executors of
#: one core each, so both tests' applications fit at once) and 1 GiB each
WORKER_CORES, WORKER_MEMORY, EXECUTOR_MEMORY = "2", "1g", "512m"
#: how long the cluster and the Connect server get to start (seconds)
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Cluster:
    """A running standalone cluster: its master's URL, its web UI's JSON status and the folder
    of its logs (and of the staging folder the tests share with its executors)."""

    master: str
    status_url: str
    folder: Path

    def status(self) -> dict[str, Any]:
        """The master's status: its workers, active and completed applications."""
        with urllib.request.urlopen(self.status_url, timeout=5) as answer:
            status: dict[str, Any] = json.load(answer)
        return status

    def applications(self) -> list[dict[str, Any]]:
        """Every application the master has run or is running, by name and cores."""
        status = self.status()
        return [*status["activeapps"], *status["completedapps"]]


def spark_class() -> Path:
    """pyspark's own launcher of Spark's JVM classes."""
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def cluster_env(folder: Path) -> dict[str, str]:
    """The environment of every Spark process of the test cluster: pyspark's Spark, bound to
    127.0.0.1, with no configuration from the machine and its scratch space in ``folder``."""
    import pyspark

    conf = folder / "conf"
    conf.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    return env | {
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_CONF_DIR": str(conf),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(folder / "local"),
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_DAEMON_MEMORY": "256m",  # the master's and the workers'
    }


class Processes:
    """Processes started in sessions of their own, each logging to a file; :meth:`stop` ends
    each one with its children (a worker's executors, spark-class's launcher)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, env: dict[str, str], *args: str) -> None:
        with (self.folder / f"{name}.log").open("wb") as log:
            self.started.append(
                subprocess.Popen(
                    args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

    def logs(self) -> str:
        """The tail of every log, for a failure's message."""
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            for log in sorted(self.folder.glob("*.log"))
        )

    def stop(self) -> None:
        for process in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # children left after the leader ended


def wait_for(ready: Callable[[], bool], what: str, processes: Processes) -> None:
    """Wait until ``ready()`` holds; fail with the processes' logs after START_TIMEOUT or as
    soon as one of them ends."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        ended = [p.args for p in processes.started if p.poll() is not None]
        if ended or time.monotonic() > deadline:
            why = f"ended: {ended}" if ended else f"not within {START_TIMEOUT:.0f} s"
            raise RuntimeError(f"{what}: {why}\n{processes.logs()}")
        time.sleep(0.5)


def need_spark() -> None:
    """Skip (fail under CI) where pyspark or Java is missing."""
    need(installed("pyspark"), "pyspark", "pip install -e '.[dev]' installs it")
    need(
        shutil.which("java"),
        "a Java runtime (java on PATH)",
        f"{SETUP_SYSTEM} installs openjdk-17-jre-headless",
    )


#: spark-defaults.conf of every application on the test cluster (the Connect server's and a
#: run's): small executors of one core, at most two per application, few shuffle partitions
APPLICATION_DEFAULTS = {
    "spark.executor.memory": EXECUTOR_MEMORY,
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.driver.memory": "512m",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.locality.wait": "0s",
    "spark.driver.extraJavaOptions": QUICK_JIT,
    "spark.executor.extraJavaOptions": QUICK_JIT,
}


def alive_workers(cluster: Cluster) -> int | None:
    """How many workers the master counts alive; None while its web UI is not up."""
    try:
        return sum(w["state"] == "ALIVE" for w in cluster.status()["workers"])
    except OSError:
        return None


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A Spark standalone cluster on 127.0.0.1: a master and two workers, each a process of
    its own started by pyspark's spark-class, with every application's defaults in its
    ``conf`` folder (APPLICATION_DEFAULTS). Every process is ended after the session."""
    need_spark()
    folder = tmp_path_factory.mktemp("spark-cluster")
    env = cluster_env(folder)
    (folder / "conf" / "spark-defaults.conf").write_text(
        "".join(f"{key} {value}\n" for key, value in APPLICATION_DEFAULTS.items())
    )
    port, web = free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web}/json/", folder)
    launch = str(spark_class())
    processes = Processes(folder)
    try:
        processes.start(
            "master",
            env,
            *(launch, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"),
            *("--port", str(port), "--webui-port", str(web)),
        )
        # a worker that finds no master retries only after several seconds
        wait_for(lambda: alive_workers(cluster) == 0, "the cluster's master", processes)
        for n in (1, 2):
            processes.start(
                f"worker-{n}",
                env,
                *(launch, "org.apache.spark.deploy.worker.Worker", cluster.master),
                *("--host", "127.0.0.1", "--webui-port", str(free_port())),
                *("--cores", WORKER_CORES, "--memory", WORKER_MEMORY),
                *("--work-dir", str(folder / f"work-{n}")),
            )
        wait_for(lambda: alive_workers(cluster) == 2, "the cluster's two workers", processes)
        yield cluster
    finally:
        processes.stop()


@pytest.fixture(scope="session")
def spark_connect(spark_cluster: Cluster) -> Iterator[str]:
    """The ``sc://`` URL of a Spark Connect server (the jar ships with pyspark) whose
    executors run on ``spark_cluster``; started as sbin/start-connect-server.sh does."""
    need(installed("grpc"), "Spark Connect's client (grpcio)", "pip install -e '.[dev]'")
    folder = spark_cluster.folder
    port = free_port()
    processes = Processes(folder)
    try:
        env = cluster_env(folder)
        del env["SPARK_DAEMON_MEMORY"]  # the server is a driver: spark.driver.memory sizes it
        processes.start(
            "connect-server",
            env,
            *(str(spark_class()), "org.apache.spark.deploy.SparkSubmit"),
            *("--class", "org.apache.spark.sql.connect.service.SparkConnectServer"),
            *("--name", "Spark Connect server", "--master", spark_cluster.master),
            *("--conf", "spark.connect.grpc.binding.address=127.0.0.1"),
            *("--conf", f"spark.connect.grpc.binding.port={port}", "spark-internal"),
        )
        wait_for(lambda: listening(port), "the Spark Connect server", processes)
        yield f"sc://127.0.0.1:{port}"
    finally:
        processes.stop()
