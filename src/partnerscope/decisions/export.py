"""Decision records as Markdown (one file per decision, in the template's order) and their
review dates as an iCalendar file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from partnerscope.decisions import cadence
from partnerscope.decisions.record import DecisionRecord, Signal
from partnerscope.present import Words
from partnerscope.scenarios import inputs

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog
    from partnerscope.scenarios.inputs import Distribution, Override

#: The template's sections, in order; a test holds the Markdown export to it.
SECTIONS = (
    "1. Frame",
    "2. Compare",
    "Options",
    "Constraints",
    "Evidence",
    "Trade-offs",
    "Scenario ranges",
    "Risks and mitigations",
    "Decision criteria",
    "Facts",
    "Assumptions",
    "Open questions",
    "Success metrics",
    "Key assumptions and break-even thresholds",
    "3. Commit",
    "Reviews",
)


def file_name(record: DecisionRecord) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", record.title.lower()).strip("-")[:60]
    return f"{record.ref}-{slug}.md"


def to_markdown(
    record: DecisionRecord,
    catalog: Catalog | None = None,
    *,
    chart: str | None = None,
    words: Words | None = None,
    grain: str = "quarter",
) -> str:
    """The record in the template's order, its values in ``words`` (the workspace's; en_US and
    USD when not given); ``chart`` names the scenario bands' image file, ``grain`` is the
    scorecard's (a signal without one is read in it)."""
    words = words or Words(catalog=catalog)
    frame, compare, commit = record.frame, record.compare, record.commit
    out = [f"# {record.ref}: {record.title}", ""]
    out += [
        f"Status: **{record.status.value}** · created {record.created_at:%Y-%m-%d} by "
        f"{record.created_by} · version {record.version}",
        "",
        "## 1. Frame",
        "",
        f"- **Decision:** {frame.decision}",
        f"- **Owner:** {frame.owner or '— (none yet)'}",
        f"- **Time horizon:** {frame.horizon_months} months",
        f"- **Scope:** {frame.scope or '—'}",
        f"- **Background:** {frame.background or '—'}",
        f"- **Objective:** {frame.objective or '—'}",
        "",
        "## 2. Compare",
        "",
        "### Options",
        "",
    ]
    out += _table(
        ["", "Option", "Description", "Modelled as"],
        [
            [o.key, o.label, o.description, _overrides(o.overrides, words) or "the current inputs"]
            for o in compare.options
        ],
    )
    out += ["### Constraints", "", *_bullets(compare.constraints)]
    out += ["### Evidence", ""]
    weak = [e for e in compare.evidence if not e.sufficient]
    if weak:
        out += [
            f"> **Weak evidence:** {len(weak)} of {len(compare.evidence)} cited values lack "
            "the minimum evidence; they are marked ⚠ below.",
            "",
        ]
    out += _table(
        ["Metric", "Scope", "Period", "Value", "Run", "Evidence"],
        [
            [
                words.metric(e.metric),
                e.scope,
                e.period + (" (forecast)" if e.forecast is not None else ""),
                words.of_metric(e.metric, e.value),
                str(e.run_id),
                " ".join(
                    part
                    for part in (
                        "ok" if e.sufficient else f"⚠ {e.weakness(words)}",
                        e.forecast_text(words),
                    )
                    if part
                ),
            ]
            for e in compare.evidence
        ],
        empty="No measured metric cited: the evidence is only assumptions.",
    )
    out += ["### Trade-offs", "", *_bullets(compare.trade_offs)]
    out += ["### Scenario ranges", "", *_scenario_ranges(compare.result, words)]
    if chart and compare.result:
        out += [f"![Monthly P10–P90 bands and P50 of each option]({chart})", ""]
    out += ["### Risks and mitigations", ""]
    out += _table(["Risk", "Mitigation"], [[r.risk, r.mitigation or "—"] for r in compare.risks])
    out += ["### Decision criteria", ""]
    out += _table(
        ["Criterion", "Weight", "Measured by"],
        [
            [
                c.name,
                words.share(c.weight, digits=0),
                f"{c.statistic.upper()} of modelled {c.outcome}"
                if c.outcome
                else "judged: " + ", ".join(f"{k} {v:g}/10" for k, v in c.scores.items()),
            ]
            for c in compare.criteria
        ],
    )
    out += ["### Facts", "", *_bullets(compare.facts)]
    out += ["### Assumptions", "", *_bullets(compare.assumptions)]
    out += ["### Open questions", "", *_bullets(compare.open_questions)]
    out += [
        "### Success metrics",
        "",
        *_bullets([words.metric(m) for m in compare.success_metrics]),
    ]
    out += [
        "### Key assumptions and break-even thresholds",
        "",
        *_break_even(compare.result, words),
    ]
    out += ["## 3. Commit", ""]
    if commit is None:
        out += ["Not committed yet.", ""]
    else:
        chosen = record.option(commit.option)
        plan = commit.review
        out += [
            f"- **Selected option:** {commit.option}" + (f" ({chosen.label})" if chosen else ""),
            f"- **Rationale:** {commit.rationale}",
            f"- **Owner:** {commit.owner}",
            f"- **Timeline:** {commit.timeline or '—'}",
            f"- **Committed:** {commit.committed_on} by {commit.committed_by}",
            f"- **Reviews:** initial {plan.first}, operating every {plan.every_months} "
            f"month(s), post-review {plan.post}",
            "",
            "Reversal signals and stop conditions:",
            "",
            *_bullets([_signal(s, words, catalog, grain) for s in commit.signals]),
        ]
    out += ["## Reviews", ""]
    out += _table(
        ["Scheduled", "Review", "Held", "Outcome", "Why", "By"],
        [
            [str(r.scheduled), r.kind.value, str(r.held_on), r.outcome.value, r.why, r.by]
            for r in record.reviews
        ],
        empty="No review recorded yet.",
    )
    if commit is not None:
        upcoming = cadence.outstanding(record)
        if upcoming:
            out += ["Upcoming: " + ", ".join(s.label() for s in upcoming), ""]
    return "\n".join(out).rstrip() + "\n"


