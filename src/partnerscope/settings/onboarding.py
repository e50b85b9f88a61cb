"""The ``[onboarding]`` section of ``partnerscope.toml``: the onboarding template (phases and
tasks with owners, due weeks, prerequisites and the outcomes that close them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnboardingSettings(_Strict):
    pass
