"""Enablement paths (issue 28, item 4): certification levels, each partner's gaps against its
tier and the next one, expiry warnings and the requirements posted for enablement_completion.

Values are worked out by hand on a small workspace (see the comments on each row).
"""

from __future__ import annotations

from datetime import date

import pytest

from partnerscope.lifecycle.enablement import certifications_held
from tests.conftest import make_workspace

PARTNERS = "partner_id,name,program_tier\nP1,Acme,Gold\nP2,Beta,Silver\nP3,Gamma,Registered\n"

#: P1: U1 Sales Foundation (never lapses), U1 Sales Advanced lapsing 2026-03-31, renewed by R2;
#: U2 Implementation Specialist lapsing 2026-02-15 (not renewed); P2: U5 Sales Foundation
#: issued 2026-01-10.
CERTS = """record_id,partner_id,person_id,certification,issued_at,expires_at
C1,P1,U1,Sales Foundation,2024-01-01,
C2,P1,U1,Sales Advanced,2024-03-31,2026-03-31
C3,P1,U2,Implementation Specialist,2024-02-15,2026-02-15
C4,P2,U5,Sales Foundation,2026-01-10,
"""


def source(name: str, entity: str, header: str) -> str:
    columns = "".join(f'{col} = "{col}"\n' for col in header.split(","))
    return (
        f'[sources.{name}]\nentity = "{entity}"\npath = "data/{name}.csv"\n'
        f"[sources.{name}.columns]\n{columns}"
    )


def config(extra: str = "") -> str:
    return (
        source("partners", "partners", PARTNERS.splitlines()[0])
        + source("certs", "certifications", CERTS.splitlines()[0])
        + extra
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = make_workspace(
        tmp_path_factory.mktemp("enablement"),
        config(),
        {"data/partners.csv": PARTNERS, "data/certs.csv": CERTS},
    )
    assert ws.ingest().quarantined == 0
    return ws


def test_certifications_held_at_the_expiry_boundary(ws):
    # C3 expires 2026-02-15: held the day before, no longer on the day itself (as the metric
    # certified_people counts it: valid while expires_at is after the day)
    assert certifications_held(ws, "P1", date(2026, 2, 14)) == {
        "Sales Foundation",
        "Sales Advanced",
        "Implementation Specialist",
    }
    assert certifications_held(ws, "P1", date(2026, 2, 15)) == {
        "Sales Foundation",
        "Sales Advanced",
    }
    # issued that day: held from it on, not the day before
    assert certifications_held(ws, "P2", date(2026, 1, 9)) == set()
    assert certifications_held(ws, "P2", date(2026, 1, 10)) == {"Sales Foundation"}
    assert certifications_held(ws, "P9", date(2026, 1, 10)) == set()
