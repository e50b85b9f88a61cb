"""Joint business plans: per partner and fiscal year, what both sides commit to and the
quarterly milestones every run tracks against the partner's actual values.

A plan (``business_plans``) holds its content as JSON (target markets and products, each side's
commitments, the co-investment: MDF in the base currency and presales days, and the vendor's
internal note, the one staff-only field), its owners and its status (draft → agreed). Its
milestones (``business_plan_milestones``) each name a catalog metric of the partner, a fiscal
quarter of the plan's year, a target, an owner and a note; a plan has at most one milestone per
metric and quarter. Every change is a new version: the whole plan as it became is kept in
``business_plan_versions`` with who made it and what changed in words ("Q2 Won revenue target
$100,000 → $120,000"), written in one transaction with its audit entry. Changing an agreed plan
makes it a draft again: both sides agree to the plan as it is.

Tracking (:func:`track`): the partner's value of the milestone's metric in its fiscal quarter,
from a run's results at quarter grain. A complete quarter's milestone is *met* when the value
reaches the target (at most the target for a metric where lower is better), else *missed*; a
quarter not begun is *upcoming*; the quarter in progress (the run's as-of date inside it) is
*on track* while the value so far reaches the target × the elapsed share of the quarter × (1 −
``[business_plans] at_risk_margin``), else *at risk* — the target is pro-rated only for metrics
that add up over the quarter (sums and counts of what happened in it); a level, a rate or a
count at period end is compared with the whole target less the margin. No value → *no data*.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit
from partnerscope.appdb.tables import (
    business_plan_milestones,
    business_plan_versions,
    business_plans,
)
from partnerscope.clock import local_date, now_utc
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.lifecycle.sheets import ImportRefusedError, RowProblem, Sheet, read_sheet

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from partnerscope.evaluation.pipeline import Evaluation
    from partnerscope.metrics.definition import Metric
    from partnerscope.present import Words
    from partnerscope.runs import RunManifest
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "business_plan"
DRAFT, AGREED = "draft", "agreed"
STATUSES = (DRAFT, AGREED)
#: the plan's content: key → label (lists of text, then amounts, then the staff-only note)
LISTS = {
    "target_markets": "Target markets",
    "target_products": "Target products",
    "vendor_commitments": "Vendor commitments",
    "partner_commitments": "Partner commitments",
}
AMOUNTS = {"mdf_amount": "MDF co-investment", "presales_days": "Presales days"}
INTERNAL_NOTE = "internal_note"
CONTENT = {**LISTS, **AMOUNTS, INTERNAL_NOTE: "Internal note"}
OWNERS = {"vendor_owner": "Vendor owner", "partner_owner": "Partner owner"}
#: fields a partner user never sees: the vendor's own note on the plan, and who at the vendor
#: owns it (partners are not told who at the vendor works on them)
STAFF_ONLY = (INTERNAL_NOTE, "vendor_owner")
MAX_TEXT = 2000

#: milestone statuses, key → words
MET, MISSED, ON_TRACK, AT_RISK, UPCOMING, NO_DATA = (
    "met",
    "missed",
    "on_track",
    "at_risk",
    "upcoming",
    "no_data",
)
STATUS_WORDS = {
    MET: "Met",
    MISSED: "Missed",
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    UPCOMING: "Upcoming",
    NO_DATA: "No data",
}
#: the order a list of milestones is read in: what needs attention first
URGENCY = {MISSED: 0, AT_RISK: 1, NO_DATA: 2, ON_TRACK: 3, UPCOMING: 4, MET: 5}
ALERT_KIND = "milestone"


class BusinessPlanError(PartnerscopeError, ValueError):
    """A plan change refused: the field, why and how to fix it."""


class BusinessPlanNotFoundError(BusinessPlanError, LookupError):
    """No plan for that partner (and year)."""


# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Milestone:
    quarter: int
    metric: str
    target: float
    owner: str | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.quarter, self.metric)

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "metric": self.metric,
            "target": self.target,
            "owner": self.owner,
            "note": self.note,
        }


@dataclass(frozen=True)
class Plan:
    plan_id: int
    partner_id: str
    fiscal_year: int
    version: int
    status: str
    content: dict[str, Any]
    vendor_owner: str | None
    partner_owner: str | None
    updated_at: datetime
    updated_by: str
    milestones: tuple[Milestone, ...] = ()

    def snapshot(self) -> dict[str, Any]:
        """The whole plan as JSON (a version's snapshot)."""
        return {
            "partner_id": self.partner_id,
            "fiscal_year": self.fiscal_year,
            "version": self.version,
            "status": self.status,
            "content": self.content,
            "vendor_owner": self.vendor_owner,
            "partner_owner": self.partner_owner,
            "milestones": [m.as_dict() for m in self.milestones],
        }

    def milestone(self, quarter: int, metric: str) -> Milestone | None:
        return next((m for m in self.milestones if m.key == (quarter, metric)), None)


@dataclass(frozen=True)
class Version:
    version: int
    change: str
    changed_by: str
    changed_at: datetime
    snapshot: dict[str, Any]

    def partner_change(self) -> str:
        """The change without what concerns staff-only fields ("" if only those changed)."""
        staff = tuple({**CONTENT, **OWNERS}[k] for k in STAFF_ONLY)
        kept = [s for s in self.change.split("; ") if not s.startswith(staff)]
        return "; ".join(kept)


@dataclass
class _Draft:
    """A plan as it is to become: compared with the stored one to write the change."""

    partner_id: str
    fiscal_year: int
    status: str = DRAFT
    content: dict[str, Any] = field(default_factory=dict)
    vendor_owner: str | None = None
    partner_owner: str | None = None
    milestones: dict[tuple[int, str], Milestone] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan) -> _Draft:
        return cls(
            plan.partner_id,
            plan.fiscal_year,
            plan.status,
            dict(plan.content),
            plan.vendor_owner,
            plan.partner_owner,
            {m.key: m for m in plan.milestones},
        )


