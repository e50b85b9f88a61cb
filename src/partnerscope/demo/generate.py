"""Generate a complete demo workspace: seeded, realistic exports plus their ``partnerscope.toml``.

The same seed and scale always give byte-identical files: the data window is fixed (12 fiscal
quarters, 2023-10-01 to 2026-09-30) and nothing reads the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from partnerscope.demo import audits, coverage, deals, programs, retention, service
from partnerscope.demo.columns import dates, labels
from partnerscope.demo.measure_plan import (
    PLANTED_FILE,
    UNCOVERED_COUNTRY,
    complete_portfolio,
    plan_measures,
)
from partnerscope.demo.output import write_csv, write_parquet, write_utf16_csv, write_xlsx
from partnerscope.demo.patterns import PATTERNS, Plan, plant
from partnerscope.demo.vocabulary import INDUSTRIES
from partnerscope.demo.workspace_toml import workspace_toml
from partnerscope.demo.world import (
    COUNTRIES,
    CURRENCIES,
    DORMANT,
    PROGRAM_TIERS,
    REGIONS,
    TYPE_LABELS,
    WINDOW_END,
    WINDOW_START,
    Accounts,
    FxRates,
    Partners,
    make_accounts,
    make_fx,
    make_partners,
    sizes_for,
)

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`generate_demo` wrote."""

    files: dict[str, Path]  # source name -> file written
    rows: dict[str, int]  # source name -> data rows written
    planted: dict[str, list[str]]  # pattern -> partner ids
    period_start: date
    period_end: date
    #: the patterns planted for the service, retention, coverage and conflict measures
    #: (data/planted-measures.json): pattern -> partner ids, territory or account ids
    planted_measures: dict[str, list[str]] = field(default_factory=dict)


def generate_demo(
    root: Path, *, scale: float = 1.0, seed: int = 42, progress: Progress | None = None
) -> DemoManifest:
    """Write the demo exports into ``root/data`` and their config to ``root/partnerscope.toml``.

    ``progress(source, rows)`` is called after each file. Raises ValueError if scale <= 0.
    """
    sizes = sizes_for(scale)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    rows: dict[str, int] = {}

    def emit(source: str, filename: str, write: Callable[[Path], int]) -> None:
        path = data / filename
        files[source] = path
        rows[source] = write(path)
        if progress is not None:
            progress(source, rows[source])

    fx = make_fx(seed)
    partners, plan = plant(make_partners(sizes, seed), seed)
    accounts = make_accounts(sizes, seed)
    emit("fx_rates", "fx_rates.csv", lambda path: write_csv(_fx_table(fx), path))
    emit(
        "partners",
        "partners.xlsx",
        lambda path: write_xlsx(_partner_table(partners), path, sheet="Partners"),
    )
    emit("accounts", "accounts.csv", lambda path: write_csv(_account_table(accounts), path))

    mdf, mdf_index = programs.make_mdf(partners, plan, sizes, fx, seed)
    emit("mdf_activities", "mdf_activities.csv", lambda path: write_csv(mdf, path))
    opportunities, opportunity_index = deals.make_opportunities(
        partners, accounts, plan, mdf_index, fx, sizes, seed
    )
    emit("opportunities", "opportunities.csv", lambda path: write_csv(opportunities, path))
    emit(
        "leads",
        "leads.parquet",
        lambda path: write_parquet(
            deals.make_leads(partners, plan, opportunity_index, fx, sizes, seed), path
        ),
    )
    emit(
        "certifications",
        "certifications.csv",
        lambda path: write_csv(programs.make_certifications(partners, seed), path),
    )
    emit(
        "certification_requirements",
        "certification_requirements.csv",
        lambda path: write_csv(programs.make_requirements(), path),
    )
    emit(
        "compliance_checks",
        "compliance_checks.csv",
        lambda path: write_csv(programs.make_compliance(partners, plan, seed), path),
    )
    emit(
        "surveys",
        "surveys.csv",
        lambda path: write_utf16_csv(programs.make_surveys(partners, plan, sizes, seed), path),
    )
    emit(
        "quotas",
        "quotas.csv",
        lambda path: write_csv(programs.make_quotas(partners, plan, fx, seed), path),
    )
    emit(
        "partner_costs",
        "partner_costs.csv",
        lambda path: write_csv(programs.make_costs(partners, fx, seed), path),
    )

    planted_measures = _measures(emit, partners, accounts, plan, opportunities, seed)

    planted = {name: plan.planted[name] for name in PATTERNS}
    (data / "planted.json").write_text(json.dumps(planted, indent=2) + "\n", encoding="utf-8")
    (data / PLANTED_FILE).write_text(
        json.dumps(planted_measures, indent=2) + "\n", encoding="utf-8"
    )
    (root / "partnerscope.toml").write_text(
        workspace_toml(seed=seed, scale=scale), encoding="utf-8"
    )
    return DemoManifest(
        files=files,
        rows=rows,
        planted=planted,
        period_start=WINDOW_START,
        period_end=WINDOW_END,
        planted_measures=planted_measures,
    )


