"""The ``[enablement]`` section of ``partnerscope.toml``: certification paths and levels, their
prerequisites and validity, and what each program tier requires."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnablementSettings(_Strict):
    pass
