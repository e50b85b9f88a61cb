"""What a user must never read (issue 25, "Speak the users' language"): the scanner the visible
text of every page, report and workbook is checked with.

``text_of(html)`` is the text a browser shows of an HTML page: ``<script>``, ``<style>``,
``<template>`` and ``<head>`` left out, every attribute left out except the value of a visible
``<input>`` (a form shows it), table cells separated by a tab and blocks by a new line (as
Playwright's ``inner_text`` writes them). ``problems(text, catalog_keys)`` lists what in that text
breaks the rule, each finding as ``what: "the text around it"``:

- a **catalog metric key** (``won_revenue``, ``lead_sla_rate``, ``score_percentile``): a key with
  an underscore anywhere as a whole word, but not as a file's name (``data/support_cases.csv``);
  a one-word key (``csat``, ``nps``, ``quota``) only as the whole text of a cell or line (a table
  printed in a terminal has its cells between ``│``), written in lower case as the key is
  (``Quota`` or ``CSAT`` in a sentence is English, ``quota`` alone in a cell is the key);
- an **internal code**: the keys of partnerscope.present's FLAGS, RULES, CRITERIA, ALERT_KINDS
  and PARTNER_TYPES, by the same rule (``anomaly_own``, ``bonus_bands``, ``bottom_of_cohort``
  anywhere; ``var``, ``si``, ``msp``, ``exit``, ``club`` only alone in a cell or line);
- a **z-score**: ``z =``, ``z=``, ``z-score``, ``zscore``, ``z_score`` (any case);
- a **configuration hash**: ``config`` followed by a hexadecimal word, or any hexadecimal word of
  12 or more characters with both a digit and a letter a–f;
- a **long float**: a number with more than 4 decimals (``0.123456``), and **scientific
  notation** (``1.5e-07``);
- a **raw fraction**: ``0.`` followed by 3 or 4 decimals (``0.625``) not followed by ``%``, a
  share written as the stored fraction (shares are percentages, ratings have 2 decimals);
- **missing values as the code writes them**: ``NaN``, ``nan``, ``null``, ``inf``, ``Infinity``
  as whole words, and ``None`` unless a lower-case word follows it (``None yet`` is English,
  ``None`` alone or before punctuation is Python's);
- **money without its currency**: a number with thousands separators and exactly two decimals
  (``1,234.56``), or of four or more digits before exactly two decimals (``52300.00``), that has
  no currency symbol ($ € £ ¥ ₹ ₩ ₽ ¢ kr) or ISO code (three capitals) within the 4 characters
  before or after it. Counts and whole amounts are not money by this rule (``12,345`` is a
  count); amounts are written with cents only where cents matter, and then with the currency.
  German-style separators (``1.234,56``) are checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from partnerscope.present import ALERT_KINDS, CRITERIA, FIELDS, FLAGS, PARTNER_TYPES, RULES

#: elements whose content the browser does not show
HIDDEN = frozenset({"script", "style", "template", "head", "title", "noscript"})
#: elements that start a new line of text
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "option", "p", "pre",
        "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
        "label", "select", "textarea",
    }
)  # fmt: skip
CELLS = frozenset({"td", "th"})
VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            if tag not in VOID:
                self.hidden += 1
            return
        if self.hidden:
            return
        if tag in BLOCKS:
            self.parts.append("\n")
        elif tag in CELLS:
            self.parts.append("\t")
        if tag == "input":
            given = dict(attrs)
            kind = (given.get("type") or "text").lower()
            if kind not in ("hidden", "checkbox", "radio", "file", "password", "image") and (
                given.get("value")
            ):
                self.parts.append(f"\t{given['value']}\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if self.hidden:
            return
        if tag in BLOCKS:
            self.parts.append("\n")
        elif tag in CELLS:
            self.parts.append("\t")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def text_of(html: str) -> str:
    """The visible text of an HTML page or fragment (see the module's docstring)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = (re.sub(r"[ \r\f\v]+", " ", line) for line in text.split("\n"))
    return "\n".join(line.strip(" ") for line in lines if line.strip())


#: internal codes of partnerscope.present, each with where it comes from
CODES: dict[str, str] = {
    **dict.fromkeys(PARTNER_TYPES, "partner type"),
    **dict.fromkeys(RULES, "payout rule"),
    **dict.fromkeys(FLAGS, "flag"),
    **dict.fromkeys(CRITERIA, "flag criterion"),
    **dict.fromkeys(ALERT_KINDS, "alert kind"),
    **dict.fromkeys(FIELDS, "scorecard field"),
}
CURRENCY = r"[$€£¥₹₩₽¢]|\bkr\b|\b[A-Z]{3}\b"
_MONEY = re.compile(
    r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+\.\d{2}|\d{1,3}(?:\.\d{3})+,\d{2}|\d{4,}[.,]\d{2})(?![\d%])"
)
_CURRENCY = re.compile(CURRENCY)
#: (what, pattern) of the plain text checks
CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("z-score", re.compile(r"(?i)(?<![\w-])z\s?=|\bz[-_ ]?scores?\b")),
    ("config hash", re.compile(r"(?i)\bconfig(?:uration)?(?: hash)?:? [0-9a-f]{6,}\b")),
    (
        "hash",
        re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,}\b"),
    ),
    ("float with more than 4 decimals", re.compile(r"\b\d+[.]\d{5,}\b")),
    ("scientific notation", re.compile(r"\b\d(?:\.\d+)?[eE][+-]?\d+\b")),
    ("raw fraction", re.compile(r"(?<![\d.,])0\.\d{3,4}\b(?![\d%]|\s?%)")),
    ("NaN", re.compile(r"\b(?:NaN|nan)\b")),
    ("null", re.compile(r"\bnull\b")),
    ("infinity", re.compile(r"(?<![\w-])-?(?:inf|Infinity)\b")),
    ("None", re.compile(r"\bNone\b(?! [a-z])")),
)


