"""A scored deal's top factors in the workspace's words: the features of the largest
contributions (:func:`top_features`), each distinct sentence written once
(:func:`factor_lists`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.predict.deal_data import FEATURES, Data
from partnerscope.predict.store import FACTOR

if TYPE_CHECKING:
    from partnerscope.present import Words


class _Writer:
    """The factors' sentences in the workspace's words."""

    def __init__(self, words: Words, data: Data) -> None:
        self.words = words
        self.data = data

    def count(self, n: float, one: str, many: str) -> str:
        return f"{self.words.number(n)} {one if n == 1 else many}"

    def text(self, feature: str, value: Any, raw_rate: float, closed: float) -> str:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        match feature:
            case "amount":
                if missing:
                    return "No amount recorded"
                return f"Amount {self.words.money(value, compact=True)}"
            case "age_days":
                return f"Open for {self.count(value, 'day', 'days')}"
            case "product":
                if value < 0:
                    return "No product recorded"
                return f"Product: {self.data.values['product'][int(value)]}"
            case "attribution":
                kind = self.data.values["attribution"][int(value)] if value >= 0 else None
                if kind == "sourced":
                    return "Sourced by the partner"
                if kind == "influenced":
                    return "Influenced by the partner"
                return "No attribution recorded"
            case "mdf":
                return "Backed by an MDF activity" if value else "No MDF activity behind it"
            case "registered":
                return "A registered deal" if value else "Not a registered deal"
            case "partner_win_rate":
                if not closed or math.isnan(raw_rate):
                    return "Partner closed no deals in the last year"
                return (
                    f"Partner won {self.words.share(raw_rate, digits=0)} of the "
                    f"{self.count(closed, 'deal', 'deals')} it closed in the last year"
                )
            case "partner_closed":
                return f"Partner closed {self.count(value, 'deal', 'deals')} in the last year"
            case "partner_won_revenue":
                if not value:
                    return "Partner won no revenue in the last year"
                return f"Partner won {self.words.money(value, compact=True)} in the last year"
            case "account_won":
                if missing:
                    return "No customer account recorded"
                if not value:
                    return "The customer has not bought before"
                return f"The customer bought {self.count(value, 'time', 'times')} before"
            case "account_won_partner":
                if missing:
                    return "No customer account recorded"
                if not value:
                    return "The customer has not bought through this partner before"
                times = self.count(value, "time", "times")
                return f"The customer bought through this partner {times} before"
            case _:
                return f"Partner has {self.count(value, 'open deal', 'open deals')}"


def _shown(amount: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Amounts rounded as written compactly ($583.1K, $1.2M): one text per distinct value."""
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(
            np.abs(amount) >= 1000,
            1000.0 ** np.floor(np.log(np.maximum(np.abs(amount), 1)) / np.log(1000)),
            1.0,
        )
        return np.where(unit > 1, np.round(amount / unit, 1) * unit, np.round(amount))


def top_features(contributions: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp]:
    """n × k: each deal's ``k`` features of the largest contribution by size, largest first,
    a tie to the feature listed first (as a stable sort of the sizes, descending, would give;
    a missing contribution last) — from the features × n contributions, a pass per feature and
    factor instead of sorting every deal's features."""
    count, n = contributions.shape
    size = np.abs(contributions)
    if np.isnan(size).any():
        size[np.isnan(size)] = -0.5  # after every size, before the features already chosen
    top = np.zeros((n, k), dtype=np.intp)
    columns = np.arange(n)
    for rank in range(k):
        best = size[0].copy()
        at = np.zeros(n, dtype=np.intp)
        for index in range(1, count):
            larger = size[index] > best
            at[larger] = index
            np.maximum(best, size[index], out=best)
        top[:, rank] = at
        size[at, columns] = -1.0
    return top


def first_of_each(key: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], Any]:
    """Each distinct key's first position (in order of first appearance) and each key's code
    (its distinct key's position in that order); NaN a key of its own. A hash table instead of
    a sort."""
    import pandas as pd

    codes, _unique = pd.factorize(key, use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.intp)
    # the codes count up in order of first appearance: a new code is larger than all before
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.diff(seen, prepend=-1) > 0)
    return first, codes


def factor_lists(
    frame: dict[str, Any],
    data: Data,
    contributions: npt.NDArray[np.float64],
    count: int,
    words: Words,
) -> pa.Array:
    """The top ``count`` factors of each deal by the size of their contribution (features ×
    n); each distinct sentence written once."""
    n = len(frame["age_days"])
    k = min(count, len(FEATURES))
    top = top_features(contributions, k)
    flat = top.ravel()
    chosen = contributions[flat, np.repeat(np.arange(n), k)]
    writer = _Writer(words, data)
    # each cell: the position of its sentence among the distinct ones written
    texts = np.zeros(n * k, dtype=np.int64)
    sentences: list[str] = []
    raw = np.asarray(frame["_raw_win_rate"], dtype=np.float64)
    closed = np.asarray(frame["partner_closed"], dtype=np.float64)
    # the cells by feature (a radix sort of small codes), each feature's cells in row order
    by_feature = np.argsort(flat.astype(np.int8), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=len(FEATURES)))])
    for index, name in enumerate(FEATURES):
        cells = by_feature[bounds[index] : bounds[index + 1]]
        if not len(cells):
            continue
        rows = cells // k
        values = np.asarray(frame[name], dtype=np.float64)[rows]
        if name == "amount" or name == "partner_won_revenue":
            values = _shown(values)
        if name == "partner_win_rate":
            # the sentence reads the raw rate (in whole percent) and the count
            key = np.round(np.nan_to_num(raw[rows], nan=-1.0) * 100) * 1e9 + closed[rows]
        else:
            key = values
        first, inverse = first_of_each(key)
        rates, counts = raw[rows][first], closed[rows][first]
        texts[cells] = len(sentences) + inverse
        sentences.extend(
            writer.text(name, values[i].item(), rates[j].item(), counts[j].item())
            for j, i in enumerate(first)
        )
    struct = pa.StructArray.from_arrays(
        [
            pc.take(pa.array(FEATURES, pa.string()), pa.array(flat)),
            pc.take(pa.array(sentences, pa.string()), pa.array(texts)),
            pa.array(chosen, pa.float64()),
        ],
        fields=list(FACTOR),
    )
    offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, struct, type=pa.list_(FACTOR))


def no_skill_factors(base_rate: float | None, words: Words, n: int) -> pa.Array:
    if base_rate is None:
        text = "No deal has closed yet: there is no history to score from"
    else:
        text = (
            "The model showed no measured skill in the backtest: this is the share of deals "
            f"won ({words.share(base_rate, digits=0)})"
        )
    struct = pa.StructArray.from_arrays(
        [
            pa.array(["base_rate"] * n, pa.string()),
            pa.array([text] * n, pa.string()),
            pa.array(np.zeros(n), pa.float64()),
        ],
        fields=list(FACTOR),
    )
    offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, struct, type=pa.list_(FACTOR))
