"""The metric engine on a real Spark cluster: a standalone master and two workers, and a Spark
Connect server running on them (tests/sparktools.py starts all four on 127.0.0.1, each a process
of its own). `partnerscope run` on the hand-checked fixture workspace, with the warehouse staged
in a folder every executor reads, stores DuckDB's values on the standalone cluster and through
Spark Connect. A run computes the whole catalog, every level, grain and period, so each test is
the fixture's case of the parity suite (tests/test_engine_parity.py, in UTC) on that engine; one
full computation per engine keeps the module to a few minutes on two cores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ibis
import pytest

from partnerscope.metrics import spark
from partnerscope.metrics.engine import compute
from partnerscope.runs import RunManifest, get_run, read_results
from partnerscope.workspace import Workspace
from tests.sparktools import CLUSTER_MARKS, Cluster, cluster_env, spark_cluster, spark_connect
from tests.test_engine_parity import SETTINGS, assert_same, fixture_workspace
from tests.test_metrics_fixture import AS_OF, P1_Q2, check, index

pytestmark = CLUSTER_MARKS
__all__ = ["spark_cluster", "spark_connect"]  # the session fixtures the tests use


def staging(cluster: Cluster) -> Path:
    """The folder the tests stage warehouses in: on this one machine every executor reads it
    at the same path, as it would an NFS mount on a real cluster."""
    folder = cluster.folder / "staging"
    folder.mkdir(exist_ok=True)
    return folder


def on_spark(root: Path, url: str, cluster: Cluster) -> Workspace:
    """The fixture workspace (UTC, calendar years) with ``[engine] kind = "spark"`` at ``url``
    and the cluster's shared staging folder."""
    ws = fixture_workspace(root, SETTINGS["utc"])
    engine = (
        f'[engine]\nkind = "spark"\nurl = "{url}"\nstaging = "{staging(cluster)}"\n'
        'memory_limit = "1GB"\n'
    )
    ws.config_path.write_text(engine + ws.config_path.read_text(encoding="utf-8"), "utf-8")
    return Workspace.open(ws.root)


def assert_stores_duckdbs_values(ws: Workspace, run: RunManifest, url: str) -> None:
    """The run computed on Spark at ``url`` and stored, for every metric, level, grain and
    period, what DuckDB computes; P1's second quarter has the hand-checked values."""
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, as_of=AS_OF)
    assert expected.results is not None and expected.results.num_rows > 200
    stored = read_results(ws, run.run_id)
    assert_same(expected.results, stored)
    check(index(stored), "partner", "P1", "FY2025-Q2", P1_Q2)
    assert (run.engine["kind"], run.engine["master"]) == ("spark", url)
    assert run.engine["spark"].startswith("4.0")


def test_a_run_on_the_standalone_cluster_stores_duckdbs_values(
    spark_cluster: Cluster, tmp_path: Path
) -> None:
    ws = on_spark(tmp_path / "ws", spark_cluster.master, spark_cluster)
    before = {app["id"] for app in spark_cluster.applications()}
    # a command of its own: its driver is a JVM of its own, as on a user's machine (this
    # process may hold the local session of the other Spark tests, and a process has one)
    env = cluster_env(spark_cluster.folder)
    env.pop(spark.ENV_URL, None)
    command = [sys.executable, "-m", "partnerscope", "-w", str(ws.root), "run"]
    ran = subprocess.run(
        [*command, "--as-of", AS_OF.isoformat()], env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert_stores_duckdbs_values(ws, get_run(ws), spark_cluster.master)
    # the run was an application of the cluster, with two executors of one core
    (app,) = [a for a in spark_cluster.applications() if a["id"] not in before]
    assert (app["name"], app["state"], app["cores"]) == ("partnerscope", "FINISHED", 2)
    assert list(staging(spark_cluster).iterdir()) == []  # the staged warehouse is gone


def test_a_run_through_spark_connect_stores_duckdbs_values(
    spark_cluster: Cluster, spark_connect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(spark.ENV_URL, raising=False)
    ws = on_spark(tmp_path / "ws", spark_connect, spark_cluster)
    # in this process: Spark Connect's client starts no JVM, beside a local session or not
    run = ws.run(as_of=AS_OF)
    assert_stores_duckdbs_values(ws, run, spark_connect)
    # the server is the cluster's one application running, with an executor on each worker
    status = spark_cluster.status()
    (server,) = status["activeapps"]
    assert (server["name"], server["cores"]) == ("Spark Connect server", 2)
    assert [worker["coresused"] for worker in status["workers"]] == [1, 1]
    assert list(staging(spark_cluster).iterdir()) == []
