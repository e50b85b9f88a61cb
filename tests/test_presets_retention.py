"""The presets for subscription exports (presets/salesforce_contracts.toml,
generic_subscriptions.toml), each tested by ingesting a small file shaped like that export:
every row loaded or quarantined with its reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query

SUBSCRIPTIONS = (
    "SELECT contract_id, partner_id, account_id, product, start_date, end_date, "
    "recurring_value, outcome, renewed_at, renewal_value FROM subscriptions ORDER BY 1"
)


def test_preset_salesforce_contracts(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.contracts]
        entity = "subscriptions"
        path = "data/contracts.csv"
        preset = "salesforce_contracts"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/contracts.csv": (
                "Id,ContractNumber,AccountId,Partner_Account__c,Product_Family__c,StartDate,"
                "EndDate,Status,ARR__c,Renewal_Status__c,Renewal_Date__c,Renewal_ARR__c,"
                "CurrencyIsoCode,LastModifiedDate\n"
                # row 2: upsold 12000 → 15000
                "800A,00000101,001A,P1,Compute,2024-04-01,2025-03-31,Activated,12000,Upsell,"
                "2025-03-10,15000,USD,2025-03-10T09:00:00.000Z\n"
                # row 3: undecided
                "800B,00000102,001B,P2,Storage,2025-01-01,2025-12-31,Activated,5000,,,,USD,"
                "2025-01-01T09:00:00.000Z\n"
                # row 4: cancelled
                "800C,00000103,001C,P1,Compute,2024-01-01,2024-12-31,Expired,3000,Cancelled,,,"
                "USD,2025-01-02T09:00:00.000Z\n"
                # row 5: renewed before the term started: quarantined
                "800D,00000104,001D,P1,Compute,2024-06-01,2025-05-31,Activated,1000,Renewed,"
                "2024-05-01,1000,USD,2024-05-01T09:00:00.000Z\n"
                # row 6: a status the preset does not know: quarantined
                "800E,00000105,001E,P2,Compute,2024-06-01,2025-05-31,Activated,1000,Maybe,,,USD,"
                "2024-05-01T09:00:00.000Z\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 2
    assert query(ws, SUBSCRIPTIONS) == [
        ("800A", "P1", "001A", "Compute", date(2024, 4, 1), date(2025, 3, 31), Decimal("12000.00"),
         "expanded", date(2025, 3, 10), Decimal("15000.00")),
        ("800B", "P2", "001B", "Storage", date(2025, 1, 1), date(2025, 12, 31), Decimal("5000.00"),
         "open", None, None),
        ("800C", "P1", "001C", "Compute", date(2024, 1, 1), date(2024, 12, 31), Decimal("3000.00"),
         "churned", None, None),
    ]  # fmt: skip
    rules = [(row, column, rule) for row, column, _, rule in quarantine(ws) if row >= 2]
    assert (5, "renewed_at", "renewal_after_start") in rules
    assert next(r for r in rules if r[0] == 6)[1] == "outcome"


def test_preset_generic_subscriptions(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.subs]
        entity = "subscriptions"
        path = "data/subs.csv"
        preset = "generic_subscriptions"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/subs.csv": (
                "Contract ID,Partner ID,Customer ID,Product,Start Date,End Date,ARR,Status,"
                "Renewal Date,Renewal ARR,Currency\n"
                # row 2: money with a sign and separators; downgraded
                'SUB-1/2024,P1,C1,Pro,2024-04-01,2025-03-31,"$12,000.00",Downgraded,2025-03-15,'
                '"$9,000.00",USD\n'
                # row 3: active: open
                "SUB-2/2025,P2,C2,Basic,2025-01-01,2025-12-31,2400,Active,,,USD\n"
                # row 4: non-renewing: churned
                "SUB-3/2024,P2,C3,Basic,2024-02-01,2025-01-31,1200,Non-Renewing,,,USD\n"
                # row 5: renewed before it started: quarantined
                "SUB-4/2024,P1,C4,Pro,2024-06-01,2025-05-31,1000,Renewed,2024-01-15,1000,USD\n"
                # row 6: ends before it starts: quarantined
                "SUB-5/2024,P1,C5,Pro,2024-06-01,2024-05-31,1000,Active,,,USD\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 2
    assert query(ws, SUBSCRIPTIONS) == [
        ("SUB-1/2024", "P1", "C1", "Pro", date(2024, 4, 1), date(2025, 3, 31),
         Decimal("12000.00"), "contracted", date(2025, 3, 15), Decimal("9000.00")),
        ("SUB-2/2025", "P2", "C2", "Basic", date(2025, 1, 1), date(2025, 12, 31),
         Decimal("2400.00"), "open", None, None),
        ("SUB-3/2024", "P2", "C3", "Basic", date(2024, 2, 1), date(2025, 1, 31),
         Decimal("1200.00"), "churned", None, None),
    ]  # fmt: skip
    rules = [(row, column, rule) for row, column, _, rule in quarantine(ws) if row >= 2]
    assert (5, "renewed_at", "renewal_after_start") in rules
    assert (6, "end_date", "end_after_start") in rules