# ------------------------------------------------------------------------------- checks


def partner_metrics(ws: Workspace) -> dict[str, Metric]:
    """The catalog metrics a milestone may track: those with a value per partner."""
    return {m.name: m for m in ws.catalog if not m.group_only}


def check_metric(ws: Workspace, text: str, what: str = "metric") -> str:
    """The catalog key of ``text`` (a key or a label, any case), or an error naming the
    closest metric."""
    known = partner_metrics(ws)
    value = (text or "").strip()
    if value in known:
        return value
    by_label = {m.label.lower(): k for k, m in known.items()}
    lowered = value.lower().replace(" ", "_")
    if value.lower() in by_label:
        return by_label[value.lower()]
    if lowered in known:
        return lowered
    hint = did_you_mean(lowered, known) or did_you_mean(value.lower(), by_label)
    if hint and not did_you_mean(lowered, known):
        hint = f"; did you mean {by_label[hint.split(chr(39))[1]]!r}?"
    raise BusinessPlanError(
        f"{what}: no metric {value!r} in the catalog{hint} (a milestone tracks a metric of the "
        "partner: see `partnerscope metrics list`)"
    )


def check_quarter(text: str | int, fiscal_year: int | None = None) -> int:
    """1–4 from ``2``, ``Q2`` or ``FY2026-Q2`` (whose year must be the plan's)."""
    value = str(text).strip().upper()
    found = re.fullmatch(r"(?:(?:FY)?(\d{4})-?)?Q?([1-4])", value)
    if not found:
        raise BusinessPlanError(
            f"quarter: {text!r} is not a fiscal quarter; write 1 to 4, Q1 to Q4 or FY2026-Q2"
        )
    if found[1] and fiscal_year is not None and int(found[1]) != fiscal_year:
        raise BusinessPlanError(
            f"quarter: {text!r} is not in the plan's fiscal year FY{fiscal_year}; write "
            f"FY{fiscal_year}-Q{found[2]} or only Q{found[2]}"
        )
    return int(found[2])


def check_year(text: str | int) -> int:
    value = str(text).strip().upper().removeprefix("FY")
    if not re.fullmatch(r"\d{4}", value) or not 2000 <= int(value) <= 2100:
        raise BusinessPlanError(
            f"fiscal year: {text!r} is not a fiscal year; write it as 2026 or FY2026"
        )
    return int(value)


def parse_target(ws: Workspace, metric: str, value: str | float | int) -> float:
    """A target in the metric's unit: money as ``120000``, ``$120,000`` or ``120k``; a share
    as ``30%`` or ``0.3`` (a number above 1 is read as percent)."""
    from partnerscope.metrics.definition import Unit

    unit = ws.catalog[metric].spec.unit
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        percent = False
    else:
        text = str(value).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        text = re.sub(r"^[^\d\-+.]+", "", text)  # a currency symbol or code in front
        percent = text.endswith("%")
        text = text.rstrip("%")
        scale = 1.0
        if text[-1:].lower() in ("k", "m"):
            scale = 1000.0 if text[-1].lower() == "k" else 1_000_000.0
            text = text[:-1]
        try:
            number = float(text) * scale
        except ValueError:
            raise BusinessPlanError(
                f"target: {value!r} is not a number; write the {ws.words.metric(metric)} "
                f"target like {_example(ws, metric)}"
            ) from None
    if unit is Unit.SHARE and (percent or number > 1):
        number /= 100
    if number != number or number < 0:
        raise BusinessPlanError(f"target: {value!r} must be a number of 0 or more")
    return number


def _example(ws: Workspace, metric: str) -> str:
    from partnerscope.metrics.definition import Unit

    unit = ws.catalog[metric].spec.unit
    return {Unit.MONEY: "120000 or 120k", Unit.SHARE: "30%"}.get(unit, "12")


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > MAX_TEXT:
        raise BusinessPlanError(f"{what}: at most {MAX_TEXT} characters ({len(text)} given)")
    return text or None


def _list(value: Any, what: str) -> list[str]:
    """A list of texts from a list or from one text separated by ``;`` or new lines."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[;\n]", str(value))
    out = [t for item in items if (t := _text(item, what))]
    return list(dict.fromkeys(out))


def _amount(value: Any, what: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = re.sub(r"^[^\d\-+.]+", "", str(value).strip().replace(",", "").replace(" ", ""))
    try:
        number = float(text)
    except ValueError:
        raise BusinessPlanError(
            f"{what}: {value!r} is not an amount; write it like 25000"
        ) from None
    if number < 0 or number != number:
        raise BusinessPlanError(f"{what}: {value!r} must be 0 or more")
    return number


def clean_content(values: Mapping[str, Any]) -> dict[str, Any]:
    """The content fields given, checked (unknown keys refused, naming the known ones)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in LISTS:
            out[key] = _list(value, LISTS[key])
        elif key in AMOUNTS:
            out[key] = _amount(value, AMOUNTS[key])
        elif key == INTERNAL_NOTE:
            out[key] = _text(value, CONTENT[key])
        else:
            raise BusinessPlanError(
                f"{key}: not a field of a plan{did_you_mean(key, [*CONTENT, *OWNERS])}; the "
                f"fields are {', '.join([*CONTENT, *OWNERS])}"
            )
    return out


