"""PostgreSQL for the tests: one throwaway cluster per test session (per xdist worker), started
by scripts/pg-cluster, and a fresh database in it for each test that asks.

``PARTNERSCOPE_TEST_PG_URL`` (a SQLAlchemy URL of a role that may create databases) points the
tests at a server of your own instead. Without it, and without PostgreSQL's server binaries, the
PostgreSQL tests are skipped, saying so (tests/requires.py); CI installs the binaries
(scripts/setup-system), and there a missing one fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.requires import SETUP_SYSTEM, need

ENV_URL = "PARTNERSCOPE_TEST_PG_URL"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-cluster"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The SQLAlchemy URL of a PostgreSQL server's maintenance database."""
    if url := os.environ.get(ENV_URL):
        yield url
        return
    found = subprocess.run(["bash", str(SCRIPT), "bindir"], capture_output=True, text=True)
    need(
        found.returncode == 0,
        f"PostgreSQL's server binaries ({found.stderr.strip()})",
        f"{SETUP_SYSTEM} installs postgresql; or set {ENV_URL} to test against a server of "
        "your own",
    )
    # under /tmp: as root the cluster belongs to the postgres user, who must reach the folder
    folder = Path(tempfile.mkdtemp(prefix="partnerscope-pg.", dir="/tmp"))
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(folder)], capture_output=True, text=True
    )
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"scripts/pg-cluster start failed:\n{started.stderr}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database, dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_server).set(database=name)
        yield url.render_as_string(hide_password=False)
        _dispose_app_engines(name)
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _dispose_app_engines(database: str) -> None:
    """Close the pooled connections partnerscope.appdb keeps for a database about to go."""
    from partnerscope.appdb import _engines

    for key in [k for k, engine in _engines.items() if engine.url.database == database]:
        _engines.pop(key).dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The transactional store of the test's workspaces: a new SQLite file, then a new
    PostgreSQL database (PARTNERSCOPE_DATABASE_URL, which wins over the configuration)."""
    from partnerscope.appdb import ENV_URL as STORE_URL

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    monkeypatch.setenv(STORE_URL, url)
    return url
