"""The workspace's transactional database: decision records and their history, and the alerts
runs raise on them (users, deal registrations, MDF requests and approvals will join them).

An embedded SQLite file (``state/app.db``) by default; ``[database] url`` in the configuration,
or ``PARTNERSCOPE_DATABASE_URL`` (which wins), points a workspace at another SQLAlchemy URL
(PostgreSQL for a team: ``postgresql+psycopg://...``). The schema is owned by the Alembic
migrations in ``migrations/versions``, applied when the database is opened, so an older
workspace is upgraded in place and a new one is created from the same scripts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from partnerscope.workspace import Workspace

__all__ = ["DATABASE_FILE", "ENV_URL", "connect", "database_url", "metadata"]

DATABASE_FILE = "app.db"
ENV_URL = "PARTNERSCOPE_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}


def database_url(workspace: Workspace) -> str:
    return (
        os.environ.get(ENV_URL)
        or workspace.config.database.url
        or f"sqlite:///{workspace.state_dir / DATABASE_FILE}"
    )


def connect(workspace: Workspace) -> Engine:
    """The workspace's database, migrated to the newest schema (once per process and URL)."""
    url = database_url(workspace)
    engine = _engines.get(url)
    if engine is None:
        engine = _create(url)
        upgrade(engine)
        _engines[url] = engine
    return engine


def _create(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # readers (the web app) keep reading while a command writes
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def upgrade(engine: Engine) -> None:
    """Apply the migrations the database has not seen yet."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.begin() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
