"""Tasks on partners (``/tasks``): what rules opened for the partners' managers, filtered by
partner, state and owner, each open one with a form to close it with a note; for staff, a
partner manager seeing its own partners' only (partner users never see tasks). The API twin
is ``/api/v1/tasks`` and ``/api/v1/tasks/{task_id}/close``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.web.render import form_action, page
from partnerscope.web.security import STAFF, Ctx, UtcDateTime, allow, safe_next

pages = APIRouter()
api = APIRouter(tags=["tasks"])

Staff = Annotated[Ctx, Depends(allow(*STAFF))]
TaskId = Annotated[int, Path(ge=1, le=2**62)]
Shown = Literal["open", "closed", "all"]


class TaskOut(BaseModel):
    task_id: int
    partner_id: str
    partner: str
    title: str
    detail: str | None
    owner: str | None
    status: str
    #: "rule <name>" for a rule's task, else who opened it
    source: str | None
    created_at: UtcDateTime
    closed_at: UtcDateTime | None
    closed_by: str | None
    #: the note it was closed with
    note: str | None


class TasksOut(BaseModel):
    tasks: list[TaskOut]


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)


@dataclass(frozen=True)
class TaskQuery:
    partner: str | None = None
    status: Shown = "open"
    mine: bool = False


def task_query(
    partner: Annotated[str | None, Query(max_length=64)] = None,
    status: Shown = "open",
    mine: bool = False,
) -> TaskQuery:
    return TaskQuery(partner or None, status, mine)


Tasks = Annotated[TaskQuery, Depends(task_query)]


def tasks_view(ctx: Ctx, query: TaskQuery) -> TasksOut:
    """The tasks the caller may see, newest first, filtered."""
    from partnerscope.notify import tasks

    visible = ctx.visible
    found = tasks.list_tasks(
        ctx.workspace,
        partner_ids=visible,
        partner=query.partner,
        status=None if query.status == "all" else query.status,
        owner=ctx.user.name if query.mine else None,
    )
    notes = tasks.notes(ctx.workspace, [t.task_id for t in found if t.status == tasks.CLOSED])
    name = ctx.partner_names()
    return TasksOut(
        tasks=[
            TaskOut(
                task_id=t.task_id,
                partner_id=t.partner_id,
                partner=name(t.partner_id),
                title=t.title,
                detail=t.detail,
                owner=t.owner,
                status=t.status,
                source=_source(t.source),
                created_at=t.created_at,
                closed_at=t.closed_at,
                closed_by=t.closed_by,
                note=notes.get(t.task_id),
            )
            for t in found
        ]
    )


def _source(source: str | None) -> str | None:
    """What opened a task, in words: "rule low-sla", or a person's name."""
    if source is not None and source.startswith("rule:"):
        return f"rule {source[5:]}"
    return source


def _close(ctx: Ctx, task_id: int, note: str) -> TaskOut:
    from partnerscope.notify import tasks

    tasks.close(ctx.workspace, task_id, note, by=ctx.user.name, partner_ids=ctx.visible)
    found = [t for t in tasks_view(ctx, TaskQuery(status="all")).tasks if t.task_id == task_id]
    return found[0]


@api.get("/tasks", response_model=TasksOut)
def tasks_api(ctx: Staff, query: Tasks) -> TasksOut:
    """Tasks on the partners the caller may see, newest first."""
    return tasks_view(ctx, query)


@api.post("/tasks/{task_id}/close", response_model=TaskOut)
def close_api(ctx: Staff, task_id: TaskId, given: CloseIn) -> TaskOut:
    """Open → closed, with a note saying what was done."""
    return _close(ctx, task_id, given.note)


@pages.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, ctx: Staff, query: Tasks) -> HTMLResponse:
    return _page(request, ctx, query, errors=[], status=200)


@pages.post("/tasks/{task_id}/close", response_class=HTMLResponse, response_model=None)
def close_submit(
    request: Request,
    ctx: Staff,
    task_id: TaskId,
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/tasks",
) -> Response:
    target = safe_next(back)
    if not target.startswith("/tasks"):
        target = "/tasks"
    return form_action(
        lambda: _close(ctx, task_id, note),
        target,
        lambda errors, status: _page(request, ctx, TaskQuery(), errors=errors, status=status),
        sees=ctx.can_see,
    )


def _page(
    request: Request, ctx: Ctx, query: TaskQuery, *, errors: list[str], status: int
) -> HTMLResponse:
    view = tasks_view(ctx, query)
    words = ctx.workspace.words
    shown = {"open": "open", "closed": "closed", "all": "in every state"}[query.status]
    return page(
        request,
        ctx,
        "tasks.html.j2",
        status=status,
        title="Tasks",
        subtitle=f"{words.number(len(view.tasks))} {shown}, opened by rules or people",
        view=view,
        query=query,
        partners=[(p, ctx.partner_names()(p)) for p in ctx.choices()],
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        errors=errors,
    )
