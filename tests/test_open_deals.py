"""An open deal with a close date: the hint names the real fix, and the docs' fix works."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from tests.conftest import PARTNERS_SOURCE, make_workspace, quarantine, query

ROOT = Path(__file__).resolve().parents[1]


def worked_example() -> tuple[str, str]:
    """(the CSV, the TOML) of the real-data walk-through's 'Open deals with a close date'."""
    text = (ROOT / "docs" / "real-data.md").read_text(encoding="utf-8")
    section = text.split("## Open deals with a close date", 1)[1].split("\n## ", 1)[0]
    (csv,) = re.findall(r"```csv\n(.*?)```", section, flags=re.DOTALL)
    (toml,) = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    return csv, toml


def workspace(tmp_path: Path, toml: str):
    csv, _ = worked_example()
    files = {"data/partners.csv": "id,name\nD1,Dealer One\nD2,Dealer Two\n", "data/orders.csv": csv}
    ws = make_workspace(tmp_path, PARTNERS_SOURCE + toml, files)
    ws.ingest()
    return ws


def test_a_close_date_on_every_order_quarantines_the_open_ones_with_the_real_fix(tmp_path):
    _, toml = worked_example()
    naive = re.sub(r"closed_at = \{.*\}", 'closed_at = "closeDate"', toml)
    assert naive != toml
    ws = workspace(tmp_path, naive)
    # rows 4 and 5 (the header is row 1): 1003 Disputed, 1004 On Hold
    assert quarantine(ws) == [
        (4, "closed_at", "2024-02-15", "open_has_no_close"),
        (5, "closed_at", "2024-02-12", "open_has_no_close"),
    ]
    (message,) = {m for (m,) in query(ws, "SELECT message FROM _quarantine")}
    assert "really open (disputed, on hold)" in message
    assert "CASE WHEN status IN ('Shipped', 'Cancelled') THEN closeDate END" in message


def test_the_fix_in_the_docs_loads_every_order_with_open_ones_undated(tmp_path):
    _, toml = worked_example()
    ws = workspace(tmp_path, toml)
    assert quarantine(ws) == []
    rows = query(
        ws,
        "SELECT opportunity_id, status, stage, closed_at FROM opportunities ORDER BY 1",
    )
    assert rows == [
        ("1001", "won", "Shipped", datetime(2024, 1, 20)),
        ("1002", "lost", "Cancelled", datetime(2024, 1, 9)),
        ("1003", "open", "Disputed", None),
        ("1004", "open", "On Hold", None),
    ]
