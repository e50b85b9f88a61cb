"""The ``[market]`` section of ``partnerscope.toml``: the market opportunity map (its grid of
priorities and the thresholds behind it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarketSettings(_Strict):
    pass
