"""Which date format a column of an export is written in, read from its values.

An export from a US spreadsheet writes ``3/15/2018``; a German one ``15.03.2018``. When most values
of a date column do not read as ISO dates, :func:`detect` tries the usual formats on them and
:func:`fix` says what to write in ``partnerscope.toml`` (``date_format = "%m/%d/%Y"``). Day and
month are told apart by values above 12; when no value has one, the guess says it is ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

#: date parts, most common first (a tie between two formats goes to the earlier one)
DATE_PARTS = (
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%Y.%m.%d",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
)
#: what may follow the date: nothing, or a time of day
TIME_PARTS = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", "T%H:%M:%S", "T%H:%M")
#: the formats whose day and month swap places: a value fits both unless a part is above 12
_SWAPPED = {
    "%m/%d/%Y": "%d/%m/%Y",
    "%d/%m/%Y": "%m/%d/%Y",
    "%m-%d-%Y": "%d-%m-%Y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%m/%d/%y": "%d/%m/%y",
    "%d/%m/%y": "%m/%d/%y",
}
_ORDER_WORDS = {"%m": "month", "%d": "day", "%Y": "year", "%y": "year"}
#: values tried: enough to tell formats apart, few enough to be quick on a large file
SAMPLE = 500


@dataclass(frozen=True)
class DateFormatGuess:
    """The format most of a column's values are written in."""

    format: str
    #: values of the sample that read in this format, and the sample's size
    matched: int
    tried: int
    #: the day/month-swapped format that reads every matched value too (no part above 12)
    ambiguous_with: str | None = None
    example: str = ""

    @property
    def has_time(self) -> bool:
        return "%H" in self.format or "%I" in self.format

    def order(self) -> str:
        """The date's parts in words: ``%m/%d/%Y`` → "month/day/year"."""
        date_part = self.format.split(" ")[0].split("T")[0]
        sep = next((c for c in "/.-" if c in date_part), "/")
        return sep.join(_ORDER_WORDS.get(p, p) for p in date_part.split(sep))


def _reads(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def detect(values: Iterable[str | None]) -> DateFormatGuess | None:
    """The format that reads the most of ``values`` (blanks left out), if it reads at least
    half of them; None when no usual format does."""
    sample = []
    for value in values:
        if value is None or not str(value).strip():
            continue
        sample.append(str(value).strip())
        if len(sample) >= SAMPLE:
            break
    if not sample:
        return None
    best: tuple[int, str] | None = None
    counts: dict[str, int] = {}
    for date_part in DATE_PARTS:
        for time_part in TIME_PARTS:
            fmt = date_part + time_part
            matched = sum(1 for v in sample if _reads(v, fmt))
            counts[fmt] = matched
            if matched and (best is None or matched > best[0]):
                best = (matched, fmt)
    if best is None or best[0] * 2 < len(sample):
        return None
    matched, fmt = best
    date_part = next(p for p in DATE_PARTS if fmt.startswith(p))
    ambiguous = None
    swapped = _SWAPPED.get(date_part)
    if swapped is not None:
        other = swapped + fmt[len(date_part) :]
        if counts.get(other, 0) >= matched:
            ambiguous = other
    example = next(v for v in sample if _reads(v, fmt))
    return DateFormatGuess(fmt, matched, len(sample), ambiguous, example)


def fix(
    source_name: str,
    column: str,
    guess: DateFormatGuess,
    *,
    timestamp: bool,
    column_format: str | None = None,
    timestamp_format: str | None = None,
) -> str:
    """The sentence saying what to write in partnerscope.toml for ``column`` of the source.

    A date column reads ``date_format``; a timestamp column ``timestamp_format`` or, when that
    is unset, ``date_format``; one column alone reads its mapping's ``format``, which wins over
    both (``column_format``: the one it has now; ``timestamp_format``: the source's).
    """
    said = f"values such as {guess.example!r} read as {guess.order()}" + (
        " with a time" if guess.has_time else ""
    )
    if column_format is not None:
        text = (
            f"{said}: change format = {_toml(column_format)} on columns.{column} of "
            f"[sources.{source_name}] to format = {_toml(guess.format)}"
        )
    else:
        key = (
            "timestamp_format"
            if timestamp and (guess.has_time or timestamp_format is not None)
            else "date_format"
        )
        text = (
            f"{said}: set {key} = {_toml(guess.format)} in [sources.{source_name}] "
            f"(or format = {_toml(guess.format)} on columns.{column} alone)"
        )
    if guess.ambiguous_with is not None:
        text += (
            f"; day and month are ambiguous (no value has a part above 12): if they are "
            f"written {DateFormatGuess(guess.ambiguous_with, 0, 0).order()}, use "
            f"{_toml(guess.ambiguous_with)} instead"
        )
    return text


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
