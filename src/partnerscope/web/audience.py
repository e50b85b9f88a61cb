"""Who an answer is for: a partner user gets the partner view of each resource, staff the full
one.

The partner view is a model of its own (``PartnerAssignmentOut``, ``PartnerRegistrationOut``,
...), and the staff model extends it with what only the vendor sees, so what reaches a partner
is a list of fields written down once, never the staff answer with some fields taken out.
docs/web.md ("What a partner user sees") lists those fields; tests/test_partner_view.py fails
if a partner's answer holds any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.responses import Response
from pydantic import BaseModel

from partnerscope.accounts import Role
from partnerscope.web.security import Ctx


def partner_view(ctx: Ctx) -> bool:
    """Whether the caller is shown the partner view (a partner user)."""
    return ctx.user.role is Role.PARTNER_USER


def no_one(_partner_id: str) -> bool:
    """The visibility of an unknown caller: no partner (a refusal naming one is told without
    it)."""
    return False


def json_answer(content: BaseModel | Sequence[BaseModel], status: int = 200) -> Response:
    """The model (or list of models) as JSON, exactly as built: the route's ``response_model``
    (the staff and the partner model) documents it, and nothing re-validates it into the
    wider one."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json()
    else:
        body = "[" + ",".join(item.model_dump_json() for item in content) + "]"
    return Response(body, status_code=status, media_type="application/json")
