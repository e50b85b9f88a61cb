"""Support cases (a help desk's ticket export) and partner surveys (the partners' view of the
vendor), with the planted service collapse (:mod:`partnerscope.demo.measure_plan`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.demo.columns import ids, labels
from partnerscope.demo.measure_plan import COLLAPSE_FROM, MeasurePlan
from partnerscope.demo.world import (
    AS_OF,
    DAY,
    N_QUARTERS,
    QUARTER_SEC,
    WARMUP,
    Accounts,
    BoolArray,
    FloatArray,
    IntArray,
    Partners,
    day_number,
    rng_for,
)

HOUR = 3_600
#: The help desk's priorities, as it exports them (the config maps them onto the canonical ones).
PRIORITIES = ("P1 - Critical", "P2 - High", "P3 - Normal", "P4 - Low")
PRIORITY_SHARE = (0.12, 0.18, 0.55, 0.15)
#: Median hours to the first response and to resolution, by priority.
RESPONSE_HOURS = np.array([1.4, 2.5, 4.0, 8.0])
RESOLUTION_HOURS = np.array([6.0, 12.0, 9.0, 30.0])
#: How much slower the collapsed partner answers and resolves in its last two quarters.
COLLAPSE_SLOWDOWN = 5.0
CASE_TIME = "%Y-%m-%d %H:%M:%S"
YES_NO = ("No", "Yes")


def make_cases(
    partners: Partners, accounts: Accounts, measures: MeasurePlan, seed: int
) -> pa.Table:
    """Cases of every active partner, quarter by quarter, from its joining on; one case resolved
    before it was opened (a bad row the ingest quarantines) is the last row."""
    rng = rng_for(seed, "support cases")
    n_partners = len(partners)
    quarters = np.arange(N_QUARTERS)
    start = QUARTER_SEC[WARMUP : WARMUP + N_QUARTERS]
    length = QUARTER_SEC[WARMUP + 1 :] - start
    # bigger partners have more customers and more cases; the collapsed one is busy
    rate = np.where(partners.active, 4 + 9 * np.sqrt(partners.annual_revenue / 1e6), 0.0)
    rate = np.minimum(rate, 90.0)
    rate[measures.service_collapse] = max(rate[measures.service_collapse], 70.0)
    counts = rng.poisson(rate[:, None] * np.ones((1, N_QUARTERS)))
    joined_sec = partners.joined_day * DAY
    counts[joined_sec[:, None] >= start[None, :] + length[None, :]] = 0
    p = np.repeat(np.arange(n_partners), counts.sum(axis=1))
    q = np.concatenate([np.repeat(quarters, row) for row in counts])
    n = len(p)
    opened = np.maximum(start[q] + (rng.random(n) * length[q]).astype(np.int64), joined_sec[p])
    priority = rng.choice(len(PRIORITIES), n, p=PRIORITY_SHARE)
    skill = rng.lognormal(0.0, 0.2, n_partners)  # each partner's own speed
    slow = (p == measures.service_collapse) & (q >= COLLAPSE_FROM)
    factor = skill[p] * np.where(slow, COLLAPSE_SLOWDOWN, 1.0)
    response = RESPONSE_HOURS[priority] * factor * rng.lognormal(0.0, 0.8, n)
    resolution = np.maximum(
        response * 1.2, RESOLUTION_HOURS[priority] * factor * rng.lognormal(0.0, 0.9, n)
    )
    first_response = opened + (response * HOUR).astype(np.int64)
    resolved = opened + (resolution * HOUR).astype(np.int64)
    no_response = first_response >= AS_OF
    open_case = resolved >= AS_OF
    critical = priority <= 1
    fcr = ~open_case & (rng.random(n) < np.where(critical, 0.55, 0.82) * np.where(slow, 0.5, 1))
    escalated = rng.random(n) < np.where(slow, 0.25, np.where(critical, 0.06, 0.02))
    answered = ~open_case & (rng.random(n) < 0.35)
    # customers mark down slow resolutions
    csat = np.clip(
        np.round(4.6 - 0.5 * np.log1p(resolution / 24) + rng.normal(0, 0.6, n)), 1, 5
    ).astype(np.int64)
    order = np.argsort(opened, kind="stable")
    width = max(6, len(str(n + 1)))
    table = pa.table(
        {
            "Ticket ID": ids("CS-", np.arange(1, n + 1), width),
            "Partner Account ID": pa.array(partners.ids).take(pa.array(p[order])),
            "Customer Account": pa.array(accounts.ids).take(
                pa.array(rng.integers(0, len(accounts.ids), n)[order])
            ),
            "Priority": labels(PRIORITIES, priority[order]),
            "Created": _times(opened[order]),
            "First Reply": _times(first_response[order], no_response[order]),
            "Solved": _times(resolved[order], open_case[order]),
            "Solved on First Contact": labels(YES_NO, fcr[order].astype(np.int64)),
            "Escalated to Vendor": labels(YES_NO, escalated[order].astype(np.int64)),
            "Satisfaction": pa.array(csat[order], pa.int64(), mask=~answered[order]),
        }
    )
    bad = pa.table(
        {
            "Ticket ID": [f"CS-{n + 1:0{width}d}"],
            "Partner Account ID": [partners.ids[int(np.flatnonzero(partners.active)[0])]],
            "Customer Account": [accounts.ids[0]],
            "Priority": ["P3 - Normal"],
            "Created": ["2026-03-12 14:05:00"],
            "First Reply": ["2026-03-12 15:10:00"],
            # typed a month early: resolved before it was opened
            "Solved": ["2026-02-12 16:40:00"],
            "Solved on First Contact": ["No"],
            "Escalated to Vendor": ["No"],
            "Satisfaction": pa.array([None], pa.int64()),
        }
    )
    return pa.concat_tables([table, bad.cast(table.schema)])


def _times(seconds: IntArray, missing: BoolArray | None = None) -> pa.Array:
    """UTC timestamps as the help desk writes them, 2024-01-15 09:30:00 (CASE_TIME)."""
    ts = pa.array(seconds, pa.timestamp("s"), mask=missing)
    # a cast writes CASE_TIME, many times faster than strftime
    return pc.cast(ts, pa.string())


#: Themes of the partners' comments, each with the sentences that carry it.
SURVEY_THEMES: dict[str, tuple[str, ...]] = {
    "deal registration": (
        "Deal registration approvals take too long.",
        "Deal registration works well now; approvals within a day.",
    ),
    "partner portal": (
        "The partner portal is slow and hard to search.",
        "The new partner portal is a real improvement.",
    ),
    "MDF payments": (
        "MDF claims are paid months late.",
        "MDF reimbursement was quick this year.",
    ),
    "training": (
        "More hands-on technical training, please.",
        "The certification courses are excellent.",
    ),
    "vendor support": (
        "Escalations to vendor support go unanswered for days.",
        "Vendor support solved our escalations quickly.",
    ),
    "margins": (
        "Margins are thin compared with other vendors.",
        "Fair margins and a clear rebate structure.",
    ),
    "communication": (
        "Our channel manager changed twice this year and nobody informed us.",
        "Clear communication and useful monthly updates from our channel manager.",
    ),
}
#: Survey rounds: sent in March and September, each year of the window.
SURVEY_ROUNDS = tuple(
    day_number(date(year, month, 2))
    for year in (2024, 2025, 2026)
    for month in (3, 9)
    if date(year, month, 2) > date(2023, 10, 1)
)


def make_partner_surveys(partners: Partners, measures: MeasurePlan, seed: int) -> pa.Table:
    """One invitation per active partner and survey round; about two thirds answer, some with
    a comment on one of :data:`SURVEY_THEMES` (a complaint from the less satisfied)."""
    rng = rng_for(seed, "partner surveys")
    rounds = np.array(SURVEY_ROUNDS, dtype=np.int64)
    invited = partners.active[:, None] & (partners.joined_day[:, None] < rounds[None, :])
    p, r = np.nonzero(invited)
    n = len(p)
    mood = rng.normal(0.0, 0.8, len(partners))  # each partner's own leaning
    sent = rounds[r] * DAY + rng.integers(8 * HOUR, 10 * HOUR, n)
    answers = rng.random(n) < 0.68
    responded = sent + (rng.exponential(4.0, n) * DAY).astype(np.int64) + HOUR
    answers &= responded < AS_OF
    satisfaction: FloatArray = np.clip(np.round(7.9 + mood[p] + rng.normal(0, 1.1, n)), 0, 10)
    collapsed = (p == measures.service_collapse) & (r >= len(rounds) - 2)
    satisfaction[collapsed] = np.minimum(satisfaction[collapsed], 5)
    recommend: FloatArray = np.clip(np.round(satisfaction + rng.normal(0.3, 1.0, n)), 0, 10)
    themes = list(SURVEY_THEMES)
    theme = rng.integers(0, len(themes), n)
    theme[collapsed] = themes.index("vendor support")
    commented = answers & (rng.random(n) < 0.45)
    positive = satisfaction >= 8
    comments = [
        SURVEY_THEMES[themes[t]][0 if not good else 1] if c else None
        for t, good, c in zip(theme, positive, commented, strict=True)
    ]
    order = np.lexsort((p, sent))
    return pa.table(
        {
            "Invitation ID": ids("PS-", np.arange(1, n + 1), 5),
            "Partner ID": pa.array(partners.ids).take(pa.array(p[order])),
            "Sent": _times(sent[order]),
            "Completed": _times(responded[order], ~answers[order]),
            "Overall satisfaction (0-10)": pa.array(
                satisfaction[order], pa.float64(), mask=~answers[order]
            ).cast(pa.int64()),
            "Likelihood to recommend (0-10)": pa.array(
                recommend[order], pa.float64(), mask=~answers[order]
            ).cast(pa.int64()),
            "Comments": pa.array([comments[i] for i in order], pa.string()),
        }
    )
