"""When the shop trades: days, closures, hours, the invoice rate of each month, and the
windows where the file's extracts overlap.

Times are whole minutes since 1970 (int64), days are day numbers since 1970, months are
month numbers since 1970-01.
"""

from __future__ import annotations

import functools

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.sampling import F64, I64, BoolA


def parse_minutes(text: str, *, end: bool = False) -> int:
    """Minutes since 1970 of ``YYYY-MM-DD[ HH:MM[:SS]]``; a bare date as ``end`` is its
    last minute."""
    s = text.strip().replace("T", " ")
    value = int(np.datetime64(s.replace(" ", "T"), "m").astype(np.int64))
    if end and len(s) <= 10:
        value += 1439
    return value


def month_numbers(start_min: int, end_min: int) -> list[int]:
    """Month numbers from the month of start_min to end_min's."""
    first, last = (
        int(np.datetime64(v, "m").astype("datetime64[M]").astype(np.int64))
        for v in (start_min, end_min)
    )
    return list(range(first, last + 1))


def easter_sunday(year: int) -> int:
    """Day number of Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month = (h + ll - 7 * m + 114) // 31
    day = (h + ll - 7 * m + 114) % 31 + 1
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def closed_days(days: I64) -> BoolA:
    """UK shop closures seen in the real data: Christmas to New Year, bank holidays."""
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]").astype(np.int64)
    year = months // 12 + 1970
    month = months % 12 + 1
    dom = (d64 - d64.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    wd = (days + 3) % 7
    md = month * 100 + dom
    closed = (md >= 1224) | (md == 101)
    jan1_wd = (days - dom + 1 + 3) % 7  # weekday of the 1st of the month
    closed |= ((md == 102) | (md == 103)) & (wd == 6)
    closed |= (wd == 0) & (((md == 103) & (jan1_wd == 5)) | ((md == 102) & (jan1_wd == 6)))
    closed |= (month == 5) & (wd == 0) & ((dom <= 7) | (dom >= 25))
    closed |= (month == 8) & (wd == 0) & (dom >= 25)
    for y in np.unique(year).tolist():
        e = easter_sunday(int(y))
        closed |= (days == e - 2) | (days == e) | (days == e + 1)
    closed |= days == int(np.datetime64("2011-04-29", "D").astype(np.int64))
    return closed


@functools.lru_cache(maxsize=1)
def minute_of_day_cdf() -> F64:
    """Per weekday the cumulative share of invoices by minute of day (7 x 1441)."""
    out = np.zeros((7, 1441))
    for w, hours in enumerate(real.INVOICES_BY_WEEKDAY_HOUR):
        per_min = np.zeros(1440)
        for i, cnt in enumerate(hours):
            h = real.FIRST_HOUR + i
            per_min[h * 60 : (h + 1) * 60] = cnt / 60.0
        out[w, 1:] = np.cumsum(per_min) / per_min.sum()
    return out


class TradingCalendar:
    """The days from ``start_min`` to ``end_min`` with their trading weight.

    ``open_weight``: the share of a day's trading hours inside the range, 0 on closed
    days, tapering in December. With month ``rates`` (invoices per weighted day) and
    weekday factors, ``intensity`` is the expected invoices of each day and
    ``day_weight`` the same without the month's rate."""

    def __init__(
        self,
        start_min: int,
        end_min: int,
        rates: dict[int, float] | None = None,
        weekday_factor: F64 | None = None,
    ) -> None:
        self.start_min, self.end_min = start_min, end_min
        self.day0 = start_min // 1440
        self.days = np.arange(self.day0, end_min // 1440 + 1, dtype=np.int64)
        self.weekday = (self.days + 3) % 7
        self.month = self.days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.closed = closed_days(self.days)
        self.lo = np.maximum(start_min - self.days * 1440, 0)  # first minute of day inside
        self.hi = np.minimum(end_min - self.days * 1440, 1439)  # last minute of day inside
        mc = minute_of_day_cdf()
        self.coverage = mc[self.weekday, self.hi + 1] - mc[self.weekday, self.lo]
        # December trade tails off in the week before the Christmas closure.
        first = self.days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
        dom = self.days - first.astype(np.int64) + 1
        december = (self.month % 12) == 11
        taper = np.where(december, 1.3 - 0.95 * np.clip((dom - 8) / 14.0, 0.0, 1.0), 1.0)
        self.open_weight = np.where(self.closed, 0.0, self.coverage * taper)
        if rates is None or weekday_factor is None:
            self.intensity = self.day_weight = self.open_weight
            return
        rate = np.array([rates.get(int(m), 0.0) for m in self.month.tolist()])
        self.intensity = self.open_weight * weekday_factor[self.weekday] * rate
        if self.intensity.sum() <= 0:  # only closed days: trade anyway
            self.intensity = self.coverage * weekday_factor[self.weekday] * rate
        if self.intensity.sum() <= 0:  # outside trading hours: spread evenly
            self.intensity = (self.hi - self.lo + 1).astype(np.float64)
        self.day_weight = self.intensity / np.maximum(rate, 1e-12)

    def sample_minutes(
        self, rng: np.random.Generator, day_idx: I64, after: I64 | None = None
    ) -> I64:
        """Timestamps on the given days (indices into ``days``) by the hour profile;
        later than minute-of-day ``after`` when given."""
        w = self.weekday[day_idx]
        lo, hi = self.lo[day_idx], self.hi[day_idx]
        if after is not None:
            lo = np.minimum(np.maximum(lo, after + 1), hi)
        mc = minute_of_day_cdf()
        c_lo, c_hi = mc[w, lo], mc[w, hi + 1]
        u = 1.0 - rng.random(len(day_idx))
        x = c_lo + u * (c_hi - c_lo)
        flat = (mc + np.arange(7)[:, None] * 2.0).ravel()
        minute = np.searchsorted(flat, x + w * 2.0, side="left") - 1 - w * 1441
        uniform = lo + np.floor(u * (hi - lo + 1)).astype(np.int64)
        minute = np.where(c_hi - c_lo > 1e-12, np.clip(minute, lo, hi), np.minimum(uniform, hi))
        return self.days[day_idx] * 1440 + minute


@functools.lru_cache(maxsize=1)
def real_rates() -> tuple[dict[int, float], F64, dict[int, float]]:
    """The real file's invoices per weighted open day by month, weekday factors (mean
    of Monday..Friday = 1), and the mean rate of each calendar month (0 = January)."""
    cal = TradingCalendar(parse_minutes(real.REAL_START), parse_minutes(real.REAL_END))
    totals = np.array([sum(h) for h in real.INVOICES_BY_WEEKDAY_HOUR], dtype=np.float64)
    open_days = np.array([((cal.weekday == w) & ~cal.closed).sum() for w in range(7)])
    weekday_factor = totals / np.maximum(open_days, 1)
    weekday_factor = weekday_factor / weekday_factor[:5].mean()
    rates: dict[int, float] = {}
    for month, row in real.MONTHS.items():
        sel = cal.month == month
        weight = float((cal.open_weight[sel] * weekday_factor[cal.weekday[sel]]).sum())
        rates[month] = float(sum(row[:6])) / weight
    by_calendar_month: dict[int, list[float]] = {}
    for month, r in rates.items():
        by_calendar_month.setdefault(month % 12, []).append(r)
    seasonal = {k: float(np.mean(v)) for k, v in by_calendar_month.items()}
    return rates, weekday_factor, seasonal


def month_rates(months: list[int]) -> dict[int, float]:
    """Invoice rate of each month: the real month's, else its calendar month's mean."""
    rates, _, seasonal = real_rates()
    return {m: rates.get(m, seasonal[m % 12]) for m in months}


def month_mix(months: I64) -> dict[str, F64]:
    """Per month: the kind mix (R, D, W, Z, X, CS shares), order cancellations per
    order, and the size factors of orders and dotcom orders (the month's mean lines /
    the overall mean); months outside the real file take its overall mix."""
    rows = np.array(list(real.MONTHS.values()), dtype=np.float64)
    keys = list(real.MONTHS)
    overall = rows[:, :7].sum(axis=0)
    mix = np.empty((len(months), 6))
    cancels = np.empty(len(months))
    order_size = np.ones(len(months))
    dotcom_size = np.ones(len(months))
    for i, month in enumerate(months.tolist()):
        if month in keys:
            row = rows[keys.index(month)]
            mix[i] = row[:6]
            cancels[i] = row[6] / row[0]
            order_size[i] = row[7] / real.MEAN_LINES_PER_ORDER
            dotcom_size[i] = row[8] / real.MEAN_LINES_PER_DOTCOM_ORDER
        else:
            mix[i] = overall[:6]
            cancels[i] = overall[6] / overall[0]
    mix /= mix.sum(axis=1, keepdims=True)
    return {
        "mix": mix,
        "cancels_per_order": cancels,
        "order_size": order_size,
        "dotcom_size": dotcom_size,
    }


def extract_windows(start_min: int, end_min: int, extracts: int) -> list[tuple[int, int]]:
    """Overlap windows (first day, day after last; day numbers) between extracts.

    Extract i+1 starts on the first of a month near the i-th fraction of the range
    (never January, when the shop is closed over New Year); extract i ends a few days
    into that month (9 days for the real two-year range, scaled with the range)."""
    if extracts < 1:
        raise ValueError("extracts must be >= 1")
    if extracts == 1:
        return []
    span = (end_min - start_min) / 1440.0
    overlap = int(min(27, max(3, round(real.REAL_OVERLAP_DAYS * span / real.REAL_SPAN_DAYS))))
    first_day, last_day = start_min // 1440, end_min // 1440
    months = np.arange(
        np.datetime64(first_day, "D").astype("datetime64[M]").astype(np.int64),
        np.datetime64(last_day, "D").astype("datetime64[M]").astype(np.int64) + 2,
    )
    firsts = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    firsts = firsts[(months % 12) != 0]
    windows: list[tuple[int, int]] = []
    prev_end = first_day
    for i in range(1, extracts):
        target = (start_min + (end_min - start_min) * i / extracts) / 1440.0
        ok = (firsts >= prev_end + 1) & (firsts + overlap <= last_day)
        cands = firsts[ok]
        if len(cands) and abs(cands[np.argmin(np.abs(cands - target))] - target) < 20:
            cut = int(cands[np.argmin(np.abs(cands - target))])
        else:
            cut = round(target)
        if cut < prev_end + 1 or cut + overlap > last_day:
            raise ValueError(f"date range too short for {extracts} extracts")
        windows.append((cut, cut + overlap))
        prev_end = cut + overlap
    return windows
