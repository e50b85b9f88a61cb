"""The presets for territory exports (presets/salesforce_territories.toml,
salesforce_partner_territories.toml, generic_territories.toml), each tested by ingesting a small
file shaped like that export: every row loaded or quarantined with its reason."""

from __future__ import annotations

from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query

TERRITORIES = "SELECT territory_id, name, country, region, vertical, is_target FROM territories"


def test_preset_salesforce_territories(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.territories]
        entity = "territories"
        path = "data/territory2.csv"
        preset = "salesforce_territories"
        [sources.assignments]
        entity = "partner_territories"
        path = "data/assignments.csv"
        preset = "salesforce_partner_territories"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/territory2.csv": (
                "Id,Name,DeveloperName,Territory2TypeId,Country__c,LastModifiedDate\n"
                "0MI1,DACH Germany,DACH_Germany,0M51,Germany,2025-01-10T09:00:00.000Z\n"
                "0MI2,France,France,0M51,France,2025-01-10T09:00:00.000Z\n"
                # row 4: no country: quarantined
                "0MI3,Unassigned,Unassigned,0M51,,2025-01-10T09:00:00.000Z\n"
            ),
            "data/assignments.csv": (
                "Id,ObjectId,Territory2Id,AssociationCause,LastModifiedDate\n"
                "0R01,P1,0MI1,Territory2Manual,2025-01-11T09:00:00.000Z\n"
                "0R02,P2,0MI2,Territory2Manual,2025-01-11T09:00:00.000Z\n"
                # row 4: a customer account, not a partner: quarantined
                "0R03,001XYZ,0MI2,Territory2Manual,2025-01-11T09:00:00.000Z\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 2
    assert query(ws, TERRITORIES + " ORDER BY 1") == [
        ("0MI1", "DACH Germany", "Germany", None, None, True),
        ("0MI2", "France", "France", None, None, True),
    ]
    assert query(ws, "SELECT partner_id, territory_id FROM partner_territories ORDER BY 1") == [
        ("P1", "0MI1"),
        ("P2", "0MI2"),
    ]
    rules = {(row, column) for row, column, _, _ in quarantine(ws)}
    assert (4, "country") in rules and (4, "partner_id") in rules


def test_preset_generic_territories(workspace_factory):
    ws = workspace_factory(
        """
        [sources.territories]
        entity = "territories"
        path = "data/territories.csv"
        preset = "generic_territories"
        """,
        {
            "data/territories.csv": (
                "Territory ID,Territory,Country,Region,Vertical,Target\n"
                "DE,Germany,Germany,EMEA,,true\n"
                "DE-FIN,Germany finance,Germany,EMEA,Finance,\n"
                "US,United States,United States,AMER,,false\n"
            ),
        },
    )
    assert ws.ingest().quarantined == 0
    assert query(ws, TERRITORIES + " ORDER BY 1") == [
        ("DE", "Germany", "Germany", "EMEA", None, True),
        ("DE-FIN", "Germany finance", "Germany", "EMEA", "Finance", None),  # a target
        ("US", "United States", "United States", "AMER", None, False),
    ]
