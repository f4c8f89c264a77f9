"""Which orders are cancelled, when, and by how many lines (the plan's part of the
cancellations; their lines are drawn in lines.py).

An order cancellation reverses lines of an earlier order of the same customer, after a
lag drawn from the real one (the same day, days or months later; larger cancellations
later). Some cancel orders before the data starts or not in the file ("orphans"):
their lines are the customer's products, not a copy of an order's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.sampling import F64, I64, BoolA, from_frequencies, weighted_index
from lgs.generate.trading_calendar import (
    TradingCalendar,
    minute_of_day_cdf,
    month_numbers,
    month_rates,
    real_rates,
)

# The profile's matching shortens the lags it sees (a later purchase of the same line
# is taken for the original; a price change in between loses the match): lags beyond
# STRETCH_FROM_DAYS are drawn STRETCH_FACTOR times longer than the table's, so that they
# measure as it.
STRETCH_FROM_DAYS, STRETCH_FACTOR = 7, 1.15
ORPHAN_WINDOW_DAYS = 28  # orders before the data are of customers of the first four weeks
# Cancellations of orders not in the file although in its time (bought on another
# account or invoice): the real file's C lines of 2011 with no earlier line of the
# customer at that stock code, 1.8 %.
NOT_IN_FILE_SHARE = 0.02
MAX_CANCEL_PROBABILITY = 0.9  # of one order


@dataclass
class Cancellations:
    """Order cancellations, in no particular order."""

    original: I64  # index of the original order (an orphan takes its customer)
    minute: I64
    lines: I64
    orphan: BoolA  # the original is before the data or not in the file


def lag_edges() -> I64:
    """Bin edges (days) the lags are drawn from: the table's, stretched beyond
    `STRETCH_FROM_DAYS` (a factor >= 1, so that the bins keep at least a day)."""
    edges = np.asarray(real.CANCEL_LAG_EDGES, dtype=np.int64)
    stretched = np.rint(
        STRETCH_FROM_DAYS + (edges - STRETCH_FROM_DAYS) * max(STRETCH_FACTOR, 1.0)
    ).astype(np.int64)
    return np.where(edges > STRETCH_FROM_DAYS, stretched, edges)


@functools.lru_cache(maxsize=1)
def _lag_weights() -> tuple[F64, F64]:
    """Weights of the lag bins for small and large cancellations.

    The real counts are what a window of the real span lets one see: a lag of L days
    is observed only for originals in the first span - L days (the others' cancellations
    fall after the end, or their originals before the start). Dividing by span - L gives
    the lags themselves; the generator's own window then cuts them as the real one did."""
    edges = np.asarray(real.CANCEL_LAG_EDGES, dtype=np.float64)
    seen = real.REAL_SPAN_DAYS - (edges[:-1] + edges[1:] - 1) / 2
    return (
        np.asarray(real.CANCEL_LAG_SMALL, dtype=np.float64) / seen,
        np.asarray(real.CANCEL_LAG_LARGE, dtype=np.float64) / seen,
    )


def cancel_times(
    rng: np.random.Generator,
    cal: TradingCalendar,
    orig_minute: I64,
    orig_day: I64,
    size: I64,
    force_ok: bool = False,
) -> I64:
    """Minute of the cancellation of each original (-1 when outside the data).

    The lag in whole days follows the real table for the cancellation's number of
    lines (``size``: larger ones come later). Each original weighs the lag bins by the
    trading weight of their days (weekday, hours, closures: no cancellation on a closed
    day), the table being divided by each bin's mean weight so that over all originals
    the lags are the table's; the day within the bin by its weight, the time of day by
    the hour profile (lag 0: later on the original's day). ``orig_day`` (an index into
    the calendar's days) may be negative (an original before the data); days outside
    the data weigh as a mean day, and a cancellation that falls there is -1."""
    k = len(orig_minute)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    n_days = len(cal.days)
    edges = lag_edges()
    small_w, large_w = _lag_weights()
    weight = cal.day_weight / max(float(cal.day_weight.max()), 1e-12)
    pad = int(edges[-1]) + 1
    ext = np.r_[np.full(pad, weight.mean()), weight, np.full(pad, weight.mean())]
    cw = np.r_[0.0, np.cumsum(ext)]  # cw[pad + d]: weight of the days before day d
    d0 = np.clip(orig_day, 0, n_days - 1)
    minute = np.clip(orig_minute - cal.days[d0] * 1440, 0, 1439)  # exact where orig_day >= 0
    mc = minute_of_day_cdf()
    rest = mc[cal.weekday[d0], cal.hi[d0] + 1] - mc[cal.weekday[d0], np.minimum(minute + 1, 1440)]
    can_today = (orig_day >= 0) & (minute < cal.hi[d0]) & (cal.intensity[d0] > 0) & (rest > 0)
    # mean weight of each original's bins (k x bins); lag 0 only when trading goes on
    a = np.clip(orig_day[:, None] + edges[None, :-1] + pad, 0, len(ext))
    z = np.clip(orig_day[:, None] + edges[None, 1:] + pad, 0, len(ext))
    w_bins = (cw[z] - cw[a]) / (edges[1:] - edges[:-1])[None, :]
    w_bins[:, 0] = np.where(can_today, weight[d0], 0.0)
    mean_w = w_bins.mean(axis=0)
    table = (
        np.where((size >= real.CANCEL_LARGE_LINES)[:, None], large_w[None, :], small_w[None, :])
        / np.where(mean_w > 0, mean_w, np.inf)[None, :]
    )
    cum = np.cumsum(table * w_bins, axis=1)
    b = np.minimum((cum < rng.random(k)[:, None] * cum[:, -1:]).sum(axis=1), len(edges) - 2)
    rows = np.arange(k)
    lo_c, hi_c = cw[a[rows, b]], cw[z[rows, b]]
    x = lo_c + (1.0 - rng.random(k)) * (hi_c - lo_c)
    day = np.searchsorted(cw, x, side="left") - 1 - pad
    day = np.where(b == 0, orig_day, day)
    ok = (cum[:, -1] > 0) & (day >= 0) & (day < n_days)
    out = np.full(k, -1, dtype=np.int64)
    today = np.flatnonzero(ok & (b == 0))
    if len(today):
        out[today] = cal.sample_minutes(rng, orig_day[today], after=minute[today])
    later = np.flatnonzero(ok & (b > 0))
    if len(later):
        out[later] = cal.sample_minutes(rng, day[later])
    out = np.where(out > orig_minute, out, -1)
    if force_ok:
        still = (out < 0) & (orig_minute + 1 <= cal.end_min)
        out[still] = orig_minute[still] + 1
    return out


