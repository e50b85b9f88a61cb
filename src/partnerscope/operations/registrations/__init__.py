"""Deal registration: a partner registers an opportunity; conflicts with other partners'
registrations and the vendor's direct opportunities are found by normalized account name and
domain; the first valid registration is protected for a window, then won or expired; the
registered deals become opportunities for the metrics. See docs/registrations.md."""

from partnerscope.operations.registrations.model import (
    Conflict,
    ConflictKind,
    Expiring,
    Registration,
    RegistrationDetail,
    RegistrationError,
    RegistrationNotFoundError,
    RegistrationRefusedError,
    RegistrationStatus,
    SweepResult,
)
from partnerscope.operations.registrations.rows import canonical_rows
from partnerscope.operations.registrations.service import (
    approve,
    detail,
    mark_won,
    registrations,
    reject,
    submit,
    sweep,
)

__all__ = [
    "Conflict",
    "ConflictKind",
    "Expiring",
    "Registration",
    "RegistrationDetail",
    "RegistrationError",
    "RegistrationNotFoundError",
    "RegistrationRefusedError",
    "RegistrationStatus",
    "SweepResult",
    "approve",
    "canonical_rows",
    "detail",
    "mark_won",
    "registrations",
    "reject",
    "submit",
    "sweep",
]
