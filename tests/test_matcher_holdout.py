"""Precision and recall of the deal-registration matcher on a held-out set (issue 24).

``tests/data/matcher_holdout.csv`` holds 397 labelled account pairs written for issue 24 on
2026-12-06 before the matcher's rules were read, and never used to tune it (how it was built
and labelled: docs/registrations.md, "Measured precision and recall"). Side ``a`` of a pair is
a registration as a partner submits it; side ``b`` is the account it is compared with: another
partner's registration or an account of the warehouse (CRM export), whose free-mail domains
are kept.

The matcher runs as ``registrations.submit`` and ``approve`` run it: the ``Matcher`` that
``conflicts.matcher`` builds for a workspace with the default ``[registration]`` and
``[identity]`` settings, ``Matcher.account`` for both sides
(side ``b`` without its domain when that is not one, as ``conflicts`` reads the warehouse), and
``Matcher.match(a, b)``. Run with ``-s`` to see the confusion counts, how many pairs of each
category are right and every misclassified pair.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from partnerscope.config import Config
from partnerscope.operations.registrations.matching import (
    Account,
    DomainError,
    Matcher,
    says_nothing,
)

HOLDOUT = Path(__file__).parent / "data" / "matcher_holdout.csv"
COLUMNS = [
    "name_a",
    "domain_a",
    "country_a",
    "name_b",
    "domain_b",
    "country_b",
    "same_account",
    "note",
]

# Measured on 2026-12-06 with the default settings (similarity_threshold 0.85, no extra legal
# forms), once, after the set was committed (dbb5164), changing neither afterwards:
#   TP 119, FP 36, FN 16, TN 226 (397 pairs: 135 same account, 262 not)
#   precision 119/155 = 0.768, recall 119/135 = 0.881, F1 238/290 = 0.821
# Platform hosts, k12 districts and mail providers at other endings were fixed after that
# (found on this set): FP 30, TN 232 since, precision 0.799; the floors keep the held-out figures.
# Since issue 30 the matcher is the one account identity (partnerscope.identity), and this set
# was one of the two it was tuned on, so it is held out no more: at [registration]'s threshold
# 0.85, TP 127, FP 2, FN 8, TN 260 (precision 0.984, recall 0.941; at the identity's own 0.90,
# FP 0). The tuning after the first identity held-out set was spent (known initials and other
# scripts' names, renames, IDNA domains as typed) found 4 more: TP 131, FP 2, FN 4, TN 260
# (precision 0.985, recall 0.970), asserted as CURRENT below. That spent set and the tuning file
# are recorded in tests/test_identity_tuning.py.
CURRENT = {"tp": 131, "fp": 2, "fn": 4, "tn": 260}
MEASURED = {"tp": 119, "fp": 36, "fn": 16, "tn": 226}
MEASURED_PRECISION = MEASURED["tp"] / (MEASURED["tp"] + MEASURED["fp"])
MEASURED_RECALL = MEASURED["tp"] / (MEASURED["tp"] + MEASURED["fn"])
MEASURED_F1 = 2 * MEASURED["tp"] / (2 * MEASURED["tp"] + MEASURED["fp"] + MEASURED["fn"])
# The floors are the measured values less one standard error, sqrt(p(1-p)/n): 0.034 for
# precision over its 155 predicted matches, 0.028 for recall over its 135 positives; the larger,
# rounded up to 0.005, is the margin: 0.035. Less than that is what a set of this size cannot
# tell from noise; more is a clear loss: precision fails from 8 more false positives
# (119/163 = 0.730 < 0.733), recall from 5 fewer true positives (114/135 = 0.844 < 0.846), e.g.
# losing one country's legal forms, or an accent rule, or letting one more class of near names
# through.
MARGIN = 0.035


@dataclass(frozen=True)
class Pair:
    row: dict[str, str]
    same: bool
    predicted: bool
    score: float | None
    matched_on: str | None

    @property
    def category(self) -> str:
        return self.row["note"].split(":", 1)[0]

    def describe(self) -> str:
        r = self.row

        def side(name: str, domain: str, country: str) -> str:
            return f"{name!r} [{domain or '-'}, {country or '-'}]"

        how = f"{self.matched_on} {self.score:.3f}" if self.matched_on else "no match"
        return (
            f"{side(r['name_a'], r['domain_a'], r['country_a'])} vs "
            f"{side(r['name_b'], r['domain_b'], r['country_b'])}: {how} ({r['note']})"
        )


def _registration(match: Matcher, name: str, domain: str, country: str) -> Account:
    """Side a: what ``registrations.submit`` accepts (it refuses the rest)."""
    account = match.account(name, domain or None, country or None)
    assert account.domain is None or not says_nothing(account.domain), (
        f"{name}: submit refuses {account.domain}"
    )
    return account


def _other(match: Matcher, name: str, domain: str, country: str) -> Account:
    """Side b: a registration or a warehouse account, read as ``conflicts`` reads them."""
    try:
        return match.account(name, domain or None, country or None)
    except DomainError:
        return match.account(name, None, country or None)


def _rows() -> list[dict[str, str]]:
    with HOLDOUT.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    config = Config()  # the default settings, no person's decision
    match = Matcher(
        config.registration.similarity_threshold,
        tuple(config.registration.legal_forms),
        config.identity.rules(),
    )
    found = []
    for row in _rows():
        a = _registration(match, row["name_a"], row["domain_a"], row["country_a"])
        b = _other(match, row["name_b"], row["domain_b"], row["country_b"])
        hit = match.match(a, b)
        found.append(
            Pair(
                row=row,
                same=row["same_account"] == "1",
                predicted=hit is not None,
                score=None if hit is None else hit.score,
                matched_on=None if hit is None else str(hit.matched_on),
            )
        )
    return found


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def confusion(pairs: list[Pair]) -> dict[str, Any]:
    tp = sum(p.same and p.predicted for p in pairs)
    fp = sum(not p.same and p.predicted for p in pairs)
    fn = sum(p.same and not p.predicted for p in pairs)
    tn = sum(not p.same and not p.predicted for p in pairs)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def report(pairs: list[Pair]) -> str:
    c = confusion(pairs)
    lines = [
        f"held-out pairs: {len(pairs)} ({c['tp'] + c['fn']} same account, {c['fp'] + c['tn']} not)",
        f"TP {c['tp']}  FP {c['fp']}  FN {c['fn']}  TN {c['tn']}",
        f"precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}",
        "",
        "by category (label, category: right/total):",
    ]
    totals: Counter[tuple[bool, str]] = Counter()
    right: Counter[tuple[bool, str]] = Counter()
    for p in pairs:
        totals[p.same, p.category] += 1
        right[p.same, p.category] += p.same == p.predicted
    for key in sorted(totals, key=lambda k: (not k[0], k[1])):
        label = "same" if key[0] else "not "
        lines.append(f"  {label} {key[1]}: {right[key]}/{totals[key]}")
    lines += ["", "false negatives (same account, not matched):"]
    lines += [f"  {p.describe()}" for p in pairs if p.same and not p.predicted]
    lines += ["", "false positives (not the same account, matched):"]
    lines += [f"  {p.describe()}" for p in pairs if not p.same and p.predicted]
    return "\n".join(lines)


def test_the_held_out_set_is_as_documented() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert {r["same_account"] for r in rows} == {"0", "1"}
    positives = sum(r["same_account"] == "1" for r in rows)
    assert 0.25 <= positives / len(rows) <= 0.40, "about a third of the pairs are positives"
    assert all(":" in r["note"] and r["name_a"].strip() and r["name_b"].strip() for r in rows)
    keys = [tuple(r[c] for c in COLUMNS[:6]) for r in rows]
    assert len(set(keys)) == len(keys), "no pair twice"


def test_precision_and_recall_on_the_held_out_set(pairs: list[Pair]) -> None:
    print()
    print(report(pairs))
    c = confusion(pairs)
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == len(pairs) == sum(MEASURED.values()), (
        "the held-out set changed: it is measured as written, not edited to fit the matcher"
    )
    predicted, positives = MEASURED["tp"] + MEASURED["fp"], MEASURED["tp"] + MEASURED["fn"]
    for measured, n in ((MEASURED_PRECISION, predicted), (MEASURED_RECALL, positives)):
        assert math.sqrt(measured * (1 - measured) / n) <= MARGIN, "one standard error"
    assert c["precision"] >= MEASURED_PRECISION - MARGIN, report(pairs)
    assert c["recall"] >= MEASURED_RECALL - MARGIN, report(pairs)
    assert c["f1"] >= MEASURED_F1 - MARGIN, report(pairs)
    assert {k: c[k] for k in CURRENT} == CURRENT, report(pairs)
