"""The presets for support-case and partner-survey exports (presets/salesforce_cases.toml,
zendesk_tickets.toml, generic_partner_surveys.toml), each tested by ingesting a small file
shaped like that export: every row loaded or quarantined with its reason."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query

CASES = (
    "SELECT case_id, partner_id, account_id, priority, opened_at, first_response_at, "
    "resolved_at, first_contact_resolution, escalated, csat FROM support_cases ORDER BY 1"
)


def test_preset_salesforce_cases(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.cases]
        entity = "support_cases"
        path = "data/cases.csv"
        preset = "salesforce_cases"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/cases.csv": (
                "Id,CaseNumber,AccountId,Partner_Account__c,Priority,Status,CreatedDate,"
                "First_Response__c,ClosedDate,IsClosed,First_Contact_Resolution__c,IsEscalated,"
                "CSAT__c,LastModifiedDate\n"
                # row 2: a closed critical case answered after 90 min
                "500A,00001001,001A,P1,Critical,Closed,2025-04-01T09:00:00.000Z,"
                "2025-04-01T10:30:00.000Z,2025-04-01T12:00:00.000Z,true,true,false,5,"
                "2025-04-01T12:00:00.000Z\n"
                # row 3: open; the ClosedDate of an open case is not a resolution
                "500B,00001002,001B,P2,Medium,New,2025-04-02T08:00:00.000+02:00,,"
                "2025-04-09T00:00:00.000Z,false,,true,,2025-04-02T08:00:00.000Z\n"
                # row 4: closed before it was opened: quarantined
                "500C,00001003,001C,P1,Low,Closed,2025-04-05T09:00:00.000Z,,"
                "2025-04-04T09:00:00.000Z,true,false,false,,2025-04-05T09:00:00.000Z\n"
                # row 5: a priority the preset does not know: quarantined
                "500D,00001004,001D,P1,Someday,New,2025-04-05T09:00:00.000Z,,,false,,false,,"
                "2025-04-05T09:00:00.000Z\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 2
    assert query(ws, CASES) == [
        (
            "500A", "P1", "001A", "critical", datetime(2025, 4, 1, 9), datetime(2025, 4, 1, 10, 30),
            datetime(2025, 4, 1, 12), True, False, 5.0,
        ),
        (
            "500B", "P2", "001B", "standard", datetime(2025, 4, 2, 6), None, None, False, True,
            None,
        ),
    ]  # fmt: skip
    rules = [(row, column, rule) for row, column, _, rule in quarantine(ws) if row >= 2]
    assert (4, "resolved_at", "resolved_after_open") in rules
    assert next(r for r in rules if r[0] == 5)[1] == "priority"


def test_preset_zendesk_tickets(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.tickets]
        entity = "support_cases"
        path = "data/tickets.csv"
        preset = "zendesk_tickets"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/tickets.csv": (
                "Summation column,Id,Requester,Organization,Partner,Subject,Tags,Status,Priority,"
                "Created at,Updated at,Solved at,Satisfaction Score,Replies,"
                "First reply time in minutes,Full resolution time in minutes\n"
                # row 2: urgent, first reply after 95 minutes, solved with one reply, Good
                "1,101,Ann,Globex,P1,Down,escalated vip,Solved,Urgent,2025-04-01 10:00:00 +0100,"
                "2025-04-01 13:00:00 +0100,2025-04-01 12:00:00 +0100,Good,1,95,120\n"
                # row 3: normal, open, no reply yet, survey offered but not answered
                "1,102,Bob,Initech,P2,Question,,Open,Normal,2025-04-02T08:00:00Z,"
                "2025-04-02T08:00:00Z,,Offered,0,,\n"
                # row 4: solved after three replies, rated Bad
                "1,103,Cy,Globex,P1,Bug,billing,Solved,High,2025-04-03T08:00:00Z,"
                "2025-04-04T08:00:00Z,2025-04-04T08:00:00Z,Bad,3,10,1440\n"
                # row 5: solved before it was created: quarantined
                "1,104,Di,Globex,P1,Odd,,Solved,Low,2025-04-05T08:00:00Z,2025-04-05T08:00:00Z,"
                "2025-04-04T08:00:00Z,,1,5,\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 1
    assert query(ws, CASES) == [
        (
            "101", "P1", "Globex", "critical", datetime(2025, 4, 1, 9),
            datetime(2025, 4, 1, 10, 35), datetime(2025, 4, 1, 11), True, True, 5.0,
        ),
        (
            "102", "P2", "Initech", "standard", datetime(2025, 4, 2, 8), None, None, False, False,
            None,
        ),
        (
            "103", "P1", "Globex", "high", datetime(2025, 4, 3, 8), datetime(2025, 4, 3, 8, 10),
            datetime(2025, 4, 4, 8), False, False, 1.0,
        ),
    ]  # fmt: skip
    rules = [(row, column, rule) for row, column, _, rule in quarantine(ws)]
    assert (5, "resolved_at", "resolved_after_open") in rules


def test_preset_generic_partner_surveys(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.psurveys]
        entity = "partner_surveys"
        path = "data/psurveys.csv"
        preset = "generic_partner_surveys"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/psurveys.csv": (
                "Response ID,Partner ID,Sent Date,Response Date,Satisfaction,"
                "Likelihood to Recommend,Comments\n"
                "R1,P1,2025-04-01,2025-04-03,9,10 - Extremely likely,Great support\n"
                "R2,P2,2025-04-01,,,,\n"  # not answered
                "R3,P1,2025-04-01,2025-04-02,7.5,0 (Not at all likely),Margins too thin\n"
                "R4,P2,2025-04-05,2025-04-04,8,8,\n"  # answered before it was sent
                "R5,P2,2025-04-05,,8,8,\n"  # an answer without a response date
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 2
    assert query(
        ws,
        "SELECT response_id, partner_id, sent_at, responded_at, satisfaction, recommend, comment "
        "FROM partner_surveys ORDER BY 1",
    ) == [
        ("R1", "P1", datetime(2025, 4, 1), datetime(2025, 4, 3), 9.0, 10.0, "Great support"),
        ("R2", "P2", datetime(2025, 4, 1), None, None, None, None),
        ("R3", "P1", datetime(2025, 4, 1), datetime(2025, 4, 2), 7.5, 0.0, "Margins too thin"),
    ]
    rules = {(row, rule) for row, _, _, rule in quarantine(ws)}
    assert {(5, "responded_after_sent"), (6, "answer_needs_date")} <= rules
