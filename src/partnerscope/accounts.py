"""Who may use the web app and the API: users with roles, argon2-hashed passwords, login
sessions, API tokens and the slowing of password guessing.

Roles:

- ``admin``: everything, including the audit log;
- ``analyst``: every partner, decisions, scenarios, runs and data quality;
- ``partner_manager``: the partners assigned to them (by id, or every partner whose
  ``partner_manager`` in the partners data is the user's ``manages`` name);
- ``partner_user``: their own partner's portal and nothing else.

Secrets (session cookies, API tokens) are random 256-bit strings shown once; the database keeps
only their SHA-256, so a copy of the database lets nobody sign in. Every change to users and
tokens is written to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit
from partnerscope.appdb.tables import api_tokens, login_failures, sessions, user_partners, users
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy.engine import Connection, Engine

    from partnerscope.workspace import Workspace

#: Failed sign-ins allowed per name, and per client address, within ``FAILURE_WINDOW``.
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_CLIENT = 20
FAILURE_WINDOW = timedelta(minutes=15)
#: A session ends this long after sign-in (sign in again to continue).
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "ps_"


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    PARTNER_MANAGER = "partner_manager"
    PARTNER_USER = "partner_user"
    #: approves and pays payout ledgers and MDF requests; reads every partner's money
    FINANCE = "finance"


class AccountError(PartnerscopeError, ValueError):
    """A user or token that cannot be added, found or changed as asked."""


class LoginError(PartnerscopeError, PermissionError):
    """Wrong name or password (the message never says which)."""


class LoginThrottledError(LoginError):
    """Too many failed sign-ins: refused, even with the right password, for ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"too many failed sign-ins; try again in about {minutes} minute(s)")


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    partner_id: str | None
    manages: str | None
    partners: tuple[str, ...]
    active: bool = True
    #: where notifications by email go (None: in-app only)
    email: str | None = None

    @property
    def sees_all_partners(self) -> bool:
        return self.role in (Role.ADMIN, Role.ANALYST, Role.FINANCE)


@dataclass(frozen=True)
class Token:
    token_id: int
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _decoy() -> str:
    """A hash to verify against when the name is unknown, so that the answer takes as long."""
    return _hasher().hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_email(address: str) -> str:
    """``address`` trimmed, if it reads as one email address (``name@example.com``); an
    :class:`AccountError` saying what is wrong otherwise."""
    import re

    address = address.strip()
    if len(address) > 254 or not re.fullmatch(
        r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+",
        address,
    ):
        raise AccountError(
            f"{address!r} is not an email address; write one address like name@example.com"
        )
    return address


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}"
        )


