"""Each open opportunity's win probability, with its top factors, and the expected value of the
open pipeline per partner.

**Cases.** A case is a deal of a partner at a cutoff ``c`` (the first day of a month): the deal
was created at or before ``c`` and not closed by ``c`` (``closed_at`` after ``c``, or still
open). The label is whether it was won. At an origin ``o`` the model learns from the cases at
the cutoffs up to ``o`` whose outcome was known by ``o`` (closed at or before it), and nothing
else: every feature of a case is computed from the deals as they stood at its cutoff.

**Features** (point in time, at the cutoff):

- ``amount``: the deal's amount in the base currency;
- ``age_days``: days since the deal was created;
- ``product`` and ``attribution`` (sourced, influenced);
- ``mdf``: the deal names an MDF activity;
- ``registered``: the deal is a deal registration made in partnerscope (its id is
  ``REG-<n>``, see :mod:`partnerscope.operations.registrations.rows`);
- ``partner_win_rate``: the share of the partner's deals closed in the 365 days before the
  cutoff that were won, shrunk toward the portfolio's share by the number of deals
  (``(won + 10 × portfolio) / (closed + 10)``), and ``partner_closed``, that number;
- ``partner_won_revenue``: the partner's won revenue in those 365 days;
- ``account_won``: the account's deals won before the cutoff (through any partner, or direct),
  and ``account_won_partner``: those won through this partner;
- ``partner_open``: the partner's deals open at the cutoff.

**Not the stage.** The warehouse keeps each deal's latest stage only (a closed deal reads
"Closed Won" or "Closed Lost"), so a deal's stage at a past cutoff is unknown and using it
would leak the outcome into the training cases. For the same reason the amount, product and
attribution are the deal's latest values: a source that rewrites them when the deal closes
makes the backtest look better than it is.

**Model.** Gradient-boosted stumps (LightGBM with two leaves per tree: single-threaded,
seeded, deterministic), trained on the cases at the earlier cutoffs and calibrated on the later
ones (out of time: isotonic regression with 2,000 calibration cases or more, else Platt
scaling), with early stopping on the calibration cases. Stumps make the model additive: a deal's
score is a sum of one part per feature, so its factors are exact (each part minus its average
over the training cases: what LightGBM's ``pred_contrib`` gives, computed without it, which is
too slow for a million deals). At most :data:`MAX_TRAIN` cases train a model: beyond that the
cases are sampled by a hash of the opportunity id, the cutoff and the seed (the same data and
seed give the same sample, whatever the order of the rows; data after an origin cannot change
the sample at it).

**Backtest.** ``backtest_origins`` quarter starts before the data's end, the last one far
enough back for the deals open then to have closed (the 90th percentile of deal durations,
rounded up to quarters, 1 to 4). At each origin the model is trained as above and scores the
partner deals open at the origin whose outcome is known at the as-of time (at most
:data:`MAX_TEST` per origin, sampled the same way); the cases of every origin are pooled. The
base rate of each origin is the share of won cases in its training data.

**Skill.** When the backtest's Brier score is not below the base rate's (or the data cannot
support a backtest) every open deal gets the base rate as its probability, ``skill`` is false
and its one factor says the model showed no measured skill.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.predict import skill
from partnerscope.predict.store import DEALS_SCHEMA, FACTOR

if TYPE_CHECKING:
    import duckdb

    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings

#: The columns read from the warehouse's ``opportunities`` (amount as a float).
COLUMNS = (
    "opportunity_id",
    "partner_id",
    "attribution",
    "account_id",
    "product",
    "stage",
    "status",
    "amount",
    "created_at",
    "closed_at",
    "mdf_activity_id",
)
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
#: Training cases per model at most (sampled beyond), and scored backtest cases per origin.
MAX_TRAIN = 100_000
MAX_TEST = 100_000
#: Open deals scored (features, parts and factors) at a time.
SCORE_BATCH = 1_000_000
#: Fewest cases, with both outcomes, a model is trained on; fewest pooled backtest cases.
MIN_TRAIN = 200
MIN_BACKTEST = 50
#: Probabilities are kept within these bounds (a calibration step at the edge of its data would
#: otherwise say that a deal cannot be won, or cannot be lost).
CLIP = (0.01, 0.99)
#: The weight of the portfolio's win rate in a partner's (as that many deals).
PRIOR_DEALS = 10.0
YEAR = 365 * 86_400
_ATTRIBUTIONS = {"sourced": "sourced", "influenced": "influenced"}

#: The columns of :func:`expected_pipeline`'s table.
EXPECTED_SCHEMA = pa.schema(
    [
        pa.field("partner_id", pa.string(), nullable=False),
        pa.field("open_deals", pa.int64(), nullable=False),
        pa.field("open_amount", pa.float64(), nullable=False),
        #: Σ probability × amount over the partner's open deals
        pa.field("expected_value", pa.float64(), nullable=False),
        #: the partner's forecast won revenue for the next quarter (null without one)
        pa.field("forecast_next", pa.float64()),
        #: that quarter's label ("FY2027-Q1"); null without a forecast
        pa.field("label", pa.string()),
    ]
)


def snapshot(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The warehouse's opportunities as the model reads them (:data:`COLUMNS`), ordered by id,
    and each open deal's account name from the accounts table (``account_name``; null where
    the account has none, and for the closed deals, which are not scored)."""
    columns = ", ".join(
        "CAST(o.amount AS DOUBLE) AS amount" if column == "amount" else f"o.{column}"
        for column in COLUMNS
    )
    found = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'accounts'"
    ).fetchall()
    if found[0][0]:
        name = "CASE WHEN o.status = 'open' THEN a.name END"
        join = (
            "LEFT JOIN (SELECT account_id, min(name) AS name FROM accounts GROUP BY account_id) a "
            "ON a.account_id = o.account_id"
        )
    else:
        name, join = "CAST(NULL AS VARCHAR)", ""
    return con.sql(
        f"SELECT {columns}, {name} AS account_name FROM opportunities o {join} "
        "ORDER BY o.opportunity_id"
    ).to_arrow_table()


