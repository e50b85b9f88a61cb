"""The payout ledger: a quarter's incentive lines computed from a run, through draft → approved
→ paid.

A draft is recomputed at will (its lines replaced). Approving locks the period: its lines never
change again (database triggers refuse it, not only this code). When a later computation finds
that a locked period would now come out differently (a won deal reversed, a late survey), the
difference is posted as **adjustment** lines in the period being computed, per partner and
rule, with the period it corrects: a clawback is a negative adjustment, never an edit. Every
transition is in the audit log.

The lines of a quarter read the run's metric values (won revenue, quota, new customers, CSAT),
its tiers, the annual ranking (in a fiscal year's last quarter) and, from the warehouse, the
period's large won deals and certifications; the warehouse must be the one the run computed
(no import since), so that all lines describe one state of the data.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope import audit, outbox
from partnerscope.amounts import ZERO, cents, text
from partnerscope.appdb.tables import payout_lines, payout_periods
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError
from partnerscope.metrics.calendar import FiscalCalendar, Grain, Period, PeriodError
from partnerscope.money.rules import (
    ClubPlace,
    Deal,
    Line,
    Standing,
    club_places,
    earn,
    money,
    totals,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from partnerscope.evaluation.view import RunData
    from partnerscope.present import Words
    from partnerscope.warehouse import Warehouse
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "payout_period"
DRAFT, APPROVED, PAID = "draft", "approved", "paid"
LOCKED = (APPROVED, PAID)


class PayoutError(PartnerscopeError, ValueError):
    """A payout step that cannot be done as asked (a locked period, a wrong state, a period
    the run does not have)."""


class PayoutNotFoundError(PartnerscopeError, LookupError):
    """No ledger for that period yet."""


@dataclass(frozen=True)
class Ledger:
    period: str
    status: str
    run_id: int
    computed_at: datetime
    computed_by: str
    approved_at: datetime | None
    approved_by: str | None
    paid_at: datetime | None
    paid_by: str | None
    payment_ref: str | None
    lines: list[Line]
    #: the currency of every amount (the workspace's base currency)
    currency: str = "USD"

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def partner_totals(self) -> dict[str, Decimal]:
        """Each partner's total, by partner id."""
        return dict(sorted(totals(self.lines).items()))


# ------------------------------------------------------------------------ gathering inputs


def quarter_of(data: RunData, label: str) -> Period:
    """The fiscal quarter ``label`` of the run (refused if not a quarter the run computed)."""
    calendar = FiscalCalendar(data.workspace.config.workspace.fiscal_year_start_month)
    try:
        period = calendar.parse(label)
    except PeriodError as exc:
        raise PayoutError(str(exc)) from None
    if period.grain is not Grain.QUARTER:
        raise PayoutError(
            f"payouts are quarterly: give a fiscal quarter such as FY2026-Q1, not {label!r}"
        )
    labels = list(quarters(data))
    if period.label not in labels:
        known = ", ".join(labels[-4:])
        raise PayoutError(
            f"run {data.run.run_id} has no quarter {period.label} (its latest: {known}); "
            "pick one of those or compute a newer run with `partnerscope run`"
        )
    return period


def quarters(data: RunData) -> dict[str, bool]:
    """The run's fiscal quarters, oldest first: each label and whether the quarter was over at
    the run's as-of time."""
    table = data.results(Grain.QUARTER.value).table.select(["period_start", "label", "complete"])
    found = {(r["period_start"], r["label"], r["complete"]) for r in table.to_pylist()}
    return {label: complete for _, label, complete in sorted(found)}


def latest_complete_quarter(data: RunData) -> str | None:
    """The run's last fiscal quarter that was over at its as-of time."""
    done = [label for label, complete in quarters(data).items() if complete]
    return done[-1] if done else None


def standings(data: RunData, warehouse: Warehouse, period: Period) -> dict[str, Standing]:
    """Every partner's standing in ``period``: the run's values, tier and club, the warehouse's
    large won deals and certifications obtained in the period (in the reporting time zone)."""
    import pyarrow.compute as pc

    config = data.workspace.config
    settings = config.incentives
    results = data.results(Grain.QUARTER.value).table
    rows = results.filter(pc.equal(results["label"], period.label)).to_pylist()
    tiers = _tiers(data, period, settings.tier_uplift.ruleset)
    clubs = _clubs(data, period) if settings.clubs.enabled else {}
    deals = _large_deals(
        warehouse, period, config.workspace.timezone, settings.milestones.large_deal_over
    )
    certified = _certifications(warehouse, period)
    out = {}
    for row in rows:
        pid = row["group_key"]
        quota = row.get("quota")
        csat = row.get("csat")
        out[pid] = Standing(
            partner_id=pid,
            won_revenue=cents(row.get("won_revenue") or 0),
            quota=cents(quota) if quota is not None else None,
            new_customers=int(row.get("new_customers") or 0),
            csat=Decimal(str(round(csat, 6))) if csat is not None else None,
            certifications=certified.get(pid, 0),
            large_deals=tuple(deals.get(pid, ())),
            tier=tiers.get(pid),
            club=clubs.get(pid),
        )
    return out