def _measures(
    emit: Callable[[str, str, Callable[[Path], int]], None],
    partners: Partners,
    accounts: Accounts,
    plan: Plan,
    opportunities: pa.Table,
    seed: int,
) -> dict[str, list[str]]:
    """The files of the service, retention, coverage, conflict and audit measures, each from a
    random stream of its own after every older file (those stay byte for byte the same)."""
    measures = plan_measures(partners, plan, seed)
    emit(
        "support_cases",
        "support_cases.csv",
        lambda path: write_csv(service.make_cases(partners, accounts, measures, seed), path),
    )
    emit(
        "subscriptions",
        "subscriptions.csv",
        lambda path: write_csv(
            retention.make_subscriptions(partners, accounts, measures, seed), path
        ),
    )
    emit(
        "partner_surveys",
        "partner_surveys.csv",
        lambda path: write_csv(service.make_partner_surveys(partners, measures, seed), path),
    )
    emit(
        "product_families",
        "product_families.csv",
        lambda path: write_csv(retention.make_product_families(), path),
    )
    emit(
        "territories", "territories.csv", lambda path: write_csv(coverage.make_territories(), path)
    )
    emit(
        "partner_territories",
        "partner_territories.csv",
        lambda path: write_csv(coverage.make_partner_territories(partners, seed), path),
    )
    audit_table, finding_table = audits.make_audits(partners, plan, seed)
    emit("audits", "audits.csv", lambda path: write_csv(audit_table, path))
    emit("audit_findings", "audit_findings.csv", lambda path: write_csv(finding_table, path))
    conflict, records, direct = coverage.plant_conflict(
        partners,
        accounts,
        opportunities,
        measures,
        np.flatnonzero(np.any(list(plan.masks.values()), axis=0)),
        seed,
    )
    emit("direct_accounts", "direct_crm_accounts.csv", lambda path: write_csv(records, path))
    emit("direct_deals", "direct_crm_deals.csv", lambda path: write_csv(direct, path))
    return {
        "service_collapse": [partners.ids[measures.service_collapse]],
        "rising_churn": [partners.ids[measures.rising_churn]],
        "uncovered_territory": [UNCOVERED_COUNTRY[0]],
        "conflicting_account": [conflict.account_id, *conflict.records],
        "complete_portfolio": [complete_portfolio(opportunities, partners, plan)],
    }


def _fx_table(fx: FxRates) -> pa.Table:
    days = np.repeat(fx.days, 2)
    currency = np.tile(np.array([1, 2]), len(fx.days))
    return pa.table(
        {
            "Date": dates(days, fmt="%m/%d/%Y"),
            "Currency": labels(CURRENCIES, currency),
            "USD per unit": pa.array(fx.rates.T.ravel()),
        }
    )


def _partner_table(partners: Partners) -> pa.Table:
    country = partners.country
    return pa.table(
        {
            "Partner ID": partners.ids,
            "Partner Name": partners.names,
            "Partner Type": labels(TYPE_LABELS, partners.type_code),
            "Region": labels(REGIONS, partners.region),
            "Country": labels([c[0] for c in COUNTRIES], country),
            "Program Tier": labels(PROGRAM_TIERS, partners.program_tier),
            "Channel Manager": partners.manager,
            "Join Date": dates(partners.joined_day),
            "Status": labels(("Active", "Inactive"), (partners.band == DORMANT).astype(np.int64)),
            "Latitude": pa.array(partners.latitude),
            "Longitude": pa.array(partners.longitude),
        }
    )


def _account_table(accounts: Accounts) -> pa.Table:
    return pa.table(
        {
            "Account ID": accounts.ids,
            "Account Name": accounts.names,
            "Website": accounts.domains,
            "Country": labels([c[0] for c in COUNTRIES], accounts.country),
            "Industry": labels(INDUSTRIES, accounts.industry),
            "Employees": pa.array(accounts.employees),
            "Annual Revenue (USD)": pa.array(accounts.annual_revenue),
            "Target Account": labels(("N", "Y"), accounts.is_target.astype(np.int64)),
        }
    )
