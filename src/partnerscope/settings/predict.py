"""The ``[predict]`` section of ``partnerscope.toml``: forecasts, partner risk and deal scoring.

Every prediction comes with the measured accuracy of its method on the workspace's own history
(a rolling-origin backtest), and falls back to a baseline (a trailing mean, the base rate) where
the method shows no measured skill.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Probability = Annotated[float, Field(gt=0, lt=1)]


class PredictSettings(_Strict):
    #: Compute forecasts, risk and deal scores with every run (and store them in the run).
    enabled: bool = True
    #: Seed of every random choice (the models' bagging, the calibration folds): the same data
    #: and seed give the same predictions.
    seed: int = 0
    #: How many periods ahead the forecasts look, per grain.
    horizon_quarters: Annotated[int, Field(ge=1, le=8)] = 4
    horizon_months: Annotated[int, Field(ge=1, le=24)] = 6
    #: Complete periods a series needs before it is forecast (fewer: "too little history").
    min_history_quarters: Annotated[int, Field(ge=3)] = 6
    min_history_months: Annotated[int, Field(ge=6)] = 12
    #: Rolling origins of every backtest (each one cutoff, predicting the periods after it).
    backtest_origins: Annotated[int, Field(ge=1, le=24)] = 4
    #: A method must beat the better baseline's backtest error by this share to be chosen over
    #: it (0.02: 2 % lower MASE); otherwise the baseline is the forecast.
    skill_margin: Annotated[float, Field(ge=0, lt=1)] = 0.02
    #: Partner risk: the partner falls below this share of its quota (or of its own trailing
    #: level without one) over the next ``risk_quarters`` quarters, or stops selling.
    risk_share: Probability = 0.5
    risk_quarters: Annotated[int, Field(ge=1, le=4)] = 2
    #: A risk alert when the probability reaches ``high_risk``, or rose by ``rising_risk``
    #: since the previous run's.
    high_risk: Probability = 0.6
    rising_risk: Probability = 0.2
    #: How many factors each score is explained by.
    factors: Annotated[int, Field(ge=1, le=10)] = 3

    @model_validator(mode="after")
    def _rising_below_high(self) -> PredictSettings:
        if self.rising_risk >= self.high_risk:
            raise ValueError("predict.rising_risk must be below predict.high_risk")
        return self
