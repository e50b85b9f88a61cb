"""The mapping assistant: a proposed ``[sources.NAME]`` block for an export, read from its header
and values (``partnerscope map FILE --entity opportunities``).

Each canonical column of the entity is matched to the file column whose name says it (synonyms
such as Account/Company, Close Date, Partner/Dealer/Reseller) and whose values fit its type;
date columns in another format than ISO get their ``format``; a status column gets a value map
(won, lost or open from "Closed Won", "Shipped", "Cancelled", "On Hold"...). Every canonical
column is either matched or listed as having no match. The proposal is TOML to edit, with a
comment on every guess; written into ``partnerscope.toml`` it validates as it is whenever every
required column found its match.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.config import SourceConfig
from partnerscope.errors import DataFileError, did_you_mean
from partnerscope.ingest import dates
from partnerscope.ingest.readers import ROW_COLUMN, read_file
from partnerscope.schema import TABLES, Column, ColumnType, Table

if TYPE_CHECKING:
    import pyarrow as pa

#: rows whose values are looked at
SAMPLE_ROWS = 5_000
#: the share of a column's values that must fit a type for the column to be taken as that type
FITS = 0.8
#: a status column with more distinct values than this gets no value map
MAX_MAP_VALUES = 50

#: other names of a canonical column, in every entity
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "partner_id": (
        "partner",
        "dealer",
        "reseller",
        "partner account id",
        "partner account",
        "dealer id",
        "reseller id",
        "partner number",
        "dealer number",
        "partner code",
        "channel partner",
    ),
    "account_id": (
        "account",
        "company",
        "customer",
        "end customer",
        "customer id",
        "company id",
        "customer number",
        "client",
        "client id",
        "end user",
    ),
    "currency": ("currency code", "currency iso code", "curr", "ccy"),
    "updated_at": (
        "last modified",
        "last modified date",
        "modified",
        "modified at",
        "last updated",
        "updated",
        "updated date",
    ),
    "product": ("product line", "product family", "product name", "product category"),
    "country": ("country code", "nation"),
    "program_tier": ("tier", "program tier", "partner tier", "level"),
    "passed": ("result", "pass", "outcome", "passed check"),
    "kind": ("survey type", "type", "kind", "survey kind"),
    "score": ("rating", "nps", "csat", "score value"),
    "period_start": (
        "quarter start",
        "month start",
        "year start",
        "period",
        "start date",
        "quarter",
        "month",
        "period start date",
        "fiscal period",
    ),
    "incurred_at": ("date", "cost date", "incurred on", "booked on", "expense date"),
    "estimated_value": ("est value", "estimated value", "value", "estimated amount"),
    "check_type": ("check type", "audit type", "type", "check"),
    "notes": ("findings", "comment", "comments", "remarks", "note"),
    "certification": ("certification name", "certificate", "course", "exam"),
    "category": ("cost category", "cost type", "type"),
    "person_id": ("person", "user id", "contact id", "employee id", "person number"),
    "quota": ("target", "quota amount", "revenue target"),
}

#: other names of a canonical column in one entity
_ENTITY_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunities": {
        "opportunity_id": (
            "id",
            "opportunity",
            "opportunity number",
            "deal id",
            "deal",
            "deal number",
            "order id",
            "order number",
            "order",
            "order no",
        ),
        "name": ("name", "opportunity name", "deal name", "title", "subject"),
        "stage": ("stage name", "deal stage", "sales stage", "phase", "pipeline stage"),
        "status": ("status", "order status", "deal status", "outcome", "result", "state"),
        "amount": (
            "amount",
            "deal value",
            "value",
            "total",
            "order total",
            "revenue",
            "deal amount",
            "total amount",
            "net amount",
            "order amount",
        ),
        "created_at": (
            "order date",
            "create date",
            "created date",
            "creation date",
            "date created",
            "open date",
            "created on",
            "created",
        ),
        "closed_at": (
            "close date",
            "closed date",
            "shipped date",
            "ship date",
            "won date",
            "closing date",
            "date closed",
            "closed on",
            "shipped",
            "closed",
        ),
        "discount_amount": ("discount", "partner discount", "discount value"),
        "attribution": ("partner attribution", "partner role", "attribution type"),
        "mdf_activity_id": ("mdf activity", "mdf", "mdf id", "campaign id"),
    },
    "partners": {
        "partner_id": ("id", "partner", "dealer", "reseller", "dealer id", "dealer number"),
        "name": (
            "name",
            "partner name",
            "dealer name",
            "reseller name",
            "company",
            "company name",
            "customer name",
        ),
        "partner_type": ("partner type", "type", "business model", "dealer type"),
        "region": ("territory", "sales region", "area", "geo", "zone"),
        "program_tier": ("tier", "partner tier", "program level", "partner level", "level"),
        "partner_manager": (
            "channel manager",
            "partner manager",
            "account manager",
            "channel account manager",
            "sales rep",
            "rep",
            "owner",
        ),
        "joined_at": ("join date", "joined", "start date", "partner since", "onboarded", "since"),
        "status": ("status", "partner status", "state"),
        "latitude": ("lat",),
        "longitude": ("lon", "lng", "long"),
    },
    "accounts": {
        "account_id": ("id", "account", "customer id", "company id", "customer number"),
        "name": ("name", "account name", "company", "company name", "customer name"),
        "domain": ("website", "web", "url", "domain name"),
        "industry": ("sector", "vertical"),
        "employees": ("employee count", "headcount", "staff", "number of employees"),
        "annual_revenue": ("revenue", "turnover"),
        "is_target": ("target", "target account"),
    },
    "fx_rates": {
        "currency": ("currency", "from currency", "ccy"),
        "rate_date": ("date", "as of", "day", "effective date"),
        "rate": ("fx rate", "exchange rate", "per unit", "conversion rate"),
        "base_currency": ("to currency", "quote currency", "base"),
    },
    "market_sizes": {
        "vertical": ("industry", "sector", "segment"),
        "market_value": ("market size", "market value", "tam", "addressable market", "size"),
        "competitors": ("competitor count", "number of competitors", "competition"),
        "competitor_share": ("competitor share", "competitors share", "share of competitors"),
        "updated_at": ("as of", "date", "study date"),
    },
    "leads": {
        "lead_id": ("id", "lead", "lead number"),
        "assigned_at": ("assigned", "assigned date", "assignment date", "assigned ts"),
        "first_touch_at": ("first touch", "first contact", "first touch ts", "contacted"),
        "estimated_value": ("value", "estimated amount", "potential"),
    },
}

#: names that say something only when they are the whole header ("Partner ID" is no "id")
_WHOLE_ONLY = frozenset({"id", "name", "date", "type", "number", "code", "value", "total"})

#: values of a status column, by the canonical status they stand for (a value holding one of
#: these words, most specific first)
_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("lost", "lost"),
    ("cancel", "lost"),
    ("reject", "lost"),
    ("declin", "lost"),
    ("void", "lost"),
    ("dead", "lost"),
    ("disqualif", "lost"),
    ("no decision", "lost"),
    ("won", "won"),
    ("win", "won"),
    ("shipped", "won"),
    ("deliver", "won"),
    ("complete", "won"),
    ("invoiced", "won"),
    ("booked", "won"),
    ("fulfil", "won"),
    ("paid", "won"),
    ("resolved", "won"),
)

#: other words for the allowed values of a canonical column
_ALLOWED_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "partner_type": {
        "var": ("value added reseller", "reseller", "var", "dealer"),
        "si": ("system integrator", "integrator", "systems integrator"),
        "distributor": ("distributor", "distribution", "wholesaler", "wholesale"),
        "oem": ("oem", "original equipment manufacturer"),
        "msp": ("managed service provider", "msp", "service provider"),
        "retailer": ("retail", "retailer", "store", "shop"),
        "referral": ("referral", "referrer", "agent", "affiliate"),
    },
    "activity_type": {
        "event": ("trade show", "trade show booth", "conference", "webinar", "roadshow"),
        "digital": ("online", "paid search", "social", "email"),
        "content": ("white paper", "content syndication", "ebook"),
    },
    "status": {
        "active": ("active", "current", "enabled"),
        "inactive": ("inactive", "dormant", "suspended", "disabled", "paused"),
        "exited": ("exited", "terminated", "former", "left", "churned", "ended"),
    },
}


def words_of(name: str) -> str:
    """A header as lower-case words: ``PartnerAccountId`` → "partner account id",
    ``Partner_Discount__c`` → "partner discount", ``Annual Revenue (USD)`` → "annual revenue
    usd"."""
    name = re.sub(r"__c$", "", name.strip())
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name)
    return " ".join(re.sub(r"[^0-9a-zA-Z]+", " ", name).lower().split())


