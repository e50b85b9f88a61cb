"""Small helpers that turn numpy arrays into the Arrow columns of the export files."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.demo.world import BoolArray, FloatArray, IntArray


def ids(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    """Stable ids such as ``O0000001``."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def labels(values: Sequence[str], codes: IntArray, missing: BoolArray | None = None) -> pa.Array:
    """``values[code]`` per row; null where ``missing``."""
    index = pa.array(codes, mask=missing) if missing is not None else pa.array(codes)
    return pa.array(list(values), pa.string()).take(index)


def money(values: FloatArray, missing: BoolArray | None = None) -> pa.Array:
    """Amounts with cents; blank where ``missing``."""
    return pa.array(np.round(values, 2), pa.float64(), mask=missing)


def iso_utc(seconds: IntArray, missing: BoolArray | None = None) -> pa.Array:
    """Salesforce-style UTC timestamps: 2024-01-15T09:30:00.000Z."""
    ts = pa.array(seconds, pa.timestamp("s"), mask=missing)
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S.000Z")


def timestamps(seconds: IntArray, missing: BoolArray | None = None) -> pa.Array:
    """Timestamps as a typed UTC column (Parquet)."""
    return pa.array(seconds * 1000, pa.timestamp("ms", tz="UTC"), mask=missing)


def dates(days: IntArray, missing: BoolArray | None = None, fmt: str | None = None) -> pa.Array:
    """Dates, ISO by default or with a strftime format such as ``%m/%d/%Y``."""
    column = pa.array(days.astype(np.int32), pa.date32(), mask=missing)
    return column if fmt is None else pc.strftime(column, format=fmt)


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of columns and literals."""
    scalars = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*scalars, "")
