"""Applications to join the program and their qualification.

An application comes by an invitation link's form (``/apply/<token>``: the token is random,
only its SHA-256 is stored, it expires and takes one application), an import of the
spreadsheet a team keeps (:func:`import_file`: all-or-nothing, idempotent) or the CLI. Staff
then assess it against the criteria of ``[qualification]``: each score (1 to the scale) is
given with its evidence by a named person; market fit is suggested from the market
opportunity map's cell of the applicant's country and vertical (a person still gives the
score). The weighted score is Σ weight × score / Σ weight over the criteria scored.

The decision keeps the "do not use" discipline of the decision record: an application is
approved only with an owner and every required criterion scored with evidence (else one
error listing all that is missing), with a program tier the workspace knows and a free
partner id; the approval, its audit entry and the start of the partner's onboarding are one
transaction. A rejection needs its reason. A decided application is not decided again.

Every run posts the approved applicants as ``partners`` rows (:func:`joined_partners`) so the
new partner exists before the CRM knows it; once the CRM's export has the partner id, the
CRM's row is the partner and the application's row is no longer posted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit, clock, outbox
from partnerscope.appdb.tables import application_invites, application_scores, applications
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.lifecycle.sheets import ImportRefusedError, RowProblem, read_sheet
from partnerscope.schema import PARTNER_TYPES

if TYPE_CHECKING:
    from sqlalchemy import Row
    from sqlalchemy.engine import Connection

    from partnerscope.ingest.facts import Facts
    from partnerscope.settings.qualification import QualificationSettings
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "application"
INVITE_TYPE = "application_invite"
#: the source the posted partners file is loaded as
SOURCE = "applications"
#: the canonical ``partners`` columns :func:`joined_partners` fills, in this order
COLUMNS = (
    "partner_id",
    "name",
    "partner_type",
    "region",
    "country",
    "program_tier",
    "partner_manager",
    "joined_at",
    "status",
    "updated_at",
)
MAX_TEXT = 2000
MAX_NAME = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEBSITE = re.compile(r"^(https?://)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/\S*)?$")


class Status(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class Source(StrEnum):
    FORM = "form"
    IMPORT = "import"
    CLI = "cli"


class ApplicationError(PartnerscopeError, ValueError):
    """A request about an application refused; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ApplicationNotFoundError(PartnerscopeError, LookupError):
    """No application with that id."""


class InviteError(PartnerscopeError, LookupError):
    """An invitation link that cannot take an application: ``state`` is ``unknown``,
    ``expired`` or ``used``."""

    def __init__(self, state: str, message: str) -> None:
        self.state = state
        super().__init__(message)


# ------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Application:
    application_id: int
    company: str
    contact_name: str
    contact_email: str
    website: str | None
    country: str | None
    region: str | None
    vertical: str | None
    partner_type: str | None
    description: str | None
    details: dict[str, Any]
    source: str
    status: Status
    owner: str | None
    submitted_at: datetime
    submitted_by: str
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    program_tier: str | None
    partner_id: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Application:
        values = dict(row._mapping)
        values["status"] = Status(values["status"])
        values["details"] = dict(values["details"] or {})
        return cls(**values)

    @property
    def ref(self) -> str:
        return f"application #{self.application_id}"

    def where(self, *, named: bool = True) -> str:
        """Where it stands, in words."""
        who = f" by {self.decided_by}" if named and self.decided_by else ""
        day = f" on {self.decided_at:%Y-%m-%d}" if self.decided_at else ""
        match self.status:
            case Status.SUBMITTED:
                return f"awaits a decision (submitted on {self.submitted_at:%Y-%m-%d})"
            case Status.APPROVED:
                return f"was approved{who}{day} as partner {self.partner_id}"
            case Status.REJECTED:
                return f"was rejected{who}{day}"


@dataclass(frozen=True)
class Score:
    criterion: str
    label: str
    weight: float
    required: bool
    asks: str
    score: float | None
    evidence: str | None
    scored_by: str | None
    scored_at: datetime | None


