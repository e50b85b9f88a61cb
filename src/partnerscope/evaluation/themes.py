"""What partners write about: the free-text comments of partner surveys counted by theme.

A small built-in vocabulary (:data:`THEMES`) names the subjects partners raise about a vendor
— support, the portal and tools, margins and pricing, leads, MDF, training and certification,
communication, payments — each by word stems (a word of the comment that begins with the stem)
and whole words (short words that would otherwise match too much: "lead" must not match
"leadership"). A comment counts once for every theme it mentions, and may mention several or
none. Counts are per partner and for the portfolio, over the comments of the surveys sent in a
period (the period the satisfaction scores count in, docs/service.md).

The matching is plain and explainable on purpose: the words that matched are kept with each
count, so a reader can see why a comment was put under a theme.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from partnerscope.metrics.calendar import Period
    from partnerscope.settings.service import ServiceSettings


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    #: a word of the comment beginning with one of these belongs to the theme
    stems: tuple[str, ...]
    #: a word of the comment equal to one of these belongs to the theme
    words: tuple[str, ...] = ()

    def matches(self, word: str) -> bool:
        return word in self.words or any(word.startswith(s) for s in self.stems)


#: The built-in vocabulary, in the order themes are listed. Words are compared in lower case
#: (casefolded); a word is a run of letters (digits and punctuation split words: "e-mail" is
#: "e" and "mail", "co-op" is "co" and "op").
THEMES: tuple[Theme, ...] = (
    Theme(
        "support",
        "Support",
        ("support", "helpdesk", "ticket", "escalat", "troubleshoot", "hotline"),
        ("sla", "slas"),
    ),
    Theme(
        "portal",
        "Portal and tools",
        ("portal", "tool", "login", "dashboard", "platform", "interface", "website", "software"),
        ("prm", "crm", "ui", "ux", "site"),
    ),
    Theme(
        "margins",
        "Margins and pricing",
        ("margin", "pricing", "price", "discount", "rebate", "commission", "profit"),
    ),
    Theme(
        "leads",
        "Leads",
        ("referral", "opportunit", "pipeline", "prospect"),
        ("lead", "leads", "deal", "deals"),
    ),
    Theme("mdf", "MDF", ("coop", "fund"), ("mdf", "op")),
    Theme(
        "training",
        "Training and certification",
        ("train", "certif", "course", "enablement", "learn", "exam", "accredit", "webinar"),
    ),
    Theme(
        "communication",
        "Communication",
        ("communicat", "inform", "newsletter", "mail", "announce", "transparen", "update"),
        ("news", "contact", "contacts"),
    ),
    Theme(
        "payments",
        "Payments",
        ("payment", "invoice", "payout", "reimburs", "remittance"),
        ("pay", "paid", "pays", "paying"),
    ),
)
_WORD = re.compile(r"[^\W\d_]+")


def vocabulary(settings: ServiceSettings | None = None) -> tuple[Theme, ...]:
    """The built-in themes with a workspace's ``[service.themes]``: a built-in key gains the
    stems and words given (and the label, if one is); another key is a new theme, after the
    built-in ones (labelled from its key when it has no label)."""
    if settings is None or not settings.themes:
        return THEMES
    extra = settings.themes
    out = []
    for theme in THEMES:
        more = extra.get(theme.key)
        if more is None:
            out.append(theme)
            continue
        out.append(
            Theme(
                theme.key,
                more.label or theme.label,
                tuple(dict.fromkeys((*theme.stems, *more.stems))),
                tuple(dict.fromkeys((*theme.words, *more.words))),
            )
        )
    known = {t.key for t in THEMES}
    for key, more in extra.items():
        if key not in known:
            label = more.label or key.replace("_", " ").capitalize()
            out.append(Theme(key, label, more.stems, more.words))
    return tuple(out)


def words_of(text: str) -> list[str]:
    """The words of a comment, casefolded."""
    return _WORD.findall(text.casefold())


def themes_of(text: str | None, themes: tuple[Theme, ...] = THEMES) -> dict[str, list[str]]:
    """The themes a comment mentions (vocabulary order), each with the words that matched."""
    found: dict[str, list[str]] = {}
    if not text:
        return found
    words = words_of(text)
    for theme in themes:
        hits = [w for w in words if theme.matches(w)]
        if hits:
            found[theme.key] = list(dict.fromkeys(hits))
    return found


@dataclass
class ThemeCounts:
    """Comments mentioning each theme, per partner and for all the partners counted."""

    #: the vocabulary counted by
    themes: tuple[Theme, ...] = THEMES
    #: partner id → theme key → comments mentioning it
    by_partner: dict[str, Counter[str]] = field(default_factory=dict)
    #: partner id → comments read (with text)
    comments: Counter[str] = field(default_factory=Counter)
    #: theme key → the words that matched, most frequent first (for "why")
    matched: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, partner_id: str, text: str | None) -> None:
        if not text or not text.strip():
            return
        self.comments[partner_id] += 1
        counts = self.by_partner.setdefault(partner_id, Counter())
        for key, hits in themes_of(text, self.themes).items():
            counts[key] += 1
            self.matched.setdefault(key, Counter()).update(hits)

    @property
    def portfolio(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.by_partner.values():
            total.update(counts)
        return total

    def only(self, partner_ids: Iterable[str]) -> ThemeCounts:
        """The counts of these partners only (what a partner manager may see)."""
        keep = set(partner_ids)
        out = ThemeCounts(self.themes)
        out.by_partner = {p: c for p, c in self.by_partner.items() if p in keep}
        out.comments = Counter({p: n for p, n in self.comments.items() if p in keep})
        out.matched = {}
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per theme for the portfolio, vocabulary order: key, label, comments
        mentioning it, and the share of the comments read."""
        total = self.portfolio
        read = sum(self.comments.values())
        return [
            {
                "theme": t.key,
                "label": t.label,
                "comments": total[t.key],
                "share": total[t.key] / read if read else None,
            }
            for t in self.themes
        ]

    def label(self, key: str) -> str:
        return next(t.label for t in self.themes if t.key == key)


def count_themes(
    rows: Iterable[tuple[str, str | None]], themes: tuple[Theme, ...] = THEMES
) -> ThemeCounts:
    """Themes of (partner id, comment) pairs."""
    counts = ThemeCounts(themes)
    for partner_id, text in rows:
        counts.add(partner_id, text)
    return counts


def survey_comments(
    con: duckdb.DuckDBPyConnection, period: Period, timezone: str
) -> list[tuple[str, str]]:
    """(partner id, comment) of the answered partner surveys sent in ``period`` (the sent time
    read in the workspace's time zone, as the metrics read it)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    found = con.execute(
        "SELECT partner_id, sent_at, comment FROM partner_surveys "
        "WHERE responded_at IS NOT NULL AND comment IS NOT NULL AND trim(comment) <> '' "
        "ORDER BY partner_id, sent_at, response_id"
    ).fetchall()
    start, end = period.start, period.end
    out = []
    for partner_id, sent_at, comment in found:
        local = _local_day(sent_at, zone)
        if start <= local < end:
            out.append((str(partner_id), str(comment)))
    return out


def _local_day(moment: datetime, zone: Any) -> Any:
    from datetime import UTC

    return moment.replace(tzinfo=UTC).astimezone(zone).date()
