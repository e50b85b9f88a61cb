"""What the portfolio's pages share: the served run's lists per period, built once and
filtered per request (:class:`RunIndex`), the rows a caller may see, alert severities in
order, and values made JSON-safe.

Everything is read from the served run's files (never recomputed); the per-period tables a
list needs are built once per served run and filtered per request, which keeps a list page to
a few milliseconds. A partner manager only ever receives the partners they may see: every list
is filtered by ``ctx.visible`` (:func:`visible_rows`) before it is counted, sorted, paginated,
exported or searched.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.reports.content import Report
    from partnerscope.web.current import Served
    from partnerscope.web.security import Ctx

SEVERITIES = ("high", "medium", "low")


def json_float(value: Any) -> float | None:
    """A float for JSON: NaN and infinities (no value) become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """Report content made JSON-safe: dataclasses as dicts, NaN as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        return json_safe(asdict(value))
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


class RunIndex:
    """What the list pages need of one served run, per period, built on first use and kept by
    the served run (:meth:`Served.built`) for as long as it is served."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.data = served.data
        self._names: dict[str, str] = {}

    def name(self, partner_id: str) -> str:
        if partner_id not in self._names:
            self._names[partner_id] = self.data.partner_name(partner_id)
        return self._names[partner_id]

    def periods(self) -> list[tuple[Any, str]]:
        """(period_start, label) of the scored periods with data, oldest first
        (:attr:`RunData.periods_with_data`): a picker never offers an empty period, and is
        never empty."""
        return self.data.periods_with_data

    def _rows_of(self, table: Any, start: Any) -> list[dict[str, Any]]:
        import pyarrow.compute as pc

        rows: list[dict[str, Any]] = table.filter(
            pc.equal(table["period_start"], start)
        ).to_pylist()
        for row in rows:
            row["name"] = self.name(row["partner_id"])
        return rows

    def tiers(self, start: Any) -> list[dict[str, Any]]:
        """Every partner's tier placements in the period (one row per ruleset)."""
        return self.served.built(
            ("tiers", start), lambda: self._rows_of(self.data.tiers.table, start)
        )

    def alerts(self, start: Any) -> list[dict[str, Any]]:
        def build() -> list[dict[str, Any]]:
            rows = self._rows_of(self.data.alerts.table, start)
            rows.sort(key=lambda a: (severity_rank(a["severity"]), a["partner_id"]))
            return rows

        return self.served.built(("alerts", start), build)

    def flags(self, start: Any) -> list[dict[str, Any]]:
        return self.served.built(
            ("flags", start), lambda: self._rows_of(self.data.flags.table, start)
        )

    def partners(self, start: Any) -> list[dict[str, Any]]:
        """One row per partner scored in the period: what the partner list shows."""
        return self.served.built(("partners", start), lambda: self._partners(start))

    def _partners(self, start: Any) -> list[dict[str, Any]]:
        import pyarrow.compute as pc

        data = self.data
        periods = [s for s, _ in data.periods]
        i = periods.index(start)
        cards = data.scorecards.table
        now = cards.filter(pc.equal(cards["period_start"], start)).to_pylist()
        previous: dict[str, float | None] = {}
        if i > 0:
            before = cards.filter(pc.equal(cards["period_start"], periods[i - 1]))
            previous = dict(
                zip(
                    before["partner_id"].to_pylist(),
                    (json_float(v) for v in before["score"].to_pylist()),
                    strict=True,
                )
            )
        members = data.memberships.table
        members = members.filter(pc.equal(members["period_start"], start)).to_pylist()
        member = {m["partner_id"]: m for m in members}
        placed = {(t["partner_id"], t["ruleset"]): t for t in self.tiers(start)}
        alerts = Counter(a["partner_id"] for a in self.alerts(start))
        flags: dict[str, set[str]] = {}
        for f in self.flags(start):
            flags.setdefault(f["partner_id"], set()).add(f["flag"])
        plans = data.open_plans
        rows = []
        for card in now:
            pid = card["partner_id"]
            m = member.get(pid, {})
            score = json_float(card["score"])
            old = previous.get(pid)
            revenue = placed.get((pid, "revenue"), {})
            performance = placed.get((pid, "performance"), {})
            rows.append(
                {
                    "partner_id": pid,
                    "name": self.name(pid),
                    "partner_type": m.get("partner_type"),
                    "region": m.get("region"),
                    "program_tier": m.get("program_tier"),
                    "revenue_tier": revenue.get("effective"),
                    "performance_tier": performance.get("effective"),
                    "revenue_pending": revenue.get("pending"),
                    "performance_pending": performance.get("pending"),
                    "score": score,
                    "score_percentile": json_float(card["score_percentile"]),
                    "cohort_percentile": json_float(card["cohort_percentile"]),
                    "cohort": card["cohort"],
                    "low_evidence": bool(card["low_evidence"]),
                    "previous_score": old,
                    "change": None if score is None or old is None else score - old,
                    "alerts": alerts.get(pid, 0),
                    "flags": sorted(flags.get(pid, ())),
                    "open_plan": pid in plans,
                }
            )
        return rows

    def executive(self, period: str | None) -> Report:
        """The executive summary of a period (made once: it reads every file of the run)."""
        from partnerscope.reports.executive import executive as summary

        _, label = self.data.pick_period(period)
        return self.served.built(("executive", label), lambda: summary(self.data, label))


