"""Tasks on partners: work a rule opened (``[[rules]]`` with ``do = "task"`` or ``"mdf"``) for
the partner's manager, listed and closed with a note (docs/notifications.md, "Rules that act").

A task is open until someone closes it with a note saying what was done; opening and closing
are written to the audit log (object type ``task``) in the same transaction as the change, and
a close moves the task on only from the state it was read in, so two people closing it at once
cannot both do it. Who may see and close which partner's tasks is the caller's check (the web
app: staff who may see the partner; partner users never see tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit, clock
from partnerscope.appdb.tables import tasks
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

OBJECT_TYPE = "task"
OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, CLOSED)
#: the longest note or title kept
MAX_TEXT = 2000


class TaskError(PartnerscopeError, ValueError):
    """A step on a task refused, with why and what to do."""


class TaskNotFoundError(PartnerscopeError, LookupError):
    """No task with that id (or none the asker may see)."""


@dataclass(frozen=True)
class Task:
    task_id: int
    partner_id: str
    title: str
    detail: str | None
    owner: str | None
    due: date | None
    status: str
    #: what opened it: "rule:<name>", or a person's name
    source: str | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, row: Any) -> Task:
        m = row._mapping
        return cls(
            m["task_id"],
            m["partner_id"],
            m["title"],
            m["detail"],
            m["owner"],
            m["due"],
            m["status"],
            m["source"],
            m["created_at"],
            m["closed_at"],
            m["closed_by"],
        )


def open_task(
    connection: Connection,
    *,
    partner_id: str,
    title: str,
    detail: str | None = None,
    owner: str | None = None,
    due: date | None = None,
    source: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Open a task in the caller's transaction (audited); its id."""
    moment = now or clock.now_utc()
    cleaned = " ".join(title.split())
    if not cleaned:
        raise TaskError("give the task a title saying what to do")
    new = connection.execute(
        tasks.insert()
        .values(
            partner_id=partner_id,
            title=cleaned[:MAX_TEXT],
            detail=detail,
            owner=owner,
            due=due,
            status=OPEN,
            source=source,
            created_at=moment,
        )
        .returning(tasks.c.task_id)
    ).scalar_one()
    audit.record(
        connection,
        actor=actor,
        action="open",
        object_type=OBJECT_TYPE,
        object_id=int(new),
        detail={"partner_id": partner_id, "title": cleaned, "owner": owner, "source": source},
    )
    return int(new)


def list_tasks(
    workspace: Workspace,
    *,
    partner_ids: frozenset[str] | None = None,
    partner: str | None = None,
    status: str | None = OPEN,
    owner: str | None = None,
) -> list[Task]:
    """Tasks, newest first: of the partners in ``partner_ids`` (None: every partner), of
    ``partner``, in ``status`` (None: every status), owned by ``owner``."""
    from sqlalchemy import select

    if status is not None and status not in STATUSES:
        raise TaskError(f"no task status {status!r}; use one of {', '.join(STATUSES)}")
    query = select(tasks).order_by(tasks.c.created_at.desc(), tasks.c.task_id.desc())
    if status is not None:
        query = query.where(tasks.c.status == status)
    if partner:
        query = query.where(tasks.c.partner_id == partner)
    if owner:
        query = query.where(tasks.c.owner == owner)
    with appdb.connect(workspace).connect() as connection:
        found = [Task.of(r) for r in connection.execute(query)]
    if partner_ids is not None:
        found = [t for t in found if t.partner_id in partner_ids]
    return found


def get(workspace: Workspace, task_id: int, partner_ids: frozenset[str] | None = None) -> Task:
    """The task with that id (refused like a missing one when its partner is not among
    ``partner_ids``)."""
    from sqlalchemy import select

    with appdb.connect(workspace).connect() as connection:
        row = connection.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None or (partner_ids is not None and row.partner_id not in partner_ids):
        raise TaskNotFoundError(
            f"no task {task_id}; `partnerscope tasks list --status closed` shows closed ones, "
            "`partnerscope tasks list` the open ones"
        )
    return Task.of(row)


def close(
    workspace: Workspace,
    task_id: int,
    note: str,
    *,
    by: str,
    partner_ids: frozenset[str] | None = None,
    now: datetime | None = None,
) -> Task:
    """Open → closed, with a note saying what was done (kept in the audit log)."""
    from sqlalchemy import select

    cleaned = " ".join((note or "").split())
    if not cleaned:
        raise TaskError(f"task {task_id}: give a note saying what was done to close it")
    if len(cleaned) > MAX_TEXT:
        raise TaskError(
            f"task {task_id}: the note has {len(cleaned):,} characters; keep it to {MAX_TEXT:,}"
        )
    found = get(workspace, task_id, partner_ids)
    moment = now or clock.now_utc()
    with appdb.connect(workspace).begin() as connection:
        if found.status != OPEN:
            raise TaskError(
                f"task {task_id} is already closed (by {found.closed_by}); nothing to do"
            )
        audit.move(
            connection,
            tasks.c.task_id,
            task_id,
            OPEN,
            {"status": CLOSED, "closed_at": moment, "closed_by": by},
            stale=TaskError(
                f"task {task_id} was closed by someone else meanwhile; look at it again"
            ),
            actor=by,
            action="close",
            object_type=OBJECT_TYPE,
            object_id=task_id,
            detail={"partner_id": found.partner_id, "note": cleaned},
        )
        row = connection.execute(select(tasks).where(tasks.c.task_id == task_id)).one()
    return Task.of(row)


def notes(workspace: Workspace, task_ids: list[int]) -> dict[int, str]:
    """The note each closed task was closed with (from the audit log)."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import audit_log

    if not task_ids:
        return {}
    wanted = {str(t) for t in task_ids}
    query = (
        select(audit_log.c.object_id, audit_log.c.detail)
        .where(audit_log.c.object_type == OBJECT_TYPE)
        .where(audit_log.c.action == "close")
        .order_by(audit_log.c.entry_id)
    )
    with appdb.connect(workspace).connect() as connection:
        return {
            int(r.object_id): str(r.detail.get("note", ""))
            for r in connection.execute(query)
            if r.object_id in wanted
        }
