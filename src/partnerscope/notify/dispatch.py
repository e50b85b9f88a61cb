"""Each notification fanned out into deliveries, one per recipient and channel (owner: delivery).

Recipients of a notification (``recipients`` as :func:`partnerscope.outbox.enqueue` wrote it):

- unless ``only``: the active staff users whose role is one of ``roles`` and who may see the
  notification's partner (admins, analysts and finance every partner; a partner manager the
  partners assigned to them or whose ``partner_manager`` is their ``manages`` name in the latest
  run), and, for ``audience == "partner"``, the active users of that partner;
- the named ``users`` (active ones);
- the external email ``addresses``;
- the webhooks named (None: every configured webhook whose ``kinds`` has the kind, or is empty
  and the kind is not a person's digest or a scheduled report).

Whatever the recipients say, a partner's user never gets a notification for the staff, nor one
about another partner, and a partner manager never one about a partner they do not look after.

Per user: the in-app centre always (status "sent": it is delivered by existing), and email when
the user has an address and a mail server is configured: "pending" for a user who takes the
kind "immediately", "held" for a daily or weekly digest; a user who turned the kind "off" gets
nothing. A notification is fanned out in the transaction that also marks it dispatched (one
transaction for up to :data:`CHUNK` notifications), so a crash fans it out entirely or not at
all, and two workers never both fan it out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import deliveries, notifications, users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.accounts import User
    from partnerscope.settings.notifications import NotificationSettings
    from partnerscope.workspace import Workspace

__all__ = ["People", "dispatch", "idempotency_key", "managers_of", "recipients"]

#: notifications fanned out per call before returning (a call again takes the next ones)
BATCH = 500
#: notifications fanned out per transaction (each entirely or not at all; one commit for many)
CHUNK = 100
#: kinds a webhook takes only when its ``kinds`` names them: a person's digest, and reports
#: distributed one per partner (a channel would get thousands)
PERSONAL = frozenset({"digest", "report"})
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def idempotency_key(notification_id: int, channel: str, who: int | str) -> str:
    """``n{notification}-{channel}-{who}`` (``u{id}`` for a user), ≤ 128 characters of
    ``[A-Za-z0-9._-]`` (an address or a long name is replaced by its hash): it is the email's
    Message-ID and the webhook's ``Idempotency-Key``."""
    part = f"u{who}" if isinstance(who, int) else who
    if not _SAFE.match(part) or len(part) > 64:
        part = "h" + hashlib.sha256(part.encode("utf-8")).hexdigest()[:40]
    return f"n{notification_id}-{channel}-{part}"[:128]


def managers_of(workspace: Workspace) -> dict[str, str | None]:
    """Each partner's ``partner_manager`` in the latest run (empty without a run)."""
    from partnerscope.runs import MANAGERS, latest_run, run_folder

    run = latest_run(workspace)
    if run is None:
        return {}
    path = run_folder(workspace, run.run_id) / MANAGERS
    if not path.exists():
        return {}
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return dict(
        zip(table["partner_id"].to_pylist(), table["partner_manager"].to_pylist(), strict=True)
    )


def _active_users(connection: Connection) -> list[User]:
    from sqlalchemy import select

    from partnerscope.accounts import users_of

    return users_of(
        connection.execute(select(users).where(users.c.active.is_(True))).all(), connection
    )


def may_receive(
    user: User, audience: str, partner_id: str | None, managers: dict[str, str | None]
) -> bool:
    """Whether ``user`` may be told of a notification of ``audience`` about ``partner_id``:
    a partner's user only of its own partner's "partner" notifications; staff of what they may
    see."""
    from partnerscope.accounts import Role, visible_partners

    if not user.active:
        return False
    if user.role is Role.PARTNER_USER:
        return audience == "partner" and partner_id is not None and user.partner_id == partner_id
    if partner_id is None:
        return True
    visible = visible_partners(user, managers)
    return visible is None or partner_id in visible


@dataclass(frozen=True)
class People:
    """The active users, found by name, by staff role and by partner."""

    by_name: dict[str, User]
    by_role: dict[str, list[User]]
    by_partner: dict[str, list[User]]

    @classmethod
    def of(cls, everyone: Iterable[User]) -> People:
        from partnerscope.accounts import Role

        by_name: dict[str, User] = {}
        by_role: dict[str, list[User]] = {}
        by_partner: dict[str, list[User]] = {}
        for user in everyone:
            by_name[user.name] = user
            if user.role is Role.PARTNER_USER:
                if user.partner_id:
                    by_partner.setdefault(user.partner_id, []).append(user)
            else:
                by_role.setdefault(user.role.value, []).append(user)
        return cls(by_name, by_role, by_partner)