def to_ics(records: Iterable[DecisionRecord], *, workspace_name: str) -> bytes:
    """Every scheduled review of the committed decisions, as all-day events."""
    from datetime import timedelta

    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//partnerscope//decision reviews//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{workspace_name}: decision reviews")
    for record in records:
        if record.commit is None:
            continue
        held = {r.scheduled for r in record.reviews}
        for scheduled in cadence.schedule(record.commit.review):
            event = Event()
            event.add("uid", f"{record.ref}-{scheduled.on:%Y%m%d}@{workspace_name}.partnerscope")
            event.add("summary", f"{record.ref} {scheduled.kind.value} review: {record.title}")
            event.add("dtstart", scheduled.on)
            event.add("dtend", scheduled.on + timedelta(days=1))
            # stamped with the commit, not the export time: the same record exports the same file
            event.add("dtstamp", record.created_at)
            signals = "; ".join(s.condition for s in record.commit.signals) or "none"
            event.add(
                "description",
                f"Owner: {record.owner}. Decide: continue, adapt or stop. "
                f"Reversal signals: {signals}. "
                f"Record it with: partnerscope decide review {record.decision_id}",
            )
            event.add("status", "CONFIRMED" if scheduled.on not in held else "CANCELLED")
            calendar.add_component(event)
    return bytes(calendar.to_ical())


def _scenario_ranges(result: dict[str, Any] | None, words: Words) -> list[str]:
    if not result:
        return ["Not modelled yet (`partnerscope decide compare`).", ""]
    spec = result["spec"]
    lines = [
        f"Modelled on run {result['run_id']}: {spec['trials']:,} trials over "
        f"{spec['horizon_months']} months, seed {spec['seed']}. Each cell is P10 / P50 / P90 "
        "(worst / base / best case); revenue and margin are totals over the horizon, coverage "
        "and control at its end.",
        "",
    ]
    rows = [
        [
            f"{option['key']} {option['label']}".strip(),
            *(
                " / ".join(
                    words.outcome(name, option["outcomes"][name][q]) for q in ("p10", "p50", "p90")
                )
                for name in ("revenue", "margin", "coverage", "control")
            ),
            words.number(option["score"], digits=2),
        ]
        for option in result["options"]
    ]
    lines += _table(
        ["Option", "Revenue", "Contribution margin", "Coverage", "Control index", "Score"], rows
    )
    lines += [f"Recommended by the model under the criteria: **{result['recommended']}**.", ""]
    return lines


def _break_even(result: dict[str, Any] | None, words: Words) -> list[str]:
    if not result:
        return ["Not modelled yet.", ""]
    rows = [
        [
            words.input_name(item["input"]),
            words.in_kind(item["center"], inputs.kind(item["input"])),
            _threshold(item["input"], item["below"], words),
            _threshold(item["input"], item["above"], words),
        ]
        for item in result["break_even"]
    ]
    head = [
        f"The values at which the recommendation ({result['recommended']}) would change, each "
        "assumption moved on its own:",
        "",
    ]
    return head + _table(
        ["Assumption", "Base", "Below this, prefer", "Above this, prefer"],
        rows,
        empty="No key assumption was varied.",
    )


def _threshold(name: str, found: dict[str, Any] | None, words: Words) -> str:
    if not found:
        return "— (no threshold in range)"
    return f"{words.in_kind(found['value'], inputs.kind(name))} → {found['option']}"


def _overrides(overrides: Mapping[str, Distribution | Override], words: Words) -> str:
    return "; ".join(
        f"{words.input_name(name)}: {words.override(inputs.kind(name), d.model_dump(mode='json'))}"
        for name, d in overrides.items()
    )


def _signal(signal: Signal, words: Words, catalog: Catalog | None, grain: str) -> str:
    """A reversal signal or stop condition in words (as typed when it cannot be read)."""
    from partnerscope.decisions.signals import in_words

    kind = "Stop condition" if signal.kind == "stop" else "Reversal signal"
    said = in_words(signal.condition, words, catalog, grain=grain) if catalog else None
    return f"{kind}: {said or signal.condition}"


def _bullets(items: Sequence[str]) -> list[str]:
    return [*(f"- {item}" for item in items), ""] if items else ["—", ""]


def _table(header: list[str], rows: list[list[str]], *, empty: str = "—") -> list[str]:
    if not rows:
        return [empty, ""]

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]
