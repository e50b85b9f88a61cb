"""One notification's words, written for each channel: the email's plain text and HTML bodies
(the same sentences, the same facts, the same link), and the webhooks' payloads (partnerscope's
own JSON, Slack's and Microsoft Teams' incoming-webhook messages).

A notification is written once, by the event that causes it, as a title, sentences and facts
(label, value) that are already words; nothing here computes or formats a number. The link is
a path of the web app, made absolute with ``[notifications] base_url``.
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope.outbox import KINDS

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

__all__ = [
    "Content",
    "Footer",
    "html_body",
    "json_payload",
    "of_row",
    "payload",
    "slack_payload",
    "teams_payload",
    "text_body",
]


@dataclass(frozen=True)
class Content:
    notification_id: int
    key: str
    kind: str
    audience: str
    partner_id: str | None
    title: str
    lines: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    #: absolute (``base_url`` + the notification's path), or None
    link: str | None
    created_at: datetime
    attachment: Mapping[str, Any] | None = None

    @property
    def kind_label(self) -> str:
        spec = KINDS.get(self.kind)
        return spec.label if spec else self.kind


@dataclass(frozen=True)
class Footer:
    """What closes an email to a user: why they get it and how to stop it."""

    #: the page of the user's preferences (absolute)
    preferences: str
    #: the signed link that turns this kind off without signing in (absolute)
    unsubscribe: str | None
    kind_label: str


def absolute(base_url: str, link: str | None) -> str | None:
    """``link`` under ``base_url`` (an absolute link is kept)."""
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return f"{base_url.rstrip('/')}/{link.lstrip('/')}"


def of_row(row: Any, base_url: str) -> Content:
    """The content of a ``notifications`` row (a SQLAlchemy row or mapping)."""
    m = row._mapping if hasattr(row, "_mapping") else row
    body = m["body"] or {}
    facts = tuple((str(f[0]), str(f[1])) for f in body.get("facts") or ())
    return Content(
        notification_id=int(m["notification_id"]),
        key=str(m["key"]),
        kind=str(m["kind"]),
        audience=str(m["audience"]),
        partner_id=m["partner_id"],
        title=str(m["title"]),
        lines=tuple(str(line) for line in body.get("lines") or ()),
        facts=facts,
        link=absolute(base_url, m["link"]),
        created_at=m["created_at"],
        attachment=m["attachment"],
    )


def footer(workspace: Workspace, user_id: int | None, kind: str) -> Footer | None:
    """The footer of an email to ``user_id`` (None for an external address: no preferences)."""
    if user_id is None:
        return None
    from partnerscope.notify import unsubscribe

    base = workspace.config.notifications.base_url.rstrip("/")
    spec = KINDS.get(kind)
    return Footer(
        preferences=f"{base}/settings/notifications",
        unsubscribe=unsubscribe.link(workspace, user_id, kind),
        kind_label=spec.label if spec else kind,
    )


# ------------------------------------------------------------------------------------ email


def text_body(content: Content, foot: Footer | None = None) -> str:
    """The plain-text body: the title, the sentences, the facts, the link, the footer."""
    out = [content.title, "=" * min(len(content.title), 72), ""]
    out += [*content.lines]
    if content.lines:
        out.append("")
    if content.facts:
        out += [f"{label}: {value}" for label, value in content.facts]
        out.append("")
    if content.link:
        out += [f"Open it in partnerscope: {content.link}", ""]
    if foot is not None:
        out += ["--", *_footer_sentences(foot)]
    return "\n".join(out).rstrip() + "\n"


def _footer_sentences(foot: Footer) -> list[str]:
    lines = [f"You receive “{foot.kind_label}” from partnerscope at this address."]
    lines.append(f"Choose what you receive and how often: {foot.preferences}")
    if foot.unsubscribe:
        lines.append(f"Stop receiving “{foot.kind_label}” by email: {foot.unsubscribe}")
    return lines


def html_body(content: Content, foot: Footer | None = None) -> str:
    """The HTML body: the same words as :func:`text_body`, in a simple page mail clients show."""
    e = _html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>' + e(content.title) + "</title></head>",
        '<body style="font-family: Helvetica, Arial, sans-serif; color: #1f2933; '
        'max-width: 40em; line-height: 1.45;">',
        f'<h1 style="font-size: 1.3em;">{e(content.title)}</h1>',
    ]
    parts += [f"<p>{e(line)}</p>" for line in content.lines]
    if content.facts:
        parts.append('<table style="border-collapse: collapse;">')
        parts += [
            f'<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{e(label)}</th>'
            f"<td>{e(value)}</td></tr>"
            for label, value in content.facts
        ]
        parts.append("</table>")
    if content.link:
        parts.append(f'<p><a href="{e(content.link, quote=True)}">Open it in partnerscope</a></p>')
    if foot is not None:
        parts.append('<hr><p style="font-size: 0.85em; color: #52606d;">')
        parts.append(
            f"You receive “{e(foot.kind_label)}” from partnerscope at this address.<br>"
            f'<a href="{e(foot.preferences, quote=True)}">Choose what you receive and how '
            "often</a>"
        )
        if foot.unsubscribe:
            parts.append(
                f'<br><a href="{e(foot.unsubscribe, quote=True)}">Stop receiving '
                f"“{e(foot.kind_label)}” by email</a>"
            )
        parts.append("</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------- webhooks


def json_payload(content: Content, idempotency_key: str) -> dict[str, Any]:
    """partnerscope's own payload: every field of the notification, as words."""
    return {
        "idempotency_key": idempotency_key,
        "notification_id": content.notification_id,
        "kind": content.kind,
        "kind_label": content.kind_label,
        "audience": content.audience,
        "partner_id": content.partner_id,
        "title": content.title,
        "lines": list(content.lines),
        "facts": [{"label": label, "value": value} for label, value in content.facts],
        "link": content.link,
        "created_at": content.created_at.isoformat(timespec="seconds") + "Z",
    }


def _mrkdwn(text: str) -> str:
    """Text for Slack's mrkdwn: its three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(content: Content) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (notifications, clients without blocks) and
    ``blocks`` (a header, the sentences, the facts, a button to the page)."""
    summary = " ".join([content.title, *content.lines])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": content.title[:150]}}
    ]
    if content.lines:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _mrkdwn("\n".join(content.lines))[:3000]},
            }
        )
    if content.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": _mrkdwn(f"*{label}*\n{value}")[:2000]}
                    for label, value in content.facts[:10]
                ],
            }
        )
    if content.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in partnerscope"},
                        "url": content.link,
                    }
                ],
            }
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(content.kind_label)}]}
    )
    return {"text": _mrkdwn(summary)[:3000], "blocks": blocks}


def teams_payload(content: Content) -> dict[str, Any]:
    """A Microsoft Teams message: an Adaptive Card (version 1.4) in a ``message`` attachment,
    as Teams' incoming webhooks and workflows take it."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": content.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        *({"type": "TextBlock", "text": line, "wrap": True} for line in content.lines),
    ]
    if content.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in content.facts],
            }
        )
    body.append(
        {
            "type": "TextBlock",
            "text": content.kind_label,
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if content.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in partnerscope", "url": content.link}
        ]
    return {
        "type": "message",
        "summary": content.title,
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def payload(content: Content, fmt: str, idempotency_key: str) -> dict[str, Any]:
    """The payload of a webhook of format ``fmt`` ("json", "slack" or "teams")."""
    if fmt == "slack":
        return slack_payload(content)
    if fmt == "teams":
        return teams_payload(content)
    return json_payload(content, idempotency_key)