def _names(entity: str, col: Column) -> tuple[str, ...]:
    """The words a header may use for ``col``: its own name, stems (``partner_id`` →
    "partner id", "partner"; ``closed_at`` → "closed at", "closed date") and synonyms."""
    own = col.name.replace("_", " ")
    stems = [own]
    if col.name.endswith("_at"):
        stem = own[: -len(" at")]
        stems += [f"{stem} date", f"{stem} time", f"{stem} ts", f"{stem} on"]
        if stem.endswith("ed"):  # "issued" → "issue date", "checked" → "check date"
            base = stem[:-1] if stem.endswith("ued") else stem[:-2]
            stems += [f"{base} date", f"{base} time"]
    return (
        *stems,
        *_ENTITY_SYNONYMS.get(entity, {}).get(col.name, ()),
        *_SYNONYMS.get(col.name, ()),
    )


def _name_score(header: str, names: Sequence[str]) -> int:
    """How well a header's words say one of ``names``: 100 exactly, less for a name inside
    the header (longer names score higher) or a near spelling; 0 for none."""
    best = 0
    padded = f" {header} "
    for name in names:
        if header == name:
            return 100
        if name not in _WHOLE_ONLY and f" {name} " in padded:
            best = max(best, 60 + 5 * len(name.split()))
        elif difflib.SequenceMatcher(None, header, name).ratio() >= 0.85:
            best = max(best, 50)
    return best


