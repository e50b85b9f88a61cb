"""The transactional store's migrations on PostgreSQL: every revision up, down and up again, and
the database-side guards (append-only audit log, locked payout periods) as PostgreSQL triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from partnerscope.appdb import MIGRATIONS, metadata, upgrade

pytestmark = pytest.mark.postgres


def _alembic(url: str, *revisions: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    try:
        for revision in revisions:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                if revision == "base":
                    command.downgrade(config, revision)
                else:
                    command.upgrade(config, revision)
    finally:
        engine.dispose()


def test_every_migration_runs_up_and_down_on_postgresql(pg_url: str) -> None:
    # one revision at a time, so a failing script is named by the traceback
    _alembic(pg_url, "0001", "0002", "0003", "0004", "0005", "0006", "base", "head")
    engine = create_engine(pg_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        upgrade(engine)  # at head: a no-op
    finally:
        engine.dispose()


def test_the_guards_are_triggers_in_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        upgrade(engine)
        with engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) "
                    "VALUES (now(), 'ana', 'create', 'user', '1', '{}')"
                )
            )
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as con:
            con.execute(text("UPDATE audit_log SET actor = 'eve'"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as con:
            con.execute(text("DELETE FROM audit_log"))
        with engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO payout_periods (period, status, run_id, computed_at, "
                    "computed_by) VALUES ('FY2025-Q2', 'approved', 1, now(), 'ana')"
                )
            )
        with pytest.raises(DBAPIError, match="locked"), engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO payout_lines (period, partner_id, rule, kind, earned_in, "
                    "amount, explanation, inputs, run_id, created_at) VALUES ('FY2025-Q2', "
                    "'P1', 'r', 'bonus', 'FY2025-Q2', '1.00', 'x', '{}', 1, now())"
                )
            )
        with pytest.raises(DBAPIError, match="locked"), engine.begin() as con:
            con.execute(text("UPDATE payout_periods SET status = 'draft'"))
    finally:
        engine.dispose()


def test_the_configuration_selects_postgresql_and_the_environment_wins(
    pg_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnerscope.accounts import Accounts, Role
    from partnerscope.appdb import ENV_URL, database_url
    from tests.conftest import make_workspace

    monkeypatch.delenv(ENV_URL, raising=False)
    ws = make_workspace(tmp_path / "ws", f'[database]\nurl = "{pg_url}"\n')
    assert database_url(ws) == pg_url
    accounts = Accounts.open(ws)
    accounts.add("ana", Role.ADMIN, "correct horse battery", by="test")
    assert accounts.authenticate("ana", "correct horse battery").name == "ana"
    assert not (ws.state_dir / "app.db").exists()
    engine = create_engine(pg_url)
    try:
        with engine.connect() as con:
            assert con.execute(text("SELECT name FROM users")).scalars().all() == ["ana"]
    finally:
        engine.dispose()
    monkeypatch.setenv(ENV_URL, f"sqlite:///{tmp_path / 'other.db'}")
    assert database_url(ws) == f"sqlite:///{tmp_path / 'other.db'}"


def test_a_database_url_that_is_no_url_is_refused(tmp_path) -> None:
    from partnerscope.errors import ConfigError
    from tests.conftest import make_workspace

    ws = make_workspace(tmp_path / "ws", '[database]\nurl = "db.example.com"\n')
    with pytest.raises(ConfigError, match="SQLAlchemy URL"):
        _ = ws.config
