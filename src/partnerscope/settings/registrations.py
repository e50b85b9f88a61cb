"""``[registration]`` in ``partnerscope.toml``: the protection window, its warnings and how
conflicts are matched."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: name similarity from which two accounts are taken for the same (tests/test_matcher_holdout.py
#: measures it on a held-out set)
DEFAULT_THRESHOLD = 0.85


class RegistrationSettings(BaseModel):
    """``[registration]``: deal registration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: days an approved registration is protected, from the approval date
    protection_days: Annotated[int, Field(ge=1, le=3650)] = 90
    #: days before the end of its protection from which a registration is warned about
    warning_days: Annotated[int, Field(ge=0)] = 14
    #: name similarity (0–1) from which two accounts are taken for the same
    similarity_threshold: Annotated[float, Field(gt=0, le=1)] = DEFAULT_THRESHOLD
    #: legal forms to remove from account names on top of the built-in ones (``"Kft."``)
    legal_forms: list[str] = Field(default_factory=list)
    #: also check registrations against open direct opportunities of the warehouse
    check_direct_opportunities: bool = True

    @field_validator("legal_forms")
    @classmethod
    def _words(cls, forms: list[str]) -> list[str]:
        for form in forms:
            if not any(c.isalnum() for c in form):
                raise ValueError(
                    f'{form!r} has no letters or digits; write a legal form like "Kft."'
                )
        return forms

    @model_validator(mode="after")
    def _warning_inside_window(self) -> RegistrationSettings:
        if self.warning_days >= self.protection_days:
            raise ValueError(
                f"warning_days ({self.warning_days}) must be less than protection_days "
                f"({self.protection_days}): a registration is warned about before its "
                "protection ends"
            )
        return self
