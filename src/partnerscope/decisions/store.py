"""Decision records in the workspace's transactional database, with their full history.

Every change is one transaction that writes the new record, a history row saying who
changed which fields from what to what, and when, and an entry of the workspace's audit log
(who did what to which decision, and which fields it touched — the values stay in the history);
a record changed by someone else since it was read is refused rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.appdb.tables import decision_alerts, decision_history, decisions
from partnerscope.clock import now_utc
from partnerscope.decisions.record import DecisionRecord, Status
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from partnerscope.decisions.check import DecisionAlert
    from partnerscope.workspace import Workspace


#: At most this many changed field paths are named in an audit entry (a comparison's result
#: changes thousands of band values; the history keeps them all).
AUDIT_FIELDS = 40


class DecisionNotFoundError(PartnerscopeError, LookupError):
    """No decision with that id."""


class DecisionConflictError(PartnerscopeError, RuntimeError):
    """The record changed since it was read."""


@dataclass(frozen=True)
class Change:
    version: int
    action: str
    changed_by: str
    changed_at: datetime
    #: {"field": dotted path, "old": value, "new": value}
    changes: list[dict[str, Any]]


class DecisionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, workspace: Workspace) -> DecisionStore:
        return cls(connect(workspace))

    def new(self, draft: DecisionRecord, *, by: str) -> DecisionRecord:
        """Store a new decision under the next number."""
        from sqlalchemy import func, select

        with self.engine.begin() as con:
            top = con.execute(select(func.max(decisions.c.decision_id))).scalar()
            record = draft.model_copy(update={"decision_id": (top or 0) + 1, "version": 1})
            document = _document(record)
            con.execute(
                decisions.insert().values(
                    decision_id=record.decision_id,
                    title=record.title,
                    status=record.status.value,
                    owner=record.owner,
                    version=1,
                    record=document,
                    created_at=record.created_at,
                    updated_at=record.created_at,
                )
            )
            self._log(con, record.decision_id, 1, "new", by, diff({}, document), document)
        return record

    def records(self, status: Status | None = None) -> list[DecisionRecord]:
        from sqlalchemy import select

        query = select(decisions.c.decision_id, decisions.c.record).order_by(
            decisions.c.decision_id
        )
        if status is not None:
            query = query.where(decisions.c.status == status.value)
        with self.engine.connect() as con:
            return [_parse(i, document) for i, document in con.execute(query)]

    def update(self, record: DecisionRecord, *, action: str, by: str) -> DecisionRecord:
        """Store a changed record; ``record`` must come from :meth:`get` (or :meth:`edit`)."""
        from sqlalchemy import update

        before = self.get(record.decision_id)
        version = record.version
        stored = record.model_copy(update={"version": version + 1})
        old, new = _document(before), _document(stored)
        changes = diff(old, new)
        if not changes:
            return record
        with self.engine.begin() as con:
            done = con.execute(
                update(decisions)
                .where(decisions.c.decision_id == record.decision_id)
                .where(decisions.c.version == version)
                .values(
                    title=record.title,
                    status=record.status.value,
                    owner=record.owner,
                    version=version + 1,
                    record=new,
                    updated_at=now_utc(whole_seconds=True),
                )
            )
            if done.rowcount != 1:
                raise DecisionConflictError(
                    f"{record.ref} was changed by someone else since it was read; "
                    "run the command again"
                )
            self._log(con, record.decision_id, version + 1, action, by, changes, new)
        return stored

    def history(self, decision_id: int) -> list[Change]:
        from sqlalchemy import select

        self.get(decision_id)
        t = decision_history.c
        query = (
            select(t.version, t.action, t.changed_by, t.changed_at, t.changes)
            .where(t.decision_id == decision_id)
            .order_by(t.version)
        )
        with self.engine.connect() as con:
            return [Change(*row) for row in con.execute(query)]

    def record_alerts(self, run_id: int, alerts: list[DecisionAlert]) -> None:
        """Store a run's decision alerts; an alert also raised by the previous run keeps the
        run that first raised it."""
        from sqlalchemy import delete, func, select

        t = decision_alerts.c
        with self.engine.begin() as con:
            previous = con.execute(select(func.max(t.run_id)).where(t.run_id < run_id)).scalar()
            first = dict(
                con.execute(select(t.alert_id, t.first_run).where(t.run_id == previous)).all()
            )
            con.execute(delete(decision_alerts).where(t.run_id == run_id))
            for alert in alerts:
                con.execute(
                    decision_alerts.insert().values(
                        run_id=run_id,
                        alert_id=alert.alert_id,
                        decision_id=alert.decision_id,
                        kind=alert.kind,
                        message=alert.message,
                        due_on=alert.due_on,
                        first_run=first.get(alert.alert_id, run_id),
                    )
                )

    def first_runs(self, run_id: int) -> dict[str, int]:
        """alert id → the run that first raised it, for the alerts of ``run_id``."""
        from sqlalchemy import select

        t = decision_alerts.c
        with self.engine.connect() as con:
            rows = con.execute(select(t.alert_id, t.first_run).where(t.run_id == run_id))
            return dict(rows.all())

    def get(self, decision_id: int) -> DecisionRecord:
        from sqlalchemy import select

        with self.engine.connect() as con:
            row = con.execute(
                select(decisions.c.record).where(decisions.c.decision_id == decision_id)
            ).first()
            if row is None:
                ids = [i for (i,) in con.execute(select(decisions.c.decision_id))]
                known = ", ".join(str(i) for i in ids) if ids else "none yet"
                raise DecisionNotFoundError(
                    f"no decision {decision_id} (decisions: {known}; "
                    "`partnerscope decisions list` shows them)"
                )
        return _parse(decision_id, row.record)

    @staticmethod
    def _log(
        con: Connection,
        decision_id: int,
        version: int,
        action: str,
        by: str,
        changes: list[dict[str, Any]],
        document: dict[str, Any],
    ) -> None:
        con.execute(
            decision_history.insert().values(
                decision_id=decision_id,
                version=version,
                action=action,
                changed_by=by,
                changed_at=now_utc(whole_seconds=True),
                changes=changes,
                record=document,
            )
        )
        audit.record(
            con,
            actor=by,
            action=action,
            object_type="decision",
            object_id=decision_id,
            detail=audit_detail(action, version, changes),
        )


def audit_detail(action: str, version: int, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """What an audit entry says about a change: the action, the version it made and the
    changed field paths (not their values, which the history keeps), the top-level sections
    they fall in, and how many paths were left out past :data:`AUDIT_FIELDS`."""
    fields = [change["field"] for change in changes]
    sections = dict.fromkeys(_section(field) for field in fields)
    detail: dict[str, Any] = {
        "action": action,
        "version": version,
        "sections": list(sections),
        "fields": fields[:AUDIT_FIELDS],
    }
    if len(fields) > AUDIT_FIELDS:
        detail["more_fields"] = len(fields) - AUDIT_FIELDS
    return detail


def _section(field: str) -> str:
    """``compare.evidence[0].value`` → ``compare.evidence``; ``status`` → ``status``."""
    import re

    head = re.split(r"\[", field, maxsplit=1)[0]
    return ".".join(head.split(".")[:2])


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields that differ, as dotted paths with their old and new values."""
    a, b = dict(_flatten(old)), dict(_flatten(new))
    return [
        {"field": key, "old": a.get(key), "new": b.get(key)}
        for key in sorted(a.keys() | b.keys(), key=_natural)
        if a.get(key) != b.get(key) and key != "version"
    ]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaf values by path; an empty list or table has none (an item added to an empty list
    shows as that item, not as a changed list)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _natural(key: str) -> list[Any]:
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def _document(record: DecisionRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _parse(decision_id: int, document: dict[str, Any]) -> DecisionRecord:
    try:
        return DecisionRecord.model_validate(document)
    except ValidationError as exc:
        raise PartnerscopeError(
            f"decision {decision_id} in the database cannot be read ({exc.error_count()} "
            "problems); was it written by a newer partnerscope?"
        ) from exc