# ------------------------------------------------------------------------------- reading


def _milestones(connection: Connection, plan_id: int) -> tuple[Milestone, ...]:
    from sqlalchemy import select

    t = business_plan_milestones
    rows = connection.execute(
        select(t).where(t.c.plan_id == plan_id).order_by(t.c.quarter, t.c.metric)
    ).mappings()
    return tuple(
        Milestone(r["quarter"], r["metric"], float(r["target"]), r["owner"], r["note"])
        for r in rows
    )


def _plan(connection: Connection, row: Any) -> Plan:
    return Plan(
        plan_id=row["plan_id"],
        partner_id=row["partner_id"],
        fiscal_year=row["fiscal_year"],
        version=row["version"],
        status=row["status"],
        content=dict(row["content"] or {}),
        vendor_owner=row["vendor_owner"],
        partner_owner=row["partner_owner"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        milestones=_milestones(connection, row["plan_id"]),
    )


def _load(connection: Connection, partner_id: str, fiscal_year: int) -> Plan | None:
    from sqlalchemy import select

    t = business_plans
    row = (
        connection.execute(
            select(t).where(t.c.partner_id == partner_id).where(t.c.fiscal_year == fiscal_year)
        )
        .mappings()
        .first()
    )
    return _plan(connection, row) if row is not None else None


def plans(ws: Workspace, partner_id: str | None = None) -> list[Plan]:
    """Every plan (of one partner), by partner and year."""
    from sqlalchemy import select

    t = business_plans
    query = select(t).order_by(t.c.partner_id, t.c.fiscal_year)
    if partner_id is not None:
        query = query.where(t.c.partner_id == partner_id)
    with appdb.connect(ws).connect() as connection:
        return [_plan(connection, row) for row in connection.execute(query).mappings().all()]


def get_plan(ws: Workspace, partner_id: str, fiscal_year: int | None = None) -> Plan:
    """The partner's plan of that year, or of the year of ``today`` if it has one, else its
    latest."""
    mine = plans(ws, partner_id)
    if fiscal_year is not None:
        found = [p for p in mine if p.fiscal_year == fiscal_year]
        if found:
            return found[0]
        years = ", ".join(f"FY{p.fiscal_year}" for p in mine)
        raise BusinessPlanNotFoundError(
            f"{partner_id} has no business plan for FY{fiscal_year}"
            + (f" (it has {years})" if years else "")
            + f"; create it with `partnerscope business-plans create {partner_id} --year "
            f"{fiscal_year}`"
        )
    if not mine:
        raise BusinessPlanNotFoundError(
            f"{partner_id} has no business plan; create one with `partnerscope business-plans "
            f"create {partner_id} --year YEAR`"
        )
    current = current_year(ws)
    return next((p for p in mine if p.fiscal_year == current), mine[-1])


def current_year(ws: Workspace, day: date | None = None) -> int:
    """The fiscal year of ``day`` (default: the latest run's as-of date, else today)."""
    from partnerscope.metrics.calendar import FiscalCalendar, Grain
    from partnerscope.runs import latest_run

    if day is None:
        run = latest_run(ws)
        day = as_of_day(ws, run) if run is not None else local_date(now_utc(), _tz(ws))
    calendar = FiscalCalendar(ws.config.workspace.fiscal_year_start_month)
    return calendar.period_of(day, Grain.YEAR).fiscal_year


def _tz(ws: Workspace) -> str:
    return ws.config.workspace.timezone


def as_of_day(ws: Workspace, run: RunManifest) -> date:
    """The run's as-of date in the reporting time zone: the days before it are in its data."""
    return local_date(run.as_of_time, _tz(ws))


def history(ws: Workspace, partner_id: str, fiscal_year: int | None = None) -> list[Version]:
    """Every version of the plan, newest first."""
    from sqlalchemy import select

    plan = get_plan(ws, partner_id, fiscal_year)
    t = business_plan_versions
    with appdb.connect(ws).connect() as connection:
        rows = connection.execute(
            select(t).where(t.c.plan_id == plan.plan_id).order_by(t.c.version.desc())
        ).mappings()
        return [
            Version(r["version"], r["change"], r["changed_by"], r["changed_at"], r["snapshot"])
            for r in rows
        ]


# ------------------------------------------------------------------------------- changing


def _money(ws: Workspace, value: float | None) -> str:
    return "none" if value is None else ws.words.money(value)


def _target(ws: Workspace, metric: str, value: float) -> str:
    return ws.words.of_metric(metric, value)


def describe(ws: Workspace, before: _Draft | None, after: _Draft) -> list[str]:
    """What changed from ``before`` to ``after``, in sentences."""
    words = ws.words
    if before is None:
        said = [f"Plan for FY{after.fiscal_year} created"]
        before = _Draft(after.partner_id, after.fiscal_year)
    else:
        said = []
    for key, label in CONTENT.items():
        old: Any = before.content.get(key)
        new: Any = after.content.get(key)
        if key in LISTS:
            old, new = old or [], new or []
        if old == new:
            continue
        if key == INTERNAL_NOTE:
            said.append(f"{label} {'changed' if new else 'removed'}")
        elif key in LISTS:
            said.append(f"{label}: {', '.join(old) or 'none'} → {', '.join(new) or 'none'}")
        elif key == "mdf_amount":
            said.append(f"{label} {_money(ws, old)} → {_money(ws, new)}")
        else:
            show = "none" if old is None else words.number(old, digits=1).removesuffix(".0")
            shown = "none" if new is None else words.number(new, digits=1).removesuffix(".0")
            said.append(f"{label} {show} → {shown}")
    for key, label in OWNERS.items():
        old, new = getattr(before, key), getattr(after, key)
        if old != new:
            said.append(f"{label} {old or 'none'} → {new or 'none'}")
    for mkey in sorted(set(before.milestones) | set(after.milestones)):
        was, now = before.milestones.get(mkey), after.milestones.get(mkey)
        quarter, metric = mkey
        name = f"Q{quarter} {words.metric(metric)}"
        if was is None and now is not None:
            owner = f" (owner {now.owner})" if now.owner else ""
            said.append(f"{name} milestone added: target {_target(ws, metric, now.target)}{owner}")
        elif now is None and was is not None:
            said.append(f"{name} milestone removed (target {_target(ws, metric, was.target)})")
        elif was is not None and now is not None:
            if was.target != now.target:
                said.append(
                    f"{name} target {_target(ws, metric, was.target)} → "
                    f"{_target(ws, metric, now.target)}"
                )
            if was.owner != now.owner:
                said.append(f"{name} owner {was.owner or 'none'} → {now.owner or 'none'}")
            if was.note != now.note:
                said.append(f"{name} note {'changed' if now.note else 'removed'}")
    if before.status != after.status and not (said and after.status == DRAFT):
        said.append(f"Status {before.status} → {after.status}")
    return said


def _save(
    connection: Connection, ws: Workspace, old: Plan | None, new: _Draft, *, by: str, action: str
) -> Plan | None:
    """Write ``new`` over ``old`` as the next version (None when nothing changed)."""
    from sqlalchemy import delete, insert, update

    before = _Draft.of(old) if old is not None else None
    if old is not None and old.status == AGREED and new.status == AGREED:
        # an agreed plan that changes is a draft until both sides agree to it again
        probe = _Draft(**{**new.__dict__, "status": AGREED})
        if describe(ws, before, probe):
            new.status = DRAFT
    said = describe(ws, before, new)
    if not said:
        return None
    if old is not None and old.status == AGREED and new.status == DRAFT and action != "agree":
        said.append("back to draft until agreed again")
    now = now_utc()
    change = "; ".join(said)
    values = {
        "status": new.status,
        "content": new.content,
        "vendor_owner": new.vendor_owner,
        "partner_owner": new.partner_owner,
        "updated_at": now,
        "updated_by": by,
    }
    t = business_plans
    if old is None:
        inserted = connection.execute(
            insert(t).values(
                partner_id=new.partner_id, fiscal_year=new.fiscal_year, version=1, **values
            )
        ).inserted_primary_key
        assert inserted is not None
        plan_id = int(inserted[0])
        version = 1
    else:
        plan_id, version = old.plan_id, old.version + 1
        done = connection.execute(
            update(t)
            .where(t.c.plan_id == plan_id)
            .where(t.c.version == old.version)
            .values(version=version, **values)
        )
        if done.rowcount != 1:
            raise BusinessPlanError(
                f"the plan of {new.partner_id} for FY{new.fiscal_year} was changed by someone "
                "else meanwhile; reload it and make the change again"
            )
    m = business_plan_milestones
    old_milestones = {x.key: x for x in old.milestones} if old is not None else {}
    for key in set(old_milestones) - set(new.milestones):
        connection.execute(
            delete(m)
            .where(m.c.plan_id == plan_id)
            .where(m.c.quarter == key[0])
            .where(m.c.metric == key[1])
        )
    for key, milestone in new.milestones.items():
        row = {"target": milestone.target, "owner": milestone.owner, "note": milestone.note}
        if key not in old_milestones:
            connection.execute(
                insert(m).values(plan_id=plan_id, quarter=key[0], metric=key[1], **row)
            )
        elif old_milestones[key] != milestone:
            connection.execute(
                update(m)
                .where(m.c.plan_id == plan_id)
                .where(m.c.quarter == key[0])
                .where(m.c.metric == key[1])
                .values(**row)
            )
    plan = Plan(
        plan_id=plan_id,
        partner_id=new.partner_id,
        fiscal_year=new.fiscal_year,
        version=version,
        status=new.status,
        content=new.content,
        vendor_owner=new.vendor_owner,
        partner_owner=new.partner_owner,
        updated_at=now,
        updated_by=by,
        milestones=tuple(new.milestones[k] for k in sorted(new.milestones)),
    )
    connection.execute(
        insert(business_plan_versions).values(
            plan_id=plan_id,
            version=version,
            snapshot=plan.snapshot(),
            change=change,
            changed_by=by,
            changed_at=now,
        )
    )
    audit.record(
        connection,
        actor=by,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=plan_id,
        detail={
            "partner_id": new.partner_id,
            "fiscal_year": new.fiscal_year,
            "version": version,
            "change": change,
        },
    )
    return plan


def _check_partner(ws: Workspace, partner_id: str, names: Mapping[str, str] | None) -> None:
    from partnerscope.warehouse import check_partner, partner_names

    def refused(check: str, message: str) -> Exception:
        return BusinessPlanError(f"{check}: {message}")

    check_partner(dict(names) if names is not None else partner_names(ws), partner_id, refused)


def _by(by: str) -> str:
    text = (by or "").strip()
    if not text:
        raise BusinessPlanError("by: say who makes the change")
    return text


def create(
    ws: Workspace,
    partner_id: str,
    fiscal_year: int | str,
    *,
    by: str,
    vendor_owner: str | None = None,
    partner_owner: str | None = None,
    content: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> Plan:
    """A new draft plan of the partner for the fiscal year (``names``: the warehouse's
    partners by id, when the caller has read them already)."""
    year = check_year(fiscal_year)
    by = _by(by)
    _check_partner(ws, partner_id, names)
    draft = _Draft(
        partner_id,
        year,
        DRAFT,
        clean_content(content or {}),
        _text(vendor_owner, "vendor owner"),
        _text(partner_owner, "partner owner"),
    )
    with appdb.connect(ws).begin() as connection:
        if _load(connection, partner_id, year) is not None:
            raise BusinessPlanError(
                f"{partner_id} already has a business plan for FY{year}; change it with "
                f"`partnerscope business-plans edit {partner_id} --year {year}`"
            )
        plan = _save(connection, ws, None, draft, by=by, action="business_plan.create")
    assert plan is not None
    return plan


def _change(
    ws: Workspace,
    partner_id: str,
    fiscal_year: int | str | None,
    change: Any,
    *,
    by: str,
    action: str,
) -> Plan:
    """Apply ``change(draft)`` to the plan in one transaction; the plan as it became."""
    by = _by(by)
    year = check_year(fiscal_year) if fiscal_year is not None else None
    plan_id = get_plan(ws, partner_id, year)
    with appdb.connect(ws).begin() as connection:
        old = _load(connection, partner_id, plan_id.fiscal_year)
        if old is None:  # removed meanwhile (never: plans are not removed)
            raise BusinessPlanNotFoundError(f"{partner_id} has no business plan")
        draft = _Draft.of(old)
        change(draft)
        saved = _save(connection, ws, old, draft, by=by, action=action)
    return saved or old


def edit(
    ws: Workspace,
    partner_id: str,
    fiscal_year: int | str | None = None,
    *,
    by: str,
    content: Mapping[str, Any] | None = None,
    owners: Mapping[str, str | None] | None = None,
) -> Plan:
    """Change the plan's content fields and owners given (others are kept)."""
    cleaned = clean_content(content or {})
    for key in owners or {}:
        if key not in OWNERS:
            raise BusinessPlanError(
                f"{key}: not an owner of a plan; write vendor_owner or partner_owner"
            )
    people = {k: _text(v, OWNERS[k].lower()) for k, v in (owners or {}).items()}

    def apply(draft: _Draft) -> None:
        draft.content.update(cleaned)
        for key, value in people.items():
            setattr(draft, key, value)

    return _change(ws, partner_id, fiscal_year, apply, by=by, action="business_plan.edit")


def set_milestone(
    ws: Workspace,
    partner_id: str,
    fiscal_year: int | str | None = None,
    *,
    quarter: int | str,
    metric: str,
    target: str | float | None = None,
    owner: str | None = None,
    note: str | None = None,
    by: str,
    adding: bool | None = None,
) -> Plan:
    """Add the milestone (``adding=True``), change it (``adding=False``: only the fields given)
    or either (None)."""
    key_metric = check_metric(ws, metric)
    value = parse_target(ws, key_metric, target) if target is not None else None

    def apply(draft: _Draft) -> None:
        q = check_quarter(quarter, draft.fiscal_year)
        was = draft.milestones.get((q, key_metric))
        name = f"Q{q} {ws.words.metric(key_metric)}"
        if was is not None and adding:
            raise BusinessPlanError(
                f"the plan already has a {name} milestone; change it with `business-plans "
                "milestone set`"
            )
        if was is None and adding is False:
            raise BusinessPlanError(
                f"the plan has no {name} milestone; add it with `business-plans milestone add`"
            )
        if was is None and value is None:
            raise BusinessPlanError(f"target: a new milestone needs a target ({name})")
        draft.milestones[(q, key_metric)] = Milestone(
            q,
            key_metric,
            value if value is not None else was.target if was else 0.0,
            _text(owner, "owner") if owner is not None else (was.owner if was else None),
            _text(note, "note") if note is not None else (was.note if was else None),
        )

    return _change(ws, partner_id, fiscal_year, apply, by=by, action="business_plan.milestone")


def remove_milestone(
    ws: Workspace,
    partner_id: str,
    fiscal_year: int | str | None = None,
    *,
    quarter: int | str,
    metric: str,
    by: str,
) -> Plan:
    key_metric = check_metric(ws, metric)

    def apply(draft: _Draft) -> None:
        q = check_quarter(quarter, draft.fiscal_year)
        if draft.milestones.pop((q, key_metric), None) is None:
            raise BusinessPlanError(
                f"the plan has no Q{q} {ws.words.metric(key_metric)} milestone to remove"
            )

    return _change(ws, partner_id, fiscal_year, apply, by=by, action="business_plan.milestone")


def agree(ws: Workspace, partner_id: str, fiscal_year: int | str | None = None, *, by: str) -> Plan:
    """Mark the plan agreed by both sides."""

    def apply(draft: _Draft) -> None:
        if draft.status == AGREED:
            raise BusinessPlanError(
                f"the plan of {partner_id} for FY{draft.fiscal_year} is already agreed"
            )
        if not draft.milestones:
            raise BusinessPlanError(
                "milestones: a plan without milestones cannot be agreed; add one with "
                "`business-plans milestone add`"
            )
        draft.status = AGREED

    return _change(ws, partner_id, fiscal_year, apply, by=by, action="business_plan.agree")


# ------------------------------------------------------------------------------- import

#: the import's columns: canonical name → the names a file may use for it
IMPORT_COLUMNS = {
    "partner_id": ("partner_id", "partner", "partner id"),
    "fiscal_year": ("fiscal_year", "fiscal year", "year", "fy"),
    "quarter": ("quarter", "fiscal quarter", "q"),
    "metric": ("metric", "measure", "kpi"),
    "target": ("target", "target value", "goal"),
    "owner": ("owner", "milestone owner"),
    "note": ("note", "milestone note", "comment"),
    **{k: (k, v.lower()) for k, v in CONTENT.items()},
    **{k: (k, v.lower()) for k, v in OWNERS.items()},
}
REQUIRED = ("partner_id", "fiscal_year", "quarter", "metric", "target")


@dataclass(frozen=True)
class Imported:
    rows: int
    plans_created: int
    plans_changed: int
    unchanged: int

    def summary(self) -> str:
        def n(count: int, noun: str) -> str:
            return f"{count:,} {noun}" + ("" if count == 1 else "s")

        return (
            f"{n(self.rows, 'milestone row')}: {n(self.plans_created, 'plan')} created, "
            f"{self.plans_changed} changed, {self.unchanged} unchanged"
        )


def import_file(ws: Workspace, path: Path, *, by: str) -> Imported:
    """Import plans and milestones from a CSV or XLSX file (one row per milestone), all or
    nothing: every bad row is reported with its file, row and column, and nothing is stored.
    Importing the same file again changes nothing."""
    by = _by(by)
    sheet = read_sheet(
        path,
        IMPORT_COLUMNS,
        required=REQUIRED,
        layout="a business plan file has one row per milestone with partner_id, fiscal_year, "
        "quarter, metric and target",
    )
    problems = sheet.problems
    partners = _partner_names(ws)
    drafts: dict[tuple[str, int], _Draft] = {}
    stored = {(p.partner_id, p.fiscal_year): p for p in plans(ws)}
    for number, cells in sheet.rows:
        _import_row(ws, cells, partners, stored, drafts, Located(sheet, number, problems))
    if problems:
        raise ImportRefusedError(problems)
    created = changed = 0
    with appdb.connect(ws).begin() as connection:
        for (partner, year), draft in drafts.items():
            old = _load(connection, partner, year)
            saved = _save(connection, ws, old, draft, by=by, action="business_plan.import")
            if saved is not None:
                created += old is None
                changed += old is not None
    return Imported(len(sheet.rows), created, changed, len(drafts) - created - changed)


@dataclass(frozen=True)
class Located:
    """Where a row is: its problems are told with its file, row and column."""

    sheet: Sheet
    row: int
    problems: list[RowProblem]

    def problem(self, cells: Mapping[str, str], column: str, message: str) -> None:
        self.problems.append(self.sheet.problem(self.row, column, cells, message))


def _import_row(
    ws: Workspace,
    cells: dict[str, str],
    names: Mapping[str, str],
    stored: Mapping[tuple[str, int], Plan],
    drafts: dict[tuple[str, int], _Draft],
    at: Located,
) -> None:
    """One milestone row into its plan's draft, or its problems."""
    missing = [c for c in REQUIRED if not cells[c]]
    for column in missing:
        at.problem(cells, column, f"{column} is required")
    if missing:
        return
    partner = cells["partner_id"]
    if partner not in names:
        hint = did_you_mean(partner, names)
        at.problem(cells, "partner_id", f"no partner {partner!r} in the warehouse{hint}")
        return
    try:
        year = check_year(cells["fiscal_year"])
    except BusinessPlanError as exc:
        at.problem(cells, "fiscal_year", _bare(exc))
        return
    quarter = metric = None
    try:
        quarter = check_quarter(cells["quarter"], year)
    except BusinessPlanError as exc:
        at.problem(cells, "quarter", _bare(exc))
    try:
        metric = check_metric(ws, cells["metric"])
    except BusinessPlanError as exc:
        at.problem(cells, "metric", _bare(exc))
    if quarter is None or metric is None:
        return
    try:
        target = parse_target(ws, metric, cells["target"])
    except BusinessPlanError as exc:
        at.problem(cells, "target", _bare(exc))
        return
    given = {c: cells[c] for c in CONTENT if cells.get(c)}
    try:
        content = clean_content(given)
    except BusinessPlanError as exc:
        at.problem(cells, next(iter(given)), _bare(exc))
        return
    key = (partner, year)
    draft = drafts.get(key)
    if draft is None:
        old = stored.get(key)
        draft = drafts[key] = _Draft.of(old) if old else _Draft(partner, year)
    draft.content.update(content)
    for owner_key in OWNERS:
        if cells.get(owner_key):
            setattr(draft, owner_key, _text(cells[owner_key], owner_key))
    was = draft.milestones.get((quarter, metric))
    kept_owner, kept_note = (was.owner, was.note) if was else (None, None)
    draft.milestones[(quarter, metric)] = Milestone(
        quarter,
        metric,
        target,
        _text(cells["owner"], "owner") if "owner" in cells else kept_owner,
        _text(cells["note"], "note") if "note" in cells else kept_note,
    )


def _bare(exc: BusinessPlanError) -> str:
    """The message without its leading ``field:`` (the problem names the column)."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and " " not in head.strip() else text


def _partner_names(ws: Workspace) -> dict[str, str]:
    from partnerscope.warehouse import partner_names

    return partner_names(ws)


# ------------------------------------------------------------------------------- tracking


@dataclass(frozen=True)
class Tracked:
    """A milestone against the partner's actual value."""

    milestone: Milestone
    fiscal_year: int
    period: str
    start: date
    end: date
    status: str
    actual: float | None
    #: the bar of a quarter in progress (pro-rated target less the margin)
    bar: float | None = None
    #: the elapsed share of the quarter in progress
    elapsed: float | None = None

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]

    def measured(self, words: Words) -> str:
        """The measured value against the target in words."""
        m = self.milestone
        target = words.of_metric(m.metric, m.target)
        if self.status == UPCOMING:
            return f"target {target}"
        if self.actual is None:
            return f"no value yet (target {target})"
        actual = words.of_metric(m.metric, self.actual)
        if self.status in (ON_TRACK, AT_RISK) and self.elapsed is not None:
            return (
                f"{actual} so far of {target} ({words.share(self.elapsed, digits=0)} of the "
                "quarter gone)"
            )
        return f"{actual} of {target}"

    def sentence(self, words: Words) -> str:
        """``Q2 Won revenue: Missed — $80,000 of $100,000``."""
        m = self.milestone
        return (
            f"Q{m.quarter} {words.metric(m.metric)}: {self.status_words} — {self.measured(words)}"
        )


def quarter_period(ws: Workspace, fiscal_year: int, quarter: int) -> tuple[str, date, date]:
    from partnerscope.metrics.calendar import FiscalCalendar

    period = FiscalCalendar(ws.config.workspace.fiscal_year_start_month).parse(
        f"FY{fiscal_year}-Q{quarter}"
    )
    return period.label, period.start, period.end


def _prorated(metric: Metric) -> bool:
    """Whether the metric adds up over a quarter (its target is pro-rated in progress)."""
    from partnerscope.metrics.definition import Agg, Direction, Kind, When

    spec = metric.spec
    return (
        metric.kind is Kind.AGGREGATE
        and spec.agg in (Agg.SUM, Agg.COUNT, Agg.COUNT_DISTINCT)
        and spec.when in (When.IN_PERIOD, When.FIRST_IN_PERIOD)
        and spec.direction is not Direction.LOWER
    )


def status_of(
    ws: Workspace,
    milestone: Milestone,
    fiscal_year: int,
    actual: float | None,
    today: date | None,
) -> Tracked:
    """The milestone's status on ``today`` (the run's as-of date: the days before it are in
    the data; None: no run) with the partner's value ``actual`` of its quarter."""
    from partnerscope.metrics.definition import Direction

    label, start, end = quarter_period(ws, fiscal_year, milestone.quarter)
    metric = partner_metrics(ws).get(milestone.metric)
    lower = metric is not None and metric.spec.direction is Direction.LOWER

    def made(status: str, bar: float | None = None, elapsed: float | None = None) -> Tracked:
        return Tracked(milestone, fiscal_year, label, start, end, status, actual, bar, elapsed)

    if today is None or today <= start:
        return made(UPCOMING)
    if actual is None or metric is None:
        return made(NO_DATA)
    target = milestone.target
    if today >= end:
        reached = actual <= target if lower else actual >= target
        return made(MET if reached else MISSED)
    elapsed = (today - start).days / (end - start).days
    margin = ws.config.business_plans.at_risk_margin
    if lower:
        bar = target * (1 + margin)
        return made(ON_TRACK if actual <= bar else AT_RISK, bar, elapsed)
    bar = target * (elapsed if _prorated(metric) else 1.0) * (1 - margin)
    return made(ON_TRACK if actual >= bar else AT_RISK, bar, elapsed)


class Actuals:
    """Partners' metric values per fiscal quarter from a run's results."""

    def __init__(self, table: pa.Table | None) -> None:
        self.values: dict[tuple[str, date], dict[str, Any]] = {}
        if table is not None:
            for row in table.to_pylist():
                self.values[(str(row["group_key"]), row["period_start"])] = row

    def value(self, partner_id: str, start: date, metric: str) -> float | None:
        found = self.values.get((partner_id, start), {}).get(metric)
        if found is None:
            return None
        number = float(found)
        return None if number != number else number


def actuals_of(results: pa.Table, partner_ids: Iterable[str], metrics: Iterable[str]) -> Actuals:
    """The quarter values of those partners and metrics in a run's results table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = [m for m in dict.fromkeys(metrics) if m in results.column_names]
    table = results.filter(
        pc.and_(
            pc.and_(pc.equal(results["level"], "partner"), pc.equal(results["grain"], "quarter")),
            pc.is_in(results["group_key"], pa.array(list(partner_ids), pa.string())),
        )
    ).select(["group_key", "period_start", *wanted])
    return Actuals(table)


def read_actuals(ws: Workspace, plans_: Sequence[Plan], run: RunManifest) -> Actuals:
    """The quarter values a stored run holds for those plans' partners and metrics."""
    import pyarrow.parquet as pq

    from partnerscope.runs import RESULTS, run_folder

    if not plans_:
        return Actuals(None)
    path = run_folder(ws, run.run_id) / RESULTS
    names = set(pq.read_schema(path).names)
    metrics = [m for m in {x.metric for p in plans_ for x in p.milestones} if m in names]
    table = pq.read_table(
        path,
        columns=["group_key", "period_start", *metrics],
        filters=[
            ("level", "=", "partner"),
            ("grain", "=", "quarter"),
            ("group_key", "in", sorted({p.partner_id for p in plans_})),
        ],
    )
    return Actuals(table)


def track(ws: Workspace, plan: Plan, actuals: Actuals, today: date | None) -> list[Tracked]:
    """Each milestone of the plan with its status, in quarter order."""
    out = []
    for m in plan.milestones:
        _, start, _ = quarter_period(ws, plan.fiscal_year, m.quarter)
        actual = actuals.value(plan.partner_id, start, m.metric)
        out.append(status_of(ws, m, plan.fiscal_year, actual, today))
    return out


@dataclass(frozen=True)
class PlanStatus:
    """A plan with its milestones tracked against a run (None: no run yet)."""

    plan: Plan
    partner_name: str
    milestones: list[Tracked]
    run_id: int | None
    as_of: date | None

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.milestones)

    @property
    def urgency(self) -> tuple[int, int, str, int]:
        """Plans with missed, then at-risk milestones first."""
        return (
            -self.count(MISSED),
            -self.count(AT_RISK),
            self.plan.partner_id,
            -self.plan.fiscal_year,
        )

    def summary(self) -> str:
        """``2 met, 1 missed, 1 at risk`` (the statuses it has)."""
        parts = [
            f"{n} {STATUS_WORDS[s].lower()}"
            for s in (MET, MISSED, AT_RISK, ON_TRACK, UPCOMING, NO_DATA)
            if (n := self.count(s))
        ]
        return ", ".join(parts) or "no milestones"

    def quarter(self, quarter: int) -> list[Tracked]:
        return [t for t in self.milestones if t.milestone.quarter == quarter]


