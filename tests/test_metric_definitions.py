"""The metric catalog: METRICS.md in full, and located errors for bad definitions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from partnerscope.errors import ConfigError
from partnerscope.metrics.definition import Kind, load_catalog
from partnerscope.metrics.expressions import ExpressionError, parse
from tests.conftest import make_workspace

METRICS_MD = Path(__file__).resolve().parents[2] / "shared" / "METRICS.md"


def problems_of(metrics: dict[str, dict[str, object]]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_catalog(metrics)
    return info.value.problems


def test_every_locked_metric_of_metrics_md_is_in_the_catalog():
    names = []
    for line in METRICS_MD.read_text(encoding="utf-8").splitlines():
        cell = line.split("|")[1].strip() if line.startswith("| ") else ""
        if cell and cell not in ("metric", "the sums above"):
            names += [n.strip() for n in re.split(r"[/,]", cell)]
    catalog = load_catalog()
    assert len(names) >= 35
    assert [n for n in names if n not in catalog] == []
    assert all(catalog[n].builtin for n in names)


def test_builtins_are_ordered_after_their_inputs_and_versioned():
    catalog = load_catalog()
    seen: set[str] = set()
    for metric in catalog:
        assert set(metric.depends_on) <= seen, metric.name
        seen.add(metric.name)
    assert catalog.version.startswith("2+")
    assert catalog["win_rate"].kind is Kind.RATIO
    assert catalog["win_rate"].evidence_metric == "closed_deals"
    assert catalog["median_response_hours"].holistic
    assert catalog["control_index"].group_only
    assert catalog["share_partners_at_quota"].group_only  # through partners_where


def test_a_workspace_metric_changes_the_catalog_version_but_not_the_builtins():
    plain = load_catalog()
    own = load_catalog(
        {
            "big_deals_won": {
                "entity": "opportunities",
                "agg": "count",
                "filter": "status = 'won' and amount >= 100000",
                "time": "closed_at",
                "unit": "count",
            },
            "big_deal_share": {"numerator": "big_deals_won", "denominator": "won_deals"},
        }
    )
    assert own.version != plain.version
    assert not own["big_deals_won"].builtin
    assert own["big_deal_share"].depends_on == ("big_deals_won", "won_deals")
    assert own["win_rate"] == plain["win_rate"]


def test_unknown_column_is_located_with_a_suggestion():
    problems = problems_of(
        {"m": {"entity": "opportunities", "agg": "sum", "measure": "amout", "time": "closed_at"}}
    )
    assert problems == [
        "metrics.m.measure: opportunities has no column 'amout'; did you mean 'amount'?; "
        "see `partnerscope schema opportunities`"
    ]


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        {
            "a": {"formula": "b + 1"},
            "b": {"formula": "a * 2"},
            "r": {"numerator": "won_deals", "denominator": "amount"},
            "e": {"entity": "oportunities", "agg": "count", "time": "closed_at"},
            "t": {"entity": "opportunities", "agg": "count", "time": "status"},
            "k": {"entity": "leads", "agg": "count", "time": "assigned_at", "colour": "red"},
        }
    )
    text = "\n".join(problems)
    assert "metrics.a: a cycle between derived metrics: a → b → a" in text
    assert (
        "metrics.r.denominator: 'amount' is not a metric; a ratio divides one metric by another"
        in text
    )
    assert "metrics.e.entity: unknown entity 'oportunities'; did you mean 'opportunities'?" in text
    assert "metrics.t.time: status is not a date or timestamp column" in text
    assert "metrics.k.colour: unknown key" in text
    assert len(problems) >= 5


def test_builtins_are_locked_but_their_minimum_evidence_can_be_set():
    problems = problems_of({"win_rate": {"formula": "won_deals / 2"}})
    assert problems == [
        "metrics.win_rate: win_rate is a locked built-in definition; only min_evidence can be "
        "set for it (got formula); define your own metric under another name"
    ]
    catalog = load_catalog({"win_rate": {"min_evidence": 5}})
    assert catalog["win_rate"].spec.min_evidence == 5
    assert catalog["win_rate"].spec.numerator == "won_deals"


def test_as_of_is_only_allowed_as_elapsed_time():
    problems = problems_of(
        {
            "m": {
                "entity": "leads",
                "agg": "count",
                "filter": "assigned_at < as_of",
                "time": "assigned_at",
            }
        }
    )
    assert problems == [
        "metrics.m.filter: as_of may only be used as hours_between(<column>, as_of) >= <hours> "
        "(or days_between, or >): the time elapsed since a column"
    ]
    sla = load_catalog()["leads_sla_due"]
    assert sla.as_of_horizon_hours({"sla_hours": 4.0}) == 4.0
    assert load_catalog()["won_revenue"].as_of_horizon_hours({}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount >", "cannot parse 'amount >'"),
        ("sleep(1)", "unknown function 'sleep'"),
        ("prior_year(won_revenue)", "only formulas may use it"),
        ("(select 1)", "is not allowed"),
        ("o.amount > 1", "without a table prefix"),
    ],
)
def test_expressions_refuse_what_they_cannot_mean(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text)


def test_workspace_metrics_are_checked_with_the_rest_of_the_config(tmp_path):
    ws = make_workspace(
        tmp_path,
        """
        [workspace]
        timezone = "Mars/Olympus"
        [metrics.m]
        numerator = "won_dels"
        denominator = "won_deals"
        """,
    )
    with pytest.raises(ConfigError) as info:
        ws.config  # noqa: B018
    assert info.value.problems == [
        "workspace.timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as 'UTC', "
        "'Europe/Berlin' or 'America/New_York'",
        "metrics.m.numerator: 'won_dels' is not a metric; did you mean 'won_deals'?; a ratio "
        "divides one metric by another (write an expression as a formula)",
    ]
