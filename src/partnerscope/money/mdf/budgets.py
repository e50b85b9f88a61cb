"""MDF budgets: a partner's annual budget and what is left of it.

A partner's budget for a fiscal year is its override (``mdf_budgets``, set with a reason) if
it has one, else the amount ``[mdf.budgets]`` gives its effective tier of ``[mdf] ruleset`` in
the latest run: the tier at the end of the previous fiscal year (its last scored period ending
on or before the year's first day), else its latest tier. A tier without an amount, or a
partner without a tier, has no budget (0).

What is left = the budget − what the workflow has committed that year (the approved amount of
each approved or claimed request, the paid amount of each paid one: a claim below the approved
amount frees the difference only once paid) − the spend of imported MDF activities paid that
year (``mdf_activities.paid_amount`` with ``paid_at`` in the year). Activities whose id starts
with ``MDF-REQ-`` are the workflow's own requests, posted by each run
(:mod:`partnerscope.money.posting`): they are already counted as requests and are left out
here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from partnerscope import appdb, audit, clock
from partnerscope.amounts import ZERO, AmountError, cents, parse_amount, text
from partnerscope.appdb.tables import mdf_budgets, mdf_requests
from partnerscope.clock import local_date, now_utc
from partnerscope.money.mdf.common import (
    REQUEST_PREFIX,
    MdfError,
    MdfRefusedError,
    RequestStatus,
    fiscal_year,
)
from partnerscope.warehouse import check_partner, partner_names, read_warehouse

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.engine import Connection

    from partnerscope.metrics.calendar import Period
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "mdf_budget"
MAX_REASON = 2000
#: request states whose amounts count against the budget
COMMITTED = (RequestStatus.APPROVED, RequestStatus.CLAIMED, RequestStatus.PAID)


@dataclass(frozen=True)
class Budget:
    partner_id: str
    fiscal_year: str
    amount: Decimal
    #: "override" (set in ``mdf_budgets``) or "tier" (the tier's default)
    source: str
    #: the effective tier that sets the default, and the period it was read from
    tier: str | None
    tier_period: str | None
    #: the override's reason, author and time
    reason: str | None
    set_by: str | None
    set_at: datetime | None
    #: approved (approved, claimed) and paid amounts of the workflow's requests that year
    committed: Decimal
    #: paid amounts of imported MDF activities paid that year (not the workflow's own)
    imported_spend: Decimal

    @property
    def left(self) -> Decimal:
        return self.amount - self.committed - self.imported_spend


def tier_defaults(
    workspace: Workspace, year: Period, *, required: bool = True
) -> dict[str, tuple[str, str]]:
    """Each partner of the latest run: (its effective tier of ``[mdf] ruleset`` at the end of
    the fiscal year before ``year``, else its latest; the period label read). Without a run:
    refused, or nothing when not ``required``."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.metrics.calendar import FiscalCalendar
    from partnerscope.runs import RunNotFoundError

    # the ruleset and the tier names of [mdf.budgets] are checked when the config is loaded
    settings = workspace.config.mdf
    try:
        data = RunData(workspace)
    except RunNotFoundError:
        if not required:
            return {}
        raise MdfError(
            "MDF budgets by tier need a run: compute one with `partnerscope run`, or set the "
            "budget with `partnerscope mdf budget set`"
        ) from None
    import pyarrow.compute as pc

    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    table = data.tiers.table
    mine = table.filter(pc.equal(table["ruleset"], settings.ruleset))
    rows = mine.select(["partner_id", "period", "effective"]).to_pylist()
    ends: dict[str, date] = {}
    before: dict[str, tuple[str, str]] = {}
    latest: dict[str, tuple[str, str]] = {}
    for row in rows:  # in period order within each partner
        label = row["period"]
        if label not in ends:
            ends[label] = calendar.parse(label).end
        placed = (row["effective"], label)
        latest[row["partner_id"]] = placed
        if ends[label] <= year.start:
            before[row["partner_id"]] = placed
    return {pid: before.get(pid, placed) for pid, placed in latest.items()}


def _committed(
    connection: Connection, label: str, partner_id: str | None = None
) -> dict[str, Decimal]:
    from sqlalchemy import select

    query = select(
        mdf_requests.c.partner_id,
        mdf_requests.c.status,
        mdf_requests.c.approved_amount,
        mdf_requests.c.paid_amount,
    ).where(
        mdf_requests.c.fiscal_year == label,
        mdf_requests.c.status.in_([s.value for s in COMMITTED]),
    )
    if partner_id is not None:
        query = query.where(mdf_requests.c.partner_id == partner_id)
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in connection.execute(query):
        amount = row.paid_amount if row.status == RequestStatus.PAID else row.approved_amount
        out[row.partner_id] += Decimal(amount)
    return out


def _imported_spend(
    workspace: Workspace, year: Period, partner_id: str | None = None
) -> dict[str, Decimal]:
    sql = (
        "SELECT partner_id, sum(paid_amount) FROM mdf_activities "
        "WHERE paid_at >= ? AND paid_at < ? AND paid_amount IS NOT NULL "
        "AND NOT starts_with(activity_id, ?)"
    )
    params: list[object] = [year.start, year.end, REQUEST_PREFIX]
    if partner_id is not None:
        sql += " AND partner_id = ?"
        params.append(partner_id)
    rows = read_warehouse(workspace, sql + " GROUP BY partner_id", params)
    return {pid: cents(amount) for pid, amount in rows}


