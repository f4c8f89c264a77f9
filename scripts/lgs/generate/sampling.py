"""Drawing numbers from the calibration tables (vectorised, on a numpy Generator)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lgs.generate.calibration import CumulativeTable, FrequencyTable, Price

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolA = NDArray[np.bool_]
IntA = NDArray[np.signedinteger[Any]]

CHUNK = 1_000_000  # values drawn at a time from a cumulative table (the same numbers)


def from_cumulative(rng: np.random.Generator, size: int, table: CumulativeTable) -> I64:
    """Integers from a cumulative table; between distant grid points log-uniform."""
    if size > CHUNK:
        parts = [from_cumulative(rng, min(CHUNK, size - i), table) for i in range(0, size, CHUNK)]
        return np.concatenate(parts)
    g = np.asarray(table.at, dtype=np.float64)
    c = np.asarray(table.cumulative_share, dtype=np.float64)
    u = rng.random(size)
    k = np.minimum(np.searchsorted(c, u, side="left"), len(g) - 1)
    hi = g[k]
    lo = np.where(k > 0, g[np.maximum(k - 1, 0)], 0.0)
    c_lo = np.where(k > 0, c[np.maximum(k - 1, 0)], 0.0)
    frac = np.clip((u - c_lo) / np.maximum(c[k] - c_lo, 1e-12), 0.0, 1.0)
    val = np.exp(np.log(lo + 0.5) + frac * (np.log(hi + 0.5) - np.log(lo + 0.5)))
    out = np.clip(np.rint(val), lo + 1, hi)
    return np.where(hi - lo <= 1, hi, out).astype(np.int64)


def from_frequencies(
    rng: np.random.Generator, size: int, table: FrequencyTable, rest_hi: float = 1000.0
) -> I64:
    """Values from a frequency table; the mass outside it is log-uniform in 11..rest_hi."""
    vals = np.array(list(table.counts), dtype=np.int64)
    p = np.array(list(table.counts.values()), dtype=np.float64)
    cum = np.cumsum(p) / p.sum()
    u = rng.random(size)
    out = vals[np.minimum(np.searchsorted(cum, u / table.top_share, side="right"), len(vals) - 1)]
    rest = u >= table.top_share
    if rest.any():
        k = int(rest.sum())
        out[rest] = np.rint(np.exp(rng.uniform(math.log(11), math.log(rest_hi), k)))
    return out


def weighted_index(rng: np.random.Generator, size: int, weights: Sequence[float]) -> I64:
    """Indices drawn with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right").astype(np.int64)


def prices(rng: np.random.Generator, size: int, price: Price) -> I64:
    """Prices in mils (1/1000 pound): fixed below a penny or when sigma is 0, else
    log-normal rounded to pennies."""
    median, sigma = price
    if median < 0.01 or sigma <= 0:
        return np.full(size, round(median * 1000), dtype=np.int64)
    v = median * np.exp(sigma * rng.standard_normal(size))
    return (np.maximum(np.rint(v * 100), 1) * 10).astype(np.int64)