def _tiers(data: RunData, period: Period, ruleset: str) -> dict[str, str]:
    """Each partner's effective tier of ``ruleset`` at the end of the period (its last scored
    period within it)."""
    out: dict[str, str] = {}
    table = data.tiers.table
    for row in table.select(["partner_id", "period_start", "ruleset", "effective"]).to_pylist():
        if row["ruleset"] == ruleset and period.start <= row["period_start"] < period.end:
            out[row["partner_id"]] = row["effective"]  # rows are in period order per partner
    return out


def _clubs(data: RunData, period: Period) -> dict[str, ClubPlace]:
    """The annual ranking's clubs, in the fiscal year's last quarter only."""
    if period.end.month != period.fiscal_year_start_month:
        return {}
    clubs = data.workspace.config.incentives.clubs
    year = f"FY{period.fiscal_year}"
    table = data.results(Grain.YEAR.value).table
    values: dict[str, Any] = {}
    for row in table.select(["group_key", "label", clubs.rank_by]).to_pylist():
        if row["label"] == year:
            values[row["group_key"]] = row[clubs.rank_by]
    return club_places(values, clubs, year)


def _large_deals(
    warehouse: Warehouse, period: Period, timezone: str, over: Decimal
) -> dict[str, list[Deal]]:
    rows = warehouse.con.execute(
        "SELECT partner_id, opportunity_id, amount FROM opportunities "
        "WHERE status = 'won' AND partner_id IS NOT NULL AND amount > ? "
        "AND CAST(timezone(?, CAST(closed_at AS TIMESTAMPTZ)) AS DATE) >= ? "
        "AND CAST(timezone(?, CAST(closed_at AS TIMESTAMPTZ)) AS DATE) < ? "
        "ORDER BY partner_id, closed_at, opportunity_id",
        [float(over), timezone, period.start, timezone, period.end],
    ).fetchall()
    out: dict[str, list[Deal]] = defaultdict(list)
    for pid, opportunity, amount in rows:
        out[pid].append(Deal(opportunity, cents(amount)))
    return out


def _certifications(warehouse: Warehouse, period: Period) -> dict[str, int]:
    rows = warehouse.con.execute(
        "SELECT partner_id, count(*) FROM certifications "
        "WHERE issued_at >= ? AND issued_at < ? GROUP BY partner_id",
        [period.start, period.end],
    ).fetchall()
    return {pid: int(n) for pid, n in rows}


def compute_lines(data: RunData, warehouse: Warehouse, period: Period) -> list[Line]:
    """Every partner's lines of ``period`` (before any adjustment), partner by partner."""
    settings = data.workspace.config.incentives
    found = standings(data, warehouse, period)
    return [line for pid in sorted(found) for line in earn(found[pid], period.label, settings)]


# ----------------------------------------------------------------------------- the ledger


