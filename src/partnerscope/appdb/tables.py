"""The tables of the transactional database (SQLAlchemy Core). Migrations create them; a test
checks that the migrations and these definitions agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: One row per decision: its current record (a JSON document) and the columns lists filter on.
decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", Text),
    Column("version", Integer, nullable=False),
    Column("record", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Every change to a decision: who, when, what (field paths with old and new values), and the
#: whole record as it stood after the change.
decision_history = Table(
    "decision_history",
    metadata,
    Column("decision_id", ForeignKey("decisions.decision_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("record", JSON, nullable=False),
)

#: What each run found on the committed decisions: fired signals and reviews due.
decision_alerts = Table(
    "decision_alerts",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("alert_id", String(64), primary_key=True),
    Column("decision_id", ForeignKey("decisions.decision_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("due_on", Date),
    Column("first_run", Integer, nullable=False),
    Index("ix_decision_alerts_decision", "decision_id"),
)