def statuses(
    ws: Workspace,
    selected: Sequence[Plan] | None = None,
    run_id: int | None = None,
    names: Callable[[str], str] | None = None,
) -> list[PlanStatus]:
    """The plans (every plan by default) tracked against a run (the latest by default),
    missed and at-risk first. ``names``: a partner's name by id (default: the warehouse's;
    the web app passes the served run's, never opening the warehouse)."""
    from partnerscope.runs import get_run, latest_run

    chosen = list(selected) if selected is not None else plans(ws)
    run = get_run(ws, run_id) if run_id is not None else latest_run(ws)
    actuals = read_actuals(ws, chosen, run) if run is not None else Actuals(None)
    today = as_of_day(ws, run) if run is not None else None
    if names is None:
        known = _partner_names(ws) if chosen else {}

        def names(pid: str) -> str:
            return known.get(pid, pid)

    out = [
        PlanStatus(
            p,
            names(p.partner_id),
            track(ws, p, actuals, today),
            run.run_id if run else None,
            today,
        )
        for p in chosen
    ]
    return sorted(out, key=lambda s: s.urgency)


def plan_status(
    ws: Workspace, partner_id: str, fiscal_year: int | None = None, run_id: int | None = None
) -> PlanStatus:
    return statuses(ws, [get_plan(ws, partner_id, fiscal_year)], run_id)[0]


