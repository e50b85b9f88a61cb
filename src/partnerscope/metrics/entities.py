"""What a metric can aggregate: the canonical tables and a few derived entities.

A derived entity joins canonical tables once, here, so that metric definitions stay a single
entity, a filter and an aggregate (the way metricflow's semantic models do it). Users' metrics may
read them too; `partnerscope metrics entities` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from partnerscope.metrics import entities_compliance, entities_market, entities_mix
from partnerscope.metrics.entity import Entity, Tables, columns_of
from partnerscope.schema import TABLES, ColumnType

if TYPE_CHECKING:
    import ibis.expr.types as ir

_columns = columns_of


def _table(name: str) -> Callable[[Tables], ir.Table]:
    return lambda tables: tables(name)


def _mdf_opportunities(tables: Tables) -> ir.Table:
    opps, mdf = tables("opportunities"), tables("mdf_activities")
    linked = mdf.select(activity_id="activity_id", mdf_partner="partner_id")
    joined = opps.join(
        linked,
        (opps.mdf_activity_id == linked.activity_id) & (opps.partner_id == linked.mdf_partner),
    )
    return joined.select(*opps.columns)


def _required_certifications(tables: Tables) -> ir.Table:
    certs, partners = tables("certifications"), tables("partners")
    required = tables("certification_requirements")
    tiers = partners.select("partner_id", tier="program_tier")
    with_tier = certs.join(tiers, "partner_id")
    held = with_tier.join(
        required,
        (with_tier.tier == required.program_tier)
        & (with_tier.certification == required.certification),
    )
    return held.select(*certs.columns)


def _partner_requirements(tables: Tables) -> ir.Table:
    partners, required = tables("partners"), tables("certification_requirements")
    joined = partners.join(required, "program_tier")
    return joined.select("partner_id", "program_tier", "certification")


def _target_accounts(tables: Tables) -> ir.Table:
    accounts = tables("accounts")
    return accounts.filter(accounts.is_target.fill_null(False))


def _target_account_opportunities(tables: Tables) -> ir.Table:
    opps = tables("opportunities")
    targets = _target_accounts(tables).select("account_id")
    partner_opps = opps.filter(opps.partner_id.notnull())
    return partner_opps.semi_join(targets, "account_id")


_PARTNER_TABLES = [n for n, t in TABLES.items() if "partner_id" in t.column_names]

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        *(
            Entity(name, TABLES[name].description, _columns(name), True, _table(name))
            for name in _PARTNER_TABLES
            if name != "partners"
        ),
        Entity(
            "mdf_opportunities",
            "Opportunities linked (mdf_activity_id) to an MDF activity of the same partner.",
            _columns("opportunities"),
            True,
            _mdf_opportunities,
        ),
        Entity(
            "required_certifications",
            "Certifications that the partner's program tier requires (certification_requirements).",
            _columns("certifications"),
            True,
            _required_certifications,
        ),
        Entity(
            "partner_requirements",
            "One row per partner and certification its program tier requires.",
            {"partner_id": ColumnType.STRING, "program_tier": ColumnType.STRING}
            | {"certification": ColumnType.STRING},
            True,
            _partner_requirements,
        ),
        Entity(
            "target_account_opportunities",
            "Partner opportunities on target accounts (accounts.is_target).",
            _columns("opportunities"),
            True,
            _target_account_opportunities,
        ),
        Entity(
            "target_accounts",
            "Accounts marked is_target: the accounts the channel should cover.",
            _columns("accounts"),
            False,
            _target_accounts,
        ),
        *entities_mix.ENTITIES,
        *entities_market.ENTITIES,
        *entities_compliance.ENTITIES,
    )
}
