"""A QBR's service-quality and retention sections (issue 30), shown only for a partner with
support cases or subscriptions, on the fixture of tests/test_reports.py with P1's cases and
contracts added. Values worked out by hand (as of 2024-07-01, FY2024-Q2 = April–June 2024):

Support cases of P1 opened in Q2 (K1–K4; K0 in Q1 is a critical case answered in 1 h):

    K1 critical  opened 04-02 09:00, answered 11:00 (2 h, in target), first contact, CSAT 5
    K2 critical  opened 05-03 09:00, answered 15:00 (6 h, missed), escalated, CSAT 2
    K3 standard  opened 05-10 08:00, resolved 20:00 (12 h, in target), at first contact, CSAT 4
    K4 standard  opened 06-01 08:00, resolved 06-03 08:00 (48 h, missed)

critical response within 4 h 1/2 = 50 % (Q1: 1/1 = 100 %); standard resolution within 24 h
1/2 = 50 %; first-contact resolution 2 of 4 resolved = 50 % against 80 %; escalation 1 of 4 =
25 % against 5 %; case satisfaction mean(5, 2, 4) = 11/3.

Subscription terms of P1 ending in Q2 (S4 runs to December and is not due):

    S1 A1 1,000 → renewed at 1,000;  S2 A2 2,000 → expanded to 2,600;  S3 A3 1,000 → churned

contracts due 3, renewed 2: renewal rate 66.7 % against 95 %; recurring value due 4,000, kept
1,000 + 2,000 + 0 = 3,000: gross revenue retention 75 %; renewed 1,000 + 2,600 + 0 = 3,600: net
revenue retention 90 %; expansion revenue 600; customers due A1, A2, A3, lost A3: churn 1/3.
P2 has neither cases nor contracts: its QBR has neither section.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.reports import render
from partnerscope.reports.qbr import qbr
from tests.conftest import make_workspace
from tests.test_reports import CONFIG, OPPS, PARTNERS, QUOTAS, Page

MORE = """
[sources.cases]
entity = "support_cases"
path = "data/cases.csv"
[sources.cases.columns]
case_id = "case_id"
partner_id = "partner_id"
priority = "priority"
opened_at = "opened_at"
first_response_at = "first_response_at"
resolved_at = "resolved_at"
first_contact_resolution = "first_contact_resolution"
escalated = "escalated"
csat = "csat"