class Payouts:
    """The workspace's payout ledgers in the transactional database."""

    def __init__(self, workspace: Workspace, engine: Engine | None = None) -> None:
        from partnerscope import appdb

        self.workspace = workspace
        self.engine = engine or appdb.connect(workspace)

    def compute(self, label: str, *, by: str, run_id: int | None = None) -> Ledger:
        """The draft ledger of quarter ``label`` from a run (the latest by default), with the
        adjustments every earlier locked period now needs; replaces the period's draft."""
        from partnerscope.evaluation.view import RunData

        data = RunData(self.workspace, run_id)
        period = quarter_of(data, label)
        with self.workspace.warehouse(read_only=True) as warehouse:
            _check_same_data(data, warehouse)
            lines = compute_lines(data, warehouse, period)
            with self.engine.begin() as connection:
                state = _state(connection, period.label)
                if state is not None and state["status"] in LOCKED:
                    raise PayoutError(
                        f"{period.label} is {state['status']}: its ledger is locked; changes "
                        "to it are posted as adjustments when a later quarter is computed"
                    )
                lines += self._adjustments(connection, data, warehouse, period)
                now = now_utc()
                values = {
                    "status": DRAFT,
                    "run_id": data.run.run_id,
                    "computed_at": now,
                    "computed_by": by,
                }
                if state is None:
                    connection.execute(
                        payout_periods.insert().values(period=period.label, **values)
                    )
                else:
                    connection.execute(
                        payout_lines.delete().where(payout_lines.c.period == period.label)
                    )
                    connection.execute(
                        payout_periods.update()
                        .where(payout_periods.c.period == period.label)
                        .values(**values)
                    )
                _insert(connection, period.label, lines, data.run.run_id, now)
                total = sum((line.amount for line in lines), ZERO)
                outbox.enqueue(
                    connection,
                    key=f"approval:payout:{period.label}:{now.isoformat()}",
                    kind="approval",
                    title=f"The payout ledger for {period.label} waits for approval",
                    lines=[
                        f"{by} computed it: {len(lines)} lines, "
                        f"{self.workspace.words.money(total)} in all.",
                        "Check it and approve it to lock it.",
                    ],
                    link=f"/payouts/{period.label}",
                    object_type=OBJECT_TYPE,
                    object_id=period.label,
                    now=now,
                )
                audit.record(
                    connection,
                    actor=by,
                    action="compute",
                    object_type=OBJECT_TYPE,
                    object_id=period.label,
                    detail={
                        "run_id": data.run.run_id,
                        "lines": len(lines),
                        "total": text(total),
                        "adjustments": sum(1 for line in lines if line.kind == "adjustment"),
                    },
                )
        return self.ledger(period.label)

    def _adjustments(
        self, connection: Connection, data: RunData, warehouse: Warehouse, period: Period
    ) -> list[Line]:
        """For each locked quarter before ``period``: its lines recomputed now, against what
        was paid for it (its own lines and every adjustment since), per partner and rule."""
        from sqlalchemy import select

        locked = connection.execute(
            select(payout_periods.c.period).where(payout_periods.c.status.in_(LOCKED))
        ).scalars()
        calendar = FiscalCalendar(data.workspace.config.workspace.fiscal_year_start_month)
        earlier = sorted((calendar.parse(p) for p in locked), key=lambda p: p.start)
        out: list[Line] = []
        for old in earlier:
            if old.start >= period.start:
                continue
            paid: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
            for pid, rule, amount in connection.execute(
                select(payout_lines.c.partner_id, payout_lines.c.rule, payout_lines.c.amount)
                .where(payout_lines.c.earned_in == old.label)
                .where(payout_lines.c.period != period.label)
            ):
                paid[(pid, rule)] += Decimal(amount)
            now: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
            for line in compute_lines(data, warehouse, old):
                now[(line.partner_id, line.rule)] += line.amount
            for key in sorted(set(paid) | set(now)):
                change = now[key] - paid[key]
                if change:
                    pid, rule = key
                    word = "clawback" if change < 0 else "catch-up"
                    out.append(
                        Line(
                            pid,
                            rule,
                            "adjustment",
                            old.label,
                            change,
                            f"{word}: {old.label} ({rule}) recomputed with run "
                            f"{data.run.run_id} comes to {money(now[key])}; "
                            f"{money(paid[key])} was booked for it",
                            inputs={"recomputed": text(now[key]), "booked": text(paid[key])},
                        )
                    )
        return out

    def approve(self, label: str, *, by: str) -> Ledger:
        """Lock a draft: from now on its lines never change."""
        from partnerscope.evaluation.view import RunData

        label = self._label(label)
        with self.engine.begin() as connection:
            state = self._require(connection, label, DRAFT, "approve")
            data = RunData(self.workspace, state["run_id"])
            if quarters(data).get(label) is False:
                raise PayoutError(
                    f"{label} was not over in run {state['run_id']} (as of {data.run.as_of}): "
                    "approve it once a run after its end has been computed"
                )
            connection.execute(
                payout_periods.update()
                .where(payout_periods.c.period == label)
                .values(status=APPROVED, approved_at=now_utc(), approved_by=by)
            )
            total = self._total(connection, label)
            audit.record(
                connection,
                actor=by,
                action="approve",
                object_type=OBJECT_TYPE,
                object_id=label,
                detail={"run_id": state["run_id"], "total": text(total)},
            )
            _tell_approved(self.workspace, connection, label, by=by)
        return self.ledger(label)

    def pay(self, label: str, *, by: str, reference: str) -> Ledger:
        """Record that an approved ledger was paid (with the payment's reference)."""
        if not reference.strip():
            raise PayoutError("give the payment's reference (--reference), e.g. the batch id")
        label = self._label(label)
        with self.engine.begin() as connection:
            self._require(connection, label, APPROVED, "pay")
            connection.execute(
                payout_periods.update()
                .where(payout_periods.c.period == label)
                .values(status=PAID, paid_at=now_utc(), paid_by=by, payment_ref=reference.strip())
            )
            audit.record(
                connection,
                actor=by,
                action="pay",
                object_type=OBJECT_TYPE,
                object_id=label,
                detail={
                    "reference": reference.strip(),
                    "total": text(self._total(connection, label)),
                },
            )
            words = self.workspace.words
            outbox.enqueue(
                connection,
                key=f"payout:{label}:paid",
                kind="payout",
                title=f"The payout ledger for {label} was paid",
                lines=[
                    f"{by} recorded the payment of "
                    f"{words.money(self._total(connection, label))} "
                    f"(reference {reference.strip()})."
                ],
                link=f"/payouts/{label}",
                object_type=OBJECT_TYPE,
                object_id=label,
            )
        return self.ledger(label)

    def _require(self, connection: Connection, label: str, status: str, verb: str) -> Any:
        state = _state(connection, label)
        if state is None:
            raise self._not_found(label)
        if state["status"] != status:
            raise PayoutError(f"cannot {verb} {label}: it is {state['status']}, not {status}")
        return state

    def _total(self, connection: Connection, label: str) -> Decimal:
        from sqlalchemy import select

        amounts = connection.execute(
            select(payout_lines.c.amount).where(payout_lines.c.period == label)
        ).scalars()
        return sum((Decimal(a) for a in amounts), ZERO)

    def _label(self, label: str) -> str:
        """``label`` as a ledger is stored under (``2026-Q3`` → ``FY2026-Q3``); a label that is
        no fiscal quarter is refused here, before any command is suggested for it."""
        calendar = FiscalCalendar(self.workspace.config.workspace.fiscal_year_start_month)
        try:
            period = calendar.parse(label.strip())
        except PeriodError:
            period = None
        if period is None or period.grain is not Grain.QUARTER:
            raise PayoutNotFoundError(
                f"{label!r} is not a fiscal quarter: ledgers are quarterly, written like "
                "FY2026-Q1 (see `partnerscope payouts list` for the ledgers there are)"
            )
        return period.label

    def _not_found(self, label: str) -> PayoutNotFoundError:
        """No ledger for ``label``: how to compute one, if the latest run can."""
        from partnerscope.evaluation.view import RunData

        known = ", ".join(p.period for p in self.periods()) or "none yet"
        try:
            quarter_of(RunData(self.workspace), label)
        except PartnerscopeError as exc:
            return PayoutNotFoundError(
                f"no ledger for {label!r} (ledgers: {known}), and none can be computed yet: {exc}"
            )
        return PayoutNotFoundError(
            f"no ledger for {label!r} (ledgers: {known}); compute it with "
            f"`partnerscope payouts compute {label}`"
        )

    def ledger(self, label: str) -> Ledger:
        from sqlalchemy import select

        label = self._label(label)
        with self.engine.connect() as connection:
            state = _state(connection, label)
            if state is None:
                raise self._not_found(label)
            rows = connection.execute(
                select(payout_lines)
                .where(payout_lines.c.period == label)
                .order_by(payout_lines.c.partner_id, payout_lines.c.line_id)
            ).mappings()
            lines = [_line(row) for row in rows]
        return Ledger(
            lines=lines,
            **{k: v for k, v in state.items() if k != "period"},
            period=label,
            currency=self.workspace.config.workspace.base_currency,
        )

    def periods(self) -> list[Ledger]:
        """Every ledger, oldest first, without its lines."""
        from sqlalchemy import select

        with self.engine.connect() as connection:
            rows = connection.execute(select(payout_periods)).mappings().all()
        calendar = FiscalCalendar(self.workspace.config.workspace.fiscal_year_start_month)
        currency = self.workspace.config.workspace.base_currency
        ledgers = [Ledger(lines=[], **dict(row), currency=currency) for row in rows]
        return sorted(ledgers, key=lambda ledger: calendar.parse(ledger.period).start)