@dataclass(frozen=True)
class DealScores:
    #: :data:`~partnerscope.predict.store.DEALS_SCHEMA`: every open opportunity of a partner
    table: pa.Table
    #: the deals section of the backtest (n, auc, brier, brier_base_rate, reason, reliability,
    #: detail)
    backtest: dict[str, Any]


# ------------------------------------------------------------------------------ the data


def _seconds(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Timestamps as whole seconds since the epoch; null as int64's minimum."""
    column = pc.cast(column, pa.timestamp("us"))
    values = pc.fill_null(pc.cast(column, pa.int64()), np.iinfo(np.int64).min)
    micros = np.asarray(values.to_numpy(), dtype=np.int64)
    out: npt.NDArray[np.int64] = np.where(
        micros == np.iinfo(np.int64).min, micros, np.floor_divide(micros, 1_000_000)
    )
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


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: spreads a combination of hashes over all 64 bits (in place on a
    copy: a few passes over the array, no temporaries of its size)."""
    z = np.array(values, dtype=np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def _hashes(
    table: pa.Table, seed: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Stable 64-bit hashes (DuckDB's, independent of the rows' order and of the other rows):
    of each id and the seed, of the account and of the partner and account (0 where the account
    or the partner is null: :func:`_Data.of` keeps those apart)."""
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
        ^ _mix(np.asarray([seed], dtype=np.uint64))[0]
    )
    account = np.asarray(found["account"].to_numpy(), dtype=np.uint64)
    pair = np.asarray(found["pair"].to_numpy(), dtype=np.uint64)
    return _mix(ids), account, pair


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


