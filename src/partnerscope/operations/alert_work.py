"""Alerts people work: acknowledge, assign to an owner, snooze until a date, resolve with a note
(and reopen).

A run raises alerts (:mod:`partnerscope.evaluation.alerts`); each has an id made of its partner,
kind, metric and period, the same in every run. Its state is kept in the transactional store
under that id (table ``alert_states``), so a new run of the same period finds it again. An
alert nobody has touched has no row: it is open, unassigned and awake.

States: open → acknowledged → resolved (with a note); open → resolved; resolved → open
(reopen). Beside the state, an alert has an owner (an active admin, analyst or partner manager)
and may be snoozed until a date: it leaves the default work list until that day and comes back
on it. Each step takes the table's write lock (:func:`appdb.serialize`), moves the alert on from
the state it was read in and writes its audit entry (object type ``alert``) in one
transaction. Who may act on which partner's alerts is the caller's check (the web app allows
admins, analysts and the partner's managers; partner users never see alerts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit, clock
from partnerscope.appdb.tables import alert_states, users
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError
from partnerscope.workflow import Workflow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

OBJECT_TYPE = "alert"
#: the roles an alert may be assigned to
OWNER_ROLES = ("admin", "analyst", "partner_manager")


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


#: what a work list filters on: a state, or "snoozed" (open or acknowledged, asleep today)
LIST_STATES = ("open", "acknowledged", "snoozed", "resolved")
#: whose alerts a work list shows
OWNERS = ("anyone", "me", "unassigned")


class AlertWorkError(PartnerscopeError, ValueError):
    """A step on an alert refused: ``check`` names the check (``state``, ``note``, ``owner``,
    ``until``), the message says why and what to do."""

    def __init__(self, check: str, message: str) -> None:
        self.check = check
        super().__init__(message)


class AlertNotFoundError(PartnerscopeError, LookupError):
    """No alert with that id in the run."""


@dataclass(frozen=True)
class AlertRef:
    """Which alert: its stable id and what the id is made of."""

    alert_id: str
    partner_id: str
    kind: str
    metric: str
    period_start: date

    @classmethod
    def of(cls, row: dict[str, Any]) -> AlertRef:
        """From a row of a run's alerts table."""
        start = row["period_start"]
        return cls(
            row["alert_id"],
            row["partner_id"],
            row["kind"],
            row["metric"] or "",
            start if isinstance(start, date) else date.fromisoformat(str(start)),
        )


@dataclass(frozen=True)
class AlertState:
    alert_id: str
    status: AlertStatus
    owner: str | None = None
    snoozed_until: date | None = None
    note: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, row: Any) -> AlertState:
        m = row._mapping
        return cls(
            m["alert_id"],
            AlertStatus(m["status"]),
            m["owner"],
            m["snoozed_until"],
            m["note"],
            m["updated_at"],
            m["updated_by"],
        )

    def asleep(self, today: date) -> bool:
        """Snoozed on ``today`` (a resolved alert never is)."""
        return (
            self.status is not AlertStatus.RESOLVED
            and self.snoozed_until is not None
            and today < self.snoozed_until
        )

    def shown(self, today: date) -> str:
        """Its state as a list shows it: open, acknowledged, snoozed or resolved."""
        return "snoozed" if self.asleep(today) else self.status.value


def untouched(alert_id: str) -> AlertState:
    return AlertState(alert_id, AlertStatus.OPEN)


# ------------------------------------------------------------------------------------ reading


def states(workspace: Workspace, alert_ids: Iterable[str] | None = None) -> dict[str, AlertState]:
    """The stored states of ``alert_ids`` (default: every stored one); an alert missing from
    the answer is untouched (:func:`untouched`)."""
    from sqlalchemy import select

    query = select(alert_states)
    keep = None if alert_ids is None else set(alert_ids)
    if keep is not None:
        wanted = sorted(keep)
        if not wanted:
            return {}
        if len(wanted) <= 500:
            query = query.where(alert_states.c.alert_id.in_(wanted))
    with appdb.connect(workspace).connect() as connection:
        found = {row.alert_id: AlertState.of(row) for row in connection.execute(query)}
    if keep is not None:
        found = {k: v for k, v in found.items() if k in keep}
    return found


def wanted(
    found: AlertState, today: date, *, state: str | None, owner: str | None, me: str | None
) -> bool:
    """Whether a work list shows the alert. ``state``: one of :data:`LIST_STATES`, or None for
    the default list (open and acknowledged alerts that are not snoozed today); ``owner``:
    "me" (``me``'s), "unassigned", or None / "anyone"."""
    shown = found.shown(today)
    if state is None or state == "":
        if shown not in ("open", "acknowledged"):
            return False
    elif shown != state:
        return False
    if owner == "me":
        return me is not None and found.owner == me
    if owner == "unassigned":
        return found.owner is None
    return True


def find(workspace: Workspace, alert_id: str, run_id: int | None = None) -> AlertRef:
    """The alert of the (latest) run with that id, else :class:`AlertNotFoundError`."""
    import pyarrow.compute as pc

    from partnerscope.evaluation.view import RunData

    table = RunData(workspace, run_id).alerts.table
    rows = table.filter(pc.equal(table["alert_id"], alert_id.strip().lower())).to_pylist()
    if not rows:
        raise AlertNotFoundError(
            f"no alert {alert_id!r} in run {RunData(workspace, run_id).run.run_id}; "
            "`partnerscope alert list` shows the alerts and their ids"
        )
    return AlertRef.of(rows[0])