@dataclass(frozen=True)
class Assessment:
    """An application's assessment: each criterion with its score and evidence, the weighted
    score, what is missing before it can be approved, and the recommendation."""

    application: Application
    scores: tuple[Score, ...]
    scale: int
    threshold: float
    #: Σ weight × score / Σ weight over the criteria scored (None: none scored)
    weighted: float | None
    #: what stops an approval, one phrase each (no owner, a required criterion unscored)
    missing: tuple[str, ...]
    #: the market map's suggestion for market fit ("Priority 2: ..."), if the map has the cell
    suggestion: str | None = None

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def recommendation(self) -> str:
        if self.weighted is None:
            return "not scored yet"
        score = f"{self.weighted:.2f} of {self.scale}"
        if self.missing:
            return f"incomplete: {score} so far"
        verdict = "approve" if self.weighted >= self.threshold else "do not approve"
        return f"{verdict}: {score} against the threshold of {self.threshold:g}"


@dataclass(frozen=True)
class Invite:
    token: str
    link: str
    company: str | None
    email: str | None
    expires_at: datetime


@dataclass(frozen=True)
class ImportResult:
    added: tuple[int, ...]
    unchanged: int
    file: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {len(self.added):,} application{'s' * (len(self.added) != 1)} "
            f"added, {self.unchanged:,} already there"
        )


# ---------------------------------------------------------------------------- fields

#: the fields of an application, in form order: (key, label, required)
FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("company", "Company", True),
    ("contact_name", "Contact name", True),
    ("contact_email", "Email", True),
    ("website", "Website", False),
    ("country", "Country", True),
    ("region", "Region", False),
    ("vertical", "Vertical (industry)", True),
    ("partner_type", "Partner type", True),
    ("description", "What you do", False),
    ("employees", "Employees", False),
    ("certifications", "Certifications held", False),
    ("references", "References", False),
)
#: the fields kept in ``details``
DETAILS = ("employees", "certifications", "references", "external_id")
#: other column names an import takes for a field
ALIASES = {
    "contact": "contact_name",
    "name": "contact_name",
    "email": "contact_email",
    "type": "partner_type",
    "industry": "vertical",
    "application_id": "external_id",
    "id": "external_id",
}


def clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The application's fields from what was typed (every value text or None), checked:
    :class:`ApplicationError` names the first field to fix. :func:`problems` gives all."""
    found, errors = _checked(raw)
    if errors:
        name, message = errors[0]
        raise ApplicationError(name, message)
    return found


def problems(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every (field, problem) of what was typed."""
    return _checked(raw)[1]


