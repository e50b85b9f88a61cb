"""The training cases of the deal model: a partner's deal at each month's start it was open,
known at an origin (closed by it), sampled by hash beyond :data:`MAX_TRAIN`; the cases of
several origins drawn in one pass (:class:`Pool`). See :mod:`partnerscope.predict.deals`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from partnerscope.predict.deal_data import Data, below_share, mix64, month_starts

#: Training cases per model at most (sampled beyond them by hash).
MAX_TRAIN = 100_000


@dataclass(frozen=True)
class Pool:
    """The training cases of several origins drawn in one pass: a deal closed by an origin
    has the same cutoffs, and so the same hashes, at every later origin whose cutoffs start at
    the same month. Holds every case of the latest origin whose hash is below the largest
    share any of the origins keeps; an origin takes those closed by it below its own share."""

    #: origin → its share of the cases (origins whose cutoffs start elsewhere are not held)
    shares: dict[int, float]
    cutoffs: npt.NDArray[np.int64]
    #: each case's deal (row), cutoff (index in ``cutoffs``) and hash; by deal, then cutoff
    deal: npt.NDArray[np.intp]
    index: npt.NDArray[np.intp]
    hashes: npt.NDArray[np.uint64]

    def cases(self, data: Data, origin: int) -> tuple[npt.NDArray[np.intp], Any, float]:
        share = self.shares[origin]
        keep = data.closed[self.deal] <= origin
        if share < 1:
            keep &= below_share(self.hashes, share)
        return self.deal[keep], self.cutoffs[self.index[keep]], share


def _case_months(
    data: Data, origin: int
) -> tuple[npt.NDArray[np.intp], Any, npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """The deals known at ``origin`` (rows), the cutoffs (the first days of the months from
    the earliest of their creations to the origin), each deal's first cutoff (the first at or
    after its creation) and its number of cutoffs (those before its close); None without."""
    known = np.flatnonzero((data.partner >= 0) & data.decided & (data.closed <= origin))
    if not len(known):
        return None
    cutoffs = month_starts(data, int(data.created[known].min()), origin)
    if not len(cutoffs):
        return None
    where = np.searchsorted(data.grid, cutoffs, side="left")
    if (where < len(data.grid)).all() and (
        data.grid[np.minimum(where, len(data.grid) - 1)] == cutoffs
    ).all():
        # the cutoffs before a time: those before its grid slot
        before = np.searchsorted(where, np.arange(len(data.grid) + 1), side="left")
        first = before[data.created_slot[known]]
        last = before[data.closed_slot[known]]
    else:
        first = np.searchsorted(cutoffs, data.created[known], side="left")
        last = np.searchsorted(cutoffs, data.closed[known], side="left")
    return known, cutoffs, first, np.maximum(last - first, 0)


def draw_pool(data: Data, origins: list[int]) -> Pool | None:
    """The cases of ``origins`` drawn at once (None when there are none)."""
    found = _case_months(data, max(origins))
    if found is None:
        return None
    known, cutoffs, first, counts = found
    closed = data.closed[known]
    shares: dict[int, float] = {}
    for origin in sorted(set(origins)):
        mine = closed <= origin
        if not mine.any():
            continue
        start = month_starts(data, int(data.created[known[mine]].min()), origin)
        if not len(start) or start[0] != cutoffs[0]:
            continue
        total = int(counts[mine].sum())
        shares[origin] = min(1.0, MAX_TRAIN / total) if total else 1.0
    if not shares:
        return None
    widest = max(shares.values())
    mixed = mix64(np.arange(len(cutoffs), dtype=np.uint64))
    # the deals by their number of cutoffs, most first: those open k months or more are a prefix
    # int16 for numpy's radix sort (month counts stay far below its bound)
    small = np.int16 if int(counts.max(initial=0)) < 32_000 else np.int64
    by_count = np.argsort(np.negative(counts).astype(small), kind="stable")
    hashes, firsts = data.hashes[known[by_count]], first[by_count]
    longer = np.bincount(counts, minlength=1)[::-1].cumsum()[::-1]  # longer[k]: counts >= k

    def month(k: int) -> tuple[Any, Any, Any]:
        """The k-th month of every deal open k months or more, those kept."""
        n = int(longer[k + 1])
        rows = by_count[:n]
        index = firsts[:n] + k
        mix = mix64(hashes[:n] ^ mixed[index])
        if widest < 1:
            keep = below_share(mix, widest)
            rows, index, mix = rows[keep], index[keep], mix[keep]
        return rows, index, mix

    # the months on two threads (numpy lets go of the lock), kept in month order
    with ThreadPoolExecutor(max_workers=2) as workers:
        months = list(workers.map(month, range(int(counts.max(initial=0)))))
    if not months:
        return None
    rows_k, index_k, hash_k = zip(*months, strict=True)
    rows, index = np.concatenate(rows_k), np.concatenate(index_k)
    order = np.lexsort((index, rows))
    return Pool(
        shares,
        cutoffs,
        known[rows[order]].astype(np.intp),
        index[order],
        np.concatenate(hash_k)[order],
    )


def training_cases(
    data: Data, origin: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], float]:
    """The (deal, cutoff) cases known at ``origin``: the partner's deal open at a month's
    first day at or before the origin and closed by the origin; sampled to :data:`MAX_TRAIN`
    by hash. Returns the deals, the cutoffs and the share kept (the cases in the order of the
    deals' rows, each deal's cutoffs in time order). Read from ``data.pool`` when it holds
    the origin (the same cases)."""
    if data.pool is not None and origin in data.pool.shares:
        return data.pool.cases(data, origin)
    empty = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64), 1.0)
    found = _case_months(data, origin)
    if found is None:
        return empty
    known, cutoffs, first, counts = found
    total = int(counts.sum())
    share = min(1.0, MAX_TRAIN / total) if total else 1.0
    mixed = mix64(np.arange(len(cutoffs), dtype=np.uint64))
    hashes = data.hashes[known]
    # the k-th month of every deal open k months or more: a pass per month of the longest deal
    chosen, months = [], []
    for k in range(int(counts.max(initial=0))):
        rows = np.flatnonzero(counts > k)
        index = first[rows] + k
        if share < 1:
            keep = below_share(mix64(hashes[rows] ^ mixed[index]), share)
            rows, index = rows[keep], index[keep]
        chosen.append(rows)
        months.append(index)
    if not chosen:
        return empty
    rows, index = np.concatenate(chosen), np.concatenate(months)
    order = np.lexsort((index, rows))
    return known[rows[order]].astype(np.intp), cutoffs[index[order]], share
