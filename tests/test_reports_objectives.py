"""The executive summary's strategic objectives (issue 30): each a tile against its goal with a
sparkline, and "no data yet" with the data that would fill it where the workspace has none.

The fixture's values are worked out by hand (as of 2024-07-01, calendar quarters):

- Channel revenue share: the partners' won revenue in FY2024-Q2 is 300 + 100 + 150 = 550 of
  700 with the direct deal D1 (150): 11/14 = 78.6 %, goal 60 % (met); FY2024-Q1 has no direct
  deal, so 100 %: the change is −21.4 points.
- Share of partners at quota: Q2 attainment P1 300/400, P2 100/100, P3 150/100: 2 of 3 =
  66.7 %, goal 85 % (missed).
- Partner satisfaction: partner surveys sent in Q2 and answered with a score: P1 9, P2 7 (P3's
  is unanswered): mean 8.0 of 10, goal 9.0 (missed); Q1: P1's 6.0.
- Customer satisfaction: CSAT responses in Q2: 5, 4, 3, 2 on 1–5 (two satisfied) and 8 on
  0–10 ((8 − 0) × 4 = 32 ≥ 3 × 10: satisfied): 3 of 5 = 60 %, goal 90 % (missed); Q1: one
  5 of 5: 100 %.
- Market coverage: target territories T-DE, T-FR, T-ES, T-IT (T-US is no target); P1 lists
  T-DE and holds a certification without expiry, P2 lists T-FR and its certification expires on
  2024-05-15, P3 lists nothing (and has no country): at the end of Q2 only T-DE is covered, 1 of
  4 = 25 %, goal 95 % (missed), 3 target territories without a partner; at the end of Q1 T-DE
  and T-FR, 50 %. The workspace without these files has no data yet.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.reports import render
from partnerscope.reports.executive import executive
from tests.conftest import make_workspace
from tests.test_reports import CONFIG, OPPS, PARTNERS, QUOTAS, Page

SURVEYS = """
[sources.surveys]
entity = "surveys"
path = "data/surveys.csv"
[sources.surveys.columns]
response_id = "id"
partner_id = "partner"
responded_at = "at"
kind = "kind"
score = "score"
scale_min = "min"
scale_max = "max"

[sources.partner_surveys]
entity = "partner_surveys"
path = "data/partner_surveys.csv"
[sources.partner_surveys.columns]
response_id = "id"
partner_id = "partner"
sent_at = "sent"
responded_at = "answered"
satisfaction = "satisfaction"
recommend = "recommend"

