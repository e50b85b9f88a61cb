"""The ``[business_plans]`` section of ``partnerscope.toml``: joint business plans (the measures a
milestone may track and when a milestone counts as at risk)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessPlansSettings(_Strict):
    pass