def _tell_approved(workspace: Workspace, connection: Connection, label: str, *, by: str) -> None:
    """In the approval's transaction: finance is told the ledger is approved, and each partner
    with lines in it that its own statement is (its amount only, nothing of other partners)."""
    from sqlalchemy import select

    words = workspace.words
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for pid, amount in connection.execute(
        select(payout_lines.c.partner_id, payout_lines.c.amount).where(
            payout_lines.c.period == label
        )
    ):
        amounts[pid] += Decimal(amount)
    total = sum(amounts.values(), ZERO)
    outbox.enqueue(
        connection,
        key=f"payout:{label}:approved",
        kind="payout",
        title=f"The payout ledger for {label} is approved",
        lines=[
            f"{by} approved it: {words.money(total)} for {len(amounts)} "
            f"partner{'' if len(amounts) == 1 else 's'}. Its lines no longer change."
        ],
        facts=[("Quarter", label), ("Total", words.money(total))],
        link=f"/payouts/{label}",
        object_type=OBJECT_TYPE,
        object_id=label,
    )
    for pid, amount in sorted(amounts.items()):
        outbox.enqueue(
            connection,
            key=f"payout:{label}:approved:{pid}",
            kind="payout",
            title=f"Your payout statement for {label} is approved: {words.money(amount)}",
            lines=[f"Your payout statement for {label} comes to {words.money(amount)}."],
            facts=[("Quarter", label), ("Amount", words.money(amount))],
            audience="partner",
            partner_id=pid,
            roles=(),
            webhooks=(),  # the staff twin goes to the webhooks
            link=f"/payouts/{label}",
            object_type=OBJECT_TYPE,
            object_id=label,
        )