def _keep(hashes: npt.NDArray[np.uint64], share: float) -> npt.NDArray[np.bool_]:
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
    """The opportunities ordered by id (as :func:`snapshot` reads them): the models see the
    same cases in the same order whatever the order of the rows given."""
    if table.num_rows < 2:
        return table
    ids = table["opportunity_id"].combine_chunks()
    if pc.all(pc.greater_equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
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
class _Data:
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
    won_accounts: _Won
    won_pairs: _Won
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
    #: the training cases of the origins to come, drawn at once (:func:`_pool`)
    pool: _Pool | None = None

    @classmethod
    def of(cls, opportunities: pa.Table, seed: int, moments: tuple[datetime, ...] = ()) -> _Data:
        """The arrays of the opportunities; features can be read at the first day of any month
        and at ``moments``."""
        table = _by_id(opportunities)
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
        created = np.where(has_created, created_raw - t0, never)
        del created_raw
        closed = np.where(decided, closed_raw - t0, never)
        del closed_raw
        won = decided & is_won
        placed = decided | is_open
        codes, _ = _encoded(table["partner_id"])
        partner = codes.astype(np.int32)
        del codes
        hashes, account, pair = _hashes(table, seed)
        has_account = _flag(pc.is_valid(table["account_id"]))
        has_pair = has_account & (partner >= 0)
        amount = np.asarray(
            pc.fill_null(pc.cast(table["amount"], pa.float64()), math.nan).to_numpy(),
            dtype=np.float64,
        )
        product, products = _encoded(table["product"])
        attribution, attributions = _encoded(table["attribution"])
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
            hashes=hashes,
            partner=partner,
            account=account,
            pair=pair,
            has_account=has_account,
            has_pair=has_pair,
            # both set once the grid is known (below)
            won_accounts=_Won.of(account[:0], won[:0], closed[:0]),
            won_pairs=_Won.of(pair[:0], won[:0], closed[:0]),
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
        data.won_accounts = _Won.of(account, won & has_account, data.closed_slot)
        data.won_pairs = _Won.of(pair, won & has_pair, data.closed_slot)
        return data

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
        months = _month_starts(self, min(starts) - 31 * 86_400, max(ends) + 31 * 86_400)
        points = np.concatenate([months, np.asarray(asked, dtype=np.int64)])
        self.grid = np.unique(np.concatenate([points, points - YEAR]))
        # each row's slot: the grid moments before its creation, and before its close
        self.created_slot = np.searchsorted(self.grid, self.created, side="left").astype(np.int32)
        self.closed_slot = np.searchsorted(self.grid, self.closed, side="left").astype(np.int32)
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


def _features(
    data: _Data, deal: npt.NDArray[np.intp], cut: npt.NDArray[np.int64]
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


def features_at(opportunities: pa.Table, at: datetime) -> Any:
    """The features (:data:`FEATURES`) of every partner deal open at ``at`` (created at or
    before it, not closed by it), as they stood then: a DataFrame by ``opportunity_id``."""
    data = _Data.of(opportunities, 0, (at,))
    moment = data.seconds(at)
    deal = data.open_at(moment)
    import pandas as pd

    frame = pd.DataFrame(_features(data, deal, np.full(len(deal), moment, dtype=np.int64)))
    for name in CATEGORICAL:
        values = np.asarray(data.values[name] + [None], dtype=object)
        frame[name] = values[frame[name].to_numpy()]
    frame.insert(0, "opportunity_id", data.ids(deal))
    return frame.drop(columns="_raw_win_rate")


# ------------------------------------------------------------------------------ the cases


def _month(moment: int, t0: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=moment + t0)


def _month_starts(data: _Data, first: int, last: int) -> npt.NDArray[np.int64]:
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


@dataclass(frozen=True)
class _Pool:
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

    def cases(self, data: _Data, origin: int) -> tuple[npt.NDArray[np.intp], Any, float]:
        share = self.shares[origin]
        keep = data.closed[self.deal] <= origin
        if share < 1:
            keep &= _keep(self.hashes, share)
        return self.deal[keep], self.cutoffs[self.index[keep]], share


def _case_months(
    data: _Data, origin: int
) -> tuple[npt.NDArray[np.intp], Any, npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """The deals known at ``origin`` (rows), the cutoffs (the first days of the months from
    the earliest of their creations to the origin), each deal's first cutoff (the first at or
    after its creation) and its number of cutoffs (those before its close); None without."""
    known = np.flatnonzero((data.partner >= 0) & data.decided & (data.closed <= origin))
    if not len(known):
        return None
    cutoffs = _month_starts(data, int(data.created[known].min()), origin)
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


def _pool(data: _Data, origins: list[int]) -> _Pool | None:
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
        start = _month_starts(data, int(data.created[known[mine]].min()), origin)
        if not len(start) or start[0] != cutoffs[0]:
            continue
        total = int(counts[mine].sum())
        shares[origin] = min(1.0, MAX_TRAIN / total) if total else 1.0
    if not shares:
        return None
    widest = max(shares.values())
    mixed = _mix(np.arange(len(cutoffs), dtype=np.uint64))
    # the deals by their number of cutoffs, most first: those open k months or more are a prefix
    # int16 for numpy's radix sort (month counts stay far below its bound)
    small = np.int16 if int(counts.max(initial=0)) < 32_000 else np.int64
    by_count = np.argsort(np.negative(counts).astype(small), kind="stable")
    hashes, firsts = data.hashes[known[by_count]], first[by_count]
    longer = np.bincount(counts, minlength=1)[::-1].cumsum()[::-1]  # longer[k]: counts >= k
    rows_k, index_k, hash_k = [], [], []
    for k in range(int(counts.max(initial=0))):
        n = int(longer[k + 1])
        rows = by_count[:n]
        index = firsts[:n] + k
        mix = _mix(hashes[:n] ^ mixed[index])
        if widest < 1:
            keep = _keep(mix, widest)
            rows, index, mix = rows[keep], index[keep], mix[keep]
        rows_k.append(rows)
        index_k.append(index)
        hash_k.append(mix)
    if not rows_k:
        return None
    rows, index = np.concatenate(rows_k), np.concatenate(index_k)
    order = np.lexsort((index, rows))
    return _Pool(
        shares,
        cutoffs,
        known[rows[order]].astype(np.intp),
        index[order],
        np.concatenate(hash_k)[order],
    )


def _training_cases(
    data: _Data, origin: int
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
    mixed = _mix(np.arange(len(cutoffs), dtype=np.uint64))
    hashes = data.hashes[known]
    # the k-th month of every deal open k months or more: a pass per month of the longest deal
    chosen, months = [], []
    for k in range(int(counts.max(initial=0))):
        rows = np.flatnonzero(counts > k)
        index = first[rows] + k
        if share < 1:
            keep = _keep(_mix(hashes[rows] ^ mixed[index]), share)
            rows, index = rows[keep], index[keep]
        chosen.append(rows)
        months.append(index)
    if not chosen:
        return empty
    rows, index = np.concatenate(chosen), np.concatenate(months)
    order = np.lexsort((index, rows))
    return known[rows[order]].astype(np.intp), cutoffs[index[order]], share


# ------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class _Steps:
    """Boosted stumps read back as one function per feature: the model is additive (each
    stump splits one feature), so a deal's score is the bias plus one part per feature and
    each part is that feature's exact contribution (its SHAP value, once centred)."""

    bias: float
    #: numeric feature → (thresholds sorted, Σ right values of the thresholds below x
    #: (cumulative, from 0), Σ left values of the thresholds from x up (cumulative, from the
    #: end), the part of a missing value, the part of a zero)
    numeric: dict[int, tuple[Any, Any, Any, float, float]]
    #: categorical feature → its part for each code (the last: none or unseen)
    categorical: dict[int, npt.NDArray[np.float64]]

    @classmethod
    def of(cls, booster: Any, categories: dict[str, list[Any]]) -> _Steps:
        bias = 0.0
        stumps: dict[int, list[tuple[Any, float, float, bool, str]]] = {}
        for tree in booster.dump_model()["tree_info"]:
            node = tree["tree_structure"]
            if "leaf_value" in node:
                bias += float(node["leaf_value"])
                continue
            left, right = node["left_child"], node["right_child"]
            stumps.setdefault(int(node["split_feature"]), []).append(
                (
                    node["threshold"],
                    float(left["leaf_value"]),
                    float(right["leaf_value"]),
                    bool(node["default_left"]),
                    str(node["missing_type"]),
                )
            )
        numeric: dict[int, tuple[Any, Any, Any, float, float]] = {}
        categorical: dict[int, npt.NDArray[np.float64]] = {}
        for index, name in enumerate(FEATURES):
            found = stumps.get(index, [])
            if name in CATEGORICAL:
                codes = np.arange(len(categories[name]) + 1)
                part = np.zeros(len(codes))
                for threshold, lv, rv, _default, _missing in found:
                    goes_left = np.isin(codes, [int(c) for c in str(threshold).split("||")])
                    part += np.where(goes_left, lv, rv)
                categorical[index] = part
                continue
            if not found:
                continue
            thresholds = np.asarray([float(f[0]) for f in found])
            order = np.argsort(thresholds, kind="stable")
            thresholds = thresholds[order]
            lefts = np.asarray([f[1] for f in found])[order]
            rights = np.asarray([f[2] for f in found])[order]
            below = np.concatenate([[0.0], np.cumsum(rights)])
            above = np.concatenate([np.cumsum(lefts[::-1])[::-1], [0.0]])
            nan_part = zero_part = 0.0
            for threshold, lv, rv, default_left, missing in found:
                t = float(threshold)
                nan_part += (
                    (lv if default_left else rv) if missing != "None" else (lv if t >= 0.0 else rv)
                )
                zero_part += (
                    (lv if default_left else rv) if missing == "Zero" else (lv if t >= 0.0 else rv)
                )
            numeric[index] = (thresholds, below, above, nan_part, zero_part)
        return cls(bias, numeric, categorical)

    def part(self, index: int, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
        """One feature's part of the score for each of the values ``x`` (None: the feature
        has no stump, its part is 0)."""
        if index in self.categorical:
            out: npt.NDArray[np.float64] = self.categorical[index][x.astype(np.intp)]
            return out
        if index not in self.numeric:
            return None
        thresholds, below, above, nan_part, zero_part = self.numeric[index]
        # the stumps with a threshold below x send it right, the others left
        k = np.searchsorted(thresholds, x, side="left")
        part = below[k] + above[k]
        part = np.where(np.isnan(x), nan_part, part)
        return np.asarray(np.where(x == 0, zero_part, part), dtype=np.float64)

    def parts(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each row's part of the score per feature (n × features)."""
        out = np.zeros(matrix.shape, dtype=np.float64)
        for index in range(matrix.shape[1]):
            part = self.part(index, matrix[:, index])
            if part is not None:
                out[:, index] = part
        return out

    def parts_by_feature(self, columns: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        """The same parts from the features' columns, feature-major (features × n: each
        feature's parts contiguous, no n × features matrix to fill column by column)."""
        n = len(columns[0]) if columns else 0
        out = np.zeros((len(columns), n), dtype=np.float64)
        for index, column in enumerate(columns):
            part = self.part(index, column)
            if part is not None:
                out[index] = part
        return out


def _row_sums(by_feature: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each deal's sum over the features of a features × n array, bit for bit as
    ``matrix.sum(axis=1)`` adds each row of the n × features matrix, without making that
    matrix: numpy's pairwise summation of a row (below eight values, in turn from 0; else
    eight running sums over the first multiple of eight values, added in pairs, then the
    remaining values in turn). ``test_row_sums_are_numpys_bit_for_bit`` holds it to numpy."""
    count, n = by_feature.shape
    out = np.zeros(n, dtype=np.float64)
    if count < 8:
        for row in by_feature:
            out += row
        return out
    sums = [by_feature[j].copy() for j in range(8)]
    i = 8
    while i < count - count % 8:
        for j in range(8):
            sums[j] += by_feature[i + j]
        i += 8
    np.add(
        (sums[0] + sums[1]) + (sums[2] + sums[3]),
        (sums[4] + sums[5]) + (sums[6] + sums[7]),
        out=out,
    )
    for j in range(i, count):
        out += by_feature[j]
    return out


@dataclass(frozen=True)
class _Model:
    booster: Any
    steps: _Steps
    #: the categories of each categorical feature, in code order (sorted)
    categories: dict[str, list[Any]]
    #: each feature's mean part over the training cases (a part minus it: the contribution)
    means: npt.NDArray[np.float64]
    #: calibration: ("isotonic", IsotonicRegression) | ("platt", (a, b)) | ("none", None)
    calibration: tuple[str, Any]
    base_rate: float
    cases: int

    def raw(self, parts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = self.steps.bias + parts.sum(axis=1)
        return out

    def probability(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        kind, fitted = self.calibration
        if kind == "isotonic":
            calibrated = np.asarray(fitted.predict(raw), dtype=np.float64)
        else:
            if kind == "platt":
                a, b = fitted
                raw = a * raw + b
            calibrated = 1.0 / (1.0 + np.exp(-raw))
        out: npt.NDArray[np.float64] = np.clip(calibrated, *CLIP)
        return out


def _columns(
    frame: dict[str, Any], data: _Data, categories: dict[str, list[Any]]
) -> list[npt.NDArray[np.float64]]:
    """The features as LightGBM reads them, a column each: a categorical one as its code
    among ``categories`` (the training cases' values, sorted), the last code for none or
    unseen."""
    columns = []
    for name in FEATURES:
        if name in CATEGORICAL:
            known = {value: code for code, value in enumerate(categories[name])}
            other = len(categories[name])
            lookup = np.asarray([known.get(v, other) for v in data.values[name]] + [other])
            columns.append(lookup[frame[name]].astype(np.float64))
        else:
            columns.append(np.asarray(frame[name], dtype=np.float64))
    return columns


def _matrix(
    frame: dict[str, Any], data: _Data, categories: dict[str, list[Any]]
) -> npt.NDArray[np.float64]:
    """The features as LightGBM reads them (:func:`_columns`), n × features."""
    return np.column_stack(_columns(frame, data, categories))


def _train(
    frame: dict[str, Any],
    data: _Data,
    label: npt.NDArray[np.bool_],
    cuts: npt.NDArray[np.int64],
    seed: int,
) -> _Model:
    """A calibrated boosted-stumps model on the cases: trained on the earlier cutoffs,
    calibrated (and stopped early) on the latest ones holding about a quarter of the cases."""
    import lightgbm as lgb

    categories = {
        name: sorted({data.values[name][c] for c in np.unique(frame[name]) if c >= 0}, key=str)
        for name in CATEGORICAL
    }
    matrix = _matrix(frame, data, categories)
    unique = np.unique(cuts)
    split = unique[-1] + 1
    for candidate in unique[::-1]:
        if np.mean(cuts >= candidate) >= 0.25:
            split = candidate
            break
    fit = cuts < split
    calibrate = ~fit
    if fit.sum() < MIN_TRAIN // 2 or len(np.unique(label[fit])) < 2:
        fit = np.ones(len(label), dtype=bool)
        calibrate = np.zeros(len(label), dtype=bool)
    params = {
        "objective": "binary",
        "learning_rate": 0.2,
        "num_leaves": 2,
        "min_data_in_leaf": 40,
        "lambda_l2": 1.0,
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "seed": seed,
        "verbosity": -1,
    }
    categorical = [FEATURES.index(name) for name in CATEGORICAL]
    train_set = lgb.Dataset(
        matrix[fit], label=label[fit].astype(np.float64), categorical_feature=categorical
    )
    can_calibrate = calibrate.sum() >= 100 and len(np.unique(label[calibrate])) == 2
    if can_calibrate:
        valid = lgb.Dataset(
            matrix[calibrate],
            label=label[calibrate].astype(np.float64),
            categorical_feature=categorical,
            reference=train_set,
        )
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=200,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(20, verbose=False)],
        )
    else:
        booster = lgb.train(params, train_set, num_boost_round=100)
    steps = _Steps.of(booster, categories)
    means = steps.parts(matrix[fit]).mean(axis=0)
    calibration: tuple[str, Any] = ("none", None)
    if can_calibrate:
        raw = steps.bias + steps.parts(matrix[calibrate]).sum(axis=1)
        y = label[calibrate].astype(np.float64)
        if calibrate.sum() >= 2000:
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(raw, y)
            calibration = ("isotonic", iso)
        else:
            from sklearn.linear_model import LogisticRegression

            platt = LogisticRegression(C=1e6)
            platt.fit(raw.reshape(-1, 1), y.astype(int))
            calibration = ("platt", (float(platt.coef_[0, 0]), float(platt.intercept_[0])))
    return _Model(booster, steps, categories, means, calibration, float(label.mean()), len(label))


def _predict(
    model: _Model, data: _Data, frame: dict[str, Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The calibrated probability of each case and each feature's contribution (log-odds of
    the uncalibrated score, relative to the training cases' average), features × n: the
    same values as ``model.steps.parts(_matrix(...)) - model.means``, transposed."""
    parts = model.steps.parts_by_feature(_columns(frame, data, model.categories))
    raw = model.steps.bias + _row_sums(parts)
    parts -= model.means[:, np.newaxis]
    return model.probability(raw), parts


def _fit_at(data: _Data, origin: int, seed: int) -> tuple[_Model | None, int, str | None]:
    """The model as it would have been trained at ``origin``; None (with the reason) when the
    cases known then are too few or all of one outcome."""
    deals, cuts, _share = _training_cases(data, origin)
    label = data.won[deals]
    if len(deals) < MIN_TRAIN:
        counted = (
            f"{len(deals):,} deal-months: a deal counts once for each month's start it was open"
        )
        return (
            None,
            len(deals),
            f"too few closed partner deals ({counted}; {MIN_TRAIN} needed)",
        )
    if label.all() or not label.any():
        outcome = "won" if label.all() else "lost"
        return None, len(deals), f"every deal known by then was {outcome}"
    frame = _features(data, deals, cuts)
    return _train(frame, data, label, cuts, seed), len(deals), None


def _quarter_starts_before(moment: datetime, count: int, lag: int) -> list[datetime]:
    """``count`` first days of calendar quarters, the latest ``lag`` quarters before the
    quarter holding ``moment`` (so at least ``lag`` quarters before ``moment``), oldest
    first."""
    quarter = datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1)
    out = []
    for back in range(lag, lag + count):
        months = quarter.year * 12 + quarter.month - 1 - 3 * back
        out.append(datetime(months // 12, months % 12 + 1, 1))
    return sorted(out)


def _lag_quarters(data: _Data) -> int:
    """How many quarters before the data's end the last backtest origin lies: the 90th
    percentile of the partner deals' durations, in quarters rounded up, 1 to 4."""
    done = (data.partner >= 0) & data.decided & (data.created != np.iinfo(np.int64).max)
    if not done.any():
        return 1
    days = float(np.percentile((data.closed[done] - data.created[done]) / 86_400, 90))
    return int(min(4, max(1, math.ceil(days / 91.3))))


def _origin_predictions(
    data: _Data, origin: datetime, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], float | None, dict[str, Any]]:
    """The deals open at a backtest origin (sampled to :data:`MAX_TEST`) and their
    probability from the model trained at the origin, with its base rate; no deals when no
    model could be trained."""
    o = data.seconds(origin)
    model, cases, reason = _fit_at(data, o, seed)
    detail: dict[str, Any] = {"origin": origin.date().isoformat(), "train_cases": cases}
    if model is None:
        detail["reason"] = reason
        return np.zeros(0, dtype=np.intp), np.zeros(0), None, detail
    open_at = data.open_at(o)
    total = len(open_at)
    share = min(1.0, MAX_TEST / total) if total else 1.0
    open_at = open_at[_keep(_mix(data.hashes[open_at] ^ np.uint64(o & 0xFFFFFFFF)), share)]
    frame = _features(data, open_at, np.full(len(open_at), o, dtype=np.int64))
    probability, _contributions = _predict(model, data, frame)
    detail["base_rate"] = model.base_rate
    return open_at, probability, model.base_rate, detail


# ------------------------------------------------------------------------------ backtest


def _origins(data: _Data, as_of: datetime, settings: PredictSettings) -> tuple[list[datetime], int]:
    """The backtest's origins and their lag (:func:`_lag_quarters`); every origin's training
    cases, and those of the final model at ``as_of``, drawn in one pass (``data.pool``)."""
    lag = _lag_quarters(data)
    origins = _quarter_starts_before(as_of, settings.backtest_origins, lag)
    moments = [*(data.seconds(origin) for origin in origins), data.seconds(as_of)]
    data.pool = _pool(data, moments)
    return origins, lag


def _backtest(
    data: _Data,
    as_of: datetime,
    settings: PredictSettings,
    progress: Callable[[str], None],
    origins: list[datetime],
    lag: int,
    workers: Executor,
) -> dict[str, Any]:
    """The pooled backtest of the origins, each fitted and scored by one of ``workers`` (a
    model per origin, single-threaded and seeded: the same results in any order)."""
    end = data.seconds(as_of)
    made = [workers.submit(_origin_predictions, data, o, settings.seed) for o in origins]
    outcomes, probabilities, rates, details = [], [], [], []
    for origin, future in zip(origins, made, strict=True):
        progress(f"deals: backtest at {origin.date().isoformat()}")
        deals, probability, base_rate, detail = future.result()
        known = data.decided[deals] & (data.closed[deals] <= end)
        detail["test_cases"] = int(known.sum())
        details.append(detail)
        if base_rate is None or not known.any():
            continue
        outcomes.append(data.won[deals][known])
        probabilities.append(probability[known])
        rates.append(np.full(int(known.sum()), base_rate))
    detail_out = {
        "origins": details,
        "lag_quarters": lag,
        "features": [f for f in FEATURES if f not in data.left_out],
        "left_out": list(data.left_out),
    }
    y = np.concatenate(outcomes) if outcomes else np.zeros(0, dtype=bool)
    none: dict[str, Any] = {
        "n": len(y),
        "auc": None,
        "brier": None,
        "brier_base_rate": None,
        "reliability": [],
        "detail": detail_out,
    }
    if len(y) < MIN_BACKTEST:
        failed = [d for d in details if d.get("reason")]
        if not len(y) and failed:
            none["reason"] = (
                f"no backtest: at the cutoff {failed[-1]['origin']}, {failed[-1]['reason']}"
            )
        else:
            none["reason"] = (
                f"only {len(y)} partner deals open at a backtest cutoff have a known outcome; "
                f"{MIN_BACKTEST} needed"
            )
        return none
    if y.all() or not y.any():
        none["reason"] = (
            f"every one of the {len(y)} partner deals scored in the backtest was "
            f"{'won' if y.all() else 'lost'}: there is nothing to tell apart"
        )
        return none
    p = np.concatenate(probabilities)
    section = skill.classifier_section(y, p)
    section["brier_base_rate"] = skill.brier(y, np.concatenate(rates))
    section["reason"] = None
    section["detail"] = detail_out
    return section


# ------------------------------------------------------------------------------ words


class _Writer:
    """The factors' sentences in the workspace's words."""

    def __init__(self, words: Words, data: _Data) -> None:
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


def _top(contributions: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp]:
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


def _first_of_each(key: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], Any]:
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


def _factors(
    frame: dict[str, Any],
    data: _Data,
    contributions: npt.NDArray[np.float64],
    count: int,
    words: Words,
) -> pa.Array:
    """The top ``count`` factors of each deal by the size of their contribution (features ×
    n); each distinct sentence written once."""
    n = len(frame["age_days"])
    k = min(count, len(FEATURES))
    top = _top(contributions, k)
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
        first, inverse = _first_of_each(key)
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


def _no_skill_factor(base_rate: float | None, words: Words, n: int) -> pa.Array:
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


# ------------------------------------------------------------------------------ scoring


def score(
    opportunities: pa.Table,
    as_of: datetime,
    settings: PredictSettings,
    words: Words,
    *,
    progress: Callable[[str], None] | None = None,
) -> DealScores:
    """Every open partner deal's win probability at ``as_of`` (naive UTC), with its top
    factors, and the deals section of the backtest. Before any deal has closed there is no base
    rate either: no deal is scored and the backtest's reason says why."""
    say = progress or (lambda _message: None)
    data = _Data.of(opportunities, settings.seed, (as_of,))
    end = data.seconds(as_of)
    origins, lag = _origins(data, as_of, settings)
    # two workers: the backtest's origins and the final fit, each model single-threaded
    with ThreadPoolExecutor(max_workers=2) as workers:
        final = workers.submit(_fit_at, data, end, settings.seed)
        backtest = _backtest(data, as_of, settings, say, origins, lag, workers)
        say("deals: training on every known outcome")
        model, _cases, reason = final.result()
    if model is None and backtest.get("reason") is None:
        backtest = {**backtest, "reason": reason}
    scored = np.flatnonzero((data.partner >= 0) & data.is_open)
    has_skill = (
        model is not None
        and backtest.get("reason") is None
        and backtest["brier"] is not None
        and backtest["brier"] < backtest["brier_base_rate"]
    )
    say(f"deals: scoring {len(scored):,} open deals")
    if has_skill and model is not None:
        # in batches: the features, their parts and the factors of a few hundred thousand deals
        # at a time (each deal's score and factors are its own: the same as all at once)
        probabilities, parts = [], []
        for start in range(0, len(scored), SCORE_BATCH):
            batch = scored[start : start + SCORE_BATCH]
            frame = _features(data, batch, np.full(len(batch), end, dtype=np.int64))
            chance, contributions = _predict(model, data, frame)
            probabilities.append(chance)
            parts.append(_factors(frame, data, contributions, settings.factors, words))
            del frame, contributions
        probability = np.concatenate(probabilities) if probabilities else np.zeros(0)
        factors: pa.Array | pa.ChunkedArray = pa.chunked_array(parts, pa.list_(FACTOR))
    else:
        base_rate = model.base_rate if model is not None else _decided_rate(data, end)
        if base_rate is None:
            scored = scored[:0]
        probability = np.full(len(scored), base_rate if base_rate is not None else math.nan)
        factors = _no_skill_factor(base_rate, words, len(scored))
    # days open at the as-of time (as the feature reads it)
    age_days = np.maximum(end - data.created[scored], 0) // 86_400
    backtest = {**backtest, "skill": bool(has_skill)}
    amount = data.amount[scored]
    rows = pa.array(scored, pa.int64())
    table = data.table
    out = pa.table(
        {
            "opportunity_id": table["opportunity_id"].take(rows),
            "partner_id": table["partner_id"].take(rows),
            "account_id": table["account_id"].take(rows),
            "account_name": (
                table["account_name"].take(rows)
                if "account_name" in table.column_names
                else pa.nulls(len(scored), pa.string())
            ),
            "product": table["product"].take(rows),
            "stage": table["stage"].take(rows),
            "amount": pa.array(amount, pa.float64(), from_pandas=True),
            "created_at": pc.cast(table["created_at"].take(rows), pa.timestamp("us")),
            "age_days": pa.array(age_days.astype(np.int32), pa.int32()),
            "probability": pa.array(probability, pa.float64()),
            "expected_value": pa.array(probability * amount, pa.float64(), from_pandas=True),
            "skill": pa.array(np.full(len(scored), has_skill), pa.bool_()),
            "factors": factors,
        }
    )
    return DealScores(out.cast(DEALS_SCHEMA), backtest)


def _decided_rate(data: _Data, end: int) -> float | None:
    done = data.decided & (data.closed <= end)
    return float(data.won[done].mean()) if done.any() else None


def expected_pipeline(deals: pa.Table, forecast: pa.Table | None) -> pa.Table:
    """Per partner with open deals: their number, amount and expected value (Σ probability ×
    amount, deals without an amount counting nothing) beside the partner's forecast won revenue
    for the next quarter (``forecast`` rows of level ``partner``, grain ``quarter``, step 1)."""
    import pandas as pd

    frame = deals.select(["partner_id", "amount", "expected_value"]).to_pandas()
    frame = frame[frame["partner_id"].notna()]
    grouped = (
        frame.groupby("partner_id", sort=True)
        .agg(
            open_deals=("amount", "size"),
            open_amount=("amount", lambda s: float(s.fillna(0).sum())),
            expected_value=("expected_value", lambda s: float(s.fillna(0).sum())),
        )
        .reset_index()
    )
    grouped["forecast_next"] = pd.Series([None] * len(grouped), dtype="float64")
    grouped["label"] = pd.Series([None] * len(grouped), dtype="object")
    if forecast is not None and forecast.num_rows:
        mask = pc.and_(
            pc.and_(pc.equal(forecast["level"], "partner"), pc.equal(forecast["grain"], "quarter")),
            pc.equal(forecast["step"], 1),
        )
        nxt = forecast.filter(mask).select(["group_key", "forecast", "label"]).to_pandas()
        nxt = nxt.drop_duplicates("group_key").set_index("group_key")
        grouped["forecast_next"] = grouped["partner_id"].map(nxt["forecast"]).astype("float64")
        grouped["label"] = grouped["partner_id"].map(nxt["label"])
    return pa.Table.from_pandas(grouped, schema=EXPECTED_SCHEMA, preserve_index=False)
