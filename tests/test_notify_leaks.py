"""No notification to a partner names another partner or says what the vendor keeps to itself
(issue 29, item 2: "a test proves no message to one partner names another").

On a copy of the web tests' demo, the events that tell partners things are made to happen: a
registration declined because another partner registered the account first (with a reason
that names that partner), a payout ledger approved (a statement per partner), leads left past
their SLA, onboarding tasks left overdue, registrations near the end of their protection, the
run told, the schedules due fired; then everything is dispatched. Every notification meant for
a partner's users, and every delivery that reached a partner user, is read as a person would
(title, sentences, facts, attachment): it names no partner but its own, by id or by name, and
none of the vendor's internal words (scores, percentiles, cohorts, flags, alerts, risk,
overrides, notes).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from partnerscope import appdb
from partnerscope.workspace import Workspace

pytestmark = pytest.mark.slow

#: words that betray the vendor's internal judgement of a partner (tests/test_leaks.py's list,
#: and the evaluation's words)
INTERNAL = re.compile(
    r"\b(scores?|scored|scoring|percentiles?|cohorts?|flags?|flagged|alerts?|risks?|"
    r"overrides?|internal|notes?|anomal(y|ies)|z-?scores?|under review|improvement plan)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def told(web_world, tmp_path_factory) -> dict[str, Any]:
    """The demo copy after the events, the run, the sweep, the schedules and the dispatch."""
    from partnerscope.money.payouts import Payouts
    from partnerscope.notify import dispatch, events, schedules
    from partnerscope.operations import registrations as reg
    from partnerscope.warehouse import partner_names

    world = web_world.copy(tmp_path_factory.mktemp("notify_leaks") / "demo")
    ws = Workspace.open(world.root)
    names = partner_names(ws)
    close = date.today() + timedelta(days=30)
    # own's registration declined: foreign registered the account first
    first = reg.submit(
        ws,
        world.foreign,
        account_name="Umbrella Cold Chain",
        amount=90_000,
        expected_close=close,
        by="test",
    ).registration
    second = reg.submit(
        ws,
        world.own,
        account_name="Umbrella Cold Chain",
        amount=80_000,
        expected_close=close,
        by="test",
    ).registration
    reg.reject(
        ws,
        second.registration_id,
        reason=f"{names[world.foreign]} ({world.foreign}) registered it first",
        by="test",
    )
    reg.approve(ws, first.registration_id, by="test")
    # an approved registration of own's, close to the end of its protection
    third = reg.submit(
        ws,
        world.own,
        account_name="Soylent Packaging",
        amount=40_000,
        expected_close=close,
        by="test",
    ).registration
    reg.approve(ws, third.registration_id, by="test")
    payouts = Payouts(ws)
    for ledger in payouts.periods():
        if ledger.status == "draft":
            payouts.approve(ledger.period, by="test")
    later = datetime.now().replace(microsecond=0) + timedelta(days=80)
    events.after_run(ws, now=later)
    events.sweep(ws, now=later)
    schedules.run_due(ws, now=later, who="test")
    dispatch.dispatch(ws, now=later)
    return {"ws": ws, "names": names, "world": world}


def _notifications(ws: Workspace) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from partnerscope.appdb.tables import notifications

    with appdb.connect(ws).connect() as connection:
        return [dict(r) for r in connection.execute(select(notifications)).mappings()]


def _text(row: dict[str, Any]) -> str:
    body = row["body"] or {}
    parts = [row["title"], *body.get("lines", ()), *(f"{k}: {v}" for k, v in body.get("facts", ()))]
    if row.get("attachment"):
        parts.append(str(row["attachment"]))
    if row.get("link"):
        parts.append(str(row["link"]))
    return "\n".join(parts)


def _others(text: str, own: str, names: dict[str, str]) -> list[str]:
    """The other partners ``text`` names, by id or by name (whole words)."""
    found = []
    for pid, name in names.items():
        if pid == own:
            continue
        for word in {pid, name}:
            if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
                found.append(f"{word} ({pid})")
    return found


def _check(row: dict[str, Any], own: str, names: dict[str, str]) -> None:
    text = _text(row)
    assert row["audience"] == "partner", (row["key"], text)
    assert row["partner_id"] == own, (row["key"], own, text)
    assert not _others(text, own, names), (row["key"], _others(text, own, names), text)
    internal = INTERNAL.search(text)
    assert internal is None, (row["key"], internal and internal.group(0), text)


def test_partner_notifications_name_no_other_partner_and_nothing_internal(told):
    ws, names = told["ws"], told["names"]
    rows = [r for r in _notifications(ws) if r["audience"] == "partner"]
    for row in rows:
        _check(row, row["partner_id"], names)
    own = told["world"].own
    kinds = {r["kind"] for r in rows if r["partner_id"] == own}
    # the events of the fixture did tell own's users things, of every kind that reaches them
    assert {"registration", "payout", "sla_breach"} <= kinds, kinds
    declined = [r for r in rows if r["key"].endswith(":declined") and r["partner_id"] == own]
    assert len(declined) == 1
    assert "The reason given: another partner registered it first" in _text(declined[0])


def test_every_delivery_to_a_partner_user_is_its_own_partners(told):
    """Whatever the recipients say, what reached a partner user is about its partner only."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import deliveries, notifications, users

    ws, names = told["ws"], told["names"]
    query = (
        select(notifications, users.c.partner_id.label("user_partner"), users.c.name)
        .join(deliveries, deliveries.c.notification_id == notifications.c.notification_id)
        .join(users, users.c.user_id == deliveries.c.user_id)
        .where(users.c.role == "partner_user")
    )
    with appdb.connect(ws).connect() as connection:
        reached = [dict(r) for r in connection.execute(query).mappings()]
    assert reached, "dispatch delivered nothing to a partner user"
    for row in reached:
        _check(row, row["user_partner"], names)
    staff_only = [r for r in _notifications(ws) if r["audience"] == "staff"]
    assert staff_only, "the fixture made staff notifications too (none may reach a partner)"
