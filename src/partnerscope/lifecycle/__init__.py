"""The partner lifecycle before and beside the revenue (docs/lifecycle.md).

- :mod:`~partnerscope.lifecycle.market`: the market opportunity map (where to recruit);
- :mod:`~partnerscope.lifecycle.applications`: invitations, applications and their weighted
  qualification; an approved applicant becomes a partner and starts onboarding;
- :mod:`~partnerscope.lifecycle.onboarding`: the four-phase onboarding plan of each new partner
  and the onboarding measures (time to first deal, cohorts on schedule, ramp curves);
- :mod:`~partnerscope.lifecycle.enablement`: certification paths, each partner's gaps against
  its tier and the next one, expiry warnings;
- :mod:`~partnerscope.lifecycle.business_plans`: joint business plans and their quarterly
  milestones, tracked against every run's actuals.

Each keeps its state in the transactional store (``partnerscope.appdb``) and reads the
warehouse and the runs; every change writes its audit entry in the same transaction.
"""
