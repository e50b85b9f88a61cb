"""Telling people: the outbox of notifications and their deliveries, each user's email and
preferences, schedule firings, escalations, tasks and what rules did.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.Text))
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("attachment", sa.JSON),
        sa.Column("object_type", sa.String(32)),
        sa.Column("object_id", sa.String(128)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("dispatched_at", sa.DateTime),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
    )
    op.create_index("ix_notifications_dispatch", "notifications", ["dispatched_at"])
    op.create_index("ix_notifications_object", "notifications", ["object_type", "object_id"])
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Integer, primary_key=True),
        sa.Column(
            "notification_id",
            sa.Integer,
            sa.ForeignKey("notifications.notification_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id", ondelete="CASCADE")),
        sa.Column("address", sa.Text),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("lease_until", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("read_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_deliveries_key"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_inbox", "deliveries", ["user_id", "channel", "read_at"])
    op.create_table(
        "notification_preferences",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.user_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "schedule_fires",
        sa.Column("schedule", sa.String(64), primary_key=True),
        sa.Column("fire_at", sa.DateTime, primary_key=True),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("claimed_by", sa.Text, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("notifications", sa.Integer),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "escalations",
        sa.Column("escalation_id", sa.Integer, primary_key=True),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(128), nullable=False),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("owners", sa.JSON, nullable=False),
        sa.Column("escalated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("object_type", "object_id", "level", name="uq_escalations_level"),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Integer, primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("owner", sa.String(64)),
        sa.Column("due", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("closed_by", sa.Text),
    )
    op.create_index("ix_tasks_partner", "tasks", ["partner_id"])
    op.create_table(
        "rule_actions",
        sa.Column("action_id", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("object_id", sa.Text),
        sa.Column("run_id", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("rule", "partner_id", "period", name="uq_rule_actions_once"),
    )


def downgrade() -> None:
    op.drop_table("rule_actions")
    op.drop_index("ix_tasks_partner", "tasks")
    op.drop_table("tasks")
    op.drop_table("escalations")
    op.drop_table("schedule_fires")
    op.drop_table("notification_preferences")
    op.drop_index("ix_deliveries_inbox", "deliveries")
    op.drop_index("ix_deliveries_due", "deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_notifications_object", "notifications")
    op.drop_index("ix_notifications_dispatch", "notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