def _checked(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []
    found: dict[str, Any] = {}
    for key, label, required in (*FIELDS, ("external_id", "Application id", False)):
        value = raw.get(key)
        text = " ".join(str(value).split()) if value is not None else ""
        if key == "description" and value is not None:
            text = str(value).strip()
        limit = MAX_TEXT if key in ("description", "references", "certifications") else MAX_NAME
        if not text:
            if required:
                errors.append((key, f"give the {label.lower()}"))
            found[key] = None
            continue
        if len(text) > limit:
            errors.append((key, f"{len(text):,} characters; keep it to {limit:,}"))
            continue
        if key == "contact_email" and not EMAIL.match(text):
            errors.append((key, f"{text!r} is not an email address (name@company.com)"))
            continue
        if key == "website" and not WEBSITE.match(text):
            errors.append((key, f"{text!r} is not a web address (e.g. www.company.com)"))
            continue
        if key == "partner_type":
            text = text.lower()
            if text not in PARTNER_TYPES:
                errors.append(
                    (
                        key,
                        f"{text!r} is not a partner type; one of {', '.join(PARTNER_TYPES)}"
                        + did_you_mean(text, PARTNER_TYPES),
                    )
                )
                continue
        if key == "employees":
            digits = text.replace(",", "").replace(" ", "")
            if not digits.isdigit():
                errors.append((key, f"{text!r} is not a number of people (e.g. 25)"))
                continue
            found[key] = int(digits)
            continue
        found[key] = text
    return found, errors


def _values(found: Mapping[str, Any]) -> dict[str, Any]:
    """The table's columns of checked fields (the rest in ``details``)."""
    columns = {k: found.get(k) for k, _, _ in FIELDS if k not in DETAILS}
    columns["details"] = {k: found[k] for k in DETAILS if found.get(k) is not None}
    return columns


# ------------------------------------------------------------------------------ store


def _load(connection: Connection, application_id: int, *, lock: bool = False) -> Application:
    from sqlalchemy import select

    if lock:
        appdb.serialize(connection, applications)
    row = connection.execute(
        select(applications).where(applications.c.application_id == application_id)
    ).first()
    if row is None:
        raise ApplicationNotFoundError(
            f"no application #{application_id}; `partnerscope applications list` shows them"
        )
    return Application.from_row(row)


def application_of(workspace: Workspace, partner_id: str) -> int | None:
    """The approved application that made ``partner_id`` a partner, if one did (the onboarding
    plan of a partner that joined by application links to it)."""
    from sqlalchemy import select

    with appdb.connect(workspace).connect() as connection:
        found = connection.execute(
            select(applications.c.application_id)
            .where(applications.c.partner_id == partner_id)
            .where(applications.c.status == Status.APPROVED.value)
        ).first()
    return None if found is None else int(found[0])


def get(workspace: Workspace, application_id: int) -> Application:
    with appdb.connect(workspace).connect() as connection:
        return _load(connection, application_id)


def listing(
    workspace: Workspace, status: Status | None = None, owner: str | None = None
) -> list[Application]:
    """The applications, newest first."""
    from sqlalchemy import select

    query = select(applications).order_by(applications.c.application_id.desc())
    if status is not None:
        query = query.where(applications.c.status == status.value)
    if owner is not None:
        query = query.where(applications.c.owner == owner)
    with appdb.connect(workspace).connect() as connection:
        return [Application.from_row(r) for r in connection.execute(query)]


def _insert(
    connection: Connection,
    found: Mapping[str, Any],
    *,
    source: Source,
    by: str,
    now: datetime,
) -> int:
    values = _values(found)
    done = connection.execute(
        applications.insert().values(
            **values,
            source=source.value,
            status=Status.SUBMITTED.value,
            submitted_at=now,
            submitted_by=by,
            updated_at=now,
        )
    )
    key = done.inserted_primary_key
    assert key is not None
    application_id = int(key[0])
    audit.record(
        connection,
        actor=by,
        action="application.submitted",
        object_type=OBJECT_TYPE,
        object_id=application_id,
        detail={"company": values["company"], "source": source.value},
    )
    where = ", ".join(str(v) for v in (values.get("country"), values.get("vertical")) if v)
    outbox.enqueue(
        connection,
        key=f"approval:application:{application_id}",
        kind="approval",
        title=f"{values['company']} applied to become a partner",
        lines=[
            f"{values['company']}{f' ({where})' if where else ''} applied to join the program; "
            f"the contact is {values['contact_name']}.",
            "Assess the application and approve or reject it.",
        ],
        roles=("admin",),
        link=f"/applications/{application_id}",
        object_type=OBJECT_TYPE,
        object_id=str(application_id),
        now=now,
    )
    return application_id


def submit(
    workspace: Workspace,
    raw: Mapping[str, Any],
    *,
    by: str,
    source: Source = Source.CLI,
    now: datetime | None = None,
) -> Application:
    """Store an application (checked by :func:`clean`), audited."""
    found = clean(raw)
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).begin() as connection:
        application_id = _insert(connection, found, source=source, by=by, now=moment)
        return _load(connection, application_id)


