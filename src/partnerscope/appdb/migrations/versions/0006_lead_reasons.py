"""Lead assignments keep why a lead was re-routed as data, not as words naming a partner: the
partner whose decline or SLA breach sent it on (``rerouted_from``, ``rerouted_after``), and
the explanation the assigned partner itself is shown (``partner_reason``), so that each viewer
is told only about partners it may see.

Rows written before are split: ``re-routed after P0021 declined: P0022: ...`` becomes the
reason ``P0022: ...`` with ``rerouted_from = P0021`` and ``rerouted_after = declined``. Their
``partner_reason`` stays empty (the partner is shown a general sentence): the old words mix
what qualified the partner with its tier and rank, which it may not be shown.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_REROUTED = re.compile(r"^re-routed after (\S+) (declined|breached the SLA): (.*)$", re.S)


def upgrade() -> None:
    with op.batch_alter_table("lead_assignments") as batch:
        batch.add_column(sa.Column("partner_reason", sa.Text))
        batch.add_column(sa.Column("rerouted_from", sa.String(64)))
        batch.add_column(sa.Column("rerouted_after", sa.String(16)))
    table = sa.table(
        "lead_assignments",
        sa.column("assignment_id", sa.Integer),
        sa.column("reason", sa.Text),
        sa.column("rerouted_from", sa.String),
        sa.column("rerouted_after", sa.String),
    )
    connection = op.get_bind()
    rerouted = table.c.reason.like("re-routed after %")
    rows = connection.execute(sa.select(table.c.assignment_id, table.c.reason).where(rerouted))
    for assignment_id, reason in rows.all():
        found = _REROUTED.match(reason)
        if found:
            connection.execute(
                table.update()
                .where(table.c.assignment_id == assignment_id)
                .values(
                    reason=found.group(3),
                    rerouted_from=found.group(1),
                    rerouted_after="declined" if found.group(2) == "declined" else "breached",
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("lead_assignments") as batch:
        batch.drop_column("rerouted_after")
        batch.drop_column("rerouted_from")
        batch.drop_column("partner_reason")
