"""Deal registrations and the conflicts found when each was submitted.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deal_registrations",
        sa.Column("registration_id", sa.Integer, primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("account_name", sa.Text, nullable=False),
        sa.Column("account_key", sa.Text, nullable=False),
        sa.Column("domain", sa.String(253)),
        sa.Column("country", sa.String(64)),
        sa.Column("amount", sa.String(32), nullable=False),
        sa.Column("expected_close", sa.Date, nullable=False),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("reason", sa.Text),
        sa.Column("protected_until", sa.Date),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("crm_opportunity_id", sa.Text),
    )
    op.create_index("ix_deal_registrations_partner", "deal_registrations", ["partner_id", "status"])
    op.create_index("ix_deal_registrations_status", "deal_registrations", ["status"])
    op.create_table(
        "deal_registration_conflicts",
        sa.Column(
            "registration_id",
            sa.Integer,
            sa.ForeignKey("deal_registrations.registration_id"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("other_id", sa.String(64), primary_key=True),
        sa.Column("other_partner_id", sa.String(64)),
        sa.Column("other_name", sa.Text, nullable=False),
        sa.Column("matched_on", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_deal_registration_conflicts_other",
        "deal_registration_conflicts",
        ["kind", "other_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_deal_registration_conflicts_other", "deal_registration_conflicts")
    op.drop_table("deal_registration_conflicts")
    op.drop_index("ix_deal_registrations_status", "deal_registrations")
    op.drop_index("ix_deal_registrations_partner", "deal_registrations")
    op.drop_table("deal_registrations")