# ---------------------------------------------------------------------------- invites


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(
    workspace: Workspace,
    *,
    by: str,
    company: str | None = None,
    email: str | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> Invite:
    """A new invitation link (``/apply/<token>``), valid for ``days`` (default
    ``[qualification] invite_days``) and one application; only the token's hash is stored."""
    settings = workspace.config.qualification
    valid = settings.invite_days if days is None else days
    if not 1 <= valid <= 365:
        raise ApplicationError("days", f"{valid} days; an invitation is valid 1 to 365 days")
    company = " ".join(company.split()) if company else None
    email = email.strip() if email else None
    if email and not EMAIL.match(email):
        raise ApplicationError("email", f"{email!r} is not an email address (name@company.com)")
    moment = now or now_utc(whole_seconds=True)
    token = secrets.token_urlsafe(32)
    expires = moment + timedelta(days=valid)
    with appdb.connect(workspace).begin() as connection:
        connection.execute(
            application_invites.insert().values(
                token_hash=token_hash(token),
                company=company,
                email=email,
                created_by=by,
                created_at=moment,
                expires_at=expires,
            )
        )
        audit.record(
            connection,
            actor=by,
            action="application.invited",
            object_type=INVITE_TYPE,
            # the token is the link's secret: the entry names whom the link is for
            object_id=f"link for {company or email or 'anyone'}",
            detail={"company": company, "email": email, "expires_at": expires.isoformat()},
        )
    return Invite(token, f"/apply/{token}", company, email, expires)


def _invite_row(connection: Connection, token: str, now: datetime) -> Row[Any]:
    from sqlalchemy import select

    row = connection.execute(
        select(application_invites).where(application_invites.c.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise InviteError(
            "unknown",
            "This application link is not valid. Check that you copied the whole link, or ask "
            "your contact for a new one.",
        )
    if row.application_id is not None:
        raise InviteError(
            "used",
            "An application was already sent with this link; we will be in touch. If you "
            "need to change it, ask your contact for a new link.",
        )
    if row.expires_at <= now:
        raise InviteError(
            "expired",
            f"This application link expired on {row.expires_at:%Y-%m-%d}. Ask your contact "
            "for a new one.",
        )
    return row


def invite_for(workspace: Workspace, token: str, now: datetime | None = None) -> Invite:
    """The invitation of a link that can still take an application, else :class:`InviteError`
    saying why not (unknown, used, expired)."""
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).connect() as connection:
        row = _invite_row(connection, token, moment)
    return Invite(token, f"/apply/{token}", row.company, row.email, row.expires_at)


def apply(
    workspace: Workspace, token: str, raw: Mapping[str, Any], *, now: datetime | None = None
) -> Application:
    """The application sent with an invitation link: the link is used by it (one application
    per link), in the same transaction."""
    found = clean(raw)
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, application_invites)
        _invite_row(connection, token, moment)
        by = f"applicant {found['contact_email']}"
        application_id = _insert(connection, found, source=Source.FORM, by=by, now=moment)
        done = connection.execute(
            application_invites.update()
            .where(application_invites.c.token_hash == token_hash(token))
            .where(application_invites.c.application_id.is_(None))
            .values(application_id=application_id)
        )
        if done.rowcount != 1:
            raise InviteError("used", "An application was already sent with this link.")
        return _load(connection, application_id)


# ----------------------------------------------------------------------------- import


def read_rows(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    """(row number, the fields) of each row of a CSV or XLSX file, columns named by
    :data:`FIELDS` (or an alias: contact, email, type, industry, application_id)."""
    names = {key: [a for a, field in ALIASES.items() if field == key] for key, _, _ in FIELDS}
    names["external_id"] = [a for a, field in ALIASES.items() if field == "external_id"]
    sheet = read_sheet(
        path,
        names,
        required=("company",),
        layout=f"the columns are {', '.join(k for k, _, _ in FIELDS)} and optionally "
        "application_id",
    )
    if sheet.problems:
        raise ImportRefusedError(sheet.problems)
    return [(number, {k: v or None for k, v in cells.items()}) for number, cells in sheet.rows]


def import_file(
    workspace: Workspace, path: Path, *, by: str, now: datetime | None = None
) -> ImportResult:
    """Import a spreadsheet of applications: every row checked first (each bad one named with
    its file, row, column and reason: then nothing is stored), then all rows in one
    transaction. A row already imported (same application id column, else same company and
    email) is left as it is: importing the same file twice changes nothing."""
    from sqlalchemy import select

    rows = read_rows(path)
    checked: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowProblem] = []
    seen: dict[tuple[str, ...], int] = {}
    for number, raw in rows:
        found, wrong = _checked(raw)
        errors.extend(RowProblem(path.name, number, k, m) for k, m in wrong)
        if wrong:
            continue
        key = _identity(found)
        if key in seen:
            errors.append(
                RowProblem(
                    path.name,
                    number,
                    "external_id" if found.get("external_id") else "company",
                    f"the same application as row {seen[key]}; keep one of them",
                )
            )
            continue
        seen[key] = number
        checked.append((number, found))
    if errors:
        raise ImportRefusedError(errors)
    moment = now or now_utc(whole_seconds=True)
    added: list[int] = []
    unchanged = 0
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, applications)
        existing = {
            _identity({**_flat(r)}): r.application_id
            for r in connection.execute(select(applications))
        }
        existing_ids = {
            ("id", str(dict(r.details or {}).get("external_id"))): r.application_id
            for r in connection.execute(select(applications))
            if dict(r.details or {}).get("external_id")
        }
        for _, found in checked:
            key = _identity(found)
            if key in existing or key in existing_ids:
                unchanged += 1
                continue
            added.append(_insert(connection, found, source=Source.IMPORT, by=by, now=moment))
    return ImportResult(tuple(added), unchanged, path.name)


