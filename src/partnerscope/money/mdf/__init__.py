"""Market development funds: budgets per tier and per partner, the request → approval →
claim → payment workflow with its checks, the returns (ROI, pipeline to spend) per activity,
partner and activity type, and a reallocation proposal for next year's budgets.

Every function takes the :class:`~partnerscope.workspace.Workspace` first. Amounts are
:class:`~decimal.Decimal` in the base currency, rounded to the cent half away from zero
(:func:`partnerscope.amounts.cents`); amounts people type are refused, not rounded, when
they have more than two decimals. docs/mdf.md is the user's guide.
"""

from __future__ import annotations

from partnerscope.money.mdf.budgets import Budget, budget, budget_left, budgets, set_budget
from partnerscope.money.mdf.common import (
    REQUEST_PREFIX,
    ActivityType,
    MdfError,
    MdfNotFoundError,
    MdfRefusedError,
    RequestStatus,
)
from partnerscope.money.mdf.reallocation import (
    Allocation,
    Bound,
    MixLine,
    ProposalLine,
    Reallocation,
    allocate,
    propose_reallocation,
)
from partnerscope.money.mdf.returns import Grouping, Return, Returns, returns
from partnerscope.money.mdf.workflow import (
    MdfRequest,
    approve,
    claim,
    export_activities,
    open_years,
    pay,
    reject,
    request,
    requests,
    submit,
)

__all__ = [
    "REQUEST_PREFIX",
    "ActivityType",
    "Allocation",
    "Bound",
    "Budget",
    "Grouping",
    "MdfError",
    "MdfNotFoundError",
    "MdfRefusedError",
    "MdfRequest",
    "MixLine",
    "ProposalLine",
    "Reallocation",
    "RequestStatus",
    "Return",
    "Returns",
    "allocate",
    "approve",
    "budget",
    "budget_left",
    "budgets",
    "claim",
    "export_activities",
    "open_years",
    "pay",
    "propose_reallocation",
    "reject",
    "request",
    "requests",
    "returns",
    "set_budget",
    "submit",
]
