"""The in-app notification centre (owner: people): a user's notifications (their "inapp"
deliveries), newest first, the number unread, and marking them read.

A user only ever reads and marks their own rows; a partner's user, besides, only notifications
for their own partner's users (what ``dispatch`` already guarantees, checked here once more).
A notification is known by its ``notification_id`` (each user has at most one in-app delivery of
each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import deliveries, notifications
from partnerscope.outbox import KINDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from partnerscope.accounts import User
    from partnerscope.workspace import Workspace

PAGE_SIZE = 25


@dataclass(frozen=True)
class Item:
    notification_id: int
    kind: str
    title: str
    lines: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    link: str | None
    partner_id: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def kind_label(self) -> str:
        spec = KINDS.get(self.kind)
        return spec.label if spec else self.kind

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _mine(user: User) -> list[Any]:
    """The conditions that keep to ``user``'s own in-app rows (a partner's user: its partner's
    notifications only)."""
    from partnerscope.accounts import Role

    where = [
        deliveries.c.user_id == user.user_id,
        deliveries.c.channel == "inapp",
        deliveries.c.status != "off",
    ]
    if user.role is Role.PARTNER_USER:
        where += [
            notifications.c.audience == "partner",
            notifications.c.partner_id == user.partner_id,
        ]
    return where


def _joined() -> Any:
    return deliveries.join(
        notifications, notifications.c.notification_id == deliveries.c.notification_id
    )


def _columns() -> Any:
    from sqlalchemy import select

    return select(
        notifications.c.notification_id,
        notifications.c.kind,
        notifications.c.title,
        notifications.c.body,
        notifications.c.link,
        notifications.c.partner_id,
        notifications.c.created_at,
        deliveries.c.read_at,
    ).select_from(_joined())


def _item(r: Any) -> Item:
    body = r.body or {}
    return Item(
        notification_id=int(r.notification_id),
        kind=str(r.kind),
        title=str(r.title),
        lines=tuple(str(x) for x in body.get("lines", ())),
        facts=tuple((str(f[0]), str(f[1])) for f in body.get("facts", ())),
        link=r.link,
        partner_id=r.partner_id,
        created_at=r.created_at,
        read_at=r.read_at,
    )


def items(engine: Engine, user: User, *, page: int = 1, size: int = PAGE_SIZE) -> list[Item]:
    """``user``'s notifications, newest first, page ``page`` (from 1) of ``size``."""
    query = (
        _columns()
        .where(*_mine(user))
        .order_by(notifications.c.created_at.desc(), notifications.c.notification_id.desc())
        .limit(size)
        .offset(max(0, page - 1) * size)
    )
    with engine.connect() as connection:
        return [_item(r) for r in connection.execute(query)]


def total(engine: Engine, user: User) -> int:
    """How many notifications ``user`` has in all."""
    from sqlalchemy import func, select

    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(_joined()).where(*_mine(user))
            ).scalar_one()
        )


def unread_in(connection: Connection, user: User) -> int:
    from sqlalchemy import func, select

    return int(
        connection.execute(
            select(func.count())
            .select_from(_joined())
            .where(*_mine(user), deliveries.c.read_at.is_(None))
        ).scalar_one()
    )


def unread(engine: Engine, user: User) -> int:
    """How many of ``user``'s notifications are unread."""
    with engine.connect() as connection:
        return unread_in(connection, user)


def _mark(engine: Engine, user: User, notification_id: int | None, now: datetime) -> int:
    from sqlalchemy import select

    mine = (
        select(deliveries.c.delivery_id)
        .select_from(_joined())
        .where(*_mine(user), deliveries.c.read_at.is_(None))
    )
    if notification_id is not None:
        mine = mine.where(deliveries.c.notification_id == notification_id)
    with engine.begin() as connection:
        result = connection.execute(
            deliveries.update()
            .where(deliveries.c.delivery_id.in_(mine.scalar_subquery()))
            .values(read_at=now)
        )
        return int(result.rowcount or 0)


def find(engine: Engine, user: User, notification_id: int) -> Item | None:
    """``user``'s notification ``notification_id``; None when it is not theirs (or not there)."""
    query = _columns().where(*_mine(user), deliveries.c.notification_id == notification_id)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else _item(row)


def mark_read(
    engine: Engine, user: User, notification_id: int, now: datetime | None = None
) -> bool | None:
    """Mark ``user``'s notification read: True; False when it was read already; None when it
    is not one of theirs."""
    from partnerscope.clock import now_utc

    if find(engine, user, notification_id) is None:
        return None
    return _mark(engine, user, notification_id, now or now_utc()) > 0


def mark_all_read(engine: Engine, user: User, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` read; how many were."""
    from partnerscope.clock import now_utc

    return _mark(engine, user, None, now or now_utc())


def engine_of(workspace: Workspace) -> Engine:
    from partnerscope import appdb

    return appdb.connect(workspace)
