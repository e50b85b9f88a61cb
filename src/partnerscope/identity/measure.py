"""How well the engine tells customers apart on a file of labelled pairs: the confusion overall
and by kind of pair (``partnerscope identity measure FILE``; docs/account-identity.md).

The file is a CSV with the columns :data:`COLUMNS` (``kind`` and ``note`` optional): each row
two accounts and whether they are the same customer (``same_account`` 1 or 0). A pair the
engine leaves to a person (review) counts as not matched in precision and recall, and is
counted apart."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from partnerscope.errors import DataFileError
from partnerscope.identity.engine import DEFAULT_RULES, Decision, Rules, Verdict, check

COLUMNS = ("name_a", "domain_a", "country_a", "name_b", "domain_b", "country_b", "same_account")


@dataclass(frozen=True)
class Outcome:
    row: int
    cells: dict[str, str]
    same: bool
    verdict: Verdict

    @property
    def kind(self) -> str:
        return self.cells.get("kind") or self.cells.get("note", "").split(":", 1)[0] or "-"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    #: pairs left to a person, of those labelled the same and of the others
    review_same: int = 0
    review_different: int = 0

    def add(self, outcome: Outcome) -> None:
        predicted = outcome.verdict.same
        if outcome.verdict.decision is Decision.REVIEW:
            if outcome.same:
                self.review_same += 1
            else:
                self.review_different += 1
        if outcome.same:
            self.tp += predicted
            self.fn += not predicted
        else:
            self.fp += predicted
            self.tn += not predicted

    @property
    def pairs(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def as_dict(self) -> dict[str, int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "review_same": self.review_same,
            "review_different": self.review_different,
        }


@dataclass
class Measurement:
    outcomes: list[Outcome]
    total: Counts = field(default_factory=Counts)
    by_kind: dict[str, Counts] = field(default_factory=dict)

    @property
    def wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.same != o.verdict.same]


def read_pairs(path: Path) -> list[dict[str, str]]:
    """The labelled pairs of a CSV file; an error names the file, row and column to fix."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DataFileError(
                    f"{path}: no column {', '.join(missing)}; the file needs the columns "
                    f"{', '.join(COLUMNS)} (kind and note are optional)"
                )
            rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not UTF-8 text; save it as CSV UTF-8") from None
    for number, row in enumerate(rows, start=2):
        if row["same_account"] not in ("0", "1"):
            raise DataFileError(
                f"{path}, row {number}, column same_account: {row['same_account']!r}; "
                "write 1 for the same customer, 0 for two"
            )
        if not row["name_a"] or not row["name_b"]:
            raise DataFileError(f"{path}, row {number}: name_a and name_b need a name each")
    return rows


def measure(path: Path, rules: Rules = DEFAULT_RULES) -> Measurement:
    rows = read_pairs(path)
    found = Measurement([])
    for number, row in enumerate(rows, start=2):
        verdict = check(
            row["name_a"],
            row["name_b"],
            domain_a=row["domain_a"] or None,
            domain_b=row["domain_b"] or None,
            country_a=row["country_a"] or None,
            country_b=row["country_b"] or None,
            rules=rules,
        )
        outcome = Outcome(number, row, row["same_account"] == "1", verdict)
        found.outcomes.append(outcome)
        found.total.add(outcome)
        found.by_kind.setdefault(outcome.kind, Counts()).add(outcome)
    return found


def kinds_in_order(found: Measurement) -> list[str]:
    counts = Counter(o.kind for o in found.outcomes)
    return sorted(counts, key=lambda k: (-counts[k], k))
