"""Alerts people work: each alert's state (open → acknowledged → resolved, with a note), its
owner and a snooze date, keyed by the alert's stable id (partner, kind, metric, period; not
the run), so the state survives a new run of the same period. An alert without a row is open,
unassigned and awake.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_states",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("snoozed_until", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_states_partner", "alert_states", ["partner_id"])
    op.create_index("ix_alert_states_owner", "alert_states", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_alert_states_owner", "alert_states")
    op.drop_index("ix_alert_states_partner", "alert_states")
    op.drop_table("alert_states")