def _flat(row: Row[Any]) -> dict[str, Any]:
    values = dict(row._mapping)
    return {**values, **dict(values.get("details") or {})}


def _identity(found: Mapping[str, Any]) -> tuple[str, ...]:
    if found.get("external_id"):
        return ("id", str(found["external_id"]))
    return (
        "company",
        " ".join(str(found.get("company") or "").casefold().split()),
        str(found.get("contact_email") or "").casefold(),
    )


# ------------------------------------------------------------------------- assessment


def _settings(workspace: Workspace) -> QualificationSettings:
    return workspace.config.qualification


def _criterion_key(settings: QualificationSettings, criterion: str) -> str:
    key = criterion.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in settings.criteria:
        by_label = {c.label.lower(): k for k, c in settings.criteria.items()}
        if criterion.strip().lower() in by_label:
            return by_label[criterion.strip().lower()]
        raise ApplicationError(
            "criterion",
            f"no criterion {criterion!r}; the criteria are "
            f"{', '.join(settings.criteria)} ([qualification.criteria])"
            + did_you_mean(key, settings.criteria),
        )
    return key


def _require_open(found: Application, verb: str) -> None:
    if found.status is not Status.SUBMITTED:
        raise ApplicationError(
            "status",
            f"{found.ref} {found.where()}; only an application awaiting a decision can be {verb}",
        )


def _person(value: str, what: str, field: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ApplicationError(field, f"give {what}")
    if len(text) > MAX_NAME:
        raise ApplicationError(field, f"{what} has {len(text):,} characters; keep it to 200")
    return text


def set_owner(
    workspace: Workspace,
    application_id: int,
    owner: str,
    *,
    by: str,
    now: datetime | None = None,
) -> Application:
    """Make ``owner`` the staff member who owns the assessment (audited)."""
    name = _person(owner, "the owner's name (the staff member who owns the assessment)", "owner")
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, application_id, lock=True)
        _require_open(found, "given an owner")
        connection.execute(
            applications.update()
            .where(applications.c.application_id == application_id)
            .values(owner=name, updated_at=moment)
        )
        audit.record(
            connection,
            actor=by,
            action="application.owned",
            object_type=OBJECT_TYPE,
            object_id=application_id,
            detail={"owner": name, "was": found.owner},
        )
        return _load(connection, application_id)


def score(
    workspace: Workspace,
    application_id: int,
    criterion: str,
    value: float | int | str,
    evidence: str,
    *,
    by: str,
    now: datetime | None = None,
) -> Assessment:
    """Score one criterion (a whole number from 1 to ``[qualification] scale``) with its
    evidence, as ``by`` (audited); scoring it again replaces the score."""
    settings = _settings(workspace)
    key = _criterion_key(settings, criterion)
    label = settings.criteria[key].label
    try:
        number = float(str(value).strip())
    except ValueError:
        number = float("nan")
    if not (number == int(number) if number == number else False) or not (
        1 <= number <= settings.scale
    ):
        raise ApplicationError(
            "score",
            f"{value!r} for {label}: give a whole number from 1 to {settings.scale}",
        )
    told = " ".join(evidence.split())
    if not told:
        raise ApplicationError(
            "evidence",
            f"{label} needs its evidence: what the score rests on "
            f"({settings.criteria[key].asks or 'what was checked, by whom'})",
        )
    if len(told) > MAX_TEXT:
        raise ApplicationError("evidence", f"{len(told):,} characters; keep it to {MAX_TEXT:,}")
    scorer = _person(by, "who scores it", "by")
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, application_id, lock=True)
        _require_open(found, "scored")
        table = application_scores
        connection.execute(
            table.delete()
            .where(table.c.application_id == application_id)
            .where(table.c.criterion == key)
        )
        connection.execute(
            table.insert().values(
                application_id=application_id,
                criterion=key,
                score=number,
                evidence=told,
                scored_by=scorer,
                scored_at=moment,
            )
        )
        connection.execute(
            applications.update()
            .where(applications.c.application_id == application_id)
            .values(updated_at=moment)
        )
        audit.record(
            connection,
            actor=scorer,
            action="application.scored",
            object_type=OBJECT_TYPE,
            object_id=application_id,
            detail={"criterion": key, "score": number},
        )
    return assessment(workspace, application_id, suggest=False)