[sources.subscriptions]
entity = "subscriptions"
path = "data/subscriptions.csv"
[sources.subscriptions.columns]
contract_id = "contract_id"
partner_id = "partner_id"
account_id = "account_id"
start_date = "start_date"
end_date = "end_date"
recurring_value = "recurring_value"
outcome = "outcome"
renewed_at = "renewed_at"
renewal_value = "renewal_value"
"""
CASES = (
    "case_id,partner_id,priority,opened_at,first_response_at,resolved_at,"
    "first_contact_resolution,escalated,csat\n"
    "K0,P1,critical,2024-02-01T10:00:00,2024-02-01T11:00:00,2024-02-01T12:00:00,true,false,\n"
    "K1,P1,critical,2024-04-02T09:00:00,2024-04-02T11:00:00,2024-04-02T15:00:00,true,false,5\n"
    "K2,P1,critical,2024-05-03T09:00:00,2024-05-03T15:00:00,2024-05-04T09:00:00,false,true,2\n"
    "K3,P1,standard,2024-05-10T08:00:00,,2024-05-10T20:00:00,true,false,4\n"
    "K4,P1,standard,2024-06-01T08:00:00,,2024-06-03T08:00:00,false,false,\n"
)
SUBSCRIPTIONS = (
    "contract_id,partner_id,account_id,start_date,end_date,recurring_value,outcome,"
    "renewed_at,renewal_value\n"
    "S1,P1,A1,2023-05-01,2024-04-30,1000,renewed,2024-04-20,1000\n"
    "S2,P1,A2,2023-06-01,2024-05-31,2000,expanded,2024-05-20,2600\n"
    "S3,P1,A3,2023-06-16,2024-06-15,1000,churned,,\n"
    "S4,P1,A5,2024-01-01,2024-12-31,500,open,,\n"
)
AS_OF = datetime(2024, 7, 1)
Q2 = "FY2024-Q2"


@pytest.fixture(scope="module")
def data(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("qbr-sections") / "ws"
    files = {
        "data/partners.csv": PARTNERS,
        "data/opps.csv": OPPS,
        "data/quotas.csv": QUOTAS,
        "data/cases.csv": CASES,
        "data/subscriptions.csv": SUBSCRIPTIONS,
    }
    ws = make_workspace(root, CONFIG + MORE, files)
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=AS_OF)
        yield RunData(ws)


def rows_of(report, title):  # type: ignore[no-untyped-def]
    (section,) = [s for s in report.sections["measures"] if s["title"] == title]
    return {r["name"]: r for r in section["rows"]}


def test_service_section_against_the_standards(data) -> None:  # type: ignore[no-untyped-def]
    report = qbr(data, "P1", Q2)
    rows = rows_of(report, "Service quality")
    value = {name: r["value"].value for name, r in rows.items()}
    assert value == {
        "critical_response_rate": 0.5,
        "standard_resolution_rate": 0.5,
        "first_contact_resolution_rate": 0.5,
        "escalation_rate": 0.25,
        "case_csat": pytest.approx(11 / 3),
    }
    assert rows["critical_response_rate"]["previous"].value == 1.0  # Q1: K0 in 1 h
    assert rows["critical_response_rate"]["change"].judged == "bad"
    goals = {name: (r["goal"].text, r["value"].judged) for name, r in rows.items() if r["goal"]}
    assert goals == {
        "first_contact_resolution_rate": ("80.0%", "bad"),
        "escalation_rate": ("5.0%", "bad"),
    }
    # its trend over the review's quarters (Q1, Q2): a sparkline
    assert rows["critical_response_rate"]["spark"].startswith("<svg")


def test_retention_section(data) -> None:  # type: ignore[no-untyped-def]
    report = qbr(data, "P1", Q2)
    rows = rows_of(report, "Retention and expansion")
    value = {name: r["value"].value for name, r in rows.items()}
    assert value == {
        "gross_revenue_retention": 0.75,
        "net_revenue_retention": 0.9,
        "renewal_rate": pytest.approx(2 / 3),
        "customer_churn_rate": pytest.approx(1 / 3),
        "expansion_revenue": 600.0,
    }
    assert (rows["renewal_rate"]["goal"].text, rows["renewal_rate"]["value"].judged) == (
        "95.0%",
        "bad",
    )
    assert rows["expansion_revenue"]["value"].text == "$600"
    assert [m["title"] for m in report.sections["measures"]] == [
        "Service quality",
        "Retention and expansion",
    ]


def test_sections_only_for_a_partner_with_the_data(data) -> None:  # type: ignore[no-untyped-def]
    report = qbr(data, "P2", Q2)
    assert report.sections["measures"] == []
    labels = [d["label"] for d in report.sections["definitions"]]
    assert "Renewal rate" not in labels and "Escalation rate" not in labels
    assert 'id="service-retention"' not in render.html(report)


def test_sections_on_the_page(data) -> None:  # type: ignore[no-untyped-def]
    html = render.html(qbr(data, "P1", Q2))
    page = Page(html)
    assert page.rows["escalation_rate"][0][1:] == (0.25, "25.0%")
    assert page.rows["gross_revenue_retention"][0][1:] == (0.75, "75.0%")
    assert "<h3>Service quality</h3>" in html and "<h3>Retention and expansion</h3>" in html


def test_sections_in_the_workbook(data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    from partnerscope.reports.write import Format, Kind, write_reports

    written = write_reports(
        data.workspace, Kind.QBR, Format.XLSX, partner="P1", period=Q2, out=tmp_path
    )
    sheet = openpyxl.load_workbook(written.files[0])["QBR"]
    cells = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert "Service quality" in cells and "Retention and expansion" in cells
    assert cells["Escalation rate"][:4] == (0.25, 0.0, None, 0.05)
    assert cells["Gross revenue retention"][0] == 0.75