def _around(text: str, start: int, end: int) -> str:
    return text[max(0, start - 30) : end + 30].replace("\n", " ⏎ ").replace("\t", " | ").strip()


def _cells(text: str) -> Iterable[tuple[int, str]]:
    """Each cell or line of the text (split at tabs, new lines and the column rules of a table
    printed in a terminal), with its offset."""
    for found in re.finditer(r"[^\t\n│┃|]+", text):
        yield found.start(), found.group().strip()


def problems(text: str, catalog_keys: Iterable[str] = ()) -> list[str]:
    """What in ``text`` a user must not read (see the module's docstring), in order of place."""
    found: list[tuple[int, str]] = []
    words = dict.fromkeys(catalog_keys, "metric key")
    words.update({k: v for k, v in CODES.items() if k not in words})
    compound = sorted((k for k in words if "_" in k), key=len, reverse=True)
    if compound:
        # a file's name is not a key (``data/support_cases.csv`` names the table's file)
        pattern = re.compile(
            r"(?<![\w/-])(" + "|".join(map(re.escape, compound)) + r")(?![\w-]|\.\w)"
        )
        for hit in pattern.finditer(text):
            what = f"{words[hit.group(1)]} {hit.group(1)}"
            found.append((hit.start(), f'{what}: "{_around(text, hit.start(), hit.end())}"'))
    single = {k for k in words if "_" not in k}
    for at, cell in _cells(text):
        if cell in single:
            found.append((at, f'{words[cell]} {cell} alone in a cell: "{cell}"'))
    spans: list[tuple[int, int]] = []
    for what, pattern in CHECKS:
        for hit in pattern.finditer(text):
            if any(a <= hit.start() < b for a, b in spans):
                continue  # a hash already found as the configuration's
            if what == "config hash":
                spans.append(hit.span())
            found.append((hit.start(), f'{what}: "{_around(text, hit.start(), hit.end())}"'))
    for hit in _MONEY.finditer(text):
        before = text[max(0, hit.start() - 4) : hit.start()]
        after = text[hit.end() : hit.end() + 4]
        if not (_CURRENCY.search(before) or _CURRENCY.search(after)):
            where = _around(text, hit.start(), hit.end())
            found.append((hit.start(), f'money without its currency: "{where}"'))
    return [message for _, message in sorted(found)]
