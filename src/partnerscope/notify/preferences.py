"""Each user's cadence per kind of notification (owner: people).

A user takes each kind "immediately", in a "daily" or "weekly" digest, or not at all ("off");
kind "*" is the user's default for the kinds they have not chosen. A partner's user chooses
only among the kinds that may reach a partner (:data:`PARTNER_KINDS`). Every change is written
to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from partnerscope.appdb.tables import notification_preferences as prefs
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.outbox import CADENCES, KINDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.accounts import User
    from partnerscope.workspace import Workspace

#: the kinds a notification for a partner's own users may be (its deal registrations, its
#: onboarding, its payout statements, the program's nudges, scheduled reports, digests)
PARTNER_KINDS = ("registration", "onboarding", "payout", "nudge", "report", "digest")

#: how each cadence reads on a page
CADENCE_LABELS = {
    "immediately": "As it happens",
    "daily": "Daily digest",
    "weekly": "Weekly digest",
    "off": "Off",
}


class PreferenceError(PartnerscopeError, ValueError):
    """A preference that cannot be set as asked (unknown kind or cadence, a kind the user
    cannot receive)."""


def kinds_for(user: User) -> tuple[str, ...]:
    """The kinds ``user`` may choose a cadence for."""
    from partnerscope.accounts import Role

    return PARTNER_KINDS if user.role is Role.PARTNER_USER else tuple(KINDS)


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


def chosen(connection: Connection, user_id: int) -> dict[str, str]:
    """What ``user_id`` has chosen, kind by kind ("*" their default); nothing for the kinds
    left to their defaults."""
    from sqlalchemy import select

    return {
        str(k): str(c)
        for k, c in connection.execute(
            select(prefs.c.kind, prefs.c.cadence).where(prefs.c.user_id == user_id)
        )
    }


def preferences(connection: Connection, user_id: int) -> dict[str, str]:
    """How ``user_id`` takes every kind, chosen or by default: {kind: cadence}."""
    mine = chosen(connection, user_id)
    default = mine.get("*")
    return {kind: mine.get(kind) or default or spec.cadence for kind, spec in KINDS.items()}


def check(user: User, choices: Mapping[str, str]) -> dict[str, str]:
    """``choices`` checked for ``user``: every kind and cadence known and allowed; a
    :class:`PreferenceError` naming the first that is not, and what to write instead."""
    allowed = kinds_for(user)
    clean: dict[str, str] = {}
    for kind, value in choices.items():
        value = str(value).strip().lower()
        if kind != "*" and kind not in KINDS:
            raise PreferenceError(
                f"there is no kind of notification {kind!r}{did_you_mean(kind, KINDS)} "
                f"(kinds: {', '.join(allowed)})"
            )
        if kind != "*" and kind not in allowed:
            raise PreferenceError(
                f"{user.name} is a partner's user and does not receive "
                f"{KINDS[kind].label.lower()!r} notifications; the kinds they may set: "
                f"{', '.join(allowed)}"
            )
        if value not in CADENCES:
            label = "your default" if kind == "*" else KINDS[kind].label.lower()
            raise PreferenceError(
                f"{value!r} is not a cadence for {label}{did_you_mean(value, CADENCES)}; "
                f"choose one of {', '.join(CADENCES)}"
            )
        if kind == "digest" and value in ("daily", "weekly"):
            raise PreferenceError(
                "digests are the daily and weekly summaries themselves: take them "
                "'immediately' or turn them 'off'"
            )
        clean[kind] = value
    return clean


def set_preferences(
    workspace: Workspace, user: User, choices: Mapping[str, str], by: str, *, via: str = ""
) -> dict[str, str]:
    """Set ``user``'s cadence for each kind in ``choices`` (kind "*": their default), in one
    transaction with its audit entry; what changed ({kind: cadence}), nothing when nothing
    did. An unknown or disallowed kind or cadence changes nothing (:class:`PreferenceError`)."""
    from sqlalchemy import select

    from partnerscope import appdb, audit
    from partnerscope.appdb.tables import users
    from partnerscope.clock import now_utc

    clean = check(user, choices)
    now = now_utc()
    with appdb.connect(workspace).begin() as connection:
        if (
            connection.execute(
                select(users.c.user_id).where(users.c.user_id == user.user_id)
            ).first()
            is None
        ):
            raise PreferenceError(f"no user {user.name!r}; `partnerscope users list` lists them")
        before = chosen(connection, user.user_id)
        changed = {k: v for k, v in clean.items() if before.get(k) != v}
        for kind, value in changed.items():
            connection.execute(
                prefs.delete().where(prefs.c.user_id == user.user_id, prefs.c.kind == kind)
            )
            connection.execute(
                prefs.insert().values(
                    user_id=user.user_id, kind=kind, cadence=value, updated_at=now
                )
            )
        if changed:
            detail: dict[str, object] = {"cadences": changed}
            if via:
                detail["via"] = via
            audit.record(
                connection,
                actor=by,
                action="preferences",
                object_type="user",
                object_id=user.name,
                detail=detail,
            )
    return changed


def unsubscribe(workspace: Workspace, user_id: int, kind: str) -> bool:
    """Turn ``kind`` ("*": every kind) off for ``user_id`` as an unsubscribe link asks; whether
    anything changed (False: it was off already). :class:`PreferenceError` when the user is
    gone."""
    from partnerscope.accounts import Accounts

    found = [u for u in Accounts.open(workspace).everyone() if u.user_id == user_id]
    if not found:
        raise PreferenceError(
            "this unsubscribe link is for a user who no longer exists; nothing to change"
        )
    user = found[0]
    choices = {kind: "off"}
    if kind == "*":
        # every kind off, including the ones chosen one by one before
        choices.update(dict.fromkeys(kinds_for(user), "off"))
    return bool(set_preferences(workspace, user, choices, by=user.name, via="unsubscribe link"))
