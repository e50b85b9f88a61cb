"""Quarterly compliance audits of the partners, and their findings with corrective actions,
owners, due dates and closure. The planted compliance violators
(:mod:`partnerscope.demo.patterns`) fail their audits of the last 12 months and leave corrective
actions overdue; one audit names a category the program does not have (a bad row the ingest
quarantines)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from partnerscope.demo.columns import dates, ids, labels
from partnerscope.demo.patterns import VIOLATION_FROM, Plan
from partnerscope.demo.world import AS_OF, DAY, Partners, day_number, rng_for

#: (label in the audit tool, weight, findings it may raise)
CATEGORIES = (
    (
        "Margin Requirements",
        2,
        ("Resale below the minimum advertised margin", "Discount given without approval"),
    ),
    (
        "Certification Standards",
        2,
        ("Fewer certified engineers than the tier requires", "Expired certification in use"),
    ),
    (
        "Marketing Guidelines",
        1,
        ("Outdated logo on the partner website", "Unapproved performance claim in a campaign"),
    ),
    (
        "Data Security",
        3,
        ("Customer data shared without a signed DPA", "Admin accounts without two-factor login"),
    ),
    (
        "Anti-Corruption",
        3,
        ("Gift register incomplete", "Third-party agent without due diligence"),
    ),
)
SEVERITIES = ("Low", "Medium", "High", "Critical")
#: Days given to correct a finding, by severity.
DUE_DAYS = np.array([90, 60, 30, 14])
ACTIONS = (
    "Correct it and send evidence to the channel manager",
    "Train the staff concerned and confirm in writing",
    "Update the process and have it re-audited",
)
OWNERS = (
    "Anna Weber",
    "Ben Carter",
    "Chloé Dubois",
    "Diego Ramírez",
    "Emma Johansson",
    "Farid Haddad",
    "Grace Okafor",
    "Hannah Schmidt",
    "Isabel Costa",
    "James O'Neill",
)
#: Audits start a year before the window, so the score's trailing 12 months have them.
AUDITS_FROM = day_number(date(2022, 10, 1))
QUARTER_DAYS = 91


def make_audits(partners: Partners, plan: Plan, seed: int) -> tuple[pa.Table, pa.Table]:
    """(audits, findings): one audit per active partner and quarter, its category in turn."""
    rng = rng_for(seed, "audits")
    as_of_day = AS_OF // DAY
    n_quarters = (as_of_day - AUDITS_FROM) // QUARTER_DAYS
    active = np.flatnonzero(partners.active)
    p = np.repeat(active, n_quarters)
    k = np.tile(np.arange(n_quarters), len(active))
    day = AUDITS_FROM + k * QUARTER_DAYS + rng.integers(5, 80, len(p))
    present = day > partners.joined_day[p]
    p, k, day = p[present], k[present], day[present]
    n = len(p)
    category = (k + p) % len(CATEGORIES)
    violating = plan.mask("compliance_violators")[p] & (day >= VIOLATION_FROM)
    passed = rng.random(n) >= np.where(violating, 0.7, 0.03)
    weight = np.array([c[1] for c in CATEGORIES])[category]
    order = np.lexsort((p, day))
    p, day, category, passed, weight, violating = (
        p[order],
        day[order],
        category[order],
        passed[order],
        weight[order],
        violating[order],
    )
    audit_ids = ids("AUD-", np.arange(1, n + 1), 6)
    audits = pa.table(
        {
            "Audit ID": audit_ids,
            "Partner ID": pa.array(partners.ids).take(pa.array(p)),
            "Audit Date": dates(day),
            "Area": labels([c[0] for c in CATEGORIES], category),
            "Weight": pa.array(weight),
            "Result": labels(("Fail", "Pass"), passed.astype(np.int64)),
            "Auditor": labels(
                ("Internal audit", "External auditor"), (rng.random(n) < 0.3).astype(np.int64)
            ),
        }
    )
    bad = pa.table(
        {
            "Audit ID": [f"AUD-{n + 1:06d}"],
            "Partner ID": [partners.ids[int(active[0])]],
            "Audit Date": [date(2026, 5, 20)],
            # not one of the program's five audit categories
            "Area": ["Environmental Reporting"],
            "Weight": [1],
            "Result": ["Pass"],
            "Auditor": ["External auditor"],
        }
    )
    audits = pa.concat_tables([audits, bad.cast(audits.schema)])

    # findings: failed audits raise one to three serious ones, passed audits now and then a
    # minor one
    count = np.where(passed, (rng.random(n) < 0.3).astype(np.int64), rng.integers(1, 4, n))
    a = np.repeat(np.arange(n), count)
    m = len(a)
    severity = np.where(passed[a], rng.integers(0, 2, m), rng.integers(2, 4, m))
    due = day[a] + DUE_DAYS[severity]
    # most actions are closed, a fifth of them late; the violators' stay open
    took = (DUE_DAYS[severity] * rng.uniform(0.3, 1.0, m)).astype(np.int64)
    late = rng.random(m) < 0.2
    took = np.where(late, took + rng.integers(5, 60, m), took)
    closed = day[a] + took
    still_open = (closed >= as_of_day) | (violating[a] & (rng.random(m) < 0.8))
    pick = rng.integers(0, 2, m)
    text = [CATEGORIES[category[i]][2][int(j)] for i, j in zip(a, pick, strict=True)]
    findings = pa.table(
        {
            "Finding ID": ids("AF-", np.arange(1, m + 1), 6),
            "Audit ID": audit_ids.take(pa.array(a)),
            "Partner ID": pa.array(partners.ids).take(pa.array(p[a])),
            "Severity": labels(SEVERITIES, severity),
            "Finding": pa.array(text, pa.string()),
            "Corrective Action": labels(ACTIONS, rng.integers(0, len(ACTIONS), m)),
            "Action Owner": labels(OWNERS, rng.integers(0, len(OWNERS), m)),
            "Due Date": dates(due),
            "Closed Date": dates(closed, still_open),
        }
    )
    return audits, findings