# -- what the values are ---------------------------------------------------------------------


def _is_number(value: str) -> bool:
    text = re.sub(r"[\s$€£¥,]", "", value)
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass
class FileColumn:
    """One column of the file and what its values look like."""

    name: str
    words: str
    values: list[str]  # the non-blank values of the sample
    #: every distinct non-blank value of the whole column, commonest first (a status column's
    #: rarer values are often at the end of the file)
    distinct: list[str] = field(default_factory=list)
    numbers: float = 0.0  # share of values that are numbers
    iso_dates: float = 0.0  # share that are ISO dates or times
    date_guess: dates.DateFormatGuess | None = None

    @property
    def dates(self) -> float:
        if self.iso_dates >= FITS:
            return self.iso_dates
        guess = self.date_guess
        return guess.matched / guess.tried if guess is not None and guess.tried else 0.0

    def fits(self, kind: ColumnType) -> bool:
        if not self.values:
            return True  # an empty column fits anything; its mapping is harmless
        if kind in (ColumnType.MONEY, ColumnType.NUMBER, ColumnType.INTEGER, ColumnType.RATE):
            return self.numbers >= FITS
        if kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
            return self.dates >= FITS
        if kind is ColumnType.CURRENCY:
            return all(re.fullmatch(r"[A-Za-z]{3}", v) for v in self.values[:200])
        if kind is ColumnType.BOOLEAN:
            return len({v.lower() for v in self.values}) <= 2
        return True


def _profile(name: str, cells: Sequence[str | None], distinct: list[str]) -> FileColumn:
    values = [str(v).strip() for v in cells if v is not None and str(v).strip()]
    col = FileColumn(name, words_of(name), values, distinct)
    if values:
        col.numbers = sum(1 for v in values if _is_number(v)) / len(values)
        col.iso_dates = sum(1 for v in values if _is_iso(v)) / len(values)
        if col.iso_dates < FITS and col.numbers < FITS:
            col.date_guess = dates.detect(values)
    return col


