"""Signed webhooks: a notification POSTed as JSON to an HTTP endpoint (partnerscope's own
payload, or one Slack or Microsoft Teams incoming webhooks take).

Each request carries:

- ``X-Partnerscope-Timestamp``: when it was signed, in whole seconds since 1970 (UTC);
- ``X-Partnerscope-Signature``: ``sha256=`` and the hex HMAC-SHA256, under the webhook's
  secret, of ``f"{timestamp}.{body}"`` (the body's exact bytes);
- ``Idempotency-Key``: the same for every attempt of one delivery (a retry, or a worker killed
  between the receiver's answer and the outbox's record, sends it again with the same key).

A receiver checks a request with :func:`verify` (or the same few lines in its own language):
the signature must match and the timestamp be within the replay window, so a request captured
on the way cannot be played again later.

The answer decides what happens next: 2xx delivered; 408, 429, 5xx, a timeout or a lost
connection tried again after the backoff; any other 4xx is permanent (the dead letters).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from partnerscope import __version__
from partnerscope.notify.email import SendError

if TYPE_CHECKING:
    from partnerscope.settings.notifications import WebhookSettings

__all__ = ["WebhookError", "body_of", "post", "sign", "verify"]

SIGNATURE = "X-Partnerscope-Signature"
TIMESTAMP = "X-Partnerscope-Timestamp"
IDEMPOTENCY = "Idempotency-Key"
#: answers worth trying again besides 5xx: request timeout, too many requests
TEMPORARY = frozenset({408, 429})


class WebhookError(SendError):
    """The endpoint refused, timed out or could not be reached."""


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of f"{timestamp}.{body}">``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str | bytes,
    timestamp: int | str,
    body: bytes,
    signature: str,
    now: float | None = None,
    window: float = 300,
) -> bool:
    """True when ``signature`` is the HMAC of ``body`` at ``timestamp`` under ``secret`` and
    ``timestamp`` is within ``window`` seconds of ``now`` (default: the clock), either side.
    Compares in constant time."""
    try:
        stamp = int(str(timestamp))
    except ValueError:
        return False
    moment = time.time() if now is None else now
    if abs(moment - stamp) > window:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), str(signature))


def headers_for(
    hook: WebhookSettings, body: bytes, key: str, now: float | None = None
) -> dict[str, str]:
    """The request's headers; signed when the webhook has a secret."""
    stamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"partnerscope/{__version__}",
        IDEMPOTENCY: key,
        TIMESTAMP: str(stamp),
    }
    if hook.secret_env:
        secret = os.environ.get(hook.secret_env)
        if not secret:
            raise WebhookError(
                f"webhook {hook.name!r}: the environment variable {hook.secret_env} holding its "
                "secret is not set (set it, or remove secret_env to send unsigned)",
                permanent=False,
            )
        headers[SIGNATURE] = sign(secret, stamp, body)
    return headers


def post(hook: WebhookSettings, body: bytes, key: str, *, timeout: float = 30.0) -> int:
    """POST ``body`` to ``hook``; its status (2xx), else a :class:`WebhookError`."""
    request = urllib.request.Request(
        hook.url, data=body, headers=headers_for(hook, body, key), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        exc.close()
        permanent = 400 <= status < 500 and status not in TEMPORARY
        raise WebhookError(
            f"webhook {hook.name!r} ({hook.url}) answered {status} {exc.reason}",
            permanent=permanent,
        ) from None
    except TimeoutError:
        raise WebhookError(
            f"webhook {hook.name!r} ({hook.url}) did not answer within {timeout:g} seconds",
            permanent=False,
        ) from None
    except urllib.error.URLError as exc:
        raise WebhookError(
            f"could not reach webhook {hook.name!r} ({hook.url}): {exc.reason}",
            permanent=False,
        ) from None
    except OSError as exc:
        raise WebhookError(
            f"could not reach webhook {hook.name!r} ({hook.url}): {exc}", permanent=False
        ) from None
