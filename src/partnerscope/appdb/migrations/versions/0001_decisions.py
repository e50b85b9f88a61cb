"""Decision records, their history and the alerts runs raise on them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "decision_history",
        sa.Column(
            "decision_id",
            sa.Integer,
            sa.ForeignKey("decisions.decision_id"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
    )
    op.create_table(
        "decision_alerts",
        sa.Column("run_id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column(
            "decision_id", sa.Integer, sa.ForeignKey("decisions.decision_id"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("first_run", sa.Integer, nullable=False),
    )
    op.create_index("ix_decision_alerts_decision", "decision_alerts", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_decision_alerts_decision", "decision_alerts")
    op.drop_table("decision_alerts")
    op.drop_table("decision_history")
    op.drop_table("decisions")
