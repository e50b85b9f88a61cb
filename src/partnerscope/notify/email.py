"""Email over SMTP: the message built from a notification's content (plain text and HTML
alternatives of the same words; a report attached as a PDF), and a mailer that keeps one
connection to the server for many messages.

The delivery's idempotency key is the message's ``Message-ID`` (``<key@partnerscope>``): a
worker killed after the server accepted a message and before the outbox recorded it sends it
again with the same Message-ID, which a receiver (and the tests) can drop as a repeat.

Errors are classified: the server's 4xx answers, timeouts and lost connections are temporary
(tried again later); its 5xx answers to a message are permanent (the delivery goes to the dead
letters at once).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError
from partnerscope.notify.content import Content, Footer, html_body, text_body

if TYPE_CHECKING:
    from partnerscope.notify.attachments import Attachment
    from partnerscope.settings.notifications import SmtpSettings

__all__ = ["MailError", "Mailer", "SendError", "build", "message_id"]

DOMAIN = "partnerscope"


class SendError(PartnerscopeError):
    """A message that could not be sent: ``permanent`` (the dead letters at once) or not
    (tried again after the backoff)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailError(SendError):
    """The mail server refused, timed out or could not be reached."""


def message_id(key: str) -> str:
    return f"<{key}@{DOMAIN}>"


def build(
    content: Content,
    *,
    sender: str,
    to: str,
    key: str,
    foot: Footer | None = None,
    attachment: Attachment | None = None,
) -> EmailMessage:
    """The email of ``content`` to ``to``: multipart/alternative (text, then HTML), inside
    multipart/mixed with the attachment when there is one."""
    message = EmailMessage()
    message["Subject"] = content.title
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(key)
    message["X-Partnerscope-Kind"] = content.kind
    if foot is not None and foot.unsubscribe:
        message["List-Unsubscribe"] = f"<{foot.unsubscribe}>"
    message.set_content(text_body(content, foot))
    message.add_alternative(html_body(content, foot), subtype="html")
    if attachment is not None:
        maintype, _, subtype = attachment.mime.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def _where(settings: SmtpSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _fix(settings: SmtpSettings) -> str:
    return (
        f"check [notifications.smtp] host, port ({settings.port}) and security "
        f"({settings.security!r}: 'starttls' on port 587, 'ssl' on 465, 'none' for a local "
        "relay) in partnerscope.toml"
    )


def classify(exc: BaseException, settings: SmtpSettings) -> MailError:
    """``exc`` as a :class:`MailError` in words, temporary or permanent."""
    where = _where(settings)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        answers = "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in exc.recipients.items()
        )
        permanent = bool(codes) and all(500 <= c < 600 for c in codes)
        return MailError(
            f"the mail server {where} refused the recipient ({answers})", permanent=permanent
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(
            f"the mail server {where} refused the sign-in of [notifications.smtp] username "
            f"({exc.smtp_code}); check the username and the password in the environment "
            f"variable {settings.password_env}",
            permanent=False,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        permanent = 500 <= exc.smtp_code < 600
        return MailError(
            f"the mail server {where} answered {exc.smtp_code} {text}".rstrip(),
            permanent=permanent,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailError(
            f"the mail server {where} does not offer what [notifications.smtp] asks ({exc}); "
            + _fix(settings),
            permanent=False,
        )
    timed_out = isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected)
        and isinstance(exc.__context__, TimeoutError)
    )
    if timed_out:
        return MailError(
            f"the mail server {where} did not answer within {settings.timeout_seconds:g} seconds",
            permanent=False,
        )
    if isinstance(exc, ssl.SSLError):
        return MailError(
            f"could not talk TLS with the mail server {where} ({exc.reason or exc}); "
            + _fix(settings),
            permanent=False,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailError(
            f"the mail server {where} closed the connection ({exc or 'no reason given'})",
            permanent=False,
        )
    if isinstance(exc, ConnectionRefusedError):
        return MailError(
            f"nothing answers at {where} (connection refused); " + _fix(settings),
            permanent=False,
        )
    if isinstance(exc, socket.gaierror):
        return MailError(
            f"the mail server's name {settings.host!r} is not known ({exc.strerror}); "
            + _fix(settings),
            permanent=False,
        )
    if isinstance(exc, OSError | smtplib.SMTPException):
        return MailError(f"could not reach the mail server {where}: {exc}", permanent=False)
    raise exc


class Mailer:
    """One connection to the mail server, opened at the first message and kept for the next
    ones (opened again after an error); close it with :meth:`close` or ``with``."""

    def __init__(self, settings: SmtpSettings) -> None:
        if not settings.host:
            raise MailError(
                "no mail server: set [notifications.smtp] host (and port, security) in "
                "partnerscope.toml to send email",
                permanent=False,
            )
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        host = str(s.host)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(host, s.port, timeout=s.timeout_seconds)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                password = os.environ.get(s.password_env)
                if password is None:
                    raise MailError(
                        f"[notifications.smtp] username is {s.username!r} but the environment "
                        f"variable {s.password_env} holding its password is not set",
                        permanent=False,
                    )
                smtp.login(s.username, password)
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; a :class:`MailError` (temporary or permanent) if it was not."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.send_message(message)
        except MailError:
            self.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            error = classify(exc, self.settings)
            # after a refused message the connection is still good; after anything else, open
            # a new one for the next message
            if not isinstance(exc, smtplib.SMTPResponseException) or isinstance(
                exc, smtplib.SMTPServerDisconnected
            ):
                self.close()
            else:
                try:
                    if self._smtp is not None:
                        self._smtp.rset()
                except (OSError, smtplib.SMTPException):
                    self.close()
            raise error from exc

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def test_message(sender: str, to: str) -> EmailMessage:
    """The message of ``partnerscope notify test``."""
    message = EmailMessage()
    message["Subject"] = "partnerscope test message"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=DOMAIN)
    message.set_content(
        "This is a test message from partnerscope.\n\n"
        "If you read it, partnerscope can send notifications by email through this server.\n"
    )
    return message
