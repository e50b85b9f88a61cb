"""The ``[qualification]`` section of ``partnerscope.toml``: how an application is assessed (the
criteria, their weights and the evidence each needs).

The defaults are the framework's assessment: capability (technical, sales, service), market
fit, cultural fit, financial stability and references, each scored 1–5 with evidence. A
criterion is declared as a table::

    [qualification.criteria.market_fit]
    label = "Market fit"
    weight = 15
    required = true
    asks = "the territory and vertical against the market opportunity map"
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: a criterion's key: what the CLI's --criterion and an import's column name it by
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Criterion(_Strict):
    """One criterion of the assessment."""

    #: its name on pages and in messages
    label: Annotated[str, Field(min_length=1, max_length=80)]
    #: its weight in the weighted score (relative: the weights need not add up to 100)
    weight: Annotated[float, Field(gt=0, le=1000)]
    #: an application cannot be approved before this criterion is scored with evidence
    required: bool = True
    #: what the evidence should show, as a hint to the person scoring
    asks: Annotated[str, Field(max_length=300)] = ""


def _default_criteria() -> dict[str, Criterion]:
    return {
        "technical_capability": Criterion(
            label="Technical capability",
            weight=20,
            asks="certified people, implementations done, the products they support",
        ),
        "sales_capability": Criterion(
            label="Sales capability",
            weight=20,
            asks="sales team, pipeline of comparable deals, customers in the segment",
        ),
        "service_capability": Criterion(
            label="Service capability",
            weight=10,
            required=False,
            asks="support desk, service levels, delivery capacity",
        ),
        "market_fit": Criterion(
            label="Market fit",
            weight=15,
            asks="the territory and vertical against the market opportunity map",
        ),
        "cultural_fit": Criterion(
            label="Cultural fit",
            weight=10,
            required=False,
            asks="shared values, commitment to the program, executive sponsor",
        ),
        "financial_stability": Criterion(
            label="Financial stability",
            weight=15,
            asks="revenue, profitability, credit check",
        ),
        "references": Criterion(
            label="References",
            weight=10,
            asks="customers or vendors who vouch for them, checked by a call",
        ),
    }


class QualificationSettings(_Strict):
    """``[qualification]``: the assessment of an application to join the program."""

    #: the criteria, by key (``[qualification.criteria.<key>]``); the default is the
    #: framework's seven
    criteria: dict[str, Criterion] = Field(default_factory=_default_criteria)
    #: the best score of the scale: each criterion is scored in whole numbers from 1 to it
    scale: Annotated[int, Field(ge=2, le=10)] = 5
    #: the weighted score (on the scale) from which an application is recommended for approval
    threshold: Annotated[float, Field(ge=1, le=10)] = 3.5
    #: how a partner id given to an approved applicant begins: the next free one is the prefix
    #: and the next number (``P0043`` after ``P0042``)
    partner_id_prefix: Annotated[str, Field(min_length=1, max_length=16)] = "P"
    #: the partner manager of a new partner when the decision names none ("" = the
    #: application's owner)
    partner_manager: Annotated[str, Field(max_length=200)] = ""
    #: days an invitation link stays valid
    invite_days: Annotated[int, Field(ge=1, le=365)] = 30

    @field_validator("criteria")
    @classmethod
    def _keys(cls, criteria: dict[str, Criterion]) -> dict[str, Criterion]:
        if not criteria:
            raise ValueError(
                "give at least one criterion, e.g. [qualification.criteria.market_fit] "
                'with label = "Market fit" and weight = 15'
            )
        for key in criteria:
            if not KEY.match(key):
                raise ValueError(
                    f"criterion {key!r}: a key is lower-case letters, digits and _ "
                    '(e.g. "market_fit")'
                )
        return criteria

    @field_validator("partner_id_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", prefix):
            raise ValueError(
                f'{prefix!r}: a partner id prefix is letters, digits, - and _ (e.g. "P")'
            )
        return prefix

    @model_validator(mode="after")
    def _threshold_on_scale(self) -> QualificationSettings:
        if self.threshold > self.scale:
            raise ValueError(
                f"threshold ({self.threshold:g}) is above the best score of the scale "
                f"({self.scale}); lower it to {self.scale} or less"
            )
        return self
