"""Column mappings: rename, constant, expr, value maps, defaults, formats, scale, number text,
null tokens, booleans and presets. Every expected value is written out and checkable by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query


def test_rename_constant_expr_map_default_and_date_format(workspace_factory):
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        [sources.partners.columns]
        partner_id = "Partner ID"
        name = { expr = "\\"First\\" || ' ' || \\"Last\\"" }
        region = { column = "Region", default = "EMEA" }
        status = { constant = "active" }
        joined_at = { column = "Joined", format = "%m/%d/%Y" }
        country = "Country"
        [sources.partners.columns.partner_type]
        column = "Type"
        map = { "Value Added Reseller" = "var", "System Integrator" = "si" }
        otherwise = "other"
        """,
        {
            "data/partners.csv": (
                "Partner ID,First,Last,Type,Region,Joined,Country\n"
                "P1,Ada,Lovelace,value added reseller,APAC,12/31/2023,UK\n"
                "P2,Alan,Turing,SYSTEM INTEGRATOR,,3/5/2024,NULL\n"
                "P3,Grace,Hopper,Wholesaler,-,01/15/2024,US\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (3, 3, 0)
    rows = query(
        ws,
        "SELECT partner_id, name, partner_type, region, status, joined_at, country "
        "FROM partners ORDER BY partner_id",
    )
    assert rows == [
        # map keys are matched case-insensitively
        ("P1", "Ada Lovelace", "var", "APAC", "active", date(2023, 12, 31), "UK"),
        # blank region → default; the null token "NULL" → empty country
        ("P2", "Alan Turing", "si", "EMEA", "active", date(2024, 3, 5), None),
        # a value the map does not list → otherwise; the null token "-" → default
        ("P3", "Grace Hopper", "other", "EMEA", "active", date(2024, 1, 15), "US"),
    ]


def test_map_otherwise_leaves_blank_cells_blank(workspace_factory):
    """`otherwise` replaces unlisted values, not missing ones: a blank stage is a missing status
    (quarantined), never silently 'lost'. Without a map, otherwise behaves the same way."""
    ws = workspace_factory(
        """
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.csv"
        [sources.opps.columns]
        opportunity_id = "id"
        stage = { column = "stage", otherwise = "some stage" }
        amount = "amount"
        created_at = "created"
        closed_at = "closed"
        [sources.opps.columns.status]
        column = "stage"
        map = { "Closed Won" = "won", "Negotiation" = "open" }
        otherwise = "lost"
        """,
        {
            "data/opps.csv": (
                "id,stage,amount,created,closed\n"
                "O1,closed won,10,2024-01-01,2024-02-01\n"
                "O2,Negotiation,,2024-01-01,\n"
                "O3,Dead,,2024-01-01,2024-02-01\n"
                "O4,,,2024-01-01,2024-02-01\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (4, 3, 1)
    assert query(ws, "SELECT opportunity_id, status, stage FROM opportunities ORDER BY 1") == [
        ("O1", "won", "some stage"),
        ("O2", "open", "some stage"),
        ("O3", "lost", "some stage"),
    ]
    assert quarantine(ws) == [(5, "status", None, "missing")]


def test_scale_thousands_separators_null_tokens_and_booleans(workspace_factory):
    ws = workspace_factory(
        """
        [sources.accounts]
        entity = "accounts"
        path = "data/accounts.csv"
        [sources.accounts.columns]
        account_id = "id"
        name = "name"
        employees = "staff"
        annual_revenue = { column = "revenue_m", scale = 1000000 }
        is_target = "target"
        """,
        {
            "data/accounts.csv": (
                "id,name,staff,revenue_m,target\n"
                'A1,One,"1,234",2.5,Yes\n'
                "A2,Two,-,NULL,no\n"
                "A3,Three,12,0.001,1\n"
                "A4,Four,7,,0\n"
                "A5,Five,8,1,TRUE\n"
                "A6,Six,9,1,x\n"
                "A7,Seven,10,1,maybe\n"
                "A8,Eight,2.5,1,n\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (8, 6, 2)
    assert query(
        ws, "SELECT account_id, employees, annual_revenue, is_target FROM accounts ORDER BY 1"
    ) == [
        ("A1", 1234, 2_500_000.0, True),
        ("A2", None, None, False),
        ("A3", 12, 1000.0, True),
        ("A4", 7, None, False),
        ("A5", 8, 1_000_000.0, True),
        ("A6", 9, 1_000_000.0, True),
    ]
    assert quarantine(ws) == [
        (8, "is_target", "maybe", "not_boolean"),
        (9, "employees", "2.5", "not_integer"),
    ]


def test_money_text_with_dot_decimal(workspace_factory):
    """Grouping commas are removed only where they really group digits; currency signs and
    spaces are dropped; money is stored with cents (half away from zero)."""
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.csv"
        [sources.opps.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        amount = "amount"
        discount_amount = { column = "discount_k", scale = 1000 }
        created_at = "created"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/opps.csv": (
                "id,amount,discount_k,created\n"
                'O1,"1,234.50",1.5,2024-01-01\n'
                'O2,"$ 1,234,567.891",,2024-01-01\n'
                "O3,12.345,0.0004,2024-01-01\n"
                'O4,"12,5",,2024-01-01\n'
                "O5,€99,,2024-01-01\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 1
    assert query(
        ws, "SELECT opportunity_id, amount, discount_amount FROM opportunities ORDER BY 1"
    ) == [
        ("O1", Decimal("1234.50"), Decimal("1500.00")),
        ("O2", Decimal("1234567.89"), None),
        ("O3", Decimal("12.35"), Decimal("0.40")),
        ("O5", Decimal("99.00"), None),
    ]
    # "12,5" with a dot decimal mark is not a number: quarantined, not read as 125
    assert quarantine(ws) == [(5, "amount", "12,5", "not_money")]


def test_decimal_comma_source(workspace_factory):
    """decimal_separator = "," reads European numbers; the thousands mark is then '.'."""
    ws = workspace_factory(
        """
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.csv"
        decimal_separator = ","
        [sources.opps.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        amount = "amount"
        created_at = "created"
        """,
        {
            "data/opps.csv": (
                "id;amount;created\n"
                "O1;1.234,50;2024-01-01\n"
                "O2;12,5;2024-01-01\n"
                "O3;1.234.567,891;2024-01-01\n"
                "O4;7;2024-01-01\n"
            ),
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (4, 0)
    assert query(ws, "SELECT opportunity_id, amount FROM opportunities ORDER BY 1") == [
        ("O1", Decimal("1234.50")),
        ("O2", Decimal("12.50")),
        ("O3", Decimal("1234567.89")),
        ("O4", Decimal("7.00")),
    ]


def test_decimal_comma_with_space_and_apostrophe_grouping(workspace_factory):
    ws = workspace_factory(
        """
        [sources.fr]
        entity = "opportunities"
        path = "data/fr.csv"
        decimal_separator = ","
        thousands_separator = " "
        [sources.fr.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        amount = "amount"
        created_at = "created"

        [sources.ch]
        entity = "opportunities"
        path = "data/ch.csv"
        thousands_separator = "'"
        [sources.ch.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        amount = "amount"
        created_at = "created"
        """,
        {
            "data/fr.csv": "id;amount;created\nF1;1 234,50;2024-01-01\n",
            "data/ch.csv": "id,amount,created\nC1,1'234'567.25,2024-01-01\n",
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (2, 0)
    assert query(ws, "SELECT opportunity_id, amount FROM opportunities ORDER BY 1") == [
        ("C1", Decimal("1234567.25")),
        ("F1", Decimal("1234.50")),
    ]


def test_custom_null_values(workspace_factory):
    """A source's null_values replace the workspace list: "NA" is then a real region."""
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        null_values = ["(none)"]
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        region = "region"
        """,
        {"data/partners.csv": "id,name,region\nP1,Acme,NA\nP2,Beta,(none)\nP3,Gamma,-\n"},
    )
    ws.ingest()
    assert query(ws, "SELECT partner_id, region FROM partners ORDER BY 1") == [
        ("P1", "NA"),
        ("P2", None),
        ("P3", "-"),
    ]


def test_na_is_a_region_by_default_and_empty_only_in_typed_columns(workspace_factory):
    """ "NA" is North America in a region column: the default null tokens "NA", "N/A" and "n/a"
    blank only numbers, amounts, dates, times, true/false and currencies (issue 26, 39 of 100
    dealers lost their region)."""
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        region = "region"
        joined_at = "joined"
        latitude = "lat"
        """,
        {
            "data/partners.csv": (
                "id,name,region,joined,lat\n"
                "P1,Acme,NA,N/A,NA\n"
                "P2,Beta,N/A,2024-01-02,n/a\n"
                "P3,Gamma,NULL,NA,1.5\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (3, 0)
    assert query(ws, "SELECT partner_id, region, joined_at, latitude FROM partners ORDER BY 1") == [
        ("P1", "NA", None, None),
        ("P2", "N/A", date(2024, 1, 2), None),
        ("P3", None, None, 1.5),  # "NULL" is empty in every column
    ]
    # the null token "NULL" blanked 1 of 3 regions: more than 5 %, said with the fix
    assert report.files[0].warnings == (
        "data/partners.csv: the null token 'NULL' blanked 1 of 3 values (33%) of column "
        "'region' (region). If 'NULL' is a real value there, set null_values = [\"null\", "
        '"None", "#N/A", "-"] on [sources.partners]',
    )


def test_typed_null_values_per_source(workspace_factory):
    """A source's typed_null_values replace the workspace list: "n.v." is then an empty number
    and "NA" a value that is no number."""
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        typed_null_values = ["n.v."]
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        latitude = "lat"
        """,
        {"data/partners.csv": "id,name,lat\nP1,Acme,n.v.\nP2,Beta,NA\n"},
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (1, 1)
    assert query(ws, "SELECT partner_id, latitude FROM partners") == [("P1", None)]
    assert quarantine(ws) == [(3, "latitude", "NA", "not_number")]


def test_a_null_token_blanking_much_of_a_text_column_is_warned(workspace_factory):
    rows = "".join(f"P{i},Partner {i},{'NA' if i % 10 < 4 else 'EMEA'}\n" for i in range(100))
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        null_values = ["NA", "-"]
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        region = "region"
        """,
        {"data/partners.csv": "id,name,region\n" + rows},
    )
    report = ws.ingest()
    assert query(ws, "SELECT count(*) FROM partners WHERE region IS NULL") == [(40,)]
    assert report.files[0].warnings == (
        "data/partners.csv: the null token 'NA' blanked 40 of 100 values (40%) of column "
        "'region' (region). If 'NA' is a real value there, set null_values = [\"-\"] on "
        "[sources.partners]",
    )
    # the name column lost nothing: no warning about it; a few percent is no warning either
    few = "".join(f"P{i},Partner {i},{'-' if i < 5 else 'EMEA'}\n" for i in range(100))
    (ws.root / "data/partners.csv").write_text("id,name,region\n" + few)
    assert ws.ingest().files[0].warnings == ()


def test_preset_generic_crm_opportunities(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.crm]
        entity = "opportunities"
        path = "data/crm.csv"
        preset = "generic_crm_opportunities"
        [sources.crm.columns]
        product = "product_line"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/crm.csv": (
                "opportunity_id,opportunity_name,account_id,partner_id,partner_role,stage,amount,"
                "currency,created_date,close_date,last_modified,product_line\n"
                "G1,Big deal,A1,P1,Influenced,Closed Won,1000,USD,2024-01-10,2024-02-20,"
                "2024-02-21T08:00:00Z,Widgets\n"
                "G2,Lost one,A2,,,Closed Lost,500,USD,2024-01-11,2024-03-01,"
                "2024-03-02T08:00:00Z,Gadgets\n"
                "G3,Open one,A3,P2,,Proposal,250,USD,2024-01-12,2024-06-30,"
                "2024-03-03T08:00:00Z,Widgets\n"
            ),
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (5, 0)
    assert query(
        ws,
        "SELECT opportunity_id, name, partner_id, attribution, stage, status, amount, "
        "created_at, closed_at, updated_at, product FROM opportunities ORDER BY 1",
    ) == [
        (
            "G1",
            "Big deal",
            "P1",
            "influenced",
            "Closed Won",
            "won",
            Decimal("1000.00"),
            datetime(2024, 1, 10),
            datetime(2024, 2, 20),
            datetime(2024, 2, 21, 8),
            "Widgets",
        ),
        (
            "G2",
            "Lost one",
            None,
            None,
            "Closed Lost",
            "lost",
            Decimal("500.00"),
            datetime(2024, 1, 11),
            datetime(2024, 3, 1),
            datetime(2024, 3, 2, 8),
            "Gadgets",
        ),
        # an open deal: its expected close date is not a close; blank role = sourced
        (
            "G3",
            "Open one",
            "P2",
            "sourced",
            "Proposal",
            "open",
            Decimal("250.00"),
            datetime(2024, 1, 12),
            None,
            datetime(2024, 3, 3, 8),
            "Widgets",
        ),
    ]


def test_preset_salesforce_opportunities(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.sf]
        entity = "opportunities"
        path = "data/sf.csv"
        preset = "salesforce_opportunities"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/sf.csv": (
                "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CreatedDate,CloseDate,"
                "IsClosed,IsWon,PartnerAccountId,Partner_Attribution__c,MDF_Activity__c,"
                "LastModifiedDate\n"
                "006A,Alpha,001A,Closed Won,1200.5,USD,2024-01-15T09:30:00.000Z,2024-02-01,"
                "true,true,P1,Sourced,MDF-1,2024-02-02T10:00:00.000Z\n"
                "006B,Beta,001B,Closed Lost,800,USD,2024-01-16T09:30:00.000Z,2024-02-05,"
                "true,false,,,,2024-02-06T10:00:00.000Z\n"
                "006C,Gamma,001C,Prospecting,,USD,2024-01-17T23:30:00.000+02:00,2024-09-30,"
                "false,false,P2,,,2024-02-07T10:00:00.000Z\n"
            ),
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (5, 0)
    assert query(
        ws,
        "SELECT opportunity_id, partner_id, attribution, stage, status, amount, created_at, "
        "closed_at, mdf_activity_id FROM opportunities ORDER BY 1",
    ) == [
        (
            "006A",
            "P1",
            "sourced",
            "Closed Won",
            "won",
            Decimal("1200.50"),
            datetime(2024, 1, 15, 9, 30),
            datetime(2024, 2, 1),
            "MDF-1",
        ),
        (
            "006B",
            None,
            None,
            "Closed Lost",
            "lost",
            Decimal("800.00"),
            datetime(2024, 1, 16, 9, 30),
            datetime(2024, 2, 5),
            None,
        ),
        # +02:00 → 21:30 UTC; an open deal keeps no close date
        (
            "006C",
            "P2",
            "sourced",
            "Prospecting",
            "open",
            None,
            datetime(2024, 1, 17, 21, 30),
            None,
            None,
        ),
    ]


def test_source_keys_override_the_preset(workspace_factory):
    ws = workspace_factory(
        """
        [sources.crm]
        entity = "opportunities"
        path = "data/crm.csv"
        preset = "generic_crm_opportunities"
        [sources.crm.columns]
        opportunity_id = "Deal"
        """,
        {
            "data/crm.csv": (
                "Deal,opportunity_name,account_id,partner_id,partner_role,stage,amount,"
                "currency,created_date,close_date,last_modified\n"
                "D1,n,A1,,,Won,10,USD,2024-01-10,2024-02-20,\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.loaded, report.quarantined) == (1, 0)
    assert query(ws, "SELECT opportunity_id, status FROM opportunities") == [("D1", "won")]
