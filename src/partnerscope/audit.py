"""The append-only audit log: every change to decisions, tier overrides, improvement plans,
users and API tokens, payout ledgers, MDF requests, routed leads and deal registrations, with
the actor who made it.

Entries are written in the same transaction as the change they describe, so a change is never
stored without its entry. The database itself refuses to update or delete an entry (triggers
created by migration 0002).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import audit_log
from partnerscope.clock import now_utc

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.engine import Connection, Engine


@dataclass(frozen=True)
class Entry:
    entry_id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


def record(
    connection: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry inside the caller's transaction."""
    connection.execute(
        audit_log.insert().values(
            at=now_utc(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail or {},
        )
    )


def entries(
    engine: Engine,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    limit: int = 200,
    before: int | None = None,
) -> list[Entry]:
    """The newest entries first (``before``: only entries older than that entry id)."""
    from sqlalchemy import select

    query = select(audit_log).order_by(audit_log.c.entry_id.desc()).limit(limit)
    if object_type is not None:
        query = query.where(audit_log.c.object_type == object_type)
    if object_id is not None:
        query = query.where(audit_log.c.object_id == object_id)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if before is not None:
        query = query.where(audit_log.c.entry_id < before)
    with engine.connect() as connection:
        return [Entry(**row._mapping) for row in connection.execute(query)]


def move(
    connection: Connection,
    key: Column[Any],
    found: Any,
    status: str,
    values: dict[str, Any],
    *,
    stale: Exception,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    detail: dict[str, Any],
) -> None:
    """Move the row whose ``key`` column is ``found`` on from ``status``, the state it was
    read in, and append the entry, in the caller's transaction. If someone else moved it
    meanwhile, nothing is changed and ``stale`` is raised: two people acting at once cannot
    both do it."""
    status_column = key.table.c.status
    done = connection.execute(
        key.table.update().where(key == found).where(status_column == status).values(**values)
    )
    if done.rowcount != 1:
        raise stale
    record(
        connection,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