# -- the proposal ----------------------------------------------------------------------------


@dataclass
class Match:
    column: Column
    file_column: FileColumn
    score: int


@dataclass
class Proposal:
    """A proposed source block: its TOML text and what was found."""

    source_name: str
    entity: str
    matches: dict[str, str]  # canonical column → file column
    unmatched: list[str]  # canonical columns with no match
    missing_required: list[str]
    lines: list[str] = field(default_factory=list)

    @property
    def toml(self) -> str:
        return "\n".join(self.lines) + "\n"


def _toml(text: str) -> str:
    """A TOML basic string."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _key(text: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml(text)


def _ident(name: str) -> str:
    """A file column in an expr (DuckDB SQL)."""
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def source_name_for(path: Path) -> str:
    """A source name from a file name: ``Order Lines 2024.csv`` → ``order_lines_2024``."""
    name = re.sub(r"[^0-9a-z]+", "_", path.stem.lower()).strip("_")
    return name or "export"


def propose(
    path: Path,
    entity: str,
    *,
    source_name: str | None = None,
    shown_path: str | None = None,
    sheet: str | None = None,
) -> Proposal:
    """Read ``path`` and propose its ``[sources.NAME]`` block as an export of ``entity``."""
    if entity not in TABLES:
        raise DataFileError(
            f"unknown entity {entity!r}: the entities are {', '.join(TABLES)}"
            f"{did_you_mean(entity, TABLES)}"
        )
    table = TABLES[entity]
    name = source_name or source_name_for(path)
    shown = shown_path or str(path)
    settings: dict[str, object] = {"entity": entity, "path": shown}
    if sheet is not None:
        settings["sheet"] = sheet
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        settings["sheet"] = _first_sheet(path)
    source = SourceConfig.model_validate(settings)
    data = read_file(path, source)
    sample = data.table.slice(0, SAMPLE_ROWS)
    columns = [
        _profile(c, sample.column(c).to_pylist(), _distinct(data.table.column(c)))
        for c in data.columns
        if c != ROW_COLUMN
    ]
    matches = _match(entity, table, columns)
    return _write(name, settings, table, columns, matches, path)


def _distinct(cells: pa.ChunkedArray) -> list[str]:
    """The distinct non-blank values of a column, commonest first (then by value); none for a
    column of more than :data:`MAX_MAP_VALUES` x 20 values (ids, names, amounts)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pc.cast(cells, pa.string()))
    counts = pc.value_counts(text).to_pylist()
    if len(counts) > MAX_MAP_VALUES * 20:
        return []
    found = [(c["values"], c["counts"]) for c in counts if c["values"]]
    return [v for v, _ in sorted(found, key=lambda vc: (-vc[1], vc[0]))]


def _first_sheet(path: Path) -> str:
    from python_calamine import CalamineWorkbook

    try:
        return str(CalamineWorkbook.from_path(str(path)).sheet_names[0])
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise DataFileError(f"{path}: cannot be opened as an XLSX workbook ({exc})") from None


