"""How partnerscope writes what people read (partnerscope.present): hand-checked examples in
two locales, the rounding rule amounts are kept by, and the names in words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerscope.metrics.definition import Unit, load_catalog
from partnerscope.present import MISSING, Words, check_locale

US = Words("en_US", "USD", load_catalog())
DE = Words("de_DE", "EUR", load_catalog())


def test_money_carries_its_currency_whole_to_the_cent_or_compact():
    assert US.money(583_088.004) == "$583,088"
    assert US.money(Decimal("583088.00"), cents=True) == "$583,088.00"
    assert US.money(52_300_000, compact=True) == "$52.3M"
    assert US.money(999, compact=True) == "$999"
    assert US.money(-1_234.5) == "-$1,235"  # half away from zero, as amounts are kept
    assert US.money(0.125, cents=True) == "$0.13"
    assert DE.money(583_088) == "583.088\xa0€"
    assert US.money(None) == US.money(float("nan")) == MISSING


def test_shares_are_percentages_and_their_changes_points():
    assert US.share(0.06242) == "6.2%"
    assert DE.share(0.06242) == "6,2\xa0%"
    assert US.points(0.012) == "+1.2 pts"
    assert US.points(-0.5) == "−50.0 pts"
    assert US.points(0.0) == "0.0 pts"


def test_each_unit_is_written_its_way():
    written = {unit: US.value(0.1634, unit) for unit in Unit}
    assert written == {
        Unit.MONEY: "$0",
        Unit.COUNT: "0",
        Unit.SHARE: "16.3%",
        Unit.RATIO: "0.2×",
        Unit.DAYS: "0.2 days",
        Unit.HOURS: "0.2 h",
        Unit.SCORE: "0.2",
        Unit.RATING: "0.16",
        Unit.MONEY_PER_DAY: "$0 a day",
        Unit.NUMBER: "0.16",
    }
    assert US.value(16_760.0, Unit.NUMBER) == "16,760"  # never 1.676e+04


def test_metrics_are_called_by_label_and_written_in_their_unit():
    assert US.metric("lead_sla_rate") == "Lead SLA rate"
    assert US.of_metric("won_revenue", 583_088.0) == "$583,088"
    assert US.of_metric("lead_sla_rate", 0.163) == "16.3%"
    assert US.change("win_rate", 0.30, 0.25) == "+5.0 pts"
    assert US.change("won_revenue", 110.0, 100.0) == "+10%"
    assert US.change("won_revenue", 5.0, 0.0) == "new"
    assert US.better("median_response_hours", 3.0, 5.0) is True  # lower is better


def test_names_in_words():
    assert US.partner_type("var") == "Value-added reseller"
    assert US.rule("bonus_bands") == "Quarterly bonus"
    assert US.criterion("bottom_of_cohort") == "Bottom of its peer group"
    assert US.alert_kind("anomaly_own") == "Unusual for this partner"
    assert US.date(date(2026, 12, 6)) == "Dec 6, 2026"
    assert DE.date("2026-12-06") == "06.12.2026"


def test_a_locale_is_checked():
    assert check_locale("en_GB") == "en_GB"
    with pytest.raises(ValueError, match="'xx_YY' is not a locale; write a language and country"):
        check_locale("xx_YY")


def test_spreadsheet_money_format_carries_the_currency_where_the_locale_puts_it():
    assert Words("en_US", "USD").excel_money() == '"$"#,##0'
    assert Words("en_US", "USD").excel_money(cents=True) == '"$"#,##0.00'
    assert Words("de_DE", "EUR").excel_money() == '#,##0 "€"'
    assert Words("de_CH", "CHF").excel_money() == '"CHF "#,##0'


def test_a_moment_is_the_24_hour_time_in_utc():
    from datetime import datetime

    evening = datetime(2026, 12, 6, 22, 26, 26)
    assert Words().moment(evening) == "Dec 6, 2026, 22:26 UTC"
    assert Words(locale="de_DE").moment(evening) == "06.12.2026, 22:26 UTC"
    assert Words().moment(None) == MISSING


def test_scenario_inputs_and_outcomes_in_their_kind():
    from partnerscope.scenarios.inputs import kind

    words = Words()
    assert [kind(n) for n in ("churn", "deal_size", "compliance_existing", "ramp_months")] == [
        "share",
        "money",
        "score",
        "number",
    ]
    assert kind("active_partners.Gold") == "count"
    assert words.input_name("mdf_spend") == "MDF spend"
    assert words.input_name("churn.Gold") == "Churn (Gold)"
    assert words.in_kind(0.125, "share") == "12.5%"
    assert words.in_kind(52_300_000, "money", compact=True) == "$52.3M"
    assert words.in_kind(12_500, "money") == "$12,500"
    assert words.override("money", {"scale": 1.3}) == "1.3× the base value"
    assert words.override("share", {"dist": "uniform", "low": 0.2, "high": 0.3}) == (
        "between 20.0% and 30.0%"
    )
    assert words.override("money", {"dist": "fixed", "value": 2000}) == "$2,000"
    assert words.outcome("coverage", 0.762) == "76.2%"
    assert words.outcome("control", 96.14) == "96.1"
    assert words.outcome("revenue", 265_593_389) == "$265.6M"
