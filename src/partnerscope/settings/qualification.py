"""The ``[qualification]`` section of ``partnerscope.toml``: how an application is assessed (the
criteria, their weights and the evidence each needs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualificationSettings(_Strict):
    pass
