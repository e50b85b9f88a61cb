"""What a registration's steps tell people, written with :func:`partnerscope.outbox.enqueue` in
the step's own transaction.

Staff (the partner's managers) are told of a submission waiting for approval and of its
conflicts; the partner is told its registration was approved, declined (with the reason, any
other partner it names taken out), expired, or that its protection ends soon. Nothing a partner
is told names another partner or the vendor's own opportunity: a conflict is "another
partner's registration" or "an opportunity of the vendor's own sales team" for everyone, so
that a manager who does not look after the other partner is not told of it either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from partnerscope import outbox
from partnerscope.operations.registrations.model import Conflict, Registration

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.present import Words

OBJECT_TYPE = "deal_registration"


def _link(found: Registration) -> str:
    return f"/registrations/{found.registration_id}"


def submitted(
    connection: Connection,
    words: Words,
    found: Registration,
    conflicts: Iterable[Conflict],
    names: Mapping[str, str],
    *,
    now: datetime,
) -> None:
    """A new registration waits for approval (to the partner's managers); with conflicts, the
    managers are told of them too."""
    partner = names.get(found.partner_id, found.partner_id)
    amount = words.money(found.amount)
    outbox.enqueue(
        connection,
        key=f"approval:registration:{found.registration_id}",
        kind="approval",
        title=f"{partner} registered a deal with {found.account_name} ({amount})",
        lines=[
            f"{partner} registered a deal of {amount} with {found.account_name}, expected to "
            f"close on {words.date(found.expected_close)}.",
            "Approve it to protect it, or reject it with a reason the partner is told.",
        ],
        partner_id=found.partner_id,
        roles=("partner_manager",),
        link=_link(found),
        object_type=OBJECT_TYPE,
        object_id=str(found.registration_id),
        now=now,
    )
    listed = [c.redacted().describe() for c in conflicts]
    if not listed:
        return
    outbox.enqueue(
        connection,
        key=f"registration:{found.registration_id}:conflict",
        kind="registration",
        title=f"{partner}'s registration of {found.account_name} is in conflict",
        lines=[
            f"{partner}'s registration of {found.account_name} conflicts with "
            + "; ".join(listed)
            + ".",
            "The first valid registration wins: open it to see the conflict and decide.",
        ],
        partner_id=found.partner_id,
        link=_link(found),
        object_type=OBJECT_TYPE,
        object_id=str(found.registration_id),
        now=now,
    )


def _without(text: str, others: Mapping[str, str]) -> str:
    """``text`` with every other partner's id and name replaced by "another partner" (once
    for a name followed by its id in brackets)."""
    for pid, name in sorted(others.items(), key=lambda kv: -len(kv[1])):
        for word in (name, pid):
            if word and len(word) > 1:
                pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
                text = re.sub(pattern, "another partner", text, flags=re.IGNORECASE)
    # a name with its id in brackets is one partner: "another partner", not twice
    return re.sub(r"another partner\s*\(another partner\)", "another partner", text)


def decided(
    connection: Connection,
    words: Words,
    found: Registration,
    names: Mapping[str, str] | None,
    *,
    now: datetime,
) -> None:
    """The partner is told its registration was approved (until when it is protected) or
    declined (why, without naming another partner; ``names``: every partner's, None when they
    could not be read: then the reason is left to the registration's page, where a partner
    sees it as staff wrote it)."""
    if found.protected_until is not None:
        title = f"Your deal registration of {found.account_name} is approved"
        lines = [
            f"Your registration of {found.account_name} ({words.money(found.amount)}) is "
            f"approved and protected until {words.date(found.protected_until)}.",
        ]
        what = "approved"
    else:
        title = f"Your deal registration of {found.account_name} was declined"
        lines = [
            f"Your registration of {found.account_name} ({words.money(found.amount)}) was "
            "declined.",
        ]
        if names is None:
            lines.append("Open the registration to read why.")
        else:
            others = {p: n for p, n in names.items() if p != found.partner_id}
            lines.append(f"The reason given: {_without(found.reason or '', others)}")
        what = "declined"
    outbox.enqueue(
        connection,
        key=f"registration:{found.registration_id}:{what}",
        kind="registration",
        title=title,
        lines=lines,
        audience="partner",
        partner_id=found.partner_id,
        link=_link(found),
        object_type=OBJECT_TYPE,
        object_id=str(found.registration_id),
        now=now,
    )


def expired(connection: Connection, words: Words, found: Registration, *, now: datetime) -> None:
    """The partner is told its protection ended without the deal being won."""
    outbox.enqueue(
        connection,
        key=f"registration:{found.registration_id}:expired",
        kind="registration",
        title=f"Your deal registration of {found.account_name} has expired",
        lines=[
            f"Your registration of {found.account_name} was protected until "
            f"{words.date(found.protected_until)} and the deal was not won by then.",
            "You can register the deal again.",
        ],
        audience="partner",
        partner_id=found.partner_id,
        link=_link(found),
        object_type=OBJECT_TYPE,
        object_id=str(found.registration_id),
        now=now,
    )


def expiring(
    connection: Connection, words: Words, found: Registration, days_left: int, *, now: datetime
) -> int | None:
    """The partner (and its managers) are told its protection ends soon; once per window."""
    when = "today" if days_left == 0 else f"in {days_left} day{'' if days_left == 1 else 's'}"
    return outbox.enqueue(
        connection,
        key=f"registration:{found.registration_id}:expiring:{found.protected_until}",
        kind="registration",
        title=f"Your deal registration of {found.account_name} ends {when}",
        lines=[
            f"Your registration of {found.account_name} ({words.money(found.amount)}) is "
            f"protected until {words.date(found.protected_until)}.",
            "Record the win before then, or the registration expires.",
        ],
        audience="partner",
        partner_id=found.partner_id,
        link=_link(found),
        object_type=OBJECT_TYPE,
        object_id=str(found.registration_id),
        now=now,
    )
