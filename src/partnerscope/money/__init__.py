"""Money: incentive payouts as an explained, lockable ledger, and market development funds
(budgets, the request → approval → claim → payment workflow, returns, reallocation).

Amounts are :class:`decimal.Decimal` in the workspace's base currency, rounded to the cent half
away from zero (:func:`partnerscope.amounts.cents`).
"""