# ------------------------------------------------------------------------------------- steps

#: what the store's workflows share (free text as typed, refused with this module's error)
_WORKFLOW = Workflow(alert_states.c.alert_id, "alert", "alert", AlertWorkError)


def acknowledge(
    workspace: Workspace, ref: AlertRef, *, by: str, now: datetime | None = None
) -> AlertState:
    """Open → acknowledged: someone has seen it and is on it."""
    return _step(
        workspace,
        ref,
        by=by,
        now=now,
        action="acknowledge",
        allowed=(AlertStatus.OPEN,),
        values={"status": AlertStatus.ACKNOWLEDGED.value},
    )


def assign(
    workspace: Workspace,
    ref: AlertRef,
    owner: str | None,
    *,
    by: str,
    now: datetime | None = None,
) -> AlertState:
    """Give the alert an owner (an active admin, analyst or partner manager, by user name),
    or none (``owner`` None or empty)."""
    name = (owner or "").strip() or None

    def check(connection: Connection) -> None:
        if name is None:
            return
        from sqlalchemy import select

        row = connection.execute(
            select(users.c.role, users.c.active).where(users.c.name == name)
        ).first()
        if row is None or not row.active or row.role not in OWNER_ROLES:
            raise AlertWorkError(
                "owner",
                f"no active admin, analyst or partner manager named {name!r} to own the "
                "alert; `partnerscope users list` shows them",
            )

    return _step(
        workspace,
        ref,
        by=by,
        now=now,
        action="assign",
        allowed=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        values={"owner": name},
        detail={"owner": name},
        check=check,
    )


def snooze(
    workspace: Workspace,
    ref: AlertRef,
    until: date | None,
    *,
    by: str,
    now: datetime | None = None,
) -> AlertState:
    """Hide the alert from the default work list until ``until`` (a day after today; it comes
    back on that day), or wake it now (``until`` None)."""
    moment = now or now_utc()
    today = clock.today(workspace, moment)
    if until is not None and until <= today:
        raise AlertWorkError(
            "until",
            f"snooze until a day after today ({today.isoformat()}); {until.isoformat()} is not",
        )
    return _step(
        workspace,
        ref,
        by=by,
        now=moment,
        action="snooze" if until else "wake",
        allowed=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        values={"snoozed_until": until},
        detail={"until": until.isoformat() if until else None},
    )


def resolve(
    workspace: Workspace, ref: AlertRef, note: str, *, by: str, now: datetime | None = None
) -> AlertState:
    """Open or acknowledged → resolved, with a note saying what was done."""
    cleaned = _WORKFLOW.text(note, "a note", "what was done about the alert", "note")
    return _step(
        workspace,
        ref,
        by=by,
        now=now,
        action="resolve",
        allowed=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        values={"status": AlertStatus.RESOLVED.value, "note": cleaned, "snoozed_until": None},
        detail={"note": cleaned},
    )


def reopen(
    workspace: Workspace, ref: AlertRef, *, by: str, now: datetime | None = None
) -> AlertState:
    """Resolved → open (its note is kept in the audit log)."""
    return _step(
        workspace,
        ref,
        by=by,
        now=now,
        action="reopen",
        allowed=(AlertStatus.RESOLVED,),
        values={"status": AlertStatus.OPEN.value, "note": None},
    )


_VERB = {
    "acknowledge": "acknowledged",
    "assign": "assigned",
    "snooze": "snoozed",
    "wake": "woken",
    "resolve": "resolved",
    "reopen": "reopened",
}


def _step(
    workspace: Workspace,
    ref: AlertRef,
    *,
    by: str,
    now: datetime | None,
    action: str,
    allowed: tuple[AlertStatus, ...],
    values: dict[str, Any],
    detail: dict[str, Any] | None = None,
    check: Any = None,
) -> AlertState:
    from sqlalchemy import select

    moment = now or now_utc()
    key = alert_states.c.alert_id
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, alert_states)
        row = connection.execute(select(alert_states).where(key == ref.alert_id)).first()
        if row is None:
            connection.execute(
                alert_states.insert().values(
                    alert_id=ref.alert_id,
                    partner_id=ref.partner_id,
                    kind=ref.kind,
                    metric=ref.metric,
                    period_start=ref.period_start,
                    status=AlertStatus.OPEN.value,
                    updated_at=moment,
                    updated_by=by,
                )
            )
            found = untouched(ref.alert_id)
        else:
            found = AlertState.of(row)
        if found.status not in allowed:
            only = " or ".join(s.value for s in allowed)
            article = "an" if only[0] in "aeiou" else "a"
            raise AlertWorkError(
                "state",
                f"alert {ref.alert_id} is {found.status.value}; only {article} {only} alert "
                f"can be {_VERB[action]}",
            )
        if check is not None:
            check(connection)
        audit.move(
            connection,
            key,
            ref.alert_id,
            found.status.value,
            {**values, "updated_at": moment, "updated_by": by},
            stale=AlertWorkError(
                "state",
                f"alert {ref.alert_id} was changed by someone else meanwhile; look at it again "
                "and retry",
            ),
            actor=by,
            action=action,
            object_type=OBJECT_TYPE,
            object_id=ref.alert_id,
            detail={
                "partner_id": ref.partner_id,
                "kind": ref.kind,
                "metric": ref.metric,
                "period_start": ref.period_start.isoformat(),
                "from": found.status.value,
                **(detail or {}),
            },
        )
        done = connection.execute(select(alert_states).where(key == ref.alert_id)).one()
        return AlertState.of(done)
