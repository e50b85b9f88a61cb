"""Predictions: revenue forecasts, partner risk and deal win probability, each with its backtest.

Every method is measured on the workspace's own history by a rolling-origin backtest (each
origin a cutoff: the model sees only what was known then and predicts the periods after it), and
every view says plainly when a prediction has no measured skill, falling back to the baseline
(a trailing mean, seasonal naive, the base rate).

- :mod:`~partnerscope.predict.panel`: the series and point-in-time tables the models read,
  from a run's results (complete periods only) and the opportunities.
- :mod:`~partnerscope.predict.skill`: the measures of a backtest (MASE, sMAPE, interval
  coverage, ROC AUC, Brier score, reliability by decile).
- :mod:`~partnerscope.predict.forecast`: won-revenue forecasts per partner, group and portfolio.
- :mod:`~partnerscope.predict.risk`: the probability that a partner falls short in the next
  quarters, with its top factors.
- :mod:`~partnerscope.predict.deals`: each open opportunity's win probability, with its top
  factors, and the expected value of the open pipeline; built from
  :mod:`~partnerscope.predict.deal_data` (the opportunities as arrays and their point-in-time
  features), :mod:`~partnerscope.predict.deal_cases` (the training cases),
  :mod:`~partnerscope.predict.deal_model` (the boosted stumps and their calibration) and
  :mod:`~partnerscope.predict.deal_factors` (the factors in words).
"""