class Accounts:
    """The users, sessions and tokens of a workspace's transactional database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, workspace: Workspace) -> Accounts:
        return cls(appdb.connect(workspace))

    # ------------------------------------------------------------------ users

    def add(
        self,
        name: str,
        role: Role,
        password: str,
        *,
        partner_id: str | None = None,
        manages: str | None = None,
        partners: Sequence[str] = (),
        email: str | None = None,
        by: str,
    ) -> User:
        from sqlalchemy import select

        name = name.strip()
        if email is not None:
            email = check_email(email)
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise AccountError(f"{name!r} is not a user name: 1–64 characters, no spaces")
        if role is Role.PARTNER_USER and not partner_id:
            raise AccountError(f"{name}: a partner user needs its partner (--partner ID)")
        if role is not Role.PARTNER_USER and partner_id:
            raise AccountError(
                f"{name}: only a partner user belongs to a partner; a partner manager is "
                "assigned partners with --assign ID or --manages NAME"
            )
        if role is not Role.PARTNER_MANAGER and (manages or partners):
            raise AccountError(f"{name}: only a partner manager is assigned partners")
        check_password(password)
        with self.engine.begin() as connection:
            if connection.execute(select(users.c.user_id).where(users.c.name == name)).first():
                raise AccountError(
                    f"there is already a user {name!r}; remove it first or choose another name"
                )
            user_id = connection.execute(
                users.insert().values(
                    name=name,
                    role=role.value,
                    partner_id=partner_id,
                    manages=manages,
                    password_hash=_hasher().hash(password),
                    active=True,
                    created_at=now_utc(),
                    created_by=by,
                    email=email,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for pid in dict.fromkeys(partners):
                connection.execute(user_partners.insert().values(user_id=user_id, partner_id=pid))
            audit.record(
                connection,
                actor=by,
                action="add",
                object_type="user",
                object_id=name,
                detail={
                    "role": role.value,
                    "partner_id": partner_id,
                    "manages": manages,
                    "partners": list(dict.fromkeys(partners)),
                    **({"email": email} if email else {}),
                },
            )
        return self.get(name)

    def set_email(self, name: str, email: str | None, *, by: str) -> User:
        """Where ``name``'s notifications by email go (None: nowhere, in-app only); audited."""
        user = self.get(name)
        if email is not None:
            email = check_email(email)
        if email == user.email:
            return user
        with self.engine.begin() as connection:
            connection.execute(
                users.update().where(users.c.user_id == user.user_id).values(email=email)
            )
            audit.record(
                connection,
                actor=by,
                action="email",
                object_type="user",
                object_id=name,
                detail={"email": email, "before": user.email},
            )
        return self.get(name)

    def remove(self, name: str, *, by: str) -> None:
        """Delete the user, its sessions and tokens (its audit entries stay)."""
        user = self.get(name)
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.user_id == user.user_id))
            connection.execute(api_tokens.delete().where(api_tokens.c.user_id == user.user_id))
            connection.execute(
                user_partners.delete().where(user_partners.c.user_id == user.user_id)
            )
            connection.execute(users.delete().where(users.c.user_id == user.user_id))
            audit.record(connection, actor=by, action="remove", object_type="user", object_id=name)

    def set_password(self, name: str, password: str, *, by: str) -> list[int]:
        """A new password: every session of the user ends and every API token it holds is
        revoked (their ids are returned), since whoever had the old password may hold them."""
        from sqlalchemy import select

        check_password(password)
        user = self.get(name)
        hashed = _hasher().hash(password)
        now = now_utc()
        with self.engine.begin() as connection:
            connection.execute(
                users.update().where(users.c.user_id == user.user_id).values(password_hash=hashed)
            )
            connection.execute(sessions.delete().where(sessions.c.user_id == user.user_id))
            revoked = list(
                connection.execute(
                    select(api_tokens.c.token_id)
                    .where(api_tokens.c.user_id == user.user_id, api_tokens.c.revoked_at.is_(None))
                    .order_by(api_tokens.c.token_id)
                    .with_for_update()
                ).scalars()
            )
            if revoked:
                connection.execute(
                    api_tokens.update()
                    .where(api_tokens.c.token_id.in_(revoked))
                    .values(revoked_at=now)
                )
            audit.record(
                connection, actor=by, action="password", object_type="user", object_id=name
            )
            for token_id in revoked:
                audit.record(
                    connection,
                    actor=by,
                    action="revoke",
                    object_type="user",
                    object_id=name,
                    detail={"token_id": token_id, "because": "password"},
                )
        return revoked

    def get(self, name: str) -> User:
        found = self._users(users.c.name == name)
        if not found:
            known = ", ".join(u.name for u in self.everyone()) or "none yet"
            raise AccountError(
                f"no user {name!r} (users: {known}); add one with `partnerscope users add`"
            )
        return found[0]

    def everyone(self) -> list[User]:
        return self._users(None)

    def _users(self, where: Any) -> list[User]:
        from sqlalchemy import select

        query = select(users).order_by(users.c.name)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as connection:
            return users_of(connection.execute(query).all(), connection)

    def _signed_in(self, statement: Any, secret: str) -> tuple[User, Any] | None:
        """The active user of a session or token (one of :func:`_lookups`) and its row."""
        with self.engine.connect() as connection:
            row = connection.execute(statement, {"hash": digest(secret), "now": now_utc()}).first()
            found = users_of([row], connection) if row is not None else []
        return (found[0], row) if found and found[0].active else None

    # --------------------------------------------------------------- sign-in

    def authenticate(self, name: str, password: str, *, client: str = "") -> User:
        """The user, if the password is right and neither the name nor the client has failed
        too often lately.

        Each attempt is recorded as a failure before its password is checked, by a transaction
        that no other sign-in runs beside (:func:`_one_sign_in_at_a_time`), so however many
        come at once, at most ``MAX_FAILURES_PER_NAME`` per name and
        ``MAX_FAILURES_PER_CLIENT`` per client are checked within ``FAILURE_WINDOW``. The
        right password forgives the name's failures to the attempts that begin after it."""
        from sqlalchemy import func, select

        # the columns hold 64 characters: count what is stored
        key, address = name[:64], client[:64]
        now = now_utc()
        since = now - FAILURE_WINDOW
        with self.engine.begin() as connection:
            _one_sign_in_at_a_time(connection, now)
            for column, value, limit in (
                (login_failures.c.name, key, MAX_FAILURES_PER_NAME),
                (login_failures.c.client, address, MAX_FAILURES_PER_CLIENT),
            ):
                count, oldest = connection.execute(
                    select(func.count(), func.min(login_failures.c.at)).where(
                        column == value, login_failures.c.at > since
                    )
                ).one()
                if count >= limit:
                    wait = (oldest + FAILURE_WINDOW - now).total_seconds()
                    raise LoginThrottledError(max(1, int(wait) + 1))
            connection.execute(login_failures.insert().values(name=key, client=address, at=now))
            row = connection.execute(
                select(users.c.password_hash, users.c.active).where(users.c.name == name)
            ).first()
        # the password is checked whatever the name (the decoy for an unknown one), so that an
        # unknown or inactive user is answered as slowly as a wrong password
        right = _verify(row.password_hash if row is not None else _decoy(), password)
        if row is not None and row.active and right:
            with self.engine.begin() as connection:
                # to the edge of the window as it stands now: attempts that began earlier
                # still count them, as if they had come before this one; later ones do not
                edge = now_utc() - FAILURE_WINDOW
                connection.execute(
                    login_failures.update()
                    .where(login_failures.c.name == key, login_failures.c.at > edge)
                    .values(at=edge)
                )
            return self.get(name)
        raise LoginError("wrong user name or password")

    def open_session(self, user: User) -> tuple[str, str]:
        """A new session: (the cookie's secret, the session's CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = now_utc()
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.expires_at < now))
            connection.execute(
                sessions.insert().values(
                    token_hash=digest(token),
                    user_id=user.user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return token, csrf

    def session(self, token: str) -> tuple[User, str] | None:
        """The signed-in user and the session's CSRF token, or None (unknown or expired)."""
        found = self._signed_in(_lookups()[0], token)
        return (found[0], found[1].csrf) if found else None

    def close_session(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == digest(token)))

    # ---------------------------------------------------------------- tokens

    def issue_token(self, name: str, label: str = "", *, by: str) -> tuple[Token, str]:
        """A new API token for the user: the record and the secret (shown once)."""
        user = self.get(name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = now_utc()
        with self.engine.begin() as connection:
            token_id = connection.execute(
                api_tokens.insert().values(
                    user_id=user.user_id,
                    token_hash=digest(secret),
                    label=label,
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            audit.record(
                connection,
                actor=by,
                action="token",
                object_type="user",
                object_id=name,
                detail={"token_id": token_id, "label": label},
            )
        return Token(token_id, name, label, now, None), secret

    def revoke_token(self, token_id: int, *, by: str) -> Token:
        from sqlalchemy import select

        with self.engine.begin() as connection:
            row = connection.execute(
                select(api_tokens, users.c.name)
                .join(users, users.c.user_id == api_tokens.c.user_id)
                .where(api_tokens.c.token_id == token_id)
            ).first()
            if row is None:
                raise AccountError(
                    f"no API token {token_id}; `partnerscope users tokens` lists them"
                )
            if row.revoked_at is None:
                connection.execute(
                    api_tokens.update()
                    .where(api_tokens.c.token_id == token_id)
                    .values(revoked_at=now_utc())
                )
                audit.record(
                    connection,
                    actor=by,
                    action="revoke",
                    object_type="user",
                    object_id=row.name,
                    detail={"token_id": token_id},
                )
        return next(t for t in self.tokens() if t.token_id == token_id)

    def tokens(self, name: str | None = None) -> list[Token]:
        from sqlalchemy import select

        query = (
            select(api_tokens, users.c.name)
            .join(users, users.c.user_id == api_tokens.c.user_id)
            .order_by(api_tokens.c.token_id)
        )
        if name is not None:
            query = query.where(users.c.name == name)
        with self.engine.connect() as connection:
            return [
                Token(r.token_id, r.name, r.label, r.created_at, r.revoked_at)
                for r in connection.execute(query)
            ]

    def user_for_token(self, secret: str) -> User | None:
        found = self._signed_in(_lookups()[1], secret)
        return found[0] if found else None


def users_of(rows: Sequence[Any], connection: Connection) -> list[User]:
    """Users from rows of the ``users`` table, with the partners assigned to the managers."""
    from sqlalchemy import select

    assigned: dict[int, list[str]] = {}
    ids = [r.user_id for r in rows if r.role == Role.PARTNER_MANAGER]
    if ids:
        for uid, pid in connection.execute(
            select(user_partners.c.user_id, user_partners.c.partner_id)
            .where(user_partners.c.user_id.in_(ids))
            .order_by(user_partners.c.partner_id)
        ):
            assigned.setdefault(uid, []).append(pid)
    return [
        User(
            user_id=r.user_id,
            name=r.name,
            role=Role(r.role),
            partner_id=r.partner_id,
            manages=r.manages,
            partners=tuple(assigned.get(r.user_id, ())),
            active=bool(r.active),
            email=r.email,
        )
        for r in rows
    ]


@cache
def _lookups() -> tuple[Any, Any]:
    """The statements finding the user of a session and of an API token (made once: they run
    on every request), each with the ``hash`` of the secret and ``now`` as parameters."""
    from sqlalchemy import bindparam, select

    session = (
        select(users, sessions.c.csrf)
        .join(sessions, sessions.c.user_id == users.c.user_id)
        .where(sessions.c.token_hash == bindparam("hash"), sessions.c.expires_at > bindparam("now"))
    )
    token = (
        select(users)
        .join(api_tokens, api_tokens.c.user_id == users.c.user_id)
        .where(api_tokens.c.token_hash == bindparam("hash"), api_tokens.c.revoked_at.is_(None))
    )
    return session, token


def _one_sign_in_at_a_time(connection: Connection, now: datetime) -> None:
    """Make the transaction the only one counting and recording sign-in attempts until it
    ends, and drop the attempts too old to matter.

    Counting and then inserting is not atomic by itself: under PostgreSQL's READ COMMITTED
    two transactions each count without the other's uncommitted attempt, and in SQLite a
    transaction that begins with a read takes no lock until it writes."""
    appdb.serialize(connection, login_failures)
    # Two windows: a failure the right password forgave sits at the window's edge as of then,
    # and attempts that began before it must still find it.
    connection.execute(
        login_failures.delete().where(login_failures.c.at < now - 2 * FAILURE_WINDOW)
    )


def _verify(hashed: str, password: str) -> bool:
    from argon2.exceptions import VerificationError, VerifyMismatchError

    try:
        return bool(_hasher().verify(hashed, password))
    except (VerifyMismatchError, VerificationError):
        return False


def visible_partners(user: User, managers: dict[str, str | None]) -> frozenset[str] | None:
    """The partner ids a user may see (None: every partner). ``managers`` maps each partner of
    the served run to its ``partner_manager``."""
    if user.sees_all_partners:
        return None
    if user.role is Role.PARTNER_USER:
        return frozenset([user.partner_id] if user.partner_id else [])
    managed: Iterable[str] = (
        pid for pid, manager in managers.items() if user.manages and manager == user.manages
    )
    return frozenset([*user.partners, *managed])