def _check_same_data(data: RunData, warehouse: Warehouse) -> None:
    newest = warehouse.last_import_id()
    computed = int(data.run.inputs.get("max_import_id", 0))
    if newest != computed:
        raise PayoutError(
            f"the warehouse has imports newer than run {data.run.run_id} (import {newest}, the "
            f"run read up to {computed}); compute a new run with `partnerscope run` so the "
            "ledger's deals and certifications match its metrics"
        )


def _state(connection: Connection, label: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    row = (
        connection.execute(select(payout_periods).where(payout_periods.c.period == label))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _insert(
    connection: Connection, label: str, lines: list[Line], run_id: int, now: datetime
) -> None:
    if not lines:
        return
    connection.execute(
        payout_lines.insert(),
        [
            {
                "period": label,
                "partner_id": line.partner_id,
                "rule": line.rule,
                "kind": line.kind,
                "earned_in": line.earned_in,
                "base": text(line.base) if line.base is not None else None,
                "rate": str(line.rate) if line.rate is not None else None,
                "quantity": line.quantity,
                "amount": text(line.amount),
                "explanation": line.explanation,
                "inputs": line.inputs,
                "run_id": run_id,
                "created_at": now,
            }
            for line in lines
        ],
    )


def _line(row: Any) -> Line:
    return Line(
        partner_id=row["partner_id"],
        rule=row["rule"],
        kind=row["kind"],
        earned_in=row["earned_in"],
        amount=Decimal(row["amount"]),
        explanation=row["explanation"],
        base=Decimal(row["base"]) if row["base"] is not None else None,
        rate=Decimal(row["rate"]) if row["rate"] is not None else None,
        quantity=row["quantity"],
        inputs=row["inputs"],
    )


# ------------------------------------------------------------------------------- exports

#: the payment file's columns (CSV): ``currency``, the ISO code of every amount, is the last
COLUMNS = (
    "period",
    "partner_id",
    "rule",
    "kind",
    "earned_in",
    "base",
    "rate",
    "quantity",
    "amount",
    "explanation",
    "currency",
)


def export(
    ledger: Ledger,
    path: Path,
    *,
    names: dict[str, str] | None = None,
    words: Words | None = None,
) -> Path:
    """The ledger for payment: CSV (every line, with its currency) or XLSX (a sheet of partner
    totals to pay and a sheet of every line, amounts in the ledger's currency written
    ``words``' way), chosen by ``path``'s suffix. Text cells that a spreadsheet would run as a
    formula are written as text."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise PayoutError(f"{path}: write the ledger to a .csv or an .xlsx file")
    from partnerscope.atomic import replacing
    from partnerscope.present import Words

    if words is None or words.currency != ledger.currency:
        words = Words(words.locale if words else "en_US", ledger.currency)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temp:
        if suffix == ".csv":
            _csv(ledger, temp)
        else:
            _xlsx(ledger, temp, names or {}, words)
    return path


def _rows(ledger: Ledger) -> Iterator[list[Any]]:
    for line in ledger.lines:
        yield [
            ledger.period,
            line.partner_id,
            line.rule,
            line.kind,
            line.earned_in,
            line.base,
            line.rate,
            line.quantity,
            line.amount,
            line.explanation,
            ledger.currency,
        ]


def _csv(ledger: Ledger, path: Path) -> None:
    from partnerscope.cells import csv_cell

    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in _rows(ledger):
            writer.writerow([csv_cell(value) for value in row])


def _xlsx(ledger: Ledger, path: Path, names: dict[str, str], words: Words) -> None:
    """Two sheets for people: the partner totals to pay with their total row, and every line
    with its rule in words; amounts to the cent in the currency, the partner's id and name
    frozen, columns as wide as their content."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    money_format = words.excel_money(cents=True)
    amount = book.add_format({"num_format": money_format})
    rate = book.add_format({"num_format": "0.0##%"})
    bold = book.add_format({"bold": True, "bottom": 1})
    total_format = book.add_format({"bold": True, "top": 1, "num_format": money_format})
    total_label = book.add_format({"bold": True, "top": 1})
    widths: dict[tuple[str, int], int] = {}

    def note(sheet: str, col: int, shown: str) -> None:
        widths[sheet, col] = min(max(widths.get((sheet, col), 8), len(shown) + 2), 80)

    def money_text(value: Decimal) -> str:
        return words.money(value, cents=True)

    pay = book.add_worksheet("to pay")
    heads = ["partner id", "partner", "amount", "currency", "period", "status"]
    pay.write_row(0, 0, heads, bold)
    for col, head in enumerate(heads):
        note("pay", col, head)
    row = 0
    for row, (pid, total) in enumerate(ledger.partner_totals().items(), start=1):
        name = names.get(pid, "")
        pay.write_string(row, 0, pid)
        pay.write_string(row, 1, name)
        pay.write_number(row, 2, float(total), amount)
        pay.write_string(row, 3, ledger.currency)
        pay.write_string(row, 4, ledger.period)
        pay.write_string(row, 5, ledger.status)
        for col, shown in ((0, pid), (1, name), (2, money_text(total))):
            note("pay", col, shown)
    pay.write_string(row + 1, 0, "", total_label)
    pay.write_string(row + 1, 1, "total", total_label)
    pay.write_number(row + 1, 2, float(ledger.total), total_format)
    pay.write_string(row + 1, 3, ledger.currency, total_label)
    note("pay", 2, money_text(ledger.total))
    pay.freeze_panes(1, 2)
    for (sheet, col), width in widths.items():
        if sheet == "pay":
            pay.set_column(col, col, width)

    lines = book.add_worksheet("lines")
    heads = [
        "partner id",
        "partner",
        "period",
        "rule",
        "kind",
        "earned in",
        "base",
        "rate",
        "quantity",
        "amount",
        "currency",
        "explanation",
    ]
    lines.write_row(0, 0, heads, bold)
    for col, head in enumerate(heads):
        note("lines", col, head)
    for r, line in enumerate(ledger.lines, start=1):
        name = names.get(line.partner_id, "")
        texts = [line.partner_id, name, ledger.period, words.rule(line.rule)]
        texts += [line.kind.capitalize(), line.earned_in]
        for c, written in enumerate(texts):
            lines.write_string(r, c, written)
            note("lines", c, written)
        if line.base is not None:
            lines.write_number(r, 6, float(line.base), amount)
            note("lines", 6, money_text(line.base))
        if line.rate is not None:
            # a rate per unit (a customer, a certification) is money; else a share of the base
            per_unit = line.quantity is not None
            lines.write_number(r, 7, float(line.rate), amount if per_unit else rate)
            shown = money_text(line.rate) if per_unit else words.share(line.rate, digits=3)
            note("lines", 7, shown)
        if line.quantity is not None:
            lines.write_number(r, 8, line.quantity)
            note("lines", 8, words.number(line.quantity))
        lines.write_number(r, 9, float(line.amount), amount)
        note("lines", 9, money_text(line.amount))
        lines.write_string(r, 10, ledger.currency)
        lines.write_string(r, 11, line.explanation)
        note("lines", 11, line.explanation)
    lines.freeze_panes(1, 2)
    for (sheet, col), width in widths.items():
        if sheet == "lines":
            lines.set_column(col, col, width)
    lines.autofilter(0, 0, len(ledger.lines), len(heads) - 1)
    book.close()
