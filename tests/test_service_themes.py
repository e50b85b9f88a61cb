"""Themes of partner survey comments (evaluation/themes.py): the vocabulary's matches, one count
per comment and theme, per partner and for the portfolio, and the comments of a period."""

from __future__ import annotations

from datetime import date

import pytest

from partnerscope.evaluation.themes import THEMES, count_themes, survey_comments, themes_of
from partnerscope.metrics.calendar import FiscalCalendar, Grain
from tests.test_metrics_service import fixture_workspace


def test_a_comment_mentions_every_theme_it_names_once() -> None:
    found = themes_of("Great SUPPORT team, but the portal is slow; support tickets pile up.")
    assert found == {"support": ["support", "tickets"], "portal": ["portal"]}
    assert list(themes_of("Margins thin, MDF claims slow, co-op funds late")) == [
        "margins",
        "mdf",
    ]
    assert list(themes_of("Payments arrive late and nobody sends updates by e-mail")) == [
        "communication",
        "payments",
    ]


def test_short_words_match_whole_words_only() -> None:
    # "lead" is a theme word, "leadership" is not; "pay" is, "payroll" is not (no stem)
    assert themes_of("Their leadership is strong") == {}
    assert themes_of("We pay our staff via payroll") == {"payments": ["pay"]}
    assert list(themes_of("More leads, please")) == ["leads"]
    assert themes_of("") == {} and themes_of(None) == {}


def test_every_theme_has_a_label_and_words() -> None:
    assert [t.key for t in THEMES] == [
        "support", "portal", "margins", "leads", "mdf", "training", "communication", "payments",
    ]  # fmt: skip
    assert all(t.label and (t.stems or t.words) for t in THEMES)


def test_counts_per_partner_and_for_the_portfolio() -> None:
    counts = count_themes(
        [
            ("P1", "Support is slow and support is rude"),  # support once
            ("P1", "Certification exams are too hard; training is good"),  # training once
            ("P2", "Support fine, payments late"),  # support, payments
            ("P2", "   "),  # blank: not a comment
            ("P2", "All good"),  # a comment, no theme
        ]
    )
    assert counts.comments == {"P1": 2, "P2": 2}
    assert counts.by_partner["P1"] == {"support": 1, "training": 1}
    assert counts.by_partner["P2"] == {"support": 1, "payments": 1}
    rows = {r["theme"]: r for r in counts.rows()}
    assert rows["support"]["comments"] == 2 and rows["support"]["share"] == 0.5  # 2 of 4
    assert rows["leads"]["comments"] == 0
    only = counts.only(["P2"])
    assert only.portfolio == {"support": 1, "payments": 1} and only.comments == {"P2": 2}


def test_the_comments_of_a_period_are_those_of_the_surveys_sent_in_it(tmp_path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    q2 = FiscalCalendar(1).period_of(date(2025, 4, 1), Grain.QUARTER)
    with ws.warehouse(read_only=True) as wh:
        found = survey_comments(wh.con, q2, "UTC")
    # R1 R2 R4 R6 of P1 (R3 unanswered, R5 sent in Q1); S1 of P2 has no comment
    assert [p for p, _ in found] == ["P1"] * 4
    counts = count_themes(found)
    assert counts.portfolio == {
        "support": 1,  # R1
        "portal": 1,  # R1
        "margins": 1,  # R2
        "mdf": 1,  # R2
        "leads": 1,  # R4
        "payments": 1,  # R4
    }
    q1 = q2.previous()
    with ws.warehouse(read_only=True) as wh:
        assert survey_comments(wh.con, q1, "UTC") == [("P1", "Sent in Q1: counts in Q1")]


def test_a_workspace_extends_the_vocabulary_in_its_configuration(tmp_path) -> None:
    from partnerscope.config import load_config
    from partnerscope.evaluation.themes import vocabulary

    path = tmp_path / "partnerscope.toml"
    path.write_text(
        '[service.themes.support]\nwords = ["Hotfix"]\n'
        '[service.themes.onboarding]\nstems = ["onboard", "kickoff"]\n'
        '[service.themes.deal_desk]\nlabel = "Deal desk"\nwords = ["desk"]\n',
        encoding="utf-8",
    )
    themes = vocabulary(load_config(path, check_files=False).service)
    assert [t.key for t in themes][-3:] == ["payments", "onboarding", "deal_desk"]
    assert [t.label for t in themes][-2:] == ["Onboarding", "Deal desk"]
    counts = count_themes(
        [("P1", "The hotfix came late; onboarding was slow"), ("P1", "Ask the desk")], themes
    )
    assert counts.by_partner["P1"] == {"support": 1, "onboarding": 1, "deal_desk": 1}
    assert {r["theme"]: r["comments"] for r in counts.rows()}["deal_desk"] == 1


def test_a_theme_that_is_not_words_is_refused_at_its_key(tmp_path) -> None:
    from partnerscope.config import load_config
    from partnerscope.errors import ConfigError

    path = tmp_path / "partnerscope.toml"
    path.write_text('[service.themes.pricing]\nstems = ["price list"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, check_files=False)
    assert "service.themes.pricing.stems" in str(caught.value)
