"""What the workflows over the transactional store share (MDF requests, deal registrations,
routed leads): text as people type it, loading an object for a step, the state a step needs,
and moving an object on from the state it was read in, with its audit entry, in one
transaction.

Each workflow refuses with its own error, made by ``refuse(check, message)``: the check's name
(``state``, ``reason``, ...) and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from partnerscope import appdb, audit

if TYPE_CHECKING:
    from enum import StrEnum

    from sqlalchemy import Column, Row
    from sqlalchemy.engine import Connection

#: longest free text a step takes (a reason, a proof reference, ...)
MAX_TEXT = 2000

Refuse = Callable[[str, str], Exception]


class Stated(Protocol):
    """An object a workflow moves through its states."""

    @property
    def ref(self) -> str:
        """How a message names it: "MDF request #3", "registration #7", "lead L-1"."""
        ...

    @property
    def status(self) -> StrEnum: ...


class Tracked(Stated, Protocol):
    """An object that can say where it stands."""

    def where(self, *, named: bool = True) -> str:
        """Where it stands, in words (``named``: with who did the last step)."""
        ...


@dataclass(frozen=True)
class Workflow:
    """One kind of object moved through states: the key column of its table, its name in the
    audit log, what a message calls it, and its workflow's error."""

    key: Column[Any]
    object_type: str
    noun: str
    refuse: Refuse

    def text(
        self,
        value: str,
        what: str,
        hint: str,
        check: str,
        *,
        limit: int = MAX_TEXT,
        one_line: bool = False,
    ) -> str:
        """``value`` stripped (``one_line``: with its runs of white space made one space), or
        refused when empty (``give <what>: <hint>``) or longer than ``limit``."""
        cleaned = " ".join(value.split()) if one_line else value.strip()
        if not cleaned:
            raise self.refuse(check, f"give {what}: {hint}")
        if len(cleaned) > limit:
            raise self.refuse(
                check, f"{what} has {len(cleaned):,} characters; keep it to {limit:,}"
            )
        return cleaned

    def load(self, connection: Connection, key: int, *, lock: bool, missing: Exception) -> Row[Any]:
        """The row of ``key``, or ``missing`` raised. With ``lock``, read once no other step
        may change this table (:func:`appdb.serialize`): every step that writes it takes that
        lock first, so none waits for another in a circle, and a check that reads other rows
        (a budget left, an earlier registration) reads them as they stand."""
        from sqlalchemy import select

        table = self.key.table
        if lock:
            appdb.serialize(connection, table)
        row = connection.execute(select(table).where(self.key == key)).first()
        if row is None:
            raise missing
        return row

    def require(self, found: Tracked, status: StrEnum, verb: str) -> None:
        """Refuse a step on an object not in ``status``, saying where it stands (without who
        decided it: the message may reach a partner)."""
        if found.status is not status:
            article = "an" if status.value[0] in "aeiou" else "a"
            raise self.refuse(
                "state",
                f"{found.ref} {found.where(named=False)}; only {article} {status.value} "
                f"{self.noun} can be {verb}",
            )

    def move(
        self,
        connection: Connection,
        found: Stated,
        key: int,
        values: dict[str, Any],
        *,
        by: str,
        action: str,
        object_id: str | int,
        detail: dict[str, Any],
    ) -> None:
        """Move the object on from the state it was read in and log it (:func:`audit.move`);
        if someone else moved it meanwhile, refuse with check ``state``."""
        audit.move(
            connection,
            self.key,
            key,
            found.status.value,
            values,
            stale=self.refuse(
                "state",
                f"{found.ref} was changed by someone else meanwhile; look at it again and retry",
            ),
            actor=by,
            action=action,
            object_type=self.object_type,
            object_id=object_id,
            detail=detail,
        )
