"""Unsubscribe links that work without signing in (owner: people).

A link carries a token naming a user and a kind of notification ("*": every kind), signed with
HMAC-SHA256 under a secret of the workspace (``state/unsubscribe.key``, made once, readable by
its owner only). Whoever holds the link may turn that kind off for that user, nothing else; a
token altered in any way does not verify (checked in constant time). Following the link shows a
button: only the form it posts unsubscribes, so a mail scanner that opens every link changes
nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError
from partnerscope.outbox import KINDS

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

KEY_FILE = "unsubscribe.key"


class UnsubscribeError(PartnerscopeError, ValueError):
    """A link that is not one of ours (altered, cut short, or for a user that is gone)."""


@dataclass(frozen=True)
class Request:
    """What a verified token asks: ``kind`` ("*": every kind) off for ``user_id``."""

    user_id: int
    kind: str

    @property
    def label(self) -> str:
        """The kind as people read it ("every notification" for "*")."""
        return "every notification" if self.kind == "*" else KINDS[self.kind].label.lower()


def _secret(workspace: Workspace) -> bytes:
    """The workspace's signing secret, made the first time it is needed (by whichever process
    comes first: the file is created exclusively, so two processes never hold two secrets)."""
    path: Path = workspace.state_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def _read_when_written(path: Path) -> bytes:
    """Another process made the file a moment ago: wait until its 64 hex digits are there."""
    import time

    for _ in range(200):
        text = path.read_text(encoding="ascii").strip()
        if len(text) == 64:
            return bytes.fromhex(text)
        time.sleep(0.01)
    raise UnsubscribeError(f"{path} does not hold an unsubscribe key; delete it to make a new one")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"unsubscribe\x00" + payload, hashlib.sha256).digest()


def token(workspace: Workspace, user_id: int, kind: str) -> str:
    """The signed token for turning ``kind`` ("*": all) off for ``user_id``."""
    if kind != "*" and kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {', '.join(KINDS)}")
    payload = f"{int(user_id)}:{kind}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_sign(_secret(workspace), payload))}"


def link(workspace: Workspace, user_id: int, kind: str) -> str:
    """The absolute address (under ``[notifications] base_url``) of the page that turns
    ``kind`` ("*": every kind) off for ``user_id``, without signing in."""
    base = workspace.config.notifications.base_url.rstrip("/")
    return f"{base}/unsubscribe/{token(workspace, user_id, kind)}"


def verify(workspace: Workspace, value: str) -> Request:
    """What a token asks, if it is one of ours; :class:`UnsubscribeError` otherwise."""
    bad = UnsubscribeError(
        "this unsubscribe link is not valid (it may have been cut short or altered); "
        "copy the whole link from the email, or sign in and change your notification settings"
    )
    head, dot, tail = value.partition(".")
    if not dot or len(value) > 300:
        raise bad
    try:
        payload, signature = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise bad from None
    if not hmac.compare_digest(signature, _sign(_secret(workspace), payload)):
        raise bad
    user, _, kind = payload.decode("ascii", "replace").partition(":")
    if not user.isdigit() or (kind != "*" and kind not in KINDS):
        raise bad
    return Request(int(user), kind)


def apply(workspace: Workspace, value: str) -> Request:
    """Turn off what the token asks (again: no change); what it was. Audited as the user."""
    from partnerscope.notify import preferences

    request = verify(workspace, value)
    preferences.unsubscribe(workspace, request.user_id, request.kind)
    return request
