"""Tier overrides: a person's decision to hold a partner at a tier other than the computed one.

A run's tiers are computed from the rules and never edited; an override is kept beside them in
the transactional database (``tier_overrides``) with its reason, author and an optional end
date, so the computed tier and the human decision stay distinguishable and both are auditable.
Each change is written to the audit log in the same transaction as the change itself: an
override never exists without the entry saying who made it and why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from partnerscope import audit
from partnerscope.appdb.tables import tier_overrides
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError, did_you_mean

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, RowMapping

    from partnerscope.settings.evaluation import TierSettings

OBJECT_TYPE = "tier_override"
MAX_REASON = 2000


class OverrideError(PartnerscopeError, ValueError):
    """An override that cannot be made or removed as asked (unknown ruleset, tier or partner,
    no reason, an end date in the past, a duplicate, an override already removed)."""


class OverrideNotFoundError(PartnerscopeError, LookupError):
    """No override with that id."""


@dataclass(frozen=True)
class Override:
    override_id: int
    partner_id: str
    ruleset: str
    tier: str
    reason: str
    until: date | None
    created_at: datetime
    created_by: str
    removed_at: datetime | None
    removed_by: str | None

    def active_on(self, today: date) -> bool:
        return self.removed_at is None and (self.until is None or self.until >= today)


def tier_names(tiers: TierSettings) -> dict[str, list[str]]:
    """Each ruleset of the configuration and its tiers, top first."""
    from partnerscope.settings.evaluation import RULESETS

    return {name: [level.name for level in getattr(tiers, name).levels] for name in RULESETS}


def _override(row: RowMapping) -> Override:
    return Override(**{k: row[k] for k in Override.__dataclass_fields__})


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise OverrideError("give a reason: an override without one cannot be reviewed later")
    if len(reason) > MAX_REASON:
        raise OverrideError(f"the reason has {len(reason):,} characters; keep it to {MAX_REASON:,}")
    return reason


def add(
    engine: Engine,
    *,
    tiers: TierSettings,
    partners: Collection[str],
    partner_id: str,
    ruleset: str,
    tier: str,
    reason: str,
    until: date | None,
    actor: str,
    today: date,
) -> Override:
    """Hold ``partner_id`` at ``tier`` of ``ruleset`` (until ``until``, or until removed).

    ``partners`` are the partners that may be overridden (those of the served run). A partner
    has at most one active override per ruleset: remove the old one first, so that each change
    keeps its own reason in the audit log."""
    from sqlalchemy import select

    names = tier_names(tiers)
    if ruleset not in names:
        raise OverrideError(
            f"no tier ruleset {ruleset!r}{did_you_mean(ruleset, list(names))}; the rulesets are "
            f"{', '.join(names)}"
        )
    if tier not in names[ruleset]:
        raise OverrideError(
            f"the {ruleset} rules have no tier {tier!r}{did_you_mean(tier, names[ruleset])}; "
            f"their tiers are {', '.join(names[ruleset])}"
        )
    if partner_id not in partners:
        raise OverrideError(
            f"no partner {partner_id!r} in the latest run{did_you_mean(partner_id, partners)}; "
            "find its id on the partner list"
        )
    why = _reason(reason)
    if until is not None and until < today:
        raise OverrideError(
            f"the end date {until.isoformat()} is in the past; give a later date or none"
        )
    with engine.begin() as connection:
        for existing in _active_rows(connection, today, partner_id=partner_id):
            if existing.ruleset == ruleset:
                raise OverrideError(
                    f"{partner_id} already has override #{existing.override_id} on its "
                    f"{ruleset} tier ({existing.tier}); remove it first"
                )
        override_id = connection.execute(
            tier_overrides.insert().values(
                partner_id=partner_id,
                ruleset=ruleset,
                tier=tier,
                reason=why,
                until=until,
                created_at=now_utc(),
                created_by=actor,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        audit.record(
            connection,
            actor=actor,
            action="add",
            object_type=OBJECT_TYPE,
            object_id=override_id,
            detail={
                "partner_id": partner_id,
                "ruleset": ruleset,
                "tier": tier,
                "reason": why,
                "until": until.isoformat() if until else None,
            },
        )
        row = connection.execute(
            select(tier_overrides).where(tier_overrides.c.override_id == override_id)
        ).one()
    return _override(row._mapping)


def remove(engine: Engine, override_id: int, *, reason: str, actor: str) -> Override:
    """End an override now; the row stays (with who removed it) and the audit log says why."""
    from sqlalchemy import select

    why = _reason(reason)
    with engine.begin() as connection:
        found = connection.execute(
            select(tier_overrides).where(tier_overrides.c.override_id == override_id)
        ).first()
        if found is None:
            raise OverrideNotFoundError(
                f"no tier override #{override_id}; the active ones are listed on the tiers page"
            )
        current = _override(found._mapping)
        if current.removed_at is not None:
            raise OverrideError(
                f"tier override #{override_id} was already removed by {current.removed_by} on "
                f"{current.removed_at:%Y-%m-%d %H:%M} UTC"
            )
        now = now_utc()
        connection.execute(
            tier_overrides.update()
            .where(tier_overrides.c.override_id == override_id)
            .values(removed_at=now, removed_by=actor)
        )
        audit.record(
            connection,
            actor=actor,
            action="remove",
            object_type=OBJECT_TYPE,
            object_id=override_id,
            detail={
                "partner_id": current.partner_id,
                "ruleset": current.ruleset,
                "tier": current.tier,
                "reason": why,
            },
        )
    return Override(**{**current.__dict__, "removed_at": now, "removed_by": actor})


def _active_rows(
    connection: Connection, today: date, *, partner_id: str | None = None
) -> list[Override]:
    from sqlalchemy import or_, select

    query = (
        select(tier_overrides)
        .where(tier_overrides.c.removed_at.is_(None))
        .where(or_(tier_overrides.c.until.is_(None), tier_overrides.c.until >= today))
        .order_by(tier_overrides.c.partner_id, tier_overrides.c.ruleset)
    )
    if partner_id is not None:
        query = query.where(tier_overrides.c.partner_id == partner_id)
    return [_override(row._mapping) for row in connection.execute(query)]


def active(engine: Engine, today: date) -> list[Override]:
    """The overrides in force on ``today`` (not removed, not past their end date)."""
    with engine.connect() as connection:
        return _active_rows(connection, today)