def recipients(
    row: Any,
    people: People,
    managers: dict[str, str | None],
    settings: NotificationSettings,
) -> tuple[list[User], list[str], list[str]]:
    """The users, external addresses and webhook names a ``notifications`` row goes to."""
    spec = row.recipients or {}
    candidates: list[User] = [
        people.by_name[name] for name in spec.get("users") or () if name in people.by_name
    ]
    if not spec.get("only"):
        for role in spec.get("roles") or ():
            candidates += people.by_role.get(role, [])
        if row.audience == "partner" and row.partner_id:
            candidates += people.by_partner.get(row.partner_id, [])
    chosen = {
        u.user_id: u for u in candidates if may_receive(u, row.audience, row.partner_id, managers)
    }
    addresses = sorted({a.strip() for a in spec.get("addresses") or () if a and a.strip()})
    names = spec.get("webhooks")
    if names is None:
        hooks = [
            h.name
            for h in settings.webhooks
            if row.kind in h.kinds or (not h.kinds and row.kind not in PERSONAL)
        ]
    else:
        configured = {h.name for h in settings.webhooks}
        hooks = [n for n in dict.fromkeys(names) if n in configured]
    return sorted(chosen.values(), key=lambda u: u.user_id), addresses, hooks


def _fan_out(
    connection: Connection,
    row: Any,
    people: People,
    managers: dict[str, str | None],
    settings: NotificationSettings,
    now: datetime,
) -> int:
    from partnerscope.notify.preferences import cadence

    chosen, addresses, hooks = recipients(row, people, managers, settings)
    email = bool(settings.smtp.host)
    rows: list[dict[str, Any]] = []

    def add(
        channel: str,
        status: str,
        how: str,
        *,
        user_id: int | None = None,
        address: str | None = None,
    ) -> None:
        who: int | str = user_id if user_id is not None else str(address)
        rows.append(
            {
                "notification_id": row.notification_id,
                "user_id": user_id,
                "address": address,
                "channel": channel,
                "cadence": how,
                "idempotency_key": idempotency_key(row.notification_id, channel, who),
                "status": status,
                "attempts": 0,
                "next_attempt_at": now,
                "sent_at": now if status == "sent" else None,
                "created_at": now,
            }
        )

    for user in chosen:
        how = cadence(connection, user.user_id, row.kind)
        if row.kind == "digest" and how != "off":
            how = "immediately"  # a digest is never held for a digest
        if how == "off":
            continue
        if row.kind != "digest":  # a digest's items are in the centre already
            add("inapp", "sent", how, user_id=user.user_id)
        if email and user.email:
            add(
                "email",
                "pending" if how == "immediately" else "held",
                how,
                user_id=user.user_id,
                address=user.email,
            )
    if email:
        for address in addresses:
            add("email", "pending", "immediately", address=address)
    for name in hooks:
        add("webhook", "pending", "immediately", address=name)
    if rows:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            insert(deliveries).on_conflict_do_nothing(index_elements=["idempotency_key"]),
            rows,
        )
    return len(rows)


def dispatch(workspace: Workspace, now: datetime | None = None) -> int:
    """Fan out every notification not yet dispatched; the number of deliveries made.

    Nothing is fanned out while ``[notifications] enabled`` is false (the notifications wait
    in the outbox)."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.clock import now_utc

    settings = workspace.config.notifications
    if not settings.enabled:
        return 0
    engine = appdb.connect(workspace)
    managers: dict[str, str | None] | None = None
    people: People | None = None
    made = 0
    while True:
        with engine.connect() as connection:
            ids = [
                int(i)
                for i in connection.execute(
                    select(notifications.c.notification_id)
                    .where(notifications.c.dispatched_at.is_(None))
                    .order_by(notifications.c.notification_id)
                    .limit(BATCH)
                ).scalars()
            ]
        if not ids:
            return made
        if managers is None or people is None:  # once per call: read at its first batch
            managers = managers_of(workspace)
            with engine.connect() as connection:
                people = People.of(_active_users(connection))
        for start in range(0, len(ids), CHUNK):
            moment = now or now_utc()
            with engine.begin() as connection:
                for notification_id in ids[start : start + CHUNK]:
                    # the claim: only the transaction that sets dispatched_at fans it out
                    claimed = connection.execute(
                        notifications.update()
                        .where(
                            notifications.c.notification_id == notification_id,
                            notifications.c.dispatched_at.is_(None),
                        )
                        .values(dispatched_at=moment)
                    ).rowcount
                    if claimed != 1:
                        continue
                    row = connection.execute(
                        select(notifications).where(
                            notifications.c.notification_id == notification_id
                        )
                    ).one()
                    made += _fan_out(connection, row, people, managers, settings, moment)
        if len(ids) < BATCH:
            return made
