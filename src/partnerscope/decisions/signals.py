"""Reversal signals and stop conditions: conditions on catalog metrics, checked on every run.

A condition reads ``[SCOPE] METRIC OP NUMBER [for N PERIODS]``, for example
``program_tier=Gold win_rate < 0.25 for 2 quarters`` or ``lead_sla_rate < 90% for 1 month``.
SCOPE is ``portfolio`` (the default: every partner), ``company`` (direct deals included),
``partner=P0042`` or a group such as ``region="North America"`` (``tier=`` is short for
``program_tier=``). The signal fires when the metric holds the condition in each of the last N
complete periods of that grain (default: 1 period of the scorecard grain); a period without a
value (undefined for lack of data) never counts as holding it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from partnerscope.decisions.record import scope_label
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.metrics.evaluate import LEVELS

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.metrics.definition import Catalog
    from partnerscope.present import Words


class SignalError(PartnerscopeError, ValueError):
    """A condition that cannot be read, or that names no metric or group."""


OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
}
GRAINS = ("month", "quarter", "year")
ALIASES = {"tier": "program_tier", "type": "partner_type", "band": "revenue_band"}

_PATTERN = re.compile(
    r"""^\s*
    (?:(?P<scope>portfolio|company|(?P<level>[a-z_]+)\s*=\s*(?P<group>"[^"]+"|'[^']+'|\S+))\s+)?
    (?P<metric>[a-z_][a-z0-9_]*)\s*
    (?P<op><=|>=|==|!=|<|>|=)\s*
    (?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?%?)\s*
    (?:for\s+(?P<count>\d+)\s+(?P<grain>months?|quarters?|years?))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
EXAMPLE = "program_tier=Gold win_rate < 0.25 for 2 quarters"


@dataclass(frozen=True)
class Condition:
    level: str
    group: str
    metric: str
    op: str
    threshold: float
    periods: int
    grain: str

    def scope(self) -> str:
        return scope_label(self.level, self.group)

    def __str__(self) -> str:
        plural = "s" if self.periods != 1 else ""
        return (
            f"{self.scope()}: {self.metric} {self.op} {self.threshold:g} "
            f"for {self.periods} {self.grain}{plural}"
        )


@dataclass(frozen=True)
class Check:
    """One condition against one run: whether it holds, on which values."""

    condition: Condition
    fired: bool
    #: (period label, value) of the periods looked at, oldest first
    values: tuple[tuple[str, float | None], ...]
    detail: str


def parse(text: str, catalog: Catalog, *, default_grain: str) -> Condition:
    """Read a condition; every mistake is named with an example of the form."""
    match = _PATTERN.match(text)
    if match is None:
        raise SignalError(
            f"cannot read the condition {text!r}: write [SCOPE] METRIC OP NUMBER "
            f"[for N quarters], e.g. {EXAMPLE!r}"
        )
    level, group = parse_scope(match["scope"] or "portfolio", where=f"condition {text!r}")
    metric = match["metric"]
    if metric not in catalog:
        raise SignalError(
            f"condition {text!r}: no metric {metric!r}"
            f"{did_you_mean(metric, [m.name for m in catalog])}; "
            "`partnerscope metrics list` shows them"
        )
    if catalog[metric].group_only and level == "partner":
        raise SignalError(f"condition {text!r}: {metric} is only defined for groups of partners")
    raw = match["value"]
    threshold = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    grain = (match["grain"] or default_grain).lower().rstrip("s")
    periods = int(match["count"] or 1)
    if periods < 1:
        raise SignalError(f"condition {text!r}: say for how many periods, at least 1")
    return Condition(level, group, metric, match["op"], threshold, periods, grain)


def parse_scope(text: str, *, where: str) -> tuple[str, str]:
    """(level, group) of ``portfolio``, ``company`` or ``LEVEL=GROUP``."""
    text = text.strip()
    if text.lower() in ("portfolio", "company"):
        return text.lower(), "all"
    name, equals, group = text.partition("=")
    level = ALIASES.get(name.strip().lower(), name.strip().lower())
    known = [n for n in LEVELS if n not in ("portfolio", "company")]
    if not equals or level not in known or not group.strip("\"' "):
        raise SignalError(
            f"{where}: cannot read the scope {text!r}; write portfolio, company or LEVEL=GROUP "
            f"(levels: {', '.join(known)}){did_you_mean(name, [*known, *ALIASES])}"
        )
    return level, group.strip().strip("\"'")


def check(condition: Condition, results: pa.Table) -> Check:
    """Whether the condition holds in each of the last complete periods of a run's results."""
    import pyarrow.compute as pc

    rows = results.filter(
        pc.and_(
            pc.and_(
                pc.equal(results["level"], condition.level),
                pc.equal(results["group_key"], condition.group),
            ),
            pc.and_(pc.equal(results["grain"], condition.grain), results["complete"]),
        )
    )
    if rows.num_rows == 0:
        return Check(condition, False, (), f"no complete {condition.grain} for {condition.scope()}")
    rows = rows.sort_by("period_start").slice(max(0, rows.num_rows - condition.periods))
    values = tuple(zip(rows["label"].to_pylist(), rows[condition.metric].to_pylist(), strict=True))
    compare = OPERATORS[condition.op]
    shown = ", ".join(f"{label} {_value(v)}" for label, v in values)
    if len(values) < condition.periods:
        return Check(condition, False, values, f"only {len(values)} complete period(s): {shown}")
    fired = all(v is not None and compare(v, condition.threshold) for _, v in values)
    return Check(condition, fired, values, shown)


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


_OPS = {
    "<": "below",
    "<=": "at or below",
    ">": "above",
    ">=": "at or above",
    "=": "equal to",
    "==": "equal to",
    "!=": "other than",
}


def in_words(
    text: str,
    words: Words,
    catalog: Catalog,
    *,
    grain: str,
    name: Callable[[str], str] = str,
) -> str | None:
    """A signal's condition in words (``Win rate below 25.0% in each of the last 2 quarters,
    for the Gold program tier``), or None when it cannot be read; ``name`` writes a partner's
    name from its id."""
    try:
        c = parse(text, catalog, default_grain=grain)
    except SignalError:
        return None
    if c.periods == 1:
        when = f"in the last complete {c.grain}"
    else:
        when = f"in each of the last {c.periods} complete {c.grain}s"
    if c.level == "portfolio":
        scope = "across the portfolio"
    elif c.level == "company":
        scope = "for the company, direct deals included"
    elif c.level == "partner":
        scope = f"for {name(c.group)}"
    elif c.level == "partner_type":
        scope = f"for {words.partner_type(c.group)}s"
    else:
        scope = f"for the {c.group} {c.level.replace('_', ' ')}"
    threshold = words.of_metric(c.metric, c.threshold)
    return f"{words.metric(c.metric)} {_OPS.get(c.op, c.op)} {threshold} {when}, {scope}"