def draw_cancellations(
    rng: np.random.Generator,
    cal: TradingCalendar,
    minute: I64,
    day: I64,
    is_order: BoolA,
    product_lines: I64,
    cancels_per_order: F64,
) -> Cancellations:
    """The order cancellations of a plan's orders (``minute``, calendar ``day``,
    ``product_lines`` per invoice; ``cancels_per_order`` of each invoice's month).

    Larger orders are cancelled more often; each cancellation reverses up to its
    original's product lines. Then the orphans: cancellations of orders placed before
    the data starts, at the rate of their months (the real file starts after the
    November peak), each of a customer of the first weeks and cancelled after its own
    lag, and a few of orders not in the file."""
    size_w = np.minimum(product_lines, 80).astype(np.float64) ** 0.75
    size_w = size_w / max(float(size_w[is_order].mean()) if is_order.any() else 1.0, 1e-9)
    p_cancel = np.minimum(cancels_per_order * size_w, MAX_CANCEL_PROBABILITY) * is_order
    chosen = rng.random(len(minute)) < p_cancel
    if not chosen.any() and is_order.any():
        chosen[int(rng.choice(np.flatnonzero(is_order)))] = True
    originals = np.flatnonzero(chosen)

    def sizes(origs: I64) -> I64:
        size = from_frequencies(rng, len(origs), real.LINES_PER_ORDER_CANCEL)
        return np.maximum(np.minimum(size, product_lines[origs]), 1)

    lines = sizes(originals)
    at = cancel_times(rng, cal, minute[originals], day[originals], lines)
    ok = at >= 0
    if not ok.any() and len(originals):  # tiny files: take the earliest order
        originals = np.flatnonzero(is_order)[:1]
        lines = sizes(originals)
        at = cancel_times(rng, cal, minute[originals], day[originals], lines, force_ok=True)
        ok = at >= 0
    originals, at, lines = originals[ok], at[ok], lines[ok]
    donors, o_at, o_lines = _orders_before_the_data(rng, cal, chosen, day, sizes)
    orphan = np.r_[rng.random(len(originals)) < NOT_IN_FILE_SHARE, np.ones(len(donors), bool)]
    return Cancellations(
        original=np.r_[originals, donors],
        minute=np.r_[at, o_at],
        lines=np.r_[lines, o_lines],
        orphan=orphan,
    )


def _orders_before_the_data(
    rng: np.random.Generator,
    cal: TradingCalendar,
    chosen: BoolA,
    day: I64,
    sizes: Callable[[I64], I64],
) -> tuple[I64, I64, I64]:
    """Cancellations in the data of orders placed in the lag table's span before it:
    (donor order whose customer each takes, minute, lines)."""
    _, weekday_factor, _ = real_rates()
    back_days = int(lag_edges()[-1])
    start_min, end_min = cal.start_min, cal.end_min
    before_min = start_min - back_days * 1440
    before_rates = month_rates(month_numbers(before_min, start_min - 1))
    before = TradingCalendar(before_min, start_min - 1, before_rates, weekday_factor)
    in_rates = month_rates(month_numbers(start_min, end_min))
    rate_ratio = np.mean([before_rates[m] for m in before.month.tolist()]) / np.mean(
        [in_rates[m] for m in cal.month.tolist()]
    )
    per_day = float(chosen.sum()) / max((end_min - start_min + 1) / 1440.0, 1.0)
    n_before = int(rng.poisson(per_day * len(before.days) * rate_ratio))
    donors = np.flatnonzero(chosen & (day < min(ORPHAN_WINDOW_DAYS, len(cal.days))))
    if not len(donors):
        n_before = 0
    src = donors[rng.integers(0, max(len(donors), 1), n_before)]
    o_day = before.days[weighted_index(rng, n_before, before.intensity)] - cal.day0  # < 0
    o_lines = sizes(src)
    o_at = cancel_times(rng, cal, (cal.day0 + o_day) * 1440, o_day, o_lines)
    ok = o_at >= 0
    return src[ok], o_at[ok], o_lines[ok]
