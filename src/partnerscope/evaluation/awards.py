"""Recognition awards: each ``[awards]`` rule (settings/awards.py) gives a ranked shortlist per
fiscal year, each nominee with the sentences that explain why, in words (docs/awards.md).

The values are a run's fiscal-year values of the measures at the partner level; ``score`` is
the mean of the partner's scorecard scores over the year's scored periods. People decide:
:mod:`partnerscope.decisions.awards` records the winner as a decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.metrics.calendar import add_months
from partnerscope.metrics.definition import Direction
from partnerscope.present import finite
from partnerscope.settings.awards import SCORE, AwardRule

if TYPE_CHECKING:
    from partnerscope.present import Words
    from partnerscope.runs import RunManifest
    from partnerscope.workspace import Workspace


class AwardError(PartnerscopeError, LookupError):
    """An award or a fiscal year asked for that the workspace or the run does not have."""


@dataclass(frozen=True)
class Nominee:
    rank: int
    partner_id: str
    partner: str
    #: 0–100: the weighted mean of the measures' percentiles among the eligible partners
    standing: float
    #: measure → the year's value (``score``: the mean scorecard score)
    values: dict[str, float]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Shortlist:
    award: str
    label: str
    description: str
    year: int
    period: str
    run_id: int
    nominees: tuple[Nominee, ...]
    #: partners with a value for the year, and those eligible
    considered: int
    eligible: int

    def nominee(self, partner_id: str) -> Nominee | None:
        return next((n for n in self.nominees if n.partner_id == partner_id), None)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _year_rows(results: Any, year: int | None, run: RunManifest) -> tuple[Any, int, str, date]:
    """The partner rows of one fiscal year: the year asked for, else the latest complete one
    (else the latest)."""
    import pyarrow.compute as pc

    years = results.filter(
        pc.and_(pc.equal(results["level"], "partner"), pc.equal(results["grain"], "year"))
    )
    labels = sorted(
        set(zip(years["label"].to_pylist(), years["complete"].to_pylist(), strict=True))
    )
    if not labels:
        raise AwardError(f"run {run.run_id} has no fiscal year for partners")
    by_year = {int(label.removeprefix("FY")): (label, complete) for label, complete in labels}
    if year is None:
        complete = [y for y, (_, done) in by_year.items() if done]
        year = max(complete) if complete else max(by_year)
    if year not in by_year:
        have = ", ".join(f"FY{y}" for y in sorted(by_year))
        raise AwardError(f"--year {year}: run {run.run_id} has the fiscal years {have}")
    label = by_year[year][0]
    rows = years.filter(pc.equal(years["label"], label))
    start = rows["period_start"][0].as_py()
    return rows, year, label, start


def _mean_scores(
    workspace: Workspace, run: RunManifest, start: date
) -> dict[str, tuple[float, int]]:
    """partner → (mean scorecard score, scored periods) over the fiscal year from ``start``."""
    from partnerscope.evaluation.pipeline import SCORECARDS
    from partnerscope.evaluation.view import EvaluationNotFoundError, read

    try:
        cards = read(workspace, run, SCORECARDS)
    except EvaluationNotFoundError:
        return {}
    end = add_months(start, 12)
    sums: dict[str, list[float]] = {}
    for pid, begins, score in zip(
        cards["partner_id"].to_pylist(),
        cards["period_start"].to_pylist(),
        cards["score"].to_pylist(),
        strict=True,
    ):
        if score is not None and not math.isnan(score) and start <= begins < end:
            sums.setdefault(pid, []).append(score)
    return {pid: (sum(v) / len(v), len(v)) for pid, v in sums.items()}


def _percentiles(values: dict[str, float], higher: bool) -> dict[str, float]:
    """0–100 within the partners given: the share of the others each one beats (ties count
    half); 100 for a partner alone."""
    out = {}
    n = len(values)
    for pid, v in values.items():
        if n == 1:
            out[pid] = 100.0
            continue
        beats = sum(1 for o in values.values() if (o < v if higher else o > v))
        ties = sum(1 for o in values.values() if o == v) - 1
        out[pid] = 100.0 * (beats + ties / 2) / (n - 1)
    return out


def shortlists(
    workspace: Workspace,
    year: int | None = None,
    *,
    run_id: int | None = None,
    award: str | None = None,
) -> list[Shortlist]:
    """The shortlist of every enabled award (or of ``award``) for a fiscal year of a run (the
    latest run; the latest complete fiscal year)."""
    from partnerscope.runs import get_run, read_results
    from partnerscope.warehouse import read_warehouse

    settings = workspace.config.awards
    rules = settings.enabled()
    if award is not None:
        if award not in rules:
            raise AwardError(
                f"no award {award!r}{did_you_mean(award, list(rules))}; the awards are "
                f"{', '.join(rules)}"
            )
        rules = {award: rules[award]}
    run = get_run(workspace, run_id)
    results = read_results(workspace, run.run_id)
    rows, year, label, start = _year_rows(results, year, run)
    year_end = add_months(start, 12)
    partners = {
        pid: (name or pid, joined)
        for pid, name, joined in read_warehouse(
            workspace, "SELECT partner_id, name, joined_at FROM partners"
        )
    }
    columns = set(rows.column_names)
    by_partner: dict[str, dict[str, float | None]] = {}
    ids = rows["group_key"].to_pylist()
    for metric in {m for r in rules.values() for m in (*r.rank_by, *(q.metric for q in r.require))}:
        if metric == SCORE or metric not in columns:
            continue
        for pid, value in zip(ids, rows[metric].to_pylist(), strict=True):
            by_partner.setdefault(pid, {})[metric] = finite(value)
    scores = _mean_scores(workspace, run, start)
    words = workspace.words
    out = []
    for key, rule in rules.items():
        out.append(
            _shortlist(
                key,
                rule,
                run,
                year,
                label,
                year_end,
                ids,
                by_partner,
                scores,
                partners,
                words,
                settings.shortlist,
            )
        )
    return out


def _shortlist(
    key: str,
    rule: AwardRule,
    run: RunManifest,
    year: int,
    label: str,
    year_end: date,
    ids: list[str],
    values: dict[str, dict[str, float | None]],
    scores: dict[str, tuple[float, int]],
    partners: dict[str, tuple[str, date | None]],
    words: Words,
    size: int,
) -> Shortlist:
    catalog = words.catalog

    def value(pid: str, metric: str) -> float | None:
        if metric == SCORE:
            found = scores.get(pid)
            return found[0] if found else None
        return values.get(pid, {}).get(metric)

    def higher(metric: str) -> bool:
        if metric == SCORE or catalog is None or metric not in catalog:
            return True
        return catalog[metric].spec.direction is not Direction.LOWER

    considered = [p for p in ids if any(value(p, m) is not None for m in rule.rank_by)]
    eligible = []
    for pid in considered:
        if any(value(pid, m) is None for m in rule.rank_by):
            continue
        if not all(_meets(value(pid, q.metric), q.at_least, q.at_most) for q in rule.require):
            continue
        joined = partners.get(pid, ("", None))[1]
        if rule.joined_within_years is not None and (
            joined is None or joined < add_months(year_end, -12 * rule.joined_within_years)
        ):
            continue
        if (
            rule.min_tenure_years is not None
            and joined is not None
            and joined > add_months(year_end, -12 * rule.min_tenure_years)
        ):
            continue
        eligible.append(pid)
    metric_values = {m: {p: value(p, m) or 0.0 for p in eligible} for m in rule.rank_by}
    pct = {m: _percentiles(v, higher(m)) for m, v in metric_values.items()}
    total = sum(rule.rank_by.values())
    standing = {p: sum(w * pct[m][p] for m, w in rule.rank_by.items()) / total for p in eligible}
    first = next(iter(rule.rank_by))
    sign = 1 if higher(first) else -1
    ordered = sorted(eligible, key=lambda p: (-standing[p], -sign * metric_values[first][p], p))

    def position(metric: str, pid: str) -> int:
        """1 + the eligible partners strictly better on ``metric``."""
        mine, up = metric_values[metric][pid], higher(metric)
        return 1 + sum(1 for o in metric_values[metric].values() if (o > mine if up else o < mine))

    nominees = []
    for rank, pid in enumerate(ordered[:size], start=1):
        name, joined = partners.get(pid, (pid, None))
        reasons = [
            _why(words, m, value(pid, m), position(m, pid), len(eligible), scores.get(pid))
            for m in rule.rank_by
        ]
        reasons += [
            f"{words.metric(q.metric)} {words.of_metric(q.metric, value(pid, q.metric))}, "
            f"{_bound_words(words, q.metric, q.at_least, q.at_most)}."
            for q in rule.require
        ]
        if rule.joined_within_years is not None and joined is not None:
            reasons.append(
                f"Joined the program on {words.date(joined)}, within "
                f"{rule.joined_within_years} years of the year's end."
            )
        nominees.append(
            Nominee(
                rank,
                pid,
                name,
                standing[pid],
                {m: v for m in rule.rank_by if (v := value(pid, m)) is not None},
                tuple(reasons),
            )
        )
    return Shortlist(
        key,
        rule.label,
        rule.description,
        year,
        label,
        run.run_id,
        tuple(nominees),
        len(considered),
        len(eligible),
    )


def _meets(value: float | None, at_least: float | None, at_most: float | None) -> bool:
    if value is None:
        return False
    return (at_least is None or value >= at_least) and (at_most is None or value <= at_most)


def _bound_words(words: Words, metric: str, at_least: float | None, at_most: float | None) -> str:
    parts = []
    if at_least is not None:
        parts.append(f"at least {words.of_metric(metric, at_least)}")
    if at_most is not None:
        parts.append(f"at most {words.of_metric(metric, at_most)}")
    return " and ".join(parts) + " required"


def _why(
    words: Words,
    metric: str,
    value: float | None,
    position: int,
    eligible: int,
    score: tuple[float, int] | None,
) -> str:
    if metric == SCORE:
        periods = score[1] if score else 0
        head = (
            f"Scorecard score {words.number(value, digits=1)} of 100, the mean of "
            f"{periods} scored period{'' if periods == 1 else 's'}"
        )
    else:
        head = f"{words.metric(metric)} {words.of_metric(metric, value)}"
    if eligible <= 1:
        return f"{head}: the only eligible partner."
    return f"{head}: {ordinal(position)} of {eligible} eligible partners."
