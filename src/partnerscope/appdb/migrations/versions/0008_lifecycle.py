"""The partner lifecycle before and beside the revenue: invitations and applications with
their assessment, onboarding plans and their tasks, joint business plans with their quarterly
milestones and every version.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_invites",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("company", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("application_id", sa.Integer),
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.Integer, primary_key=True),
        sa.Column("company", sa.Text, nullable=False),
        sa.Column("contact_name", sa.Text, nullable=False),
        sa.Column("contact_email", sa.Text, nullable=False),
        sa.Column("website", sa.Text),
        sa.Column("country", sa.String(64)),
        sa.Column("region", sa.String(64)),
        sa.Column("vertical", sa.String(128)),
        sa.Column("partner_type", sa.String(32)),
        sa.Column("description", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("decided_by", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("program_tier", sa.String(64)),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("partner_id", name="uq_applications_partner"),
    )
    op.create_index("ix_applications_status", "applications", ["status"])
    op.create_table(
        "application_scores",
        sa.Column(
            "application_id",
            sa.Integer,
            sa.ForeignKey("applications.application_id"),
            primary_key=True,
        ),
        sa.Column("criterion", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("scored_by", sa.Text, nullable=False),
        sa.Column("scored_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "onboarding_plans",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("application_id", sa.Integer),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "onboarding_tasks",
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("onboarding_plans.partner_id"),
            primary_key=True,
        ),
        sa.Column("task", sa.String(64), primary_key=True),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("requires", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("closed_by_data", sa.Boolean, nullable=False),
        sa.Column("completed_at", sa.DateTime),
        sa.Column("completed_by", sa.Text),
    )
    op.create_index("ix_onboarding_tasks_due", "onboarding_tasks", ["status", "due_on"])
    op.create_table(
        "business_plans",
        sa.Column("plan_id", sa.Integer, primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("vendor_owner", sa.Text),
        sa.Column("partner_owner", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.UniqueConstraint("partner_id", "fiscal_year", name="uq_business_plans_partner_year"),
    )
    op.create_table(
        "business_plan_milestones",
        sa.Column("milestone_id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("business_plans.plan_id"), nullable=False),
        sa.Column("quarter", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("note", sa.Text),
    )
    op.create_index(
        "ix_business_plan_milestones_plan", "business_plan_milestones", ["plan_id", "quarter"]
    )
    op.create_table(
        "business_plan_versions",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("business_plans.plan_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("business_plan_versions")
    op.drop_index("ix_business_plan_milestones_plan", "business_plan_milestones")
    op.drop_table("business_plan_milestones")
    op.drop_table("business_plans")
    op.drop_index("ix_onboarding_tasks_due", "onboarding_tasks")
    op.drop_table("onboarding_tasks")
    op.drop_table("onboarding_plans")
    op.drop_table("application_scores")
    op.drop_index("ix_applications_status", "applications")
    op.drop_table("applications")
    op.drop_table("application_invites")
