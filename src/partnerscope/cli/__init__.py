"""The command line: thin commands over :class:`~partnerscope.workspace.Workspace`."""

from __future__ import annotations

# each module registers its commands on `app`; none imports a heavy library at module level
from partnerscope.cli import (  # noqa: F401
    alert_work,
    applications,
    awards,
    business_plans,
    compliance,
    coverage,
    data,
    decisions,
    enablement,
    evaluation,
    identity,
    leads,
    mapping,
    market,
    mdf,
    metrics,
    notify,
    onboarding,
    payouts,
    predict,
    registrations,
    report,
    retention,
    scenario,
    schedule,
    service,
    tasks,
    web,
    workspace,
)
from partnerscope.cli.app import app, main

__all__ = ["app", "main"]
