"""The opportunities as the deal model reads them: arrays ordered by id, each partner's deals
counted as of every month's start, the won deals of each account and partner × account, and the
point-in-time features of a deal at a cutoff (:func:`case_features`). The features and why the
stage is not one: :mod:`partnerscope.predict.deals`."""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from partnerscope.predict.deal_cases import Pool


FEATURES = (
    "amount",
    "age_days",
    "product",
    "attribution",
    "mdf",
    "registered",
    "partner_win_rate",
    "partner_closed",
    "partner_won_revenue",
    "account_won",
    "account_won_partner",
    "partner_open",
)


CATEGORICAL = ("product", "attribution")


#: The weight of the portfolio's win rate in a partner's (as that many deals).
PRIOR_DEALS = 10.0


YEAR = 365 * 86_400


def _seconds(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Timestamps as whole seconds since the epoch; null as int64's minimum."""
    column = pc.cast(column, pa.timestamp("us"))
    values = pc.fill_null(pc.cast(column, pa.int64()), np.iinfo(np.int64).min)
    micros = np.asarray(values.to_numpy(), dtype=np.int64)
    out: npt.NDArray[np.int64] = np.floor_divide(micros, 1_000_000)
    out[micros == np.iinfo(np.int64).min] = np.iinfo(np.int64).min
    return out


def _encoded(column: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """One integer per distinct value (-1 for null) and the values in code order."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
    return codes, encoded.dictionary.to_pylist()


def _flag(array: Any) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: spreads a combination of hashes over all 64 bits (in place on a
    copy: a few passes over the array, one scratch array of its size)."""
    z = np.array(values, dtype=np.uint64, copy=True)
    shifted = np.empty_like(z)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z ^= np.right_shift(z, np.uint64(30), out=shifted)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= np.right_shift(z, np.uint64(27), out=shifted)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= np.right_shift(z, np.uint64(31), out=shifted)
    return z


def _hashes(
    table: pa.Table, seed: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Stable 64-bit hashes (DuckDB's, independent of the rows' order and of the other rows):
    of each id and the seed, of the account and of the partner and account (0 where the account
    or the partner is null: :func:`Data.of` keeps those apart)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("o", table.select(["opportunity_id", "partner_id", "account_id"]))
        found = con.sql(
            "SELECT hash(opportunity_id) AS id, "
            "CASE WHEN account_id IS NOT NULL THEN hash(account_id) ELSE 0 END AS account, "
            "CASE WHEN account_id IS NOT NULL AND partner_id IS NOT NULL "
            "THEN hash(partner_id, account_id) ELSE 0 END AS pair FROM o"
        ).to_arrow_table()
    finally:
        con.close()
    ids = (
        np.asarray(found["id"].to_numpy(), dtype=np.uint64)
        ^ mix64(np.asarray([seed], dtype=np.uint64))[0]
    )
    account = np.asarray(found["account"].to_numpy(), dtype=np.uint64)
    pair = np.asarray(found["pair"].to_numpy(), dtype=np.uint64)
    return mix64(ids), account, pair


@dataclass(frozen=True)
class _Won:
    """The won deals of one kind of identity (the account, or the partner × account pair):
    their identities coded once, and each one's close time, to count as of any cutoffs."""

    #: the identities (hashes) of the won deals, as an index: a hash's position is its code
    index: Any
    #: each won deal's code, and the grid moments before its close (the grid's first moment
    #: at or after it)
    code: npt.NDArray[np.int64]
    slot: npt.NDArray[np.int32]

    @classmethod
    def of(cls, hashes: npt.NDArray[np.uint64], rows: npt.NDArray[np.bool_], slot: Any) -> _Won:
        """The won deals ``rows`` with their identities and their close's grid slot."""
        import pandas as pd

        codes, unique = pd.factorize(hashes[rows])
        slot = slot[rows]
        index = pd.Index(unique)
        index.get_indexer(unique[:1])  # its hash table built here, before any worker reads it
        return cls(index, np.asarray(codes, dtype=np.int64), slot)

    def before(
        self, hashes: npt.NDArray[np.uint64], cut: npt.NDArray[np.int64], grid: Any
    ) -> npt.NDArray[np.int64]:
        """For each (identity, cutoff): the won deals of that identity closed at or before the
        cutoff (a moment of ``grid``). The identities asked for are coded among the won deals'
        (hash table), the won deals counted by the asked identity and cutoff in one pass (no
        search per deal)."""
        code = np.asarray(self.index.get_indexer(hashes), dtype=np.int64)
        out = np.zeros(len(code), dtype=np.int64)
        if not len(code) or not len(self.code):
            return out
        if _same(cut):
            # one cutoff for all (the open deals at a moment): no sort
            cuts, at = cut[:1], np.zeros(len(cut), dtype=np.intp)
        else:
            cuts, at = np.unique(cut, return_inverse=True)
            at = at.ravel()
        need = np.zeros(len(self.index), dtype=bool)
        need[code[code >= 0]] = True
        local = np.cumsum(need) - 1
        chosen = need[self.code]
        width = len(cuts) + 1
        # the first cutoff at or after each close (counted from that cutoff on): the cutoffs
        # before it are those before its first grid moment at or after it
        before_slot = np.searchsorted(
            np.searchsorted(grid, cuts), np.arange(len(grid) + 1), side="left"
        )
        bucket = before_slot[self.slot[chosen]]
        counts = np.bincount(
            local[self.code[chosen]] * width + bucket, minlength=int(need.sum()) * width
        ).reshape(-1, width)
        counts = np.cumsum(counts, axis=1)
        has = code >= 0
        out[has] = counts[local[code[has]], at[has]]
        return out


def _same(values: npt.NDArray[Any]) -> bool:
    """Whether every value is the first (and there is one)."""
    return len(values) > 0 and bool((values == values[0]).all())


def below_share(hashes: npt.NDArray[np.uint64], share: float) -> npt.NDArray[np.bool_]:
    if share >= 1:
        return np.ones(len(hashes), dtype=bool)
    return np.asarray(hashes < np.uint64(int(share * 2.0**64)), dtype=bool)


#: A field is known only at close when the open deals hold it less than this share as often as
#: the closed ones, or its presence differs between won and lost deals by more than this.
CLOSING_GAP = 0.5


def _closing_fields(
    present: dict[str, npt.NDArray[np.bool_]],
    is_open: npt.NDArray[np.bool_],
    won: npt.NDArray[np.bool_],
    lost: npt.NDArray[np.bool_],
) -> tuple[str, ...]:
    """The fields the source fills in only when a deal closes, or only for one outcome (Maven's
    export records a deal's value when it is won and 0 when it is lost, none while it is open):
    as features they would tell the model the outcome, so they are left out."""

    def share(mask: npt.NDArray[np.bool_], rows: npt.NDArray[np.bool_]) -> float | None:
        total = np.count_nonzero(rows)
        return np.count_nonzero(mask & rows) / total if total else None

    closed_rows = won | lost
    out = []
    for name, mask in present.items():
        closed, opened = share(mask, closed_rows), share(mask, is_open)
        on_won, on_lost = share(mask, won), share(mask, lost)
        late = closed is not None and opened is not None and opened < CLOSING_GAP * closed
        one_sided = (
            on_won is not None and on_lost is not None and abs(on_won - on_lost) > CLOSING_GAP
        )
        if late or one_sided:
            out.append(name)
    return tuple(out)


def _by_id(table: pa.Table) -> pa.Table:
    """The opportunities ordered by id (as :func:`~partnerscope.predict.deals.snapshot` reads
    them): the models see the same cases in the same order whatever the order of the rows
    given."""
    if table.num_rows < 2:
        return table
    # every id against the one before it, chunk by chunk and across the chunks' edges (no copy
    # of the ids into one array)
    chunks = [chunk for chunk in table["opportunity_id"].chunks if len(chunk)]
    pairs = [pc.greater_equal(c.slice(1), c.slice(0, len(c) - 1)) for c in chunks if len(c) > 1]
    if len(chunks) > 1:
        firsts = pa.concat_arrays([c.slice(0, 1) for c in chunks[1:]])
        lasts = pa.concat_arrays([c.slice(len(c) - 1, 1) for c in chunks[:-1]])
        pairs.append(pc.greater_equal(firsts, lasts))
    if pc.all(pa.chunked_array(pairs, pa.bool_())).as_py():
        return table
    return table.sort_by("opportunity_id")


def _cumulative(
    keys: npt.NDArray[np.int64],
    partners: int,
    width: int,
    weights: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.int64]:
    """partners × width: the rows of each partner in buckets 0 … j (a row's key: its partner ×
    (width + 1) + its bucket, the first grid moment at or after the row's time; the bucket
    ``width``: after the whole grid)."""
    counts = np.bincount(keys, weights, minlength=partners * (width + 1))
    if weights is not None:
        counts = np.rint(counts)  # whole cents: the float sums are exact below 2⁵³
    table = counts.astype(np.int64).reshape(partners, width + 1)
    out: npt.NDArray[np.int64] = np.cumsum(table, axis=1)[:, :width]
    return out


@dataclass
class Data:
    """The opportunities as arrays, with each partner's deals counted as of every moment the
    features are read at (the grid: the first day of every month the data spans, the moments
    asked for, and each of these a year earlier), and the won deals of each account and
    partner × account to count as of any cutoff."""

    #: the opportunities, ordered by id (the arrays' rows)
    table: pa.Table
    hashes: npt.NDArray[np.uint64]
    partner: npt.NDArray[np.int32]
    #: hashes of the account and of partner × account (valid only where ``has_account`` /
    #: ``has_pair``), and the won deals of each
    account: npt.NDArray[np.uint64]
    pair: npt.NDArray[np.uint64]
    has_account: npt.NDArray[np.bool_]
    has_pair: npt.NDArray[np.bool_]
    #: the won deals of each account and pair (:attr:`won_accounts`, :attr:`won_pairs`),
    #: built on workers while the caller goes on (the training cases need none of them)
    won_made: dict[str, Future[_Won]]
    created: npt.NDArray[np.int64]
    #: closed time; int64 max while open (or closed at an unknown time)
    closed: npt.NDArray[np.int64]
    won: npt.NDArray[np.bool_]
    #: won or lost with a close time: the outcome is known from ``closed`` on
    decided: npt.NDArray[np.bool_]
    #: open, or decided: a deal won or lost at an unknown time is left out (never open)
    placed: npt.NDArray[np.bool_]
    is_open: npt.NDArray[np.bool_]
    amount: npt.NDArray[np.float64]
    #: product and attribution codes (-1: none), with the values of the codes
    product: npt.NDArray[np.int32]
    attribution: npt.NDArray[np.int32]
    values: dict[str, list[Any]]
    mdf: npt.NDArray[np.bool_]
    registered: npt.NDArray[np.bool_]
    t0: int
    #: the fields a deal carries only once it is closed, left out of the features
    #: (:func:`_closing_fields`)
    left_out: tuple[str, ...]
    #: the moments the partners' counts are kept at (seconds since ``t0``, sorted)
    grid: npt.NDArray[np.int64]
    #: partner × grid moment: the partner's deals decided (closed), won, won in whole cents,
    #: and created (placed) at or before the moment
    closed_by: npt.NDArray[np.int64]
    won_by: npt.NDArray[np.int64]
    cents_by: npt.NDArray[np.int64]
    created_by: npt.NDArray[np.int64]
    #: each row's grid slot (the grid moments before its creation, and before its close)
    created_slot: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    closed_slot: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    #: the training cases of the origins to come, drawn at once
    #: (:func:`~partnerscope.predict.deal_cases.draw_pool`)
    pool: Pool | None = None

    @classmethod
    def of(cls, opportunities: pa.Table, seed: int, moments: tuple[datetime, ...] = ()) -> Data:
        """The arrays of the opportunities; features can be read at the first day of any month
        and at ``moments``."""
        table = _by_id(opportunities)
        # DuckDB's hashes and Arrow's codes on two workers while the times and flags are read
        # here (each lets go of the interpreter's lock)
        workers = ThreadPoolExecutor(max_workers=2)
        hashing = workers.submit(_hashes, table, seed)
        coding = workers.submit(_encoded, table["partner_id"])
        products_coding = workers.submit(_encoded, table["product"])
        attributions_coding = workers.submit(_encoded, table["attribution"])
        workers.shutdown(wait=False)
        created_raw = _seconds(table["created_at"])
        closed_raw = _seconds(table["closed_at"])
        missing = np.iinfo(np.int64).min
        never = np.iinfo(np.int64).max
        status = table["status"]
        is_won = _flag(pc.equal(status, "won"))
        is_open = _flag(pc.equal(status, "open"))
        known_close = closed_raw != missing
        decided = known_close & (is_won | _flag(pc.equal(status, "lost")))
        has_created = created_raw != missing
        first_created = created_raw[has_created].min() if has_created.any() else None
        first_closed = closed_raw[decided].min() if decided.any() else None
        firsts = [int(t) for t in (first_created, first_closed) if t is not None]
        t0 = min(firsts) if firsts else 0
        # in place (the raw seconds are this call's own arrays): no new arrays of 8 bytes a row
        created = created_raw
        created -= t0
        created[~has_created] = never
        closed = closed_raw
        closed -= t0
        closed[~decided] = never
        del created_raw, closed_raw
        won = decided & is_won
        placed = decided | is_open
        codes, _ = coding.result()
        partner = codes.astype(np.int32)
        del codes
        has_account = _flag(pc.is_valid(table["account_id"]))
        has_pair = has_account & (partner >= 0)
        amount = np.asarray(
            pc.fill_null(pc.cast(table["amount"], pa.float64()), math.nan).to_numpy(),
            dtype=np.float64,
        )
        product, products = products_coding.result()
        attribution, attributions = attributions_coding.result()
        registered = _flag(pc.starts_with(table["opportunity_id"], "REG-"))
        lost = decided & ~is_won
        left_out = _closing_fields(
            {
                "amount": ~np.isnan(amount) & (amount > 0),
                "product": product >= 0,
                "attribution": attribution >= 0,
            },
            is_open,
            won,
            lost,
        )
        mdf = _flag(pc.is_valid(table["mdf_activity_id"]))
        data = cls(
            table=table,
            # the hashes once DuckDB has them (below): the partners' counts need none
            hashes=np.zeros(0, dtype=np.uint64),
            partner=partner,
            account=np.zeros(0, dtype=np.uint64),
            pair=np.zeros(0, dtype=np.uint64),
            has_account=has_account,
            has_pair=has_pair,
            won_made={},  # once the grid is known (below)
            created=created,
            closed=closed,
            won=won,
            decided=decided,
            placed=placed,
            is_open=is_open,
            amount=amount,
            product=product.astype(np.int32),
            attribution=attribution.astype(np.int32),
            values={"product": products, "attribution": attributions},
            mdf=mdf,
            registered=registered,
            t0=t0,
            left_out=left_out,
            grid=np.zeros(0, dtype=np.int64),
            closed_by=np.zeros((0, 0), dtype=np.int64),
            won_by=np.zeros((0, 0), dtype=np.int64),
            cents_by=np.zeros((0, 0), dtype=np.int64),
            created_by=np.zeros((0, 0), dtype=np.int64),
        )
        data._count_partners(moments)
        data.hashes, account, pair = hashing.result()
        data.account, data.pair = account, pair
        workers = ThreadPoolExecutor(max_workers=2)
        data.won_made = {
            "accounts": workers.submit(_Won.of, account, won & has_account, data.closed_slot),
            "pairs": workers.submit(_Won.of, pair, won & has_pair, data.closed_slot),
        }
        workers.shutdown(wait=False)
        return data

    @property
    def won_accounts(self) -> _Won:
        return self.won_made["accounts"].result()

    @property
    def won_pairs(self) -> _Won:
        return self.won_made["pairs"].result()

    def _count_partners(self, moments: tuple[datetime, ...]) -> None:
        """The partners' counts as of every grid moment: the first day of each month from the
        data's first to the one after its last time (or the last moment asked for), the
        moments, and each of these a year earlier (the last year's window)."""
        asked = [self.seconds(m) for m in moments]
        never = np.iinfo(np.int64).max
        ends = [int(self.created[self.created != never].max(initial=0)), *asked]
        if self.decided.any():
            ends.append(int(self.closed[self.decided].max()))
        starts = [0, *asked]
        months = month_starts(self, min(starts) - 31 * 86_400, max(ends) + 31 * 86_400)
        points = np.concatenate([months, np.asarray(asked, dtype=np.int64)])
        self.grid = np.unique(np.concatenate([points, points - YEAR]))
        # each row's slot: the grid moments before its creation, and before its close
        with ThreadPoolExecutor(max_workers=1) as worker:
            closing = worker.submit(np.searchsorted, self.grid, self.closed, side="left")
            self.created_slot = np.searchsorted(self.grid, self.created, side="left").astype(
                np.int32
            )
            self.closed_slot = closing.result().astype(np.int32)
        width, partners = len(self.grid), int(self.partner.max(initial=-1)) + 1
        of_partner = np.flatnonzero((self.partner >= 0) & self.decided)
        keys = self.partner[of_partner].astype(np.int64)
        keys *= width + 1
        keys += self.closed_slot[of_partner]
        self.closed_by = _cumulative(keys, partners, width)
        won = of_partner[self.won[of_partner]]
        keys = keys[self.won[of_partner]]
        self.won_by = _cumulative(keys, partners, width)
        # in whole cents, so that a window's sum is exact whatever else the table holds
        cents = np.round(np.nan_to_num(self.amount[won]) * 100)
        self.cents_by = _cumulative(keys, partners, width, cents)
        del keys, won, of_partner, cents
        has_partner = np.flatnonzero((self.partner >= 0) & self.placed & (self.created != never))
        keys = self.partner[has_partner].astype(np.int64)
        keys *= width + 1
        keys += self.created_slot[has_partner]
        self.created_by = _cumulative(keys, partners, width)

    def at(self, cut: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """Each cutoff's position in the grid (a cutoff off the grid is a programming error)."""
        where = np.searchsorted(self.grid, cut, side="left")
        inside = where < len(self.grid)
        if not (inside.all() and (self.grid[where[inside]] == cut[inside]).all()):
            raise ValueError("a deal's features were asked at a moment off the grid")
        return where

    def seconds(self, moment: datetime) -> int:
        return int((moment - datetime(1970, 1, 1)).total_seconds()) - self.t0

    def open_at(self, moment: int) -> npt.NDArray[np.intp]:
        """The partner deals open at ``moment``: created at or before it, not closed by it."""
        return np.flatnonzero(
            (self.partner >= 0) & self.placed & (self.created <= moment) & (self.closed > moment)
        )

    def ids(self, rows: npt.NDArray[np.intp]) -> list[str]:
        return list(self.table["opportunity_id"].take(pa.array(rows, pa.int64())).to_pylist())


def case_features(
    data: Data, deal: npt.NDArray[np.intp], cut: npt.NDArray[np.int64]
) -> dict[str, Any]:
    """The point-in-time features of each deal at its cutoff (seconds since ``t0``, on the
    data's grid), as columns (:data:`FEATURES`, the categorical ones as codes of
    ``data.values``, plus the raw win rate for the words)."""
    partner = data.partner[deal]
    hi: Any
    lo: Any
    if _same(cut):
        # one cutoff for all (the open deals at a moment): each count read from the partners'
        # column at that moment, not a cell per deal from the partner × moment table
        hi, lo = int(data.at(cut[:1])[0]), int(data.at(cut[:1] - YEAR)[0])
    else:
        hi, lo = data.at(cut), data.at(cut - YEAR)

    def read(table: npt.NDArray[np.int64], where: Any) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = (
            table[:, where][partner] if isinstance(where, int) else table[partner, where]
        )
        return out

    closed_n = (read(data.closed_by, hi) - read(data.closed_by, lo)).astype(np.float64)
    won_n = (read(data.won_by, hi) - read(data.won_by, lo)).astype(np.float64)
    revenue = (read(data.cents_by, hi) - read(data.cents_by, lo)) / 100.0
    every_closed, every_won = data.closed_by.sum(axis=0), data.won_by.sum(axis=0)
    all_n = np.asarray(every_closed[hi] - every_closed[lo]).astype(np.float64)
    all_won = np.asarray(every_won[hi] - every_won[lo]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        portfolio = np.where(all_n > 0, all_won / np.maximum(all_n, 1), np.nan)
        shrunk = (won_n + PRIOR_DEALS * portfolio) / (closed_n + PRIOR_DEALS)
        raw = np.where(closed_n > 0, won_n / np.maximum(closed_n, 1), np.nan)
    open_n = read(data.created_by, hi) - read(data.closed_by, hi)
    won_before = data.won_accounts.before(data.account[deal], cut, data.grid).astype(np.float64)
    account_won = np.where(data.has_account[deal], won_before, np.nan)
    won_before = data.won_pairs.before(data.pair[deal], cut, data.grid).astype(np.float64)
    pair_won = np.where(data.has_pair[deal], won_before, np.nan)
    age = np.maximum(cut - data.created[deal], 0) // 86_400
    gone = data.left_out
    return {
        "amount": np.full(len(deal), np.nan) if "amount" in gone else data.amount[deal],
        "age_days": age.astype(np.float64),
        "product": (
            np.full(len(deal), -1) if "product" in gone else data.product[deal].astype(np.int64)
        ),
        "attribution": (
            np.full(len(deal), -1)
            if "attribution" in gone
            else data.attribution[deal].astype(np.int64)
        ),
        "mdf": data.mdf[deal].astype(np.float64),
        "registered": data.registered[deal].astype(np.float64),
        "partner_win_rate": shrunk,
        "partner_closed": closed_n,
        "partner_won_revenue": revenue,
        "account_won": account_won,
        "account_won_partner": pair_won,
        "partner_open": open_n.astype(np.float64),
        "_raw_win_rate": raw,
    }


def _month(moment: int, t0: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=moment + t0)


def month_starts(data: Data, first: int, last: int) -> npt.NDArray[np.int64]:
    """The first days of the months from the one holding ``first`` to ``last`` (seconds since
    ``t0``), each at or before ``last``."""
    start = _month(first, data.t0).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    while True:
        moment = data.seconds(start)
        if moment > last:
            break
        if moment >= first:
            out.append(moment)
        start = (start + timedelta(days=32)).replace(day=1)
    return np.asarray(out, dtype=np.int64)