def _overrides(
    connection: Connection, label: str, partner_id: str | None = None
) -> dict[str, tuple[Decimal, str, str, datetime]]:
    from sqlalchemy import select

    query = select(mdf_budgets).where(mdf_budgets.c.fiscal_year == label)
    if partner_id is not None:
        query = query.where(mdf_budgets.c.partner_id == partner_id)
    return {
        row.partner_id: (Decimal(row.amount), row.reason, row.set_by, row.set_at)
        for row in connection.execute(query)
    }


def compute_budgets(
    workspace: Workspace,
    connection: Connection,
    year: Period,
    partner_ids: Collection[str],
    *,
    partner_id: str | None = None,
) -> list[Budget]:
    """The budgets of ``partner_ids`` (one partner's when ``partner_id`` is given), read on
    ``connection`` so that a caller deciding on them sees the same rows it then changes."""
    label = year.label
    overrides = _overrides(connection, label, partner_id)
    committed = _committed(connection, label, partner_id)
    imported = _imported_spend(workspace, year, partner_id)
    wanted = sorted({*partner_ids, *overrides})
    # the tiers are shown beside overrides too, but only a default needs them
    tiers = tier_defaults(workspace, year, required=any(p not in overrides for p in wanted))
    defaults = workspace.config.mdf.budgets
    out = []
    for pid in wanted:
        tier, period = tiers.get(pid, (None, None))
        if pid in overrides:
            amount, reason, set_by, set_at = overrides[pid]
            source = "override"
        else:
            amount = cents(defaults.get(tier, ZERO)) if tier else ZERO
            reason, set_by, set_at, source = None, None, None, "tier"
        out.append(
            Budget(
                partner_id=pid,
                fiscal_year=label,
                amount=amount,
                source=source,
                tier=tier,
                tier_period=period,
                reason=reason,
                set_by=set_by,
                set_at=set_at,
                committed=committed.get(pid, ZERO),
                imported_spend=imported.get(pid, ZERO),
            )
        )
    return out


def budgets(
    workspace: Workspace, year: str | int | None = None, *, now: datetime | None = None
) -> list[Budget]:
    """Every partner's budget for the fiscal year (default: the current one), by partner id."""
    period = fiscal_year(workspace, year, clock.today(workspace, now))
    names = partner_names(workspace)
    with appdb.connect(workspace).connect() as connection:
        return compute_budgets(workspace, connection, period, names)


def budget(
    workspace: Workspace,
    partner_id: str,
    year: str | int | None = None,
    *,
    now: datetime | None = None,
) -> Budget:
    """One partner's budget for the fiscal year (default: the current one)."""
    period = fiscal_year(workspace, year, clock.today(workspace, now))
    check_partner(partner_names(workspace), partner_id, MdfRefusedError)
    with appdb.connect(workspace).connect() as connection:
        return compute_budgets(workspace, connection, period, [partner_id], partner_id=partner_id)[
            0
        ]


def budget_left(
    workspace: Workspace,
    partner_id: str,
    year: str | int | None = None,
    *,
    now: datetime | None = None,
) -> Decimal:
    """What the partner can still be approved in the fiscal year (see the module's docstring)."""
    return budget(workspace, partner_id, year, now=now).left


def set_budget(
    workspace: Workspace,
    partner_id: str,
    year: str | int | None,
    amount: Decimal | int | str,
    *,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> Budget:
    """Set the partner's budget for the fiscal year (None: the current one) instead of its
    tier's default; the change
    and its reason go to the audit log. A budget below what is already committed is allowed
    (nothing more can then be approved)."""
    from sqlalchemy import select

    moment = now or now_utc()
    period = fiscal_year(workspace, year, local_date(moment, workspace.config.workspace.timezone))
    try:
        value = parse_amount(amount, "budget")
    except AmountError as exc:
        raise MdfError(str(exc)) from None
    if value < 0:
        raise MdfError(f"the budget {value} is negative; give 0 or more")
    why = reason.strip()
    if not why:
        raise MdfError("give a reason: a budget set by hand without one cannot be reviewed later")
    if len(why) > MAX_REASON:
        raise MdfError(f"the reason has {len(why):,} characters; keep it to {MAX_REASON:,}")
    check_partner(partner_names(workspace), partner_id, MdfRefusedError)
    key = (mdf_budgets.c.fiscal_year == period.label) & (mdf_budgets.c.partner_id == partner_id)
    values = {"amount": text(value), "reason": why, "set_by": by, "set_at": moment}
    with appdb.connect(workspace).begin() as connection:
        before = connection.execute(select(mdf_budgets.c.amount).where(key)).scalar()
        if before is None:
            connection.execute(
                mdf_budgets.insert().values(
                    fiscal_year=period.label, partner_id=partner_id, **values
                )
            )
        else:
            connection.execute(mdf_budgets.update().where(key).values(**values))
        audit.record(
            connection,
            actor=by,
            action="set",
            object_type=OBJECT_TYPE,
            object_id=f"{partner_id}/{period.label}",
            detail={
                "partner_id": partner_id,
                "fiscal_year": period.label,
                "amount": text(value),
                "previous_override": before,
                "reason": why,
            },
        )
        found = compute_budgets(workspace, connection, period, [partner_id], partner_id=partner_id)
    return found[0]