def weighted_score(settings: QualificationSettings, scores: Mapping[str, float]) -> float | None:
    """Σ weight × score / Σ weight over the criteria scored (None: none)."""
    scored = [(settings.criteria[k].weight, s) for k, s in scores.items() if k in settings.criteria]
    total = sum(w for w, _ in scored)
    return sum(w * s for w, s in scored) / total if total else None


def missing(
    settings: QualificationSettings, owner: str | None, scored: Iterable[str]
) -> tuple[str, ...]:
    """What stops an approval: no owner, each required criterion without a score and its
    evidence."""
    done = set(scored)
    gaps = [] if owner else ["no owner"]
    gaps += [
        f"{c.label} has no score with evidence"
        for k, c in settings.criteria.items()
        if c.required and k not in done
    ]
    return tuple(gaps)


def assessment(workspace: Workspace, application_id: int, *, suggest: bool = True) -> Assessment:
    """The application's assessment (``suggest``: with the market map's suggestion for
    market fit)."""
    from sqlalchemy import select

    settings = _settings(workspace)
    with appdb.connect(workspace).connect() as connection:
        found = _load(connection, application_id)
        rows = {
            r.criterion: r
            for r in connection.execute(
                select(application_scores).where(
                    application_scores.c.application_id == application_id
                )
            )
        }
    scores = tuple(
        Score(
            key,
            c.label,
            c.weight,
            c.required,
            c.asks,
            rows[key].score if key in rows else None,
            rows[key].evidence if key in rows else None,
            rows[key].scored_by if key in rows else None,
            rows[key].scored_at if key in rows else None,
        )
        for key, c in settings.criteria.items()
    )
    given = {s.criterion: s.score for s in scores if s.score is not None}
    return Assessment(
        found,
        scores,
        settings.scale,
        settings.threshold,
        weighted_score(settings, given),
        missing(settings, found.owner, given) if found.status is Status.SUBMITTED else (),
        market_suggestion(workspace, found) if suggest else None,
    )


def market_suggestion(workspace: Workspace, found: Application) -> str | None:
    """The market opportunity map's cell of the applicant's country and vertical, as proposed
    evidence for market fit ("Priority 2: ..."); None when the map has no such cell."""
    if not found.country and not found.vertical:
        return None
    from partnerscope.lifecycle.market import opportunity_map

    try:
        cell = opportunity_map(workspace).cell(found.country, found.vertical)
    except PartnerscopeError:
        return None
    if cell is None:
        return None
    return f"{cell.priority}: {cell.why}"


# --------------------------------------------------------------------------- decision


def known_tiers(workspace: Workspace) -> list[str]:
    """The program tiers the workspace knows: its partners' and its certification
    requirements'."""
    from partnerscope.warehouse import read_warehouse, warehouse_tables

    with workspace.warehouse(read_only=True) as warehouse:
        tables = set(warehouse_tables(warehouse.con))
    tiers: set[str] = set()
    for table in ("partners", "certification_requirements"):
        if table in tables:
            tiers |= {
                r[0]
                for r in read_warehouse(
                    workspace,
                    f"SELECT DISTINCT program_tier FROM {table} WHERE program_tier IS NOT NULL",
                )
                if r[0]
            }
    return sorted(tiers)


def _warehouse_partners(workspace: Workspace) -> dict[str, str | None]:
    """Every partner id of the warehouse → the file its row was loaded from."""
    from partnerscope.warehouse import read_warehouse, warehouse_tables

    with workspace.warehouse(read_only=True) as warehouse:
        if "partners" not in warehouse_tables(warehouse.con):
            return {}
    return dict(read_warehouse(workspace, "SELECT partner_id, _source_file FROM partners"))