[sources.territories]
entity = "territories"
path = "data/territories.csv"
[sources.territories.columns]
territory_id = "territory_id"
name = "name"
country = "country"
region = "region"
vertical = "vertical"
is_target = "is_target"
[sources.partner_territories]
entity = "partner_territories"
path = "data/partner_territories.csv"
[sources.partner_territories.columns]
partner_id = "partner_id"
territory_id = "territory_id"
[sources.certifications]
entity = "certifications"
path = "data/certifications.csv"
[sources.certifications.columns]
record_id = "record_id"
partner_id = "partner_id"
person_id = "person_id"
certification = "certification"
issued_at = "issued_at"
expires_at = "expires_at"
"""
CSAT = (
    "id,partner,at,kind,score,min,max\n"
    "S1,P1,2024-02-10,csat,5,1,5\n"
    "S2,P1,2024-04-10,csat,5,1,5\n"
    "S3,P2,2024-05-10,csat,4,1,5\n"
    "S4,P2,2024-05-11,csat,3,1,5\n"
    "S5,P3,2024-06-10,csat,2,1,5\n"
    "S6,P3,2024-06-11,csat,8,0,10\n"
)
PARTNER_SURVEYS = (
    "id,partner,sent,answered,satisfaction,recommend\n"
    "PS1,P1,2024-02-01,2024-02-03,6,7\n"
    "PS2,P1,2024-04-10,2024-04-12,9,10\n"
    "PS3,P2,2024-05-01,2024-05-02,7,8\n"
    "PS4,P3,2024-05-05,,,\n"
)
TERRITORIES = (
    "territory_id,name,country,region,vertical,is_target\n"
    "T-DE,Germany,Germany,EMEA,,true\n"
    "T-FR,France,France,EMEA,,true\n"
    "T-ES,Spain,Spain,EMEA,,true\n"
    "T-IT,Italy,Italy,EMEA,,true\n"
    "T-US,United States,United States,AMER,,false\n"
)
PARTNER_TERRITORIES = "partner_id,territory_id\nP1,T-DE\nP2,T-FR\n"
CERTIFICATIONS = (
    "record_id,partner_id,person_id,certification,issued_at,expires_at\n"
    "C1,P1,U1,CERT-A,2023-01-01,\n"
    "C2,P2,U2,CERT-A,2023-01-01,2024-05-15\n"
)
AS_OF = datetime(2024, 7, 1)
Q2 = "FY2024-Q2"


def _workspace(root, config, files):  # type: ignore[no-untyped-def]
    ws = make_workspace(root, config, files)
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=AS_OF)
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory):  # type: ignore[no-untyped-def]
    files = {
        "data/partners.csv": PARTNERS,
        "data/opps.csv": OPPS,
        "data/quotas.csv": QUOTAS,
        "data/surveys.csv": CSAT,
        "data/partner_surveys.csv": PARTNER_SURVEYS,
        "data/territories.csv": TERRITORIES,
        "data/partner_territories.csv": PARTNER_TERRITORIES,
        "data/certifications.csv": CERTIFICATIONS,
    }
    return _workspace(tmp_path_factory.mktemp("objectives") / "ws", CONFIG + SURVEYS, files)


def test_the_strategic_objectives_against_their_goals(ws) -> None:  # type: ignore[no-untyped-def]
    report = executive(RunData(ws), Q2)
    tiles = {o["name"]: o for o in report.sections["objectives"]}
    assert list(tiles) == [
        "channel_revenue_share",
        "partner_satisfaction",
        "share_partners_at_quota",
        "market_coverage",
        "customer_satisfaction",
    ]
    share = tiles["channel_revenue_share"]
    assert share["shown"] and share["value"].value == pytest.approx(11 / 14)
    assert (share["value"].text, share["value"].judged) == ("78.6%", "good")
    assert share["goal"].text == "60.0%"
    assert share["change"].value == pytest.approx(11 / 14 - 1)
    assert share["spark"].startswith("<svg")  # two quarters: a line
    quota = tiles["share_partners_at_quota"]
    assert (quota["value"].value, quota["value"].judged) == (pytest.approx(2 / 3), "bad")
    assert quota["goal"].text == "85.0%"
    partner = tiles["partner_satisfaction"]
    assert (partner["value"].value, partner["value"].judged) == (8.0, "bad")
    assert partner["goal"].value == 9.0
    assert partner["change"].value == pytest.approx(2.0)  # from 6.0 in Q1
    customer = tiles["customer_satisfaction"]
    assert (customer["value"].value, customer["value"].text) == (pytest.approx(0.6), "60.0%")
    assert customer["goal"].text == "90.0%"
    assert customer["value"].judged == "bad"
    coverage = tiles["market_coverage"]
    assert (coverage["value"].value, coverage["value"].text) == (0.25, "25.0%")
    assert (coverage["goal"].text, coverage["value"].judged) == ("95.0%", "bad")
    assert coverage["change"].value == pytest.approx(-0.25)  # from 2 of 4 at the end of Q1
    assert report.sections["coverage_gaps"] == (
        "3 of 4 target territories have no active, certified partner at the end of FY2024-Q2."
    )


def test_the_objectives_on_the_page(ws) -> None:  # type: ignore[no-untyped-def]
    html = render.html(executive(RunData(ws), Q2))
    page = Page(html)
    values = {m: v for m, v, _ in page.figures if v is not None}
    assert values["partner_satisfaction"] == 8.0
    assert values["customer_satisfaction"] == pytest.approx(0.6)
    assert values["market_coverage"] == 0.25
    assert "3 of 4 target territories have no active, certified partner" in html
    # the channel share is an objective tile, not shown twice among the other figures
    assert html.count('data-metric="channel_revenue_share"') == 1


def test_a_workspace_without_the_new_data_says_no_data_yet(tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = {"data/partners.csv": PARTNERS, "data/opps.csv": OPPS, "data/quotas.csv": QUOTAS}
    ws = _workspace(tmp_path / "ws", CONFIG, files)
    tiles = {o["name"]: o for o in executive(RunData(ws), Q2).sections["objectives"]}
    assert [n for n, o in tiles.items() if o["shown"]] == [
        "channel_revenue_share",
        "share_partners_at_quota",
    ]
    assert tiles["partner_satisfaction"]["note"] == (
        "No data yet: load partner surveys (the partners' 0–10 rating of the vendor and its "
        "program)."
    )
    assert tiles["customer_satisfaction"]["value"].value is None
    coverage = tiles["market_coverage"]
    assert coverage["value"].text == "No data yet"
    assert coverage["goal"].text == "95.0%"
    assert coverage["note"] == (
        "No data yet: load the target territories, the territories each partner serves and "
        "the partners' certifications."
    )
    report = executive(RunData(ws), Q2)
    assert report.sections["coverage_gaps"] == ""
    # on the page: the tile says what would fill it and shows no number, no 0
    html = render.html(report)
    tile = html.split('data-objective="market_coverage"')[1].split("data-objective=")[0]
    assert "No data yet" in tile and "data-value" not in tile and "0.0%" not in tile


def test_the_objectives_in_the_workbook(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    from partnerscope.reports.write import Format, Kind, write_reports

    written = write_reports(ws, Kind.EXECUTIVE, Format.XLSX, period=Q2, out=tmp_path)
    sheet = openpyxl.load_workbook(written.files[0])["Summary"]
    rows = list(sheet.iter_rows(min_row=5, max_col=5, values_only=True))
    table = {r[0]: r[1:] for r in rows[: next(i for i, r in enumerate(rows) if r[0] is None)]}
    assert list(table)[:5] == [
        "Channel revenue share",
        "Partner satisfaction",
        "Share of partners at quota",
        "Market coverage",
        "Customer satisfaction",
    ]
    assert table["Partner satisfaction"][:2] == (8.0, 9.0)
    assert table["Market coverage"][:2] == (0.25, 0.95)
    assert list(table).count("Channel revenue share") == 1  # not again among the figures
