"""Certification paths and each partner's gaps (docs/lifecycle.md, "Enablement paths").

The levels are data (``[enablement]``, :mod:`partnerscope.settings.enablement`); the
certifications people hold are the warehouse's ``certifications``, each record matched to a
level by its name (exactly, by ``[enablement.aliases]``, or ignoring case and outer spaces).

A record is held on a day from its ``issued_at`` on, until its expiry: the data's
``expires_at`` (the day itself no longer counts, as the metric ``certified_people`` counts
it), or, when the data gives none, ``issued_at`` plus the level's ``validity_months`` (0:
never lapses). What a tier requires is the union of the warehouse's
``certification_requirements`` and ``[enablement.tiers]`` (which every run posts there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Iterable

    from partnerscope.ingest.facts import Facts
    from partnerscope.settings.enablement import EnablementSettings, Level
    from partnerscope.workspace import Workspace

#: the source the posted requirements are loaded as, and the file's columns
SOURCE = "enablement"
COLUMNS = ("program_tier", "certification")


def certifications_held(workspace: Workspace, partner_id: str, on: date) -> set[str]:
    """The names of the certifications someone at the partner validly holds on ``on``, from the
    warehouse's ``certifications``: issued on or before that day and not expired on it.

    A certification whose ``expires_at`` is that very day is no longer held on it (the same
    rule as the metric ``certified_people``: held while ``expires_at`` is after the day). The
    names are the data's own and, for a name that stands for a level of ``[enablement]`` (by
    an alias, or in another case), the level's name too; an empty set when the warehouse has
    none yet."""
    from partnerscope.warehouse import read_warehouse

    if not workspace.warehouse_path.is_file():
        return set()
    rows = read_warehouse(
        workspace,
        "SELECT DISTINCT certification FROM certifications WHERE partner_id = ? "
        "AND issued_at <= ? AND (expires_at IS NULL OR expires_at > ?)",
        [partner_id, on, on],
    )
    names = {str(r[0]) for r in rows}
    fw = framework(workspace)
    return names | {level for n in names if (level := fw.level(n)) is not None}


# ---- the framework -------------------------------------------------------------------------------


class Framework:
    """The configured levels, with the matching of the workspace's certification names."""

    def __init__(self, settings: EnablementSettings) -> None:
        self.settings = settings
        self.levels: dict[str, Level] = settings.levels()
        self._by_key = {_key(n): n for n in self.levels}
        for alias, name in settings.aliases.items():
            self._by_key[_key(alias)] = name

    def level(self, name: str) -> str | None:
        """The level a certification name stands for, or None."""
        return self._by_key.get(_key(name))

    def canonical(self, name: str) -> str:
        """The level's name, or the name itself (trimmed) for a certification of no level."""
        return self.level(name) or name.strip()

    def paths(self) -> dict[str, tuple[str, list[Level]]]:
        """path key → (label, its levels by rank)."""
        out: dict[str, tuple[str, list[Level]]] = {}
        for level in self.levels.values():
            out.setdefault(level.path, (level.path_label, []))[1].append(level)
        return out


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def framework(workspace: Workspace) -> Framework:
    return Framework(workspace.config.enablement)


# ---- the tier requirements posted for enablement_completion --------------------------------------


def tier_requirements(workspace: Workspace) -> Facts | None:
    """The certifications each program tier requires by ``[enablement.tiers]`` as rows of the
    canonical ``certification_requirements`` table, written to
    ``state/enablement/tier-requirements.csv``: a complete file (a requirement taken out of the
    configuration is removed from the warehouse). None when the configuration names none and
    nothing was posted before (the workspace's own requirements file stays the source).

    The metrics compare certification names exactly: a level is posted under the name the
    data gives it, its first alias in ``[enablement.aliases]`` (else its own name)."""
    from partnerscope.cells import csv_text
    from partnerscope.ingest.facts import Facts, folder, plural

    tiers = workspace.config.enablement.tiers
    path = folder(workspace, "enablement") / "tier-requirements.csv"
    if not tiers and not path.is_file():
        return None
    data_name: dict[str, str] = {}
    for alias, level in workspace.config.enablement.aliases.items():
        data_name.setdefault(level, alias)
    rows = [
        {"program_tier": tier, "certification": data_name.get(name, name)}
        for tier, names in tiers.items()
        for name in dict.fromkeys(names)
    ]
    return Facts(
        SOURCE,
        "certification_requirements",
        path,
        COLUMNS,
        csv_text(COLUMNS, rows),
        plural(len(rows), "certification requirement") + " of [enablement.tiers]",
        len(rows),
        complete=True,
    )


