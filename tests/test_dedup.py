"""Deduplication and incremental loads: newest row per key wins, re-imports change nothing, a
later file adds and updates only its own rows, an older export never overwrites newer data."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import query, snapshot

PARTNERS = """
[sources.partners]
entity = "partners"
path = "data/day1.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
updated_at = "updated"

[sources.accounts]
entity = "accounts"
path = "data/accounts.csv"
[sources.accounts.columns]
account_id = "id"
name = "name"
"""

DAY1 = (
    "id,name,updated\n"
    "P1,Acme,2024-01-01T10:00:00Z\n"
    "P2,Beta old,2024-01-02T10:00:00Z\n"
    "P2,Beta new,2024-01-03T10:00:00Z\n"  # row 4: newer than row 3 → wins
    "P3,Gamma new,2024-01-05T10:00:00Z\n"  # row 5: newer than the later row 6 → wins
    "P3,Gamma old,2024-01-04T10:00:00Z\n"
)
# no updated_at: the later row wins
ACCOUNTS = "id,name\nA1,First name\nA2,Other\nA1,Second name\n"


def counts(report, source):
    f = next(f for f in report.files if f.source == source)
    return {
        "rows_in": f.rows_in,
        "loaded": f.loaded,
        "quarantined": f.quarantined,
        "inserted": f.inserted,
        "updated": f.updated,
        "unchanged": f.unchanged,
        "superseded": f.superseded,
    }


def partners(ws):
    return query(
        ws, "SELECT partner_id, name, updated_at, _source_row FROM partners ORDER BY partner_id"
    )


def test_newest_row_per_key_wins_within_a_file(workspace_factory):
    ws = workspace_factory(PARTNERS, {"data/day1.csv": DAY1, "data/accounts.csv": ACCOUNTS})
    report = ws.ingest()
    assert counts(report, "partners") == {
        "rows_in": 5,
        "loaded": 5,
        "quarantined": 0,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "superseded": 2,
    }
    assert partners(ws) == [
        ("P1", "Acme", datetime(2024, 1, 1, 10), 2),
        ("P2", "Beta new", datetime(2024, 1, 3, 10), 4),
        ("P3", "Gamma new", datetime(2024, 1, 5, 10), 5),
    ]
    assert counts(report, "accounts") == {
        "rows_in": 3,
        "loaded": 3,
        "quarantined": 0,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "superseded": 1,
    }
    assert query(ws, "SELECT account_id, name, _source_row FROM accounts ORDER BY 1") == [
        ("A1", "Second name", 4),
        ("A2", "Other", 3),
    ]


def test_reimporting_the_same_file_changes_nothing(workspace_factory):
    ws = workspace_factory(PARTNERS, {"data/day1.csv": DAY1, "data/accounts.csv": ACCOUNTS})
    ws.ingest()
    before = snapshot(ws)
    report = ws.ingest()
    assert counts(report, "partners") == {
        "rows_in": 5,
        "loaded": 5,
        "quarantined": 0,
        "inserted": 0,
        "updated": 0,
        "unchanged": 3,
        "superseded": 2,
    }
    assert counts(report, "accounts")["unchanged"] == 2
    after = snapshot(ws)
    for table in before:
        if table != "_imports":
            assert after[table] == before[table], table
    # the ledger records the second import of each file, with the same fingerprint (partners
    # load before accounts: the data model's load order)
    ledger = query(ws, "SELECT source, fingerprint, unchanged FROM _imports ORDER BY import_id")
    assert [(s, u) for s, _, u in ledger] == [
        ("partners", 0),
        ("accounts", 0),
        ("partners", 3),
        ("accounts", 2),
    ]
    assert ledger[0][1] == ledger[2][1] and ledger[1][1] == ledger[3][1]


def test_later_file_adds_and_updates_only_its_rows(workspace_factory):
    ws = workspace_factory(PARTNERS, {"data/day1.csv": DAY1, "data/accounts.csv": ACCOUNTS})
    ws.ingest()
    day2 = ws.root / "data/day2.csv"
    day2.write_text(
        "id,name,updated\n"
        "P1,Acme,2024-01-01T10:00:00Z\n"  # same as stored → unchanged
        "P2,Beta newest,2024-02-01T00:00:00Z\n"  # newer → updated
        "P4,Delta,2024-02-01T00:00:00Z\n",  # new key → inserted
        encoding="utf-8",
    )
    report = ws.ingest(["partners"], {"partners": [day2]})
    assert counts(report, "partners") == {
        "rows_in": 3,
        "loaded": 3,
        "quarantined": 0,
        "inserted": 1,
        "updated": 1,
        "unchanged": 1,
        "superseded": 0,
    }
    assert partners(ws) == [
        ("P1", "Acme", datetime(2024, 1, 1, 10), 2),
        ("P2", "Beta newest", datetime(2024, 2, 1), 3),
        ("P3", "Gamma new", datetime(2024, 1, 5, 10), 5),
        ("P4", "Delta", datetime(2024, 2, 1), 4),
    ]
    # lineage: an unchanged row keeps the import that wrote it, a changed one names the new file
    assert query(
        ws,
        "SELECT partner_id, _source_file FROM partners WHERE partner_id IN ('P1', 'P2') ORDER BY 1",
    ) == [("P1", "data/day1.csv"), ("P2", "data/day2.csv")]


def test_older_export_does_not_overwrite_newer_rows(workspace_factory):
    ws = workspace_factory(PARTNERS, {"data/day1.csv": DAY1, "data/accounts.csv": ACCOUNTS})
    ws.ingest()
    old = ws.root / "data/day0.csv"
    old.write_text(
        "id,name,updated\n"
        "P2,Beta ancient,2023-12-01T00:00:00Z\n"  # older than the stored 2024-01-03 → kept out
        "P5,Epsilon,2023-12-01T00:00:00Z\n",  # new key → inserted even though old
        encoding="utf-8",
    )
    report = ws.ingest(["partners"], {"partners": [old]})
    assert counts(report, "partners") == {
        "rows_in": 2,
        "loaded": 2,
        "quarantined": 0,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "superseded": 1,
    }
    assert partners(ws) == [
        ("P1", "Acme", datetime(2024, 1, 1, 10), 2),
        ("P2", "Beta new", datetime(2024, 1, 3, 10), 4),
        ("P3", "Gamma new", datetime(2024, 1, 5, 10), 5),
        ("P5", "Epsilon", datetime(2023, 12, 1), 3),
    ]


def test_two_files_of_one_source_in_one_ingest(workspace_factory):
    """A glob of two exports: the newer row wins across the files too."""
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners_*.csv"
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        updated_at = "updated"
        """,
        {
            "data/partners_1.csv": "id,name,updated\nP1,Old,2024-01-02\nP2,Two,2024-01-01\n",
            "data/partners_2.csv": "id,name,updated\nP1,Older,2024-01-01\nP3,Three,2024-01-01\n",
        },
    )
    report = ws.ingest()
    assert [(f.file, f.inserted, f.superseded) for f in report.files] == [
        ("data/partners_1.csv", 2, 0),
        ("data/partners_2.csv", 1, 1),
    ]
    assert query(ws, "SELECT partner_id, name FROM partners ORDER BY 1") == [
        ("P1", "Old"),
        ("P2", "Two"),
        ("P3", "Three"),
    ]
