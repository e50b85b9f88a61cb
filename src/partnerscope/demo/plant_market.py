"""The demo's market: nothing is planted (the demo's accounts already have their countries,
industries, revenue and target flags, and every hand-checked test depends on that data); the
lines say what the data implies for recruitment, and after the run what the map found
(docs/lifecycle.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo's data implies (before its run), one line each."""
    from partnerscope.warehouse import read_warehouse

    rows = read_warehouse(
        ws,
        "SELECT a.country, count(*) FROM accounts a WHERE coalesce(a.is_target, false) "
        "AND nullif(trim(a.country), '') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM partners p "
        "WHERE lower(trim(p.country)) = lower(trim(a.country)) "
        "AND coalesce(p.status, 'active') <> 'exited') GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    covered = read_warehouse(
        ws,
        "SELECT count(DISTINCT country), count(DISTINCT industry), count(*) FROM accounts "
        "WHERE coalesce(is_target, false)",
    )[0]
    lines = [
        f"Market: {covered[2]:,} target accounts in {covered[0]} countries and {covered[1]} "
        "verticals (the demo's accounts; no market sizes loaded)"
    ]
    if rows:
        named = ", ".join(f"{country} ({n} target accounts)" for country, n in rows)
        lines.append(
            f"Market: {len(rows)} countr{'y' if len(rows) == 1 else 'ies'} with target accounts "
            f"and no partner: {named}"
        )
    else:
        lines.append("Market: every country with target accounts has a partner")
    return lines


def found(ws: Workspace) -> list[str]:
    """What the market map found (after the run), one line each."""
    from partnerscope.ingest.facts import plural
    from partnerscope.lifecycle.market import opportunity_map

    market = opportunity_map(ws)
    counts = ", ".join(f"{p} {n}" for p, n in market.counts().items())
    lines = [f"Market map: {len(market.cells)} countries × verticals: {counts}"]
    if market.gaps:
        top = market.gaps[0]
        lines.append(
            f"Market map: {plural(len(market.gaps), 'gap')} to recruit in; the largest "
            f"{top.territory} · "
            f"{top.vertical} ({top.priority}): {top.why}"
        )
    else:
        lines.append("Market map: no gap (every cell of priority 1–2 has its partners)")
    return lines