def _match(entity: str, table: Table, columns: list[FileColumn]) -> dict[str, Match]:
    """Canonical column → its best file column: the highest-scoring pairs first, each file
    column used once, only where the values fit the canonical type."""
    pairs = []
    for col in table.columns:
        names = _names(entity, col)
        for fc in columns:
            score = _name_score(fc.words, names)
            if not score and col.name == "name" and fc.words.endswith(" name"):
                score = 55  # "Activity Name", "Dealer Name"
            if score and fc.fits(col.type):
                # a required column goes first among equals
                pairs.append((score, col.required or col.name in table.key, col.name, fc))
    pairs.sort(key=lambda p: (-p[0], not p[1]))
    chosen: dict[str, Match] = {}
    used: set[str] = set()
    for score, _, canonical, fc in pairs:
        if canonical in chosen or fc.name in used:
            continue
        chosen[canonical] = Match(table.column(canonical), fc, score)
        used.add(fc.name)
    if len(table.key) == 1 and table.key[0] not in chosen:
        # an export calls its ids its own way ("customerNumber" of a dealer list): the first
        # id-like column whose values differ on every row
        for fc in columns:
            last = fc.words.split()[-1:] or [""]
            if (
                fc.name not in used
                and last[0] in ("id", "number", "no", "code", "key", "nr")
                and fc.values
                and len(set(fc.values)) == len(fc.values)
            ):
                chosen[table.key[0]] = Match(table.column(table.key[0]), fc, 1)
                used.add(fc.name)
                break
    if entity == "opportunities" and "status" not in chosen and "stage" in chosen:
        # a stage column says the status too ("Closed Won")
        chosen["status"] = Match(table.column("status"), chosen["stage"].file_column, 0)
    if entity == "opportunities" and "stage" not in chosen and "status" in chosen:
        # and a status column in the source's own words ("On Hold") is its stage
        chosen["stage"] = Match(table.column("stage"), chosen["status"].file_column, 0)
    return chosen


def _status(value: str) -> str | None:
    text = words_of(value)
    for word, status in _STATUS_WORDS:
        if re.search(rf"\b{word}", text):
            return status
    return None


def _allowed_value(col: Column, value: str) -> str | None:
    text = words_of(value)
    if text in col.allowed:
        return text
    for allowed, names in _ALLOWED_SYNONYMS.get(col.name, {}).items():
        if allowed in col.allowed and text in names:
            return allowed
    close = difflib.get_close_matches(text, col.allowed, n=1, cutoff=0.8)
    if close:
        return close[0]
    # "Digital Campaign" is digital
    inside = [a for a in col.allowed if f" {a} " in f" {text} "]
    return inside[0] if len(inside) == 1 else None


