"""Real receivers for the notification tests, both on 127.0.0.1 on a free port.

- :class:`MailServer`: an aiosmtpd SMTP server that keeps every message it accepts as an
  ``email.message.EmailMessage`` (``messages``), and can be told to answer the next messages
  with a refusal (``script``: "451 ..." temporary, "554 ..." permanent), to refuse some by a
  predicate (``refuse``), or to stall before answering (``stall_seconds``: timeout tests).
  Optional AUTH (``credentials``) and STARTTLS or implicit TLS with a self-signed certificate
  (``tls="starttls"|"ssl"``).
- :class:`HookServer`: an HTTP receiver (``http.server.ThreadingHTTPServer`` in a thread)
  recording method, path, headers and body of every request, answering with a programmable
  sequence of statuses (``statuses``; then 200) and an optional delay.
- :func:`configure`: writes ``[notifications]`` (``[notifications.smtp]`` pointing at a
  :class:`MailServer`, ``[[notifications.webhooks]]`` at a :class:`HookServer`) into a
  workspace's ``partnerscope.toml`` and forgets the workspace's cached configuration.
- :func:`by_key`: what arrived grouped by idempotency key (Message-ID or ``Idempotency-Key``),
  to check "each exactly once after dropping repeats" and count the repeats.

Use them as context managers::

    with MailServer() as mail, HookServer(statuses=[500, 500]) as hook:
        configure(ws, mail=mail, hooks={"ops": hook})
        ...
        assert [m["Subject"] for m in mail.messages] == [...]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from partnerscope.workspace import Workspace
from tests.ports import free_port

HOST = "127.0.0.1"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 (PEM files in ``directory``)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# ------------------------------------------------------------------------------------ SMTP


@dataclass
class Received:
    """One message as the server got it."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    at: float


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.server
        if owner.stall_seconds:
            await asyncio.sleep(owner.stall_seconds)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with owner.lock:
            owner.attempts += 1
            if owner.script:
                answer = owner.script.pop(0)
                if not answer.startswith("250"):
                    owner.refused.append(message)
                    return answer
            if owner.refuse is not None:
                answer_or_none = owner.refuse(message)
                if answer_or_none:
                    owner.refused.append(message)
                    return answer_or_none
            owner.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message,
                    time.time(),
                )
            )
        return "250 Message accepted for delivery"


def _quiet_session_class() -> type:
    """aiosmtpd's Session without the deprecation warning its own AUTH code triggers (the
    suite turns warnings into errors, in the server's thread too)."""
    from aiosmtpd.smtp import Session

    class QuietSession(Session):  # type: ignore[misc]
        @property  # type: ignore[override]
        def login_data(self) -> Any:
            return self._login_data

        @login_data.setter
        def login_data(self, value: Any) -> None:
            self._login_data = value

    return QuietSession


class MailServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), started by ``with`` or :meth:`start`."""

    def __init__(
        self,
        *,
        script: Sequence[str] = (),
        refuse: Callable[[EmailMessage], str | None] | None = None,
        stall_seconds: float = 0.0,
        credentials: tuple[str, str] | None = None,
        tls: str | None = None,
        cert_dir: Path | None = None,
    ) -> None:
        self.host = HOST
        self.port = free_port()
        self.script = list(script)
        self.refuse = refuse
        self.stall_seconds = stall_seconds
        self.credentials = credentials
        self.tls = tls
        self.cert_dir = cert_dir
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refused: list[EmailMessage] = []
        self.attempts = 0
        self.logins: list[str] = []
        self._controller: Any = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def start(self) -> MailServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        session_class = _quiet_session_class()

        class QuietSMTP(SMTP):  # type: ignore[misc]
            def _create_session(self) -> Any:
                return session_class(self.loop)

        class QuietController(Controller):  # type: ignore[misc]
            def factory(self) -> Any:
                return QuietSMTP(self.handler, **self.SMTP_kwargs)

        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            user, password = self.credentials

            def authenticator(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> Any:
                ok = (
                    isinstance(data, LoginPassword)
                    and data.login.decode() == user
                    and data.password.decode() == password
                )
                if ok:
                    self.logins.append(user)
                return AuthResult(success=ok)

            kwargs["authenticator"] = authenticator
            kwargs["auth_require_tls"] = self.tls == "starttls"
        context = None
        if self.tls is not None:
            import tempfile

            folder = self.cert_dir or Path(tempfile.mkdtemp(prefix="smtp-tls-"))
            cert, key = self_signed(folder)
            self.cert_path = cert
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            if self.tls == "starttls":
                kwargs["tls_context"] = context
                kwargs["require_starttls"] = True
        if self.tls == "ssl":
            self._controller = QuietController(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                ssl_context=context,
                ready_timeout=10,
                **kwargs,
            )
        else:
            self._controller = QuietController(
                _Handler(self), hostname=self.host, port=self.port, ready_timeout=10, **kwargs
            )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least ``count`` arrived (or after ``timeout``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.messages) < count:
            time.sleep(0.02)
        return self.messages


# --------------------------------------------------------------------------------- webhooks


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class HookServer:
    """A real HTTP receiver on 127.0.0.1; answers ``statuses`` in turn, then ``default``."""

    def __init__(
        self,
        *,
        statuses: Sequence[int] = (),
        default: int = 200,
        delay_seconds: float = 0.0,
    ) -> None:
        self.statuses = list(statuses)
        self.default = default
        self.delay_seconds = delay_seconds
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if owner.delay_seconds:
                    time.sleep(owner.delay_seconds)
                with owner.lock:
                    status = owner.statuses.pop(0) if owner.statuses else owner.default
                    owner.requests.append(
                        Request(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.time(),
                        )
                    )
                payload = b'{"ok": true}' if status < 300 else b'{"error": "refused"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # the sender went away (killed) after the request was taken: it counts as
                    # received, as a real receiver would have processed it
                    pass

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://{HOST}:{self.port}/hook"
        self._thread: threading.Thread | None = None

    def start(self) -> HookServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def accepted(self) -> list[Request]:
        """The requests answered with a 2xx."""
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Request]:
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.accepted) < count:
            time.sleep(0.02)
        return self.accepted


# ------------------------------------------------------------------------------ the config


@dataclass
class Hook:
    """How :func:`configure` writes one webhook."""

    server: HookServer
    format: str = "json"
    secret_env: str | None = None
    kinds: tuple[str, ...] = ()
    path: str = "/hook"


@dataclass
class Settings:
    base_url: str = "https://partners.example.com"
    max_attempts: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    lease_seconds: float = 120.0
    timeout_seconds: float = 5.0
    from_address: str = "Channel team <channel@example.com>"
    security: str = "none"
    username: str | None = None
    password_env: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


def configure(
    ws: Workspace,
    *,
    mail: MailServer | None = None,
    hooks: Mapping[str, HookServer | Hook] | None = None,
    settings: Settings | None = None,
) -> None:
    """Append ``[notifications]`` for these receivers to ``ws``'s partnerscope.toml (the file
    must not have one) and forget the cached configuration."""
    s = settings or Settings()
    text = ws.config_path.read_text(encoding="utf-8")
    if "[notifications" in text:
        raise AssertionError("the workspace's configuration already has [notifications]")
    lines = [
        "",
        "[notifications]",
        f"base_url = {_toml(s.base_url)}",
        f"max_attempts = {s.max_attempts}",
        f"backoff_seconds = {s.backoff_seconds!r}",
        f"max_backoff_seconds = {s.max_backoff_seconds!r}",
        f"lease_seconds = {s.lease_seconds!r}",
    ]
    lines += [f"{k} = {_toml(v)}" for k, v in s.extra.items()]
    if mail is not None:
        security = s.security
        if mail.tls is not None and security == "none":
            security = mail.tls
        lines += [
            "",
            "[notifications.smtp]",
            f"host = {_toml(mail.host)}",
            f"port = {mail.port}",
            f"security = {_toml(security)}",
            f"from_address = {_toml(s.from_address)}",
            f"timeout_seconds = {s.timeout_seconds!r}",
        ]
        if s.username:
            lines.append(f"username = {_toml(s.username)}")
        if s.password_env:
            lines.append(f"password_env = {_toml(s.password_env)}")
    for name, hook in (hooks or {}).items():
        spec = hook if isinstance(hook, Hook) else Hook(hook)
        lines += [
            "",
            "[[notifications.webhooks]]",
            f"name = {_toml(name)}",
            f"url = {_toml(f'http://{HOST}:{spec.server.port}{spec.path}')}",
            f"format = {_toml(spec.format)}",
        ]
        if spec.secret_env:
            lines.append(f"secret_env = {_toml(spec.secret_env)}")
        if spec.kinds:
            lines.append(f"kinds = {_toml(list(spec.kinds))}")
    ws.config_path.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    ws.__dict__.pop("config", None)


# -------------------------------------------------------------------------- what arrived


def message_key(message: EmailMessage) -> str:
    """The idempotency key an email carries (its Message-ID without ``<…@partnerscope>``)."""
    value = str(message["Message-ID"] or "").strip().strip("<>")
    return value.split("@", 1)[0]


def by_key(items: Iterable[EmailMessage | Request]) -> Counter[str]:
    """How many times each idempotency key arrived (emails by Message-ID, webhook requests by
    their ``Idempotency-Key`` header)."""
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Request):
            counts[item.headers.get("idempotency-key", "")] += 1
        else:
            counts[message_key(item)] += 1
    return counts


def repeats(counts: Counter[str]) -> int:
    """How many arrivals were repeats of a key already received."""
    return sum(n - 1 for n in counts.values() if n > 1)
