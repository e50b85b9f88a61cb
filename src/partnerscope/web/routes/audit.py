"""The audit log: who changed what (decisions, tier overrides, plans, ledgers, MDF, leads,
registrations, users and tokens), newest first, paged back; for admins."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.accounts import Role
from partnerscope.web.params import FilterText
from partnerscope.web.render import page
from partnerscope.web.run_index import json_safe
from partnerscope.web.security import Ctx, UtcDateTime, allow

pages = APIRouter()
api = APIRouter(tags=["portfolio"])


class AuditEntry(BaseModel):
    entry_id: int
    at: UtcDateTime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


class AuditOut(BaseModel):
    entries: list[AuditEntry]
    #: pass as ``before`` for the next (older) page; None: no older entry
    next_before: int | None


@dataclass(frozen=True)
class AuditQuery:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    before: int | None = None
    limit: int = 50

    def params(self, **changes: Any) -> str:
        values = {**asdict(self), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def audit_query(
    object_type: Annotated[
        str | None, Query(max_length=32, description="e.g. tier_override, decision, user")
    ] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: FilterText = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="only entries older than this entry id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditQuery:
    return AuditQuery(object_type or None, object_id or None, actor or None, before, limit)


AuditFilter = Annotated[AuditQuery, Depends(audit_query)]


def audit_view(ctx: Ctx, query: AuditQuery) -> AuditOut:
    """The audit log, newest first, one page (``before`` pages back)."""
    from partnerscope import audit

    found = audit.entries(
        ctx.state.accounts.engine,
        object_type=query.object_type,
        object_id=query.object_id,
        actor=query.actor,
        before=query.before,
        limit=query.limit + 1,
    )
    more = len(found) > query.limit
    found = found[: query.limit]
    return AuditOut(
        entries=[AuditEntry(**json_safe(asdict(e))) for e in found],
        next_before=found[-1].entry_id if more and found else None,
    )


@api.get("/audit", response_model=AuditOut)
def audit_api(ctx: Annotated[Ctx, Depends(allow(Role.ADMIN))], query: AuditFilter) -> AuditOut:
    """Who changed what: decisions, tier overrides, plans, users and tokens, newest first."""
    return audit_view(ctx, query)


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(Role.ADMIN))], query: AuditFilter
) -> HTMLResponse:
    view = audit_view(ctx, query)
    return page(
        request,
        ctx,
        "audit.html.j2",
        title="Audit log",
        subtitle="every change to decisions, tier overrides, plans, users and tokens",
        view=view,
        query=query,
        details={e.entry_id: spoken(ctx, e.detail) for e in view.entries},
    )


#: (label, text, partner id to link or None): one part of an entry's detail as a page shows it
Said = tuple[str, str, str | None]
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_MONEY = ("amount", "total", "budget", "value", "payout")


def spoken(ctx: Ctx, detail: dict[str, Any]) -> list[Said]:
    """An audit entry's detail in words: each field by a readable label, partners by name,
    money in the workspace currency, dates and times as the workspace writes them, nothing as
    JSON (the API keeps the detail as it is)."""
    words = ctx.workspace.words
    name = ctx.partner_names()

    def value(key: str, v: Any) -> str:
        if v is None or v == "":
            return "—"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, dict):
            return " · ".join(f"{label(k)} {value(k, x)}" for k, x in v.items()) or "none"
        if isinstance(v, list | tuple):
            return ", ".join(value(key, x) for x in v) or "none"
        if key.endswith("partner_id") or key == "partners":
            return name(str(v)) if ctx.can_see(str(v)) else str(v)
        if any(word in key for word in _MONEY) and _number(v) is not None:
            return words.money(_number(v), cents=True)
        if isinstance(v, int | float):
            return words.number(v, digits=0 if float(v).is_integer() else 2)
        text = str(v)
        if _DAY.match(text):
            return words.date(text)
        if _MOMENT.match(text):
            at = datetime.fromisoformat(text)
            return words.moment(at.replace(tzinfo=None))
        if key in ("rule", "rules"):
            return words.rule(text)
        return text.replace("_", " ") if re.fullmatch(r"[a-z]+(_[a-z]+)+", text) else text

    said: list[Said] = []
    for key, v in detail.items():
        link = str(v) if key.endswith("partner_id") and v and ctx.can_see(str(v)) else None
        said.append((label(key), value(key, v), link))
    return said


def label(key: str) -> str:
    """A detail's key as a label: ``budget_left_before`` → "budget left before"."""
    return str(key).replace("partner_id", "partner").replace("_", " ").replace("sla", "SLA")


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