def next_partner_id(workspace: Workspace, taken: Iterable[str] = ()) -> str:
    """The next free partner id: ``[qualification] partner_id_prefix`` and the number after
    the highest one in use (as wide as the widest: ``P0043`` after ``P0042``)."""
    from sqlalchemy import select

    prefix = _settings(workspace).partner_id_prefix
    ids = set(_warehouse_partners(workspace)) | set(taken)
    with appdb.connect(workspace).connect() as connection:
        ids |= {
            r[0] for r in connection.execute(select(applications.c.partner_id)) if r[0] is not None
        }
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    numbers = [m.group(1) for i in ids if (m := pattern.match(i))]
    width = max((len(n) for n in numbers), default=4)
    highest = max((int(n) for n in numbers), default=0)
    return f"{prefix}{highest + 1:0{width}d}"


def _tier(workspace: Workspace, tier: str) -> str:
    known = known_tiers(workspace)
    wanted = " ".join(tier.split())
    if not wanted:
        raise ApplicationError(
            "program_tier",
            "give the initial program tier" + (f" (one of {', '.join(known)})" if known else ""),
        )
    if not known:
        return wanted
    by_fold = {k.casefold(): k for k in known}
    if wanted.casefold() in by_fold:
        return by_fold[wanted.casefold()]
    raise ApplicationError(
        "program_tier",
        f"no program tier {wanted!r} in this workspace; the tiers are {', '.join(known)}"
        + did_you_mean(wanted, known),
    )


def approve(
    workspace: Workspace,
    application_id: int,
    *,
    by: str,
    program_tier: str,
    partner_id: str | None = None,
    partner_manager: str | None = None,
    now: datetime | None = None,
) -> Application:
    """Approve: the applicant becomes partner ``partner_id`` (default: the next free id) at
    ``program_tier`` and its onboarding starts on the decision day, all in one transaction with
    the audit entry. Refused (one message listing all of it) without an owner or while a
    required criterion has no score with evidence."""
    from sqlalchemy import select

    from partnerscope.lifecycle.onboarding import start_plan

    moment = now or now_utc(whole_seconds=True)
    found = get(workspace, application_id)
    _require_open(found, "approved")
    settings = _settings(workspace)
    with appdb.connect(workspace).connect() as connection:
        scored = [
            r[0]
            for r in connection.execute(
                select(application_scores.c.criterion).where(
                    application_scores.c.application_id == application_id
                )
            )
        ]
    gaps = missing(settings, found.owner, scored)
    if gaps:
        raise ApplicationError(
            "assessment",
            f"{found.ref} cannot be approved yet: {'; '.join(gaps)}. Set an owner "
            f"(`partnerscope applications own {application_id} --owner NAME`) and score each "
            f"required criterion with its evidence (`partnerscope applications score "
            f"{application_id} CRITERION SCORE --evidence TEXT`)",
        )
    tier = _tier(workspace, program_tier)
    in_warehouse = _warehouse_partners(workspace)
    if partner_id is not None and partner_id.strip():
        new_id = partner_id.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", new_id):
            raise ApplicationError(
                "partner_id", f"{new_id!r}: a partner id is letters, digits, '.', '-' and '_'"
            )
        if new_id in in_warehouse:
            raise ApplicationError(
                "partner_id",
                f"{new_id} is already a partner in the warehouse; give a new id or leave it "
                f"out for the next free one ({next_partner_id(workspace)})",
            )
    else:
        new_id = next_partner_id(workspace)
    manager = " ".join((partner_manager or "").split()) or settings.partner_manager or found.owner
    day = clock.today(workspace, moment)
    with appdb.connect(workspace).begin() as connection:
        current = _load(connection, application_id, lock=True)
        _require_open(current, "approved")
        taken = connection.execute(
            select(applications.c.application_id).where(applications.c.partner_id == new_id)
        ).first()
        if taken is not None:
            raise ApplicationError(
                "partner_id",
                f"{new_id} was given to application #{taken[0]}; give another id",
            )
        details = {**current.details, "partner_manager": manager}
        connection.execute(
            applications.update()
            .where(applications.c.application_id == application_id)
            .where(applications.c.status == Status.SUBMITTED.value)
            .values(
                status=Status.APPROVED.value,
                decided_at=moment,
                decided_by=by,
                program_tier=tier,
                partner_id=new_id,
                details=details,
                updated_at=moment,
            )
        )
        audit.record(
            connection,
            actor=by,
            action="application.approved",
            object_type=OBJECT_TYPE,
            object_id=application_id,
            detail={
                "company": current.company,
                "partner_id": new_id,
                "program_tier": tier,
                "partner_manager": manager,
            },
        )
        start_plan(
            workspace,
            new_id,
            started_on=day,
            by=by,
            application_id=application_id,
            connection=connection,
        )
        return _load(connection, application_id)


