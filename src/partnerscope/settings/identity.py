"""``[identity]`` in ``partnerscope.toml``: what users add to the account-matching engine's
built-in tables, and its thresholds (docs/account-identity.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from partnerscope.identity import Rules
from partnerscope.identity.domains import DomainError, normalize_domain
from partnerscope.identity.engine import REVIEW_FROM, SAME_FROM


class IdentitySettings(BaseModel):
    """``[identity]``: one account identity for registrations, channel conflict and leads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: score (0–1) from which two accounts are the same customer
    same_from: Annotated[float, Field(gt=0, le=1)] = SAME_FROM
    #: score (0–1) from which a person decides (the review queue); below it, different
    review_from: Annotated[float, Field(gt=0, le=1)] = REVIEW_FROM
    #: legal forms to remove from names on top of the built-in ones (``"Perseroan Terbatas"``)
    legal_forms: list[str] = Field(default_factory=list)
    #: abbreviations and the words they stand for (``Hsg = "Housing"``)
    abbreviations: dict[str, str] = Field(default_factory=dict)
    #: a company's former name → its current name (``"Statoil" = "Equinor"``), on top of the
    #: built-in table
    renames: dict[str, str] = Field(default_factory=dict)
    #: mail providers' domains on top of the built-in list (``"mail.example.net"``)
    mail_domains: list[str] = Field(default_factory=list)
    #: domains the built-in list takes for a mail provider's but that are a company's own
    not_mail_domains: list[str] = Field(default_factory=list)

    @field_validator("legal_forms")
    @classmethod
    def _forms(cls, forms: list[str]) -> list[str]:
        for form in forms:
            if not any(c.isalnum() for c in form):
                raise ValueError(f'{form!r} has no letters or digits; write a legal form like "PT"')
        return forms

    @field_validator("abbreviations", "renames")
    @classmethod
    def _pairs(cls, pairs: dict[str, str]) -> dict[str, str]:
        for short, long in pairs.items():
            if not short.strip() or not long.strip():
                raise ValueError(
                    f'{short!r} = {long!r}: both sides need words, like "Statoil" = "Equinor"'
                )
        return pairs

    @field_validator("mail_domains", "not_mail_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        out = []
        for domain in domains:
            try:
                found = normalize_domain(domain)
            except DomainError as exc:
                raise ValueError(str(exc)) from None
            if found:
                out.append(found)
        return out

    @model_validator(mode="after")
    def _review_below_same(self) -> IdentitySettings:
        if self.review_from > self.same_from:
            raise ValueError(
                f"review_from ({self.review_from}) must be at most same_from ({self.same_from}): "
                "a person decides the pairs scored between them"
            )
        return self

    def rules(self) -> Rules:
        return Rules(
            same_from=self.same_from,
            review_from=self.review_from,
            legal_forms=tuple(self.legal_forms),
            abbreviations=tuple(
                (k.casefold(), v.casefold()) for k, v in self.abbreviations.items()
            ),
            renames=tuple(self.renames.items()),
            mail_domains=tuple(self.mail_domains),
            not_mail_domains=tuple(self.not_mail_domains),
        )