def _write(
    name: str,
    settings: dict[str, object],
    table: Table,
    columns: list[FileColumn],
    matches: dict[str, Match],
    path: Path,
) -> Proposal:
    entity = table.name
    out = [
        f"# Proposed by `partnerscope map {path.name} --entity {entity}`: check every line, "
        "then paste it into partnerscope.toml",
        f"# and load it with `partnerscope profile {name}` (nothing loaded) and "
        f"`partnerscope ingest {name}`.",
        f"[sources.{_key(name)}]",
    ]
    out += [f"{k} = {_toml(str(v))}" for k, v in settings.items()]
    naive = [
        m.file_column.name
        for m in matches.values()
        if m.column.type is ColumnType.TIMESTAMP
        and any(
            re.search(r"\d:\d\d", v) and not re.search(r"(Z|[+-]\d\d:?\d\d)$", v)
            for v in m.file_column.values[:50]
        )
    ]
    if naive:
        out.append(
            f"# {', '.join(sorted(set(naive)))}: times without a UTC offset are read in the "
            "workspace's time zone; if the export was made in another, set it here:"
        )
        out.append('# timezone = "Europe/Berlin"')
    out += ["", f"[sources.{_key(name)}.columns]"]
    tables: list[str] = []  # sub-tables, after the inline mappings
    unmatched: list[str] = []
    missing: list[str] = []
    status_map: dict[str, str] = {}
    for col in table.columns:
        match = matches.get(col.name)
        derived = _derived(entity, col, matches) if match is None else None
        if derived is not None:
            out += derived
            continue
        if col.name == "attribution" and entity == "opportunities" and "partner_id" in matches:
            partner = _ident(matches["partner_id"].file_column.name)
            given = (
                f"coalesce({_ident(match.file_column.name)}, 'sourced')" if match else "'sourced'"
            )
            why = (
                f"from {match.file_column.name!r}, 'sourced' where it is blank"
                if match
                else "no attribution column: every deal with a partner counts as sourced"
            )
            out.append(f"# attribution: {why}; only deals with a partner have one")
            expr = f"CASE WHEN {partner} IS NOT NULL THEN {given} END"
            out.append(f"attribution = {{ expr = {_toml(expr)} }}")
            continue
        if match is None:
            if (col.required or col.name in table.key) and col.default is None:
                missing.append(col.name)
                out.append(f"# {col.name} = ?   # no match: REQUIRED ({col.description}) — map it")
                continue
            unmatched.append(col.name)
            continue
        fc = match.file_column
        how = "by name" if match.score else f"from the stage column {fc.name!r}"
        if col.allowed and not (entity == "opportunities" and col.name == "status"):
            tables += _allowed_block(name, col, fc)
            continue
        if col.type is ColumnType.BOOLEAN and (truth := _boolean_map(fc.distinct)):
            pairs = ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in truth.items())
            out.append(f"{col.name} = {{ column = {_toml(fc.name)}, map = {{ {pairs} }} }}")
            continue
        if entity == "opportunities" and col.name == "status":
            values = fc.distinct
            if len(values) > MAX_MAP_VALUES or not values:
                out.append(
                    f"# status: {fc.name!r} has {len(values)} values, too many to map here: "
                    "write an expr giving won, lost or open"
                )
                missing.append(col.name)
                continue
            status_map = {v: _status(v) or "open" for v in values}
            tables += [
                "",
                f"# status {how}: each value of {fc.name!r} as won, lost or open; values with no "
                "won/lost word are taken as open — check them",
                f"[sources.{_key(name)}.columns.status]",
                f"column = {_toml(fc.name)}",
                "map = { "
                + ", ".join(f"{_toml(v)} = {_toml(s)}" for v, s in status_map.items())
                + " }",
            ]
            continue
        note = ""
        fmt = None
        if col.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and fc.iso_dates < FITS:
            guess = fc.date_guess
            if guess is not None:
                fmt = guess.format
                note = f"values such as {guess.example!r} read as {guess.order()}" + (
                    "; day and month are ambiguous (no part above 12): if the day comes "
                    f"first, use {_toml(guess.ambiguous_with)}"
                    if guess.ambiguous_with
                    else ""
                )
        if col.name == "closed_at" and entity == "opportunities" and "status" in matches:
            closed_expr = _closed_only(matches["status"].file_column, fc, status_map or None)
            if closed_expr is not None:
                still_open = [v for v, s in status_map.items() if s == "open"]
                shown = ", ".join(still_open[:4]) + (", ..." if len(still_open) > 4 else "")
                out.append(
                    f"# closed_at from {fc.name!r} only where the deal is won or lost: an open "
                    f"one ({shown}) may have a date there, which an ingest refuses"
                )
                fields = f"expr = {_toml(closed_expr)}" + (
                    f", format = {_toml(fmt)}" if fmt else ""
                )
                out.append(f"closed_at = {{ {fields} }}")
                continue
        if match.score == 1:
            out.append(
                f"# {col.name}: {fc.name!r} holds a different value on every row: check that it "
                f"is the {col.name.removesuffix('_id').replace('_', ' ')}'s id"
            )
        if fmt is not None:
            out.append(f"# {col.name}: {note}")
            out.append(f"{col.name} = {{ column = {_toml(fc.name)}, format = {_toml(fmt)} }}")
        else:
            out.append(f"{col.name} = {_toml(fc.name)}")
    if unmatched:
        out.append("# no match — map it or leave it out:")
        out += [f"#   {c}: {_unmatched(table.column(c))}" for c in unmatched]
    taken = {m.file_column.name for m in matches.values()}
    left = [fc.name for fc in columns if fc.name not in taken]
    if left:
        out.append(f"# file columns not used: {', '.join(left)}")
    out += tables
    return Proposal(
        name,
        entity,
        {c: m.file_column.name for c, m in matches.items()},
        unmatched,
        missing,
        out,
    )


_TRUE = ("true", "t", "yes", "y", "1", "x", "won", "closed won")
_FALSE = ("false", "f", "no", "n", "0")
_TRUE_WORDS = ("pass", "ok", "success", "complete", "compliant", "approved", "converted")
_FALSE_WORDS = ("fail", "not", "non", "reject", "open", "pending")


