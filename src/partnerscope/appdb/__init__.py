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
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import metadata
from partnerscope.errors import WorkspaceError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

    from partnerscope.workspace import Workspace

__all__ = [
    "DATABASE_FILE",
    "ENV_URL",
    "connect",
    "database_url",
    "metadata",
    "release",
    "serialize",
]

DATABASE_FILE = "app.db"
ENV_URL = "PARTNERSCOPE_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}
#: held while a store is opened for the first time in this process (made and migrated once,
#: however many threads ask at once)
_opening = threading.Lock()


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
        with _opening:
            engine = _engines.get(url)
            if engine is None:
                engine = _create(url)
                upgrade(engine)
                _engines[url] = engine
    return engine


def release(folder: Path) -> None:
    """Close this process's connections to the SQLite stores under ``folder``, before the folder
    is deleted (a demo replaced): a pooled connection would keep reading the deleted file."""
    prefix = f"sqlite:///{folder}"
    for url in [u for u in _engines if u.startswith(prefix)]:
        _engines.pop(url).dispose()


def serialize(connection: Connection, table: Table) -> None:
    """Make the transaction of ``connection`` the only one writing ``table`` until it ends
    (others wait for it), so that what it reads before it writes still holds when it writes:
    a budget left, the first registration of an account, a partner's open leads. Call it first
    in the transaction.

    PostgreSQL: a table lock that conflicts with itself and with writes, not with reads.
    SQLite: the database's one write lock, taken by a write that changes nothing (the driver
    begins a transaction only at its first write, so one that began with a read would hold no
    lock until then)."""
    from sqlalchemy import false, text

    match connection.dialect.name:
        case "postgresql":
            connection.execute(text(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE'))
        case "sqlite":
            connection.execute(table.delete().where(false()))
        case other:
            raise WorkspaceError(
                f"the transactional store runs on SQLite or PostgreSQL, not {other}; point "
                "[database] url (or PARTNERSCOPE_DATABASE_URL) at one of them"
            )


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