# ---- what the warehouse holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One certification record of the warehouse, matched to its level."""

    record_id: str
    partner_id: str
    person_id: str
    #: the name as in the data
    certification: str
    #: the level's name, or the data's name for a certification of no level
    name: str
    is_level: bool
    issued: date
    #: the day it is no longer held (the data's, else issued + the level's validity); None: never
    expires: date | None

    def valid_on(self, day: date) -> bool:
        return self.issued <= day and (self.expires is None or self.expires > day)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 31 Jan + 1 →
    28/29 Feb)."""
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def records(workspace: Workspace, fw: Framework | None = None) -> list[Record]:
    """Every certification record of the warehouse (none before the first ingest)."""
    from partnerscope.warehouse import read_warehouse

    fw = fw or framework(workspace)
    if not workspace.warehouse_path.is_file():
        return []
    rows = read_warehouse(
        workspace,
        "SELECT record_id, partner_id, person_id, certification, issued_at, expires_at "
        "FROM certifications ORDER BY partner_id, person_id, issued_at, record_id",
    )
    out = []
    for record_id, partner_id, person_id, cert, issued, expires in rows:
        level = fw.level(cert)
        if expires is None and level is not None:
            months = fw.levels[level].validity_months
            if months:
                expires = add_months(issued, months)
        out.append(
            Record(
                str(record_id),
                str(partner_id),
                str(person_id),
                str(cert),
                level or str(cert).strip(),
                level is not None,
                issued,
                expires,
            )
        )
    return out


def requirements(workspace: Workspace, fw: Framework | None = None) -> dict[str, list[str]]:
    """program tier → the certifications it requires (levels' names where they are levels):
    the warehouse's ``certification_requirements`` and ``[enablement.tiers]``."""
    from partnerscope.warehouse import read_warehouse

    fw = fw or framework(workspace)
    out: dict[str, list[str]] = {}
    for tier, names in fw.settings.tiers.items():
        for name in names:
            out.setdefault(tier, [])
            if name not in out[tier]:
                out[tier].append(name)
    if workspace.warehouse_path.is_file():
        rows = read_warehouse(
            workspace,
            "SELECT program_tier, certification FROM certification_requirements "
            "ORDER BY program_tier, certification",
        )
        for tier, cert in rows:
            name = fw.canonical(str(cert))
            out.setdefault(str(tier), [])
            if name not in out[str(tier)]:
                out[str(tier)].append(name)
    return out


def tier_order(fw: Framework, required: dict[str, list[str]]) -> list[str]:
    """The program tiers from the lowest to the highest: ``[enablement] tier_order``, else the
    order of ``[enablement.tiers]``, else the tiers by how many certifications they require
    (fewer first; equal: by name)."""
    if fw.settings.tier_order:
        return list(fw.settings.tier_order)
    if fw.settings.tiers:
        return list(fw.settings.tiers)
    return sorted(required, key=lambda t: (len(required[t]), t))


def default_day(workspace: Workspace) -> date:
    """The day gaps are judged on when none is given: the latest run's as-of date (what its
    metrics show), else today."""
    from partnerscope.clock import local_date, today
    from partnerscope.runs import latest_run

    run = latest_run(workspace)
    if run is None:
        return today(workspace)
    return local_date(run.as_of_time, workspace.config.workspace.timezone)


# ---- gaps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelHeld:
    """A level of a path at one partner on a day."""

    name: str
    rank: int
    #: how many people at the partner hold it
    people: int
    #: its prerequisites nobody at the partner holds (empty when it is held)
    needs: tuple[str, ...]

    @property
    def held(self) -> bool:
        return self.people > 0


@dataclass(frozen=True)
class PathHeld:
    key: str
    label: str
    levels: tuple[LevelHeld, ...]

    @property
    def highest(self) -> str | None:
        """The highest level someone at the partner holds."""
        held = [lv for lv in self.levels if lv.held]
        return held[-1].name if held else None


@dataclass(frozen=True)
class Gap:
    """A required certification nobody at the partner holds."""

    name: str
    #: its prerequisites nobody at the partner holds: "needs X first"
    needs: tuple[str, ...]

    def describe(self) -> str:
        if not self.needs:
            return self.name
        return f"{self.name} (needs {_and(self.needs)} first)"


@dataclass(frozen=True)
class Expiry:
    """A certification of a person that expires soon, or lapsed without renewal."""

    partner_id: str
    partner: str
    person_id: str
    name: str
    expires: date
    #: days from the day judged to the expiry (negative: days since it lapsed)
    days: int


@dataclass(frozen=True)
class PartnerGaps:
    """One partner's enablement on a day."""

    partner_id: str
    partner: str
    tier: str | None
    on: date
    paths: tuple[PathHeld, ...]
    #: what its tier requires, and which of it nobody holds
    required: tuple[str, ...]
    missing: tuple[Gap, ...]
    next_tier: str | None
    #: what the next tier requires beyond its own tier's requirements, not yet held
    next_missing: tuple[Gap, ...]
    expiring: tuple[Expiry, ...]
    lapsed: tuple[Expiry, ...]
    #: certifications held that are no level of the paths (the data's names)
    other_held: tuple[str, ...]
    #: everything the next tier requires
    next_required: tuple[str, ...] = ()

    @property
    def held_required(self) -> int:
        return len(self.required) - len(self.missing)


def _and(names: Iterable[str]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class _Judge:
    """The framework, the requirements and the records, read once, judged on one day."""

    def __init__(self, workspace: Workspace, on: date) -> None:
        from partnerscope.warehouse import read_warehouse

        self.on = on
        self.fw = framework(workspace)
        self.settings = self.fw.settings
        self.required = requirements(workspace, self.fw)
        self.order = tier_order(self.fw, self.required)
        self.partners: dict[str, tuple[str, str | None]] = {}
        if workspace.warehouse_path.is_file():
            rows = read_warehouse(
                workspace, "SELECT partner_id, name, program_tier FROM partners ORDER BY 1"
            )
            self.partners = {str(p): (str(n or p), t) for p, n, t in rows}
        self.records: dict[str, list[Record]] = {}
        for record in records(workspace, self.fw):
            if record.issued <= on:  # what happened after the day is not known on it
                self.records.setdefault(record.partner_id, []).append(record)

    def name(self, partner_id: str) -> str:
        return self.partners.get(partner_id, (partner_id, None))[0]

    def gaps(self, partner_id: str) -> PartnerGaps:
        on, fw = self.on, self.fw
        name, tier = self.partners[partner_id]
        mine = self.records.get(partner_id, [])
        people: dict[str, set[str]] = {}
        for record in mine:
            if record.valid_on(on):
                people.setdefault(record.name, set()).add(record.person_id)
        held = set(people)

        def needs(level: str) -> tuple[str, ...]:
            known = fw.levels.get(level)
            return tuple(r for r in known.requires if r not in held) if known else ()

        paths = tuple(
            PathHeld(
                key,
                label,
                tuple(
                    LevelHeld(
                        lv.name,
                        lv.rank,
                        len(people.get(lv.name, ())),
                        () if lv.name in held else needs(lv.name),
                    )
                    for lv in levels
                ),
            )
            for key, (label, levels) in fw.paths().items()
        )
        required = tuple(self.required.get(tier, [])) if tier else ()
        missing = tuple(Gap(n, needs(n)) for n in required if n not in held)
        next_tier = None
        if tier in self.order:
            i = self.order.index(tier)
            next_tier = self.order[i + 1] if i + 1 < len(self.order) else None
        more = self.required.get(next_tier, []) if next_tier else []
        next_missing = tuple(Gap(n, needs(n)) for n in more if n not in held and n not in required)
        expiring, lapsed = self._expiries(partner_id, name, mine)
        other = tuple(sorted({r.certification for r in mine if not r.is_level and r.valid_on(on)}))
        return PartnerGaps(
            partner_id,
            name,
            tier,
            on,
            paths,
            required,
            missing,
            next_tier,
            next_missing,
            expiring,
            lapsed,
            other,
            tuple(more),
        )

    def _expiries(
        self, partner_id: str, partner: str, mine: list[Record]
    ) -> tuple[tuple[Expiry, ...], tuple[Expiry, ...]]:
        """Records expiring within ``expiry_warning_days`` (after the day, up to and including
        its last day) and not renewed; and the people's levels that lapsed within
        ``lapsed_days`` (from that many days before the day up to and including it) and that
        they do not hold again."""
        on, settings = self.on, self.settings
        expiring: list[Expiry] = []
        lapsed: dict[tuple[str, str], Expiry] = {}
        for record in mine:
            if record.expires is None:
                continue
            days = (record.expires - on).days
            same = [
                r
                for r in mine
                if r.person_id == record.person_id and r.name == record.name and r is not record
            ]
            if 0 < days <= settings.expiry_warning_days:
                window = self._window(record)
                renewed = any(
                    r.issued > record.issued and r.issued >= record.expires - window for r in same
                )
                if not renewed:
                    expiring.append(
                        Expiry(
                            partner_id, partner, record.person_id, record.name, record.expires, days
                        )
                    )
            elif -settings.lapsed_days <= days <= 0:
                if any(r.valid_on(on) for r in same):
                    continue  # renewed, or certified again since
                key = (record.person_id, record.name)
                found = Expiry(
                    partner_id, partner, record.person_id, record.name, record.expires, days
                )
                if key not in lapsed or lapsed[key].expires < record.expires:
                    lapsed[key] = found
        expiring.sort(key=lambda e: (e.expires, e.person_id, e.name))
        return tuple(expiring), tuple(sorted(lapsed.values(), key=lambda e: (e.expires, e.name)))

    def _window(self, record: Record) -> timedelta:
        level = self.fw.levels.get(record.name) if record.is_level else None
        return timedelta(days=level.renewal_window_days if level else 90)


def check_partner(workspace: Workspace, partner_id: str, known: Iterable[str]) -> None:
    ids = list(known)
    if partner_id not in ids:
        raise PartnerscopeError(
            f"no partner {partner_id!r} in the warehouse (check the id, or load it with "
            f"`partnerscope ingest`){did_you_mean(partner_id, ids)}"
        )


def partner_gaps(workspace: Workspace, partner_id: str, on: date | None = None) -> PartnerGaps:
    """One partner's paths, gaps against its tier and the next one, and expiries on ``on``
    (default: :func:`default_day`); refuses a partner not in the warehouse."""
    judge = _Judge(workspace, on or default_day(workspace))
    check_partner(workspace, partner_id, judge.partners)
    return judge.gaps(partner_id)


def all_gaps(
    workspace: Workspace, on: date | None = None, partner_ids: Iterable[str] | None = None
) -> list[PartnerGaps]:
    """Every partner's (or those of ``partner_ids``): the partners missing a certification
    their tier requires first (most missing first), then by name."""
    judge = _Judge(workspace, on or default_day(workspace))
    wanted = judge.partners if partner_ids is None else list(partner_ids)
    found = [judge.gaps(p) for p in wanted if p in judge.partners]
    return sorted(found, key=lambda g: (-len(g.missing), g.partner.casefold(), g.partner_id))


def expiring(
    workspace: Workspace,
    on: date | None = None,
    days: int | None = None,
    partner_ids: Iterable[str] | None = None,
) -> list[Expiry]:
    """The certifications expiring within ``days`` (default ``[enablement]
    expiry_warning_days``) after ``on`` and not renewed, soonest first."""
    judge = _Judge(workspace, on or default_day(workspace))
    if days is not None:
        if days < 1:
            raise PartnerscopeError("--days: give a number of days of at least 1")
        judge.settings = judge.settings.model_copy(update={"expiry_warning_days": days})
    wanted = judge.partners if partner_ids is None else list(partner_ids)
    out = [
        e
        for p in wanted
        if p in judge.partners
        for e in judge._expiries(p, judge.name(p), judge.records.get(p, []))[0]
    ]
    return sorted(out, key=lambda e: (e.expires, e.partner.casefold(), e.person_id, e.name))