def run_index(ctx: Ctx) -> RunIndex:
    """The served run's index (404 before the first run)."""
    served = ctx.run
    return served.built(("run-index",), lambda: RunIndex(served))


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def visible_rows(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    visible = ctx.visible
    if visible is None:
        return rows
    return [r for r in rows if r["partner_id"] in visible]


def periods_with_data(ctx: Ctx) -> list[tuple[Any, str]]:
    """The periods a period picker offers (:meth:`RunIndex.periods`)."""
    return run_index(ctx).periods()


def namer(ctx: Ctx) -> Callable[[str], str]:
    """A partner's name by its id (from the served run, each read once; the id itself before
    the first run). Only call it with ids the caller may see."""
    if ctx.served is None:
        return str
    return run_index(ctx).name


def naming(ctx: Ctx) -> Callable[[str], str]:
    """Text (an explanation stored with ids) with each id of a partner the caller may see
    written as "Name (ID)"; any other word is left as it is."""
    if ctx.served is None:
        return str
    name = namer(ctx)
    scored = ctx.data.scorecards

    def said(text: str) -> str:
        def one(found: re.Match[str]) -> str:
            token = found.group()
            if token in scored and ctx.can_see(token):
                return f"{name(token)} ({token})"
            return token

        return _TOKEN.sub(one, text)

    return said


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]")


#: an amount as the money rules write it in an explanation: 1,000.00 or 1000.00 (not a share)
_AMOUNT = re.compile(r"(?<![\d.,$])(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}(?![\d%]| ?%)")
#: a catalog key or code as an explanation may name it: won_revenue
_KEY = re.compile(r"(?<![\w/.-])[a-z]+(?:_[a-z0-9]+)+(?![\w/-])")


def explaining(ctx: Ctx) -> Callable[[str], str]:
    """A stored explanation (a payout line's, written when it was computed) as a page shows
    it: each amount in the workspace currency, to the cent, each metric by its label."""
    words = ctx.workspace.words
    catalog = ctx.workspace.catalog

    def money(found: re.Match[str]) -> str:
        return words.money(float(found.group().replace(",", "")), cents=True)

    def key(found: re.Match[str]) -> str:
        name = found.group()
        return words.metric(name).lower() if name in catalog else name

    return lambda text: _KEY.sub(key, _AMOUNT.sub(money, text))


def partner_choices(ctx: Ctx) -> list[tuple[str, str]]:
    """(id, name) of the partners a form's partner picker offers the caller, by name (none to
    a partner user, who acts for its own)."""
    name = namer(ctx)
    return sorted(((pid, name(pid)) for pid in ctx.choices()), key=lambda c: (c[1].lower(), c[0]))


#: "Name (P0001)": what a partner picker's list offers
_NAMED = re.compile(r"^(?P<name>.*?)\s*\((?P<id>[^()]+)\)\s*$")


def picked_partner(ctx: Ctx, text: str | None, field: str = "partner_id") -> str | None:
    """The partner id a form's partner picker was given: an id, "Name (ID)" as its list
    offers, or a name of a partner the caller may see (any case). Anything else is a 422
    naming the ``field``; an id the caller may not see is passed on as it is (refused with
    404 where it is used, the same answer as for an id that does not exist)."""
    from fastapi import HTTPException

    given = (text or "").strip()
    if not given:
        return None
    choices = partner_choices(ctx)
    ids = {pid for pid, _ in choices}
    if given in ids:
        return given
    found = _NAMED.match(given)
    if found and found["id"].strip() in ids:
        return found["id"].strip()
    by_name = [pid for pid, name in choices if name.casefold() == given.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    if ctx.user.role.value == "partner_user" or _looks_like_an_id(ctx, given):
        return given
    if len(by_name) > 1:
        raise HTTPException(
            422, f"{field}: {len(by_name)} partners are called {given!r}; pick one from the list"
        )
    raise HTTPException(
        422, f"{field}: no partner {given!r} among yours; pick one from the list (name or id)"
    )


def _looks_like_an_id(ctx: Ctx, given: str) -> bool:
    """Whether ``given`` is the id of a partner of the run (one the caller may not see, or
    the warehouse's before the first run): passed on to be refused where it is used."""
    if ctx.served is None:
        return True
    return given in ctx.data.scorecards
