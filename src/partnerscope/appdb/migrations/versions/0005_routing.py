"""Lead routing: every assignment of a lead with its explanation, and the round-robin cursors.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_assignments",
        sa.Column("assignment_id", sa.Integer, primary_key=True),
        sa.Column("lead_id", sa.String(128), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("queue", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("eligible", sa.JSON, nullable=False),
        sa.Column("distance_km", sa.Float),
        sa.Column("assigned_at", sa.DateTime, nullable=False),
        sa.Column("sla_due_at", sa.DateTime),
        sa.Column("first_touch_at", sa.DateTime),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("closed_reason", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("routed_by", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("estimated_value", sa.String(32)),
        sa.Column("currency", sa.String(3)),
        sa.Column("country", sa.String(64)),
        sa.Column("region", sa.String(64)),
        sa.Column("product", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.UniqueConstraint("lead_id", "attempt", name="uq_lead_assignments_attempt"),
    )
    op.create_index("ix_lead_assignments_partner", "lead_assignments", ["partner_id", "status"])
    op.create_index("ix_lead_assignments_due", "lead_assignments", ["status", "sla_due_at"])
    op.create_table(
        "routing_cursors",
        sa.Column("pool", sa.String(255), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routing_cursors")
    op.drop_index("ix_lead_assignments_due", "lead_assignments")
    op.drop_index("ix_lead_assignments_partner", "lead_assignments")
    op.drop_table("lead_assignments")
