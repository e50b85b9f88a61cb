"""Money: payout periods and their ledger lines (locked once approved), MDF budgets and
requests.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LOCKED = "an approved payout period is locked: post an adjustment in an open period instead"


def upgrade() -> None:
    op.create_table(
        "payout_periods",
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.Column("computed_by", sa.Text, nullable=False),
        sa.Column("approved_at", sa.DateTime),
        sa.Column("approved_by", sa.Text),
        sa.Column("paid_at", sa.DateTime),
        sa.Column("paid_by", sa.Text),
        sa.Column("payment_ref", sa.Text),
    )
    op.create_table(
        "payout_lines",
        sa.Column("line_id", sa.Integer, primary_key=True),
        sa.Column("period", sa.String(32), sa.ForeignKey("payout_periods.period"), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("earned_in", sa.String(32), nullable=False),
        sa.Column("base", sa.String(32)),
        sa.Column("rate", sa.String(32)),
        sa.Column("quantity", sa.Integer),
        sa.Column("amount", sa.String(32), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_payout_lines_period", "payout_lines", ["period", "partner_id"])
    _locked_lines()
    op.create_table(
        "mdf_budgets",
        sa.Column("fiscal_year", sa.String(16), primary_key=True),
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("amount", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        sa.Column("set_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "mdf_requests",
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.String(16), nullable=False),
        sa.Column("activity_type", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("requested_amount", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("approved_amount", sa.String(32)),
        sa.Column("deadline", sa.Date),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("reason", sa.Text),
        sa.Column("claimed_amount", sa.String(32)),
        sa.Column("proof_ref", sa.Text),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_at", sa.DateTime),
        sa.Column("paid_amount", sa.String(32)),
        sa.Column("paid_by", sa.Text),
        sa.Column("paid_at", sa.DateTime),
    )
    op.create_index("ix_mdf_requests_partner", "mdf_requests", ["partner_id", "fiscal_year"])


def _locked_lines() -> None:
    """Triggers that refuse to add, change or delete a line of a period that is not a draft,
    and, once a period is approved, to move it anywhere but to paid (never back), give it
    another run or another name, or delete it."""
    dialect = op.get_bind().dialect.name
    status = "(SELECT status FROM payout_periods WHERE period = {row}.period)"
    back = (
        "OLD.status <> 'draft' AND (NEW.status NOT IN ('approved', 'paid') "
        "OR NEW.run_id <> OLD.run_id "
        "OR NEW.period <> OLD.period OR (OLD.status = 'paid' AND NEW.status <> 'paid'))"
    )
    if dialect == "sqlite":
        for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER payout_lines_locked_{event.lower()} BEFORE {event} "
                f"ON payout_lines WHEN {status.format(row=row)} <> 'draft' "
                f"BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END"
            )
        op.execute(
            f"CREATE TRIGGER payout_periods_locked_update BEFORE UPDATE ON payout_periods "
            f"WHEN {back} BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END"
        )
        op.execute(
            "CREATE TRIGGER payout_periods_locked_delete BEFORE DELETE ON payout_periods "
            f"WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION payout_lines_locked() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE row payout_lines; BEGIN "
            "IF TG_OP = 'INSERT' THEN row := NEW; ELSE row := OLD; END IF; "
            "IF (SELECT status FROM payout_periods WHERE period = row.period) <> 'draft' THEN "
            f"RAISE EXCEPTION '{LOCKED}'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER payout_lines_locked BEFORE INSERT OR UPDATE OR DELETE ON "
            "payout_lines FOR EACH ROW EXECUTE FUNCTION payout_lines_locked()"
        )
        op.execute(
            "CREATE FUNCTION payout_periods_locked() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'DELETE' THEN "
            f"IF OLD.status <> 'draft' THEN RAISE EXCEPTION '{LOCKED}'; END IF; RETURN OLD; "
            f"END IF; IF {back} THEN RAISE EXCEPTION '{LOCKED}'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER payout_periods_locked BEFORE UPDATE OR DELETE ON payout_periods "
            "FOR EACH ROW EXECUTE FUNCTION payout_periods_locked()"
        )


def downgrade() -> None:
    op.drop_index("ix_mdf_requests_partner", "mdf_requests")
    op.drop_table("mdf_requests")
    op.drop_table("mdf_budgets")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER payout_periods_locked ON payout_periods")
        op.execute("DROP FUNCTION payout_periods_locked()")
        op.execute("DROP TRIGGER payout_lines_locked ON payout_lines")
        op.execute("DROP FUNCTION payout_lines_locked()")
    op.drop_index("ix_payout_lines_period", "payout_lines")
    op.drop_table("payout_lines")
    op.drop_table("payout_periods")
