"""Each user's cadence per kind of notification (owner: people)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.appdb.tables import notification_preferences as prefs
from partnerscope.outbox import KINDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def cadence(connection: Connection, user_id: int, kind: str) -> str:
    """How ``user_id`` takes ``kind``: their choice for it, else their default ("*"), else the
    kind's default."""
    from sqlalchemy import select

    rows = dict(
        connection.execute(
            select(prefs.c.kind, prefs.c.cadence).where(
                prefs.c.user_id == user_id, prefs.c.kind.in_((kind, "*"))
            )
        ).all()
    )
    return str(rows.get(kind) or rows.get("*") or KINDS[kind].cadence)