def _boolean_map(values: Sequence[str]) -> dict[str, str]:
    """A map for a true/false column whose values an ingest does not read as such
    ("Pass"/"Fail"); empty when it reads them all (yes/no, Y/N, true/false, 1/0)."""
    if all(v.lower() in _TRUE + _FALSE for v in values):
        return {}
    truth = {}
    for v in values:
        text = words_of(v)
        if text in _TRUE or any(text.startswith(w) for w in _TRUE_WORDS):
            truth[v] = "true"
        elif text in _FALSE or any(text.startswith(w) for w in _FALSE_WORDS):
            truth[v] = "false"
    return truth


def _derived(entity: str, col: Column, matches: dict[str, Match]) -> list[str] | None:
    """Lines for a column no file column holds but another matched column says: the scale of
    a survey's NPS responses, the grain of quotas by month or year."""
    if entity == "surveys" and col.name in ("scale_min", "scale_max") and "kind" in matches:
        kind = matches["kind"].file_column
        if any(v.lower() == "nps" for v in kind.distinct):
            nps, other = ("0", "1") if col.name == "scale_min" else ("10", "5")
            expr = f"CASE WHEN lower({_ident(kind.name)}) = 'nps' THEN '{nps}' ELSE '{other}' END"
            return [
                f"# {col.name}: NPS is answered 0-10, the other kind 1-5: change it to your scale",
                f"{col.name} = {{ expr = {_toml(expr)} }}",
            ]
    if entity == "targets" and col.name == "grain" and "period_start" in matches:
        header = matches["period_start"].file_column.words.split()
        grain = next((g for g in ("month", "year") if g in header), None)
        if grain is not None:
            return [
                f"# grain: {matches['period_start'].file_column.name!r} starts a {grain}",
                f'grain = {{ constant = "{grain}" }}',
            ]
    return None


def _unmatched(col: Column) -> str:
    """A canonical column without a match: what it holds and what it is when left out."""
    if col.default is None:
        return col.description
    default = (
        "the workspace's base currency" if col.default == "{base_currency}" else repr(col.default)
    )
    return f"{col.description} Left out: {default}."


def _closed_only(
    status_col: FileColumn, closed_col: FileColumn, status_map: dict[str, str] | None
) -> str | None:
    """An expr taking the close date only on won or lost rows (an open deal's close date is the
    expected one, which an ingest refuses); None when every value is won or lost."""
    if status_map is None:
        return None
    closed = sorted(v for v, s in status_map.items() if s in ("won", "lost"))
    if not closed or len(closed) == len(status_map):
        return None
    listed = ", ".join(_sql_text(v.lower()) for v in closed)
    return (
        f"CASE WHEN lower({_ident(status_col.name)}) IN ({listed}) "
        f"THEN {_ident(closed_col.name)} END"
    )


def _allowed_block(name: str, col: Column, fc: FileColumn) -> list[str]:
    """A mapped column with allowed values: a value map for the values that are not already
    one (matching ignores case), ``otherwise`` where the column has a catch-all value."""
    values = fc.distinct
    mapped: dict[str, str] = {}
    unknown = []
    for v in values[:MAX_MAP_VALUES]:
        found = _allowed_value(col, v)
        if found is None:
            unknown.append(v)
        elif v.lower() != found:
            mapped[v] = found
    lines = ["", f"[sources.{_key(name)}.columns.{col.name}]", f"column = {_toml(fc.name)}"]
    if mapped:
        lines.append(
            "map = { " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in mapped.items()) + " }"
        )
    if unknown:
        catch_all = "other" if "other" in col.allowed else None
        listed = ", ".join(repr(v) for v in unknown[:10])
        if catch_all:
            lines.insert(1, f"# {col.name}: {listed} read as {catch_all!r}; map them if you can")
            lines.append(f"otherwise = {_toml(catch_all)}")
        else:
            lines.insert(
                1,
                f"# {col.name}: map {listed} to one of {', '.join(col.allowed)} (unmapped "
                "values are quarantined)",
            )
    return lines
