"""The partner edition of a scorecard: what a partner is shown of its own scorecard.

Everything in it is listed here, section by section; nothing else of the full scorecard
passes. A partner sees its score and how it is made, its tiers and what the next tier needs
(of the rule sets in ``[tiers] shown_to_partners``: by default its revenue tier, not the
performance tier that ranks it against its peers), and each metric with its trend and
definition. It never sees the vendor's internal judgements
of it (exit and improvement flags, alerts, its rank or percentile among its peers, the peers'
medians and rates, the improvement plan) nor who at the vendor works on it. docs/web.md ("What
a partner user sees") says the same; tests/test_partner_view.py holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from partnerscope.reports.content import Report

#: section → the keys of each of its entries a partner sees
SUMMARY = (
    "scored",
    "score",
    "low_evidence",
    "evidence_coverage",
    "coverage_note",
    "note",
    "leading",
    "lagging",
    "annual_revenue",
)
TIER = ("ruleset", "ruleset_text", "tier", "next")
EXPLANATION = ("metric", "label", "indicator", "value", "weight", "contribution")
METRIC = ("name", "label", "weighted", "value", "previous", "change", "spark", "definition")
CHARTS = ("history", "contributions")


def partner_scorecard(report: Report, tiers: Collection[str]) -> Report:
    """The partner edition of a scorecard report (``scorecard.scorecard``), with the tiers of
    the rule sets in ``tiers`` (``[tiers] shown_to_partners``)."""
    sections = report.sections
    summary = _only(sections["summary"], SUMMARY)
    scored = summary["scored"]
    if not scored:
        # no score, so no word on its evidence; its note says why instead
        summary["coverage_note"] = ""
    return replace(
        report,
        kind="partner_scorecard",
        subtitle=report.partner_id or "",
        stamp=replace(
            report.stamp, config_hash="", definitions_version="", engine="", partnerscope=""
        ),
        sections={
            "summary": summary,
            # a partner left out of scoring holds no tier and has no score to explain
            "tiers": [
                _only(t, TIER) for t in sections["tiers"] if scored and t["ruleset"] in tiers
            ],
            "explanation": [_only(line, EXPLANATION) for line in sections["explanation"] if scored],
            "metrics": [_only(row, METRIC) for row in sections["metrics"]],
            "trend_periods": list(sections["trend_periods"]),
            "definitions": list(sections["definitions"]),
        },
        charts={
            name: spec
            for name, spec in report.charts.items()
            if name in CHARTS and (scored or name != "contributions")
        },
    )


def _only(entry: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: entry[key] for key in keys}