def reject(
    workspace: Workspace,
    application_id: int,
    *,
    by: str,
    reason: str,
    now: datetime | None = None,
) -> Application:
    """Reject with the reason (audited)."""
    told = " ".join(reason.split())
    if not told:
        raise ApplicationError(
            "reason", "give the reason for the rejection (it is kept with the decision)"
        )
    if len(told) > MAX_TEXT:
        raise ApplicationError("reason", f"{len(told):,} characters; keep it to {MAX_TEXT:,}")
    moment = now or now_utc(whole_seconds=True)
    with appdb.connect(workspace).begin() as connection:
        found = _load(connection, application_id, lock=True)
        _require_open(found, "rejected")
        connection.execute(
            applications.update()
            .where(applications.c.application_id == application_id)
            .values(
                status=Status.REJECTED.value,
                decided_at=moment,
                decided_by=by,
                reason=told,
                updated_at=moment,
            )
        )
        audit.record(
            connection,
            actor=by,
            action="application.rejected",
            object_type=OBJECT_TYPE,
            object_id=application_id,
            detail={"company": found.company, "reason": told},
        )
        return _load(connection, application_id)


# ---------------------------------------------------------------------------- partners


def joined_rows(workspace: Workspace, posted_file: str | None = None) -> list[dict[str, str]]:
    """The approved applicants as ``partners`` rows, but for a partner id the warehouse has
    from another file (the CRM caught up: its row is the partner)."""
    from partnerscope.ingest.facts import cell

    approved = [a for a in listing(workspace, Status.APPROVED) if a.partner_id]
    if not approved:
        return []
    others = {pid for pid, file in _warehouse_partners(workspace).items() if file != posted_file}
    rows = []
    for found in sorted(approved, key=lambda a: a.partner_id or ""):
        if found.partner_id in others:
            continue
        decided = found.decided_at or found.updated_at
        rows.append(
            {
                "partner_id": found.partner_id or "",
                "name": found.company,
                "partner_type": found.partner_type or "other",
                "region": found.region or "",
                "country": found.country or "",
                "program_tier": found.program_tier or "",
                "partner_manager": str(found.details.get("partner_manager") or found.owner or ""),
                "joined_at": clock.local_date(
                    decided, workspace.config.workspace.timezone
                ).isoformat(),
                "status": "active",
                "updated_at": cell(decided),
            }
        )
    return rows


def joined_partners(workspace: Workspace) -> Facts | None:
    """The approved applicants as rows of the canonical ``partners`` table (posted by
    :func:`partnerscope.pipeline.post`), in ``state/applications/joined-partners.csv``: a
    complete file. None while no application was ever approved."""
    from partnerscope.cells import csv_text
    from partnerscope.ingest.facts import Facts, folder, plural
    from partnerscope.ingest.ledger import display_path

    path = folder(workspace, "applications") / "joined-partners.csv"
    if not path.is_file() and not listing(workspace, Status.APPROVED):
        return None
    rows = joined_rows(workspace, display_path(path, workspace.root))
    return Facts(
        SOURCE,
        "partners",
        path,
        COLUMNS,
        csv_text(COLUMNS, rows),
        plural(len(rows), "partner") + " joined by application",
        len(rows),
        complete=True,
    )


def decision_day(workspace: Workspace, found: Application) -> date | None:
    """The day the application was decided, in the workspace's time zone."""
    if found.decided_at is None:
        return None
    return clock.local_date(found.decided_at, workspace.config.workspace.timezone)