def missed_for_improvement(
    ws: Workspace, partner_id: str, names: Callable[[str], str] | None = None
) -> list[Tracked]:
    """The partner's missed milestones of the current and previous fiscal year, to list with
    its improvement plan (``[business_plans] improvement_plan``; empty when off)."""
    if not ws.config.business_plans.improvement_plan:
        return []
    mine = [p for p in plans(ws, partner_id) if p.fiscal_year >= current_year(ws) - 1]
    if not mine:
        return []
    return [t for s in statuses(ws, mine, names=names) for t in s.milestones if t.status == MISSED]


# ------------------------------------------------------------------------------- alerts


def milestone_alerts(ws: Workspace, results: pa.Table, as_of: datetime) -> pa.Table | None:
    """An alert for each milestone missed in a complete quarter as of the run's time, with
    the run's alerts' columns (before dedupe); None when there is none or alerts are off."""
    import pyarrow as pa

    from partnerscope.evaluation.alerts import _schema, alert_id

    if not ws.config.business_plans.alerts:
        return None
    every = plans(ws)
    if not every:
        return None
    today = local_date(as_of, _tz(ws))
    actuals = actuals_of(
        results, {p.partner_id for p in every}, {m.metric for p in every for m in p.milestones}
    )
    words = ws.words
    rows = []
    for plan in every:
        for tracked in track(ws, plan, actuals, today):
            if tracked.status != MISSED:
                continue
            m = tracked.milestone
            rows.append(
                {
                    "alert_id": alert_id(
                        plan.partner_id, ALERT_KIND, m.metric, tracked.start.isoformat()
                    ),
                    "partner_id": plan.partner_id,
                    "period_start": tracked.start,
                    "period": tracked.period,
                    "kind": ALERT_KIND,
                    "metric": m.metric,
                    "severity": "medium",
                    "value": tracked.actual,
                    "reference": m.target,
                    "z": None,
                    "message": (
                        f"Business plan milestone missed in {tracked.period}: "
                        f"{words.metric(m.metric)} {tracked.measured(words)} target"
                    ),
                }
            )
    if not rows:
        return None
    return pa.Table.from_pylist(rows, schema=_schema())


def join_alerts(
    ws: Workspace,
    folder: Path,
    results: pa.Table,
    evaluation: Evaluation,
    *,
    as_of: datetime,
    run_id: int,
    previous: RunManifest | None,
) -> Evaluation:
    """The run's evaluation with its milestone alerts joined to its alerts (written to the run
    folder), each deduplicated against the previous run's: a milestone missed is raised once
    ("new") and stays "ongoing" in the runs after."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from partnerscope.evaluation.alerts import dedupe
    from partnerscope.evaluation.pipeline import ALERTS
    from partnerscope.runs import run_folder

    raised = milestone_alerts(ws, results, as_of)
    if raised is None:
        return evaluation
    earlier = None
    if previous is not None:
        path = run_folder(ws, previous.run_id) / ALERTS
        earlier = pq.read_table(path) if path.is_file() else None
    found = dedupe(raised, earlier, run_id)
    alerts = pa.concat_tables([evaluation.alerts, found.cast(evaluation.alerts.schema)])
    pq.write_table(alerts, folder / ALERTS)
    return dataclasses.replace(evaluation, alerts=alerts)
