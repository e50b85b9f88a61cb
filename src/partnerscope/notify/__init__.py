"""Telling people: the delivery side of the outbox (``partnerscope.outbox``).

- ``events``: notifications for what a run found (new alerts, fired decision signals) and for
  what time brings (reviews due, registrations expiring, SLA breaches, overdue onboarding);
- ``dispatch``: each notification fanned out to its recipients and channels, by their
  preferences, a partner's users only for what concerns their partner;
- ``worker``: deliveries sent with retries, backoff, leases and dead letters; ``email`` (SMTP)
  and ``webhook`` (signed HTTP) are the channels, the in-app centre is the ``inbox``;
- ``digest``, ``preferences``, ``unsubscribe``, ``live`` (server-sent events);
- ``schedules`` (report distribution), ``attachments`` (the reports they attach), ``scheduler``
  (the tick that runs everything due, in ``partnerscope serve`` or from cron);
- ``escalations`` and ``rules`` (conditions over a run's results that act), ``tasks``.
"""
