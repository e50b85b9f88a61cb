"""The ``[notifications]`` section of ``partnerscope.toml``: how notifications are delivered
(the mail server, webhooks, retries, digests). What is sent is decided by the events, by
``[[schedules]]``, ``[escalation]`` and ``[[rules]]``, and by each user's preferences
(docs/notifications.md).

Secrets are never written in the file: ``password_env`` and a webhook's ``secret_env`` name the
environment variables that hold them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Strict):
    """``[notifications.smtp]``: the mail server. No ``host``: no email is sent (in-app only)."""

    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    #: "starttls" (port 587), "ssl" (port 465) or "none" (a relay on the same host only)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    #: the environment variable holding the password
    password_env: str = "PARTNERSCOPE_SMTP_PASSWORD"
    #: the sender, e.g. "Channel team <channel@example.com>"
    from_address: str = "partnerscope <partnerscope@localhost>"
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0


class WebhookSettings(_Strict):
    """``[[notifications.webhooks]]``: an HTTP endpoint told of staff notifications."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    url: Annotated[str, Field(pattern=r"^https?://")]
    #: the environment variable holding the HMAC-SHA256 secret (unset: unsigned)
    secret_env: str | None = None
    #: "json" (partnerscope's own), or a payload Slack or Microsoft Teams incoming webhooks take
    format: Literal["json", "slack", "teams"] = "json"
    #: the kinds it takes (empty: every kind)
    kinds: tuple[str, ...] = ()


class NotificationSettings(_Strict):
    #: off: events are still recorded in the outbox, nothing is delivered
    enabled: bool = True
    #: the web app's address as people reach it, for the links in emails and webhooks
    base_url: Annotated[str, Field(pattern=r"^https?://")] = "http://127.0.0.1:8000"
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    webhooks: tuple[WebhookSettings, ...] = ()
    #: attempts before a delivery goes to the dead letters
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    #: the wait after the first failure; it doubles after each (up to ``max_backoff_seconds``)
    backoff_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_backoff_seconds: Annotated[float, Field(gt=0)] = 6 * 3600.0
    #: a delivery being sent is someone's for this long; a worker killed meanwhile leaves it
    #: to be sent again after it (with the same idempotency key)
    lease_seconds: Annotated[float, Field(gt=0)] = 120.0
    #: a webhook receiver refuses a signature older than this
    replay_window_seconds: Annotated[int, Field(gt=0)] = 300
    #: when the daily digest goes out (workspace time zone) and the day of the weekly one
    daily_digest_at: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    weekly_digest_on: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
