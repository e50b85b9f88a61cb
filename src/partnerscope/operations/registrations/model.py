"""What a deal registration is: its states, the registration as stored, its conflicts, and the
errors its workflow raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from partnerscope.amounts import money
from partnerscope.errors import PartnerscopeError
from partnerscope.operations.registrations.matching import MatchedOn

#: opportunity ids of registrations once they are rows of ``opportunities``
OPPORTUNITY_PREFIX = "REG-"


class RegistrationStatus(StrEnum):
    """Where a registration stands: submitted → protected (approved) or rejected; a protected
    registration is won or, once its window has passed, expired."""

    SUBMITTED = "submitted"
    PROTECTED = "protected"
    REJECTED = "rejected"
    WON = "won"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        """Whether it still holds the account against later registrations."""
        return self in (RegistrationStatus.SUBMITTED, RegistrationStatus.PROTECTED)


class ConflictKind(StrEnum):
    """What a registration conflicts with."""

    REGISTRATION = "registration"
    OPPORTUNITY = "opportunity"


class RegistrationError(PartnerscopeError, ValueError):
    """A registration that cannot be submitted, found or moved on as asked."""


class RegistrationRefusedError(RegistrationError):
    """A workflow step refused by one of its checks; ``check`` names the check
    (``first_registration``, ``direct_opportunity``, ``window``, ``state``, ...), the message
    says why and how to go on. A refusal that names other partners' registrations lists those
    partners in ``names`` and says the same without them in ``redacted``, which is what a
    viewer who may not see one of them is told."""

    def __init__(
        self,
        check: str,
        message: str,
        *,
        names: frozenset[str] = frozenset(),
        redacted: str | None = None,
    ) -> None:
        self.check = check
        self.names = names
        self.redacted = redacted
        super().__init__(message)

    def told(self, sees: Callable[[str], bool]) -> str:
        if all(sees(pid) for pid in self.names):
            return str(self)
        return self.redacted or "this conflicts with another partner's registration"


class RegistrationNotFoundError(PartnerscopeError, LookupError):
    """No registration with that id."""


@dataclass(frozen=True)
class Registration:
    registration_id: int
    partner_id: str
    account_name: str
    account_key: str
    domain: str | None
    country: str | None
    amount: Decimal
    expected_close: date
    products: tuple[str, ...]
    status: RegistrationStatus
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    protected_until: date | None
    closed_by: str | None
    closed_at: datetime | None
    crm_opportunity_id: str | None

    @classmethod
    def from_row(cls, row: Any) -> Registration:
        data = dict(row._mapping)
        data["amount"] = Decimal(data["amount"])
        data["products"] = tuple(data["products"])
        data["status"] = RegistrationStatus(data["status"])
        return cls(**data)

    @property
    def ref(self) -> str:
        return f"registration #{self.registration_id}"

    @property
    def opportunity_id(self) -> str:
        """Its id as a row of the canonical ``opportunities`` table."""
        return f"{OPPORTUNITY_PREFIX}{self.registration_id}"

    def where(self, *, named: bool = True) -> str:
        """Where the registration stands, in words; ``named``: with who decided it (staff
        see that; a partner and every refusal message are not told)."""
        by = f" by {self.decided_by}" if named else ""
        match self.status:
            case RegistrationStatus.SUBMITTED:
                return f"is awaiting approval (submitted {self.submitted_at:%Y-%m-%d})"
            case RegistrationStatus.PROTECTED:
                return (
                    f"was approved{by} on {self.decided_at:%Y-%m-%d} and is "
                    f"protected until {self.protected_until}"
                )
            case RegistrationStatus.REJECTED:
                return f"was rejected{by} on {self.decided_at:%Y-%m-%d} ({self.reason})"
            case RegistrationStatus.WON:
                return f"was won ({money(self.amount)}) on {self.closed_at:%Y-%m-%d}"
            case RegistrationStatus.EXPIRED:
                return (
                    f"expired on {self.closed_at:%Y-%m-%d} (protected until {self.protected_until})"
                )


@dataclass(frozen=True)
class Conflict:
    """Another partner's registration or a direct opportunity naming the same account."""

    kind: ConflictKind
    other_id: str
    other_partner_id: str | None
    other_name: str
    matched_on: MatchedOn
    score: float

    @classmethod
    def from_row(cls, row: Any) -> Conflict:
        data = dict(row._mapping)
        data.pop("registration_id", None)
        data["kind"] = ConflictKind(data["kind"])
        data["matched_on"] = MatchedOn(data["matched_on"])
        return cls(**data)

    def describe(self) -> str:
        """The conflict in words."""
        why = "same domain" if self.matched_on is MatchedOn.DOMAIN else f"name {self.score:.0%}"
        match self.kind:
            case ConflictKind.REGISTRATION if self.other_partner_id is None:
                return f"an earlier registration of another partner ({why})"
            case ConflictKind.REGISTRATION:
                return (
                    f"registration #{self.other_id} of {self.other_partner_id} for "
                    f"{self.other_name!r} ({why})"
                )
            case ConflictKind.OPPORTUNITY if not self.other_id:
                return f"an opportunity of the vendor's own sales team ({why})"
            case ConflictKind.OPPORTUNITY:
                return f"direct opportunity {self.other_id} for {self.other_name!r} ({why})"

    def redacted(self) -> Conflict:
        """The conflict as a partner user is shown it: without whose it is."""
        return replace(self, other_id="", other_partner_id=None, other_name="")


@dataclass(frozen=True)
class RegistrationDetail:
    """A registration with what it conflicts with: the conflicts found when it was submitted
    (``conflicts``) and the later registrations that found it (``later``)."""

    registration: Registration
    conflicts: tuple[Conflict, ...]
    later: tuple[Registration, ...]


@dataclass(frozen=True)
class Expiring:
    """A protected registration whose window ends within the warning days."""

    registration: Registration
    days_left: int


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: the registrations it expired, and those to warn about."""

    expired: tuple[Registration, ...]
    expiring: tuple[Expiring, ...]
