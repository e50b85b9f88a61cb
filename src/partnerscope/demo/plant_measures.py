"""The patterns planted in the demo's files for the service, retention, coverage and conflict
measures (data/planted-measures.json, :mod:`partnerscope.demo.measure_plan`): what was planted,
before the run, and what the run's metrics found of it, after (:func:`findings.measure_findings`).
Nothing is written to the transactional store: the patterns are in the files."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from partnerscope.demo.measure_plan import PLANTED_FILE

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: pattern → what was planted, in words ({} takes the planted ids)
PLANTED_AS = {
    "service_collapse": "Service collapse: {} answers critical cases and resolves standard ones "
    "five times slower in the last two quarters, and escalates a quarter of its cases",
    "rising_churn": "Rising churn: {} loses 15 %, 30 %, 45 % and 60 % of the customers due in "
    "the last four quarters",
    "uncovered_territory": "Uncovered territory: {} is a target territory without any partner",
    "conflicting_account": "Conflicting account: {} are one customer spelt three ways, with a "
    "partner's, a direct and a second partner's deal open at once",
    "complete_portfolio": "Complete portfolio: {} won deals in every product family in each of "
    "the last four trailing years",
}


def planted(ws: Workspace) -> dict[str, list[str]]:
    """The planted-measures file of the demo workspace, or nothing outside a demo."""
    path = ws.root / "data" / PLANTED_FILE
    if not path.is_file():
        return {}
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo's files carry (they are written by the generator), one line each, with how
    many customers the ingest's account identity found behind the account records, so that the
    run's channel conflict sees the conflicting account's three records as one customer."""
    patterns = planted(ws)
    if not patterns:
        return []
    from partnerscope.ingest.facts import plural

    with ws.warehouse(read_only=True) as warehouse:
        ((records, customers),) = warehouse.con.execute(
            "SELECT count(*), count(DISTINCT identity_id) FROM account_identities"
        ).fetchall()
    return [
        *(PLANTED_AS[p].format(", ".join(ids)) for p, ids in patterns.items()),
        f"Account identity: {plural(records, 'account record')} resolved to "
        f"{plural(int(customers), 'customer')}",
    ]


def found(ws: Workspace) -> list[str]:
    """What the run's metrics found of each pattern, one line each."""
    from partnerscope.demo.findings import measure_findings

    lines = []
    for f in measure_findings(ws, planted(ws)):
        lines.append(
            f"{f.pattern.replace('_', ' ')}: {len(f.found)} of {len(f.planted)} by {f.found_by}"
        )
    return lines
