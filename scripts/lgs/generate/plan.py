"""The plan: one row per invoice of the file (about 1/20 of its rows), in file order.

`make_plan` draws, step by step: invoice days and times from the calendar's intensity,
kinds by month, the edge cases every small file must hold, line counts, non-product
lines, customers and countries, extra lines (postage ...), order cancellations and
bad-debt adjustments; then nudges the line counts so that the file has exactly the
rows asked for, lets a few long invoices run a minute later, and numbers the invoices
in time order. Every step draws from one generator in a fixed order, so the same
arguments give the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.cancellations import Cancellations, draw_cancellations
from lgs.generate.customers import (
    EIRE,
    UK,
    assign_customers,
    invoice_countries,
    pool_size,
)
from lgs.generate.kinds import Extra, Forced, Kind
from lgs.generate.sampling import F64, I64, BoolA, IntA, from_cumulative, weighted_index
from lgs.generate.trading_calendar import (
    TradingCalendar,
    extract_windows,
    month_mix,
    month_numbers,
    month_rates,
    real_rates,
)

# Extra last lines (chosen so that the profile of a generated file matches the real one).
DOTCOM_POSTAGE_SHARE = 0.48  # dotcom orders with a DOTCOM POSTAGE line
FOREIGN_POSTAGE_SHARE = 0.62  # orders of foreign (non-Irish) customers with a POSTAGE line
IRISH_CARRIAGE_SHARE = 0.34  # orders of Irish customers with a CARRIAGE line
UK_PADS_SHARE = 0.00065  # British orders with a PADS line at 0.001 (real: 17 lines)
ABROAD_DOTCOM_SIZE = 0.4  # dotcom orders from abroad are this much smaller
ADJUSTMENTS_PER_ROW = 4 / real.REAL_ROWS  # bad-debt adjustment events
ADJUSTMENT_TRIPLE_SHARE = 0.25  # of them written +x, -x, -x (the real file: one of four)
LATE_LINES_SHARE = 0.006  # invoices of 20+ lines whose last lines run a minute or more later
INVOICE_GAP_SHARE = 0.095  # invoice numbers skipped between consecutive invoices
MEAN_GAP = 7.6  # numbers skipped when some are
LAST_INVOICE_NUMBER = 999_999  # invoice numbers stay six-digit


@dataclass
class Plan:
    """One row per invoice, in file order (narrow dtypes: the plan is the only part
    whose memory grows with the file)."""

    minute: I64  # invoice minute
    kind: IntA  # Kind
    lines: IntA
    customer: IntA  # customer index, or -1
    country: IntA  # index into customers.COUNTRIES
    number: I64  # invoice number (without the C or A prefix)
    special: IntA  # orders: the Extra last line; X and CS: index into NON_PRODUCT_LINES
    adjustment_price: IntA  # of A invoices (mils)
    late_from_line: IntA  # the first line running later (lines when none)
    late_minutes: IntA
    cancelled_by: IntA  # index of the cancellation reversing this order, or -1
    cancelled_lines: IntA  # lines of that cancellation
    original: IntA  # of an order cancellation, its original's index; else (and orphans) -1
    forced: IntA  # Forced features of small files
    overlap_windows: list[tuple[int, int]]  # (first day, day after last) of each overlap
    customer_pool: int


@dataclass
class _DayInvoices:
    """The invoices drawn day by day (all but cancellations and adjustments), sorted by
    time while they are drawn."""

    minute: I64
    kind: I64
    day: I64  # index into the calendar's days
    # drawn by the later steps
    lines: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    special: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    customer: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    country: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    forced: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def sort_by_time(self) -> None:
        order = np.argsort(self.minute, kind="stable")
        self.minute, self.kind, self.day = self.minute[order], self.kind[order], self.day[order]

    def keep(self, keep: BoolA) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name)[keep])

    def product_lines(self) -> I64:
        has_extra = ((self.kind == Kind.ORDER) | (self.kind == Kind.DOTCOM_ORDER)) & (
            self.special > 0
        )
        return self.lines - has_extra


@dataclass
class _Adjustments:
    minute: I64
    price: I64  # mils


@dataclass
class _Frame:
    """What every step reads: the calendar, its months and the overlap windows."""

    cal: TradingCalendar
    day_month: I64  # per calendar day: index into months
    mix: dict[str, F64]  # month_mix of the months
    windows: list[tuple[int, int]]
    in_window: BoolA  # per calendar day
    max_lines: int  # of an order


def make_plan(
    rows: int,
    seed: int,
    start_min: int,
    end_min: int,
    extracts: int,
    customers: int | None,
    first_invoice_no: int,
) -> Plan:
    """The plan of a file of ``rows`` rows (see the module docstring)."""
    rng = np.random.default_rng([seed, 1])
    frame = _frame(rows, start_min, end_min, extracts)
    inv = _draw_invoices(rng, frame, _invoice_count(rows, frame))
    _ensure_kinds(rng, frame, inv)
    _ensure_overlap_edges(rng, frame, inv)
    inv.sort_by_time()
    _draw_line_counts(rng, frame, inv)
    has_customer = _draw_non_product_lines(rng, inv)
    slots = np.flatnonzero(has_customer)
    if customers is None:
        pool = pool_size(rows, (end_min - start_min) / 1440.0, len(slots))
    else:  # checked by generate(): 1..MAX_CUSTOMERS
        pool = customers
    inv.customer = np.full(len(inv.minute), -1, dtype=np.int64)
    inv.customer[slots] = assign_customers(rng, frame.day_month[inv.day][slots], pool)
    inv.country = invoice_countries(rng, inv.kind, inv.customer, has_customer, inv.lines, pool)
    abroad = (inv.kind == Kind.DOTCOM_ORDER) & (inv.country != UK) & (inv.lines > 1)
    inv.lines = np.where(
        abroad, np.maximum(1, np.rint(inv.lines * ABROAD_DOTCOM_SIZE)), inv.lines
    ).astype(np.int64)
    _draw_extra_lines(rng, inv)
    _force_features(rng, frame, inv)
    cancels = draw_cancellations(
        rng,
        frame.cal,
        inv.minute,
        inv.day,
        inv.kind == Kind.ORDER,
        inv.product_lines(),
        frame.mix["cancels_per_order"][frame.day_month[inv.day]],
    )
    adjustments = _draw_adjustments(rng, frame.cal, rows)
    _match_row_count(rng, frame, rows, inv, cancels, adjustments)
    late_from, late_minutes = _draw_late_lines(rng, inv, end_min)
    return _merge_and_number(
        rng, inv, cancels, adjustments, late_from, late_minutes, first_invoice_no, frame, pool
    )


def _frame(rows: int, start_min: int, end_min: int, extracts: int) -> _Frame:
    windows = extract_windows(start_min, end_min, extracts)
    _, weekday_factor, _ = real_rates()
    cal = TradingCalendar(
        start_min, end_min, month_rates(month_numbers(start_min, end_min)), weekday_factor
    )
    months, day_month = np.unique(cal.month, return_inverse=True)
    in_window = np.zeros(len(cal.days), dtype=bool)
    for a, b in windows:
        in_window[(cal.days >= a) & (cal.days < b)] = True
    return _Frame(cal, day_month, month_mix(months), windows, in_window, max(5, rows // 40))


def _invoice_count(rows: int, frame: _Frame) -> int:
    """Invoices drawn day by day: ``rows`` over the expected rows of an invoice (its
    lines, with its cancellation's, twice in an overlap window)."""
    probe = np.random.default_rng(7)
    mean_order = float(
        np.minimum(from_cumulative(probe, 20000, real.LINES_PER_ORDER), frame.max_lines).mean()
    )
    mean_dotcom = float(
        np.minimum(
            from_cumulative(probe, 20000, real.LINES_PER_DOTCOM_ORDER), frame.max_lines
        ).mean()
    )
    mix = frame.mix["mix"]
    per_month = (
        mix[:, 0] * (mean_order * frame.mix["order_size"] + frame.mix["cancels_per_order"] * 2.3)
        + mix[:, 1] * mean_dotcom * frame.mix["dotcom_size"]
        + mix[:, 2:].sum(axis=1)
    )
    p_day = frame.cal.intensity / frame.cal.intensity.sum()
    per_day = per_month[frame.day_month] * (1 + frame.in_window)
    return max(8, round(rows / float((p_day * per_day).sum())))


def _draw_invoices(rng: np.random.Generator, frame: _Frame, count: int) -> _DayInvoices:
    """Days by the calendar's intensity, times by the hour profile, kinds by the
    month's mix (the mix's columns are Kind.ORDER .. Kind.NON_PRODUCT_CANCEL)."""
    cal = frame.cal
    p_day = cal.intensity / cal.intensity.sum()
    day = np.repeat(np.arange(len(cal.days)), rng.multinomial(count, p_day))
    minute = cal.sample_minutes(rng, day)
    cum_mix = np.cumsum(frame.mix["mix"], axis=1)
    u = rng.random(count)
    month = frame.day_month[day]
    kind = np.empty(count, dtype=np.int64)
    for m in range(len(cum_mix)):
        sel = month == m
        kind[sel] = np.searchsorted(cum_mix[m], u[sel], side="left")
    inv = _DayInvoices(minute, np.minimum(kind, Kind.NON_PRODUCT_CANCEL), day)
    inv.sort_by_time()
    return inv


def _ensure_kinds(rng: np.random.Generator, frame: _Frame, inv: _DayInvoices) -> None:
    """Every file has a write-off, a dotcom order and a zero-price line (orders outside
    the overlap windows become them)."""
    for kind in (Kind.WRITE_OFF, Kind.DOTCOM_ORDER, Kind.ZERO_PRICE):
        cands = np.flatnonzero((inv.kind == Kind.ORDER) & ~frame.in_window[inv.day])
        if not (inv.kind == kind).any() and len(cands) > 4:
            inv.kind[rng.choice(cands, 1, replace=False)] = kind


def _ensure_overlap_edges(rng: np.random.Generator, frame: _Frame, inv: _DayInvoices) -> None:
    """Each overlap window holds invoices on its first and last open day (two orders
    move there when it does not already span more than a day)."""
    cal = frame.cal
    for a, b in frame.windows:
        days = cal.days[inv.day]
        sel = np.flatnonzero((days >= a) & (days < b))
        open_days = np.flatnonzero((cal.days >= a) & (cal.days < b) & (cal.open_weight > 0))
        if len(open_days) < 2:
            open_days = np.flatnonzero((cal.days >= a) & (cal.days < b))
        first_d, last_d = int(open_days[0]), int(open_days[-1])
        if len(sel) and inv.minute[sel].max() - inv.minute[sel].min() > 1440 + 60:
            continue
        movable = np.flatnonzero((inv.kind == Kind.ORDER) & ~frame.in_window[inv.day])
        if len(movable) < 4:
            movable = np.flatnonzero(~frame.in_window[inv.day])
        pick = rng.choice(movable, 2, replace=False)
        for i, d, minute in ((pick[0], first_d, 9 * 60 + 30), (pick[1], last_d, 16 * 60)):
            inv.day[i] = d
            inv.minute[i] = cal.days[d] * 1440 + int(np.clip(minute, cal.lo[d], cal.hi[d]))
            inv.kind[i] = Kind.ORDER


def _draw_line_counts(rng: np.random.Generator, frame: _Frame, inv: _DayInvoices) -> None:
    """Lines of orders and dotcom orders from the real tables, scaled by the month's
    size factor (one-line orders stay one line); one line for the other kinds."""
    n = np.ones(len(inv.minute), dtype=np.int64)
    month = frame.day_month[inv.day]
    order_size, dotcom_size = frame.mix["order_size"][month], frame.mix["dotcom_size"][month]
    raw = from_cumulative(rng, len(n), real.LINES_PER_ORDER)
    n = np.where(
        inv.kind == Kind.ORDER, np.where(raw > 1, np.maximum(2, np.rint(raw * order_size)), 1), n
    )
    raw = from_cumulative(rng, len(n), real.LINES_PER_DOTCOM_ORDER)
    n = np.where(
        inv.kind == Kind.DOTCOM_ORDER,
        np.where(raw > 1, np.maximum(2, np.rint(raw * dotcom_size)), 1),
        n,
    )
    inv.lines = np.minimum(n, min(frame.max_lines, real.LINES_PER_DOTCOM_ORDER.at[-1])).astype(
        np.int64
    )


def _draw_non_product_lines(rng: np.random.Generator, inv: _DayInvoices) -> BoolA:
    """The line of X and CS invoices (into ``special``); which invoices have a customer
    (orders, and X and CS invoices by their line's share)."""
    inv.special = np.zeros(len(inv.minute), dtype=np.int64)
    has_customer = inv.kind == Kind.ORDER
    lines = real.NON_PRODUCT_LINES
    for kind, weights, no_customer in (
        (Kind.NON_PRODUCT, [s.weight for s in lines], [s.no_customer_share for s in lines]),
        (
            Kind.NON_PRODUCT_CANCEL,
            [s.cancel_weight for s in lines],
            [s.cancel_no_customer_share for s in lines],
        ),
    ):
        sel = np.flatnonzero(inv.kind == kind)
        if len(sel):
            inv.special[sel] = weighted_index(rng, len(sel), weights)
            p_none = np.array(no_customer)[inv.special[sel]]
            has_customer[sel] = rng.random(len(sel)) >= p_none
    return has_customer


def _draw_extra_lines(rng: np.random.Generator, inv: _DayInvoices) -> None:
    """The extra last line of orders and dotcom orders of two lines or more: postage
    abroad, carriage to Ireland, now and then a manual line or PADS; dotcom postage."""
    u = rng.random(len(inv.minute))
    multi = inv.lines >= 2
    country = inv.country
    foreign = (country != UK) & (country != EIRE)
    order_extra = np.select(
        [
            foreign & (u < FOREIGN_POSTAGE_SHARE),
            (country == EIRE) & (u < IRISH_CARRIAGE_SHARE),
            (country == UK) & (u < 0.002),
            (country == UK) & (u > 0.987),
            (country == UK) & (u > 0.987 - UK_PADS_SHARE) & (u <= 0.987),
        ],
        [Extra.POSTAGE, Extra.CARRIAGE, Extra.CARRIAGE, Extra.MANUAL, Extra.PADS],
        Extra.NONE,
    )
    dotcom_extra = np.select(
        [
            u < DOTCOM_POSTAGE_SHARE,
            u > 0.98,
            (u > 0.978) & (u <= 0.98),
            (u > 0.976) & (u <= 0.978),
        ],
        [Extra.DOTCOM_POSTAGE, Extra.MANUAL, Extra.MANUAL_LOWER, Extra.POSTAGE],
        Extra.NONE,
    )
    special = np.where((inv.kind == Kind.ORDER) & multi, order_extra, inv.special)
    inv.special = np.where((inv.kind == Kind.DOTCOM_ORDER) & multi, dotcom_extra, special)


def _force_features(rng: np.random.Generator, frame: _Frame, inv: _DayInvoices) -> None:
    """Up to three orders (outside the overlap windows when possible) carry a
    duplicate line, a description with a comma and one with a double quote, growing
    to the lines they need, so that every small file has them."""
    inv.forced = np.zeros(len(inv.minute), dtype=np.int64)
    is_order = inv.kind == Kind.ORDER
    cands = np.flatnonzero(is_order & ~frame.in_window[inv.day])
    if len(cands) == 0:
        cands = np.flatnonzero(is_order)
    if not len(cands):
        return
    pick = rng.choice(cands, min(3, len(cands)), replace=False)
    for j, flag in enumerate((Forced.DUPLICATE, Forced.COMMA, Forced.QUOTE)):
        inv.forced[int(pick[j % len(pick)])] |= flag
    need = np.where(
        inv.forced > 0, np.bitwise_count(inv.forced.astype(np.uint64)).astype(np.int64) + 1, 0
    )
    inv.lines += np.maximum(need - inv.product_lines(), 0)


def _draw_adjustments(rng: np.random.Generator, cal: TradingCalendar, rows: int) -> _Adjustments:
    """Bad-debt adjustments: a single negative line, or +x, -x, -x in three minutes."""
    n_events = max(1, round(rows * ADJUSTMENTS_PER_ROW))
    day = weighted_index(rng, n_events, cal.intensity)
    minute = cal.sample_minutes(rng, day)
    amount = np.rint(30000 * np.exp(0.6 * rng.standard_normal(n_events)) * 100) * 10
    can_triple = np.flatnonzero((minute % 1440 < 1400) & (minute + 2 <= cal.end_min))
    triple = np.zeros(n_events, dtype=bool)
    triple[rng.permutation(can_triple)[: round(n_events * ADJUSTMENT_TRIPLE_SHARE)]] = True
    at: list[int] = []
    price: list[int] = []
    for t, amt, tr in zip(
        minute.tolist(), amount.astype(np.int64).tolist(), triple.tolist(), strict=True
    ):
        if tr:
            at += [t, t + 1, t + 2]
            price += [amt, -amt, -amt]
        else:
            at.append(t)
            price.append(-amt)
    return _Adjustments(np.array(at, dtype=np.int64), np.array(price, dtype=np.int64))


def _match_row_count(
    rng: np.random.Generator,
    frame: _Frame,
    rows: int,
    inv: _DayInvoices,
    cancels: Cancellations,
    adjustments: _Adjustments,
) -> None:
    """Nudge the line counts of orders and dotcom orders outside the overlap windows
    (not cancelled, without forced features) so that the file has exactly ``rows``
    rows (rows of the overlap windows count twice); when shrinking them is not enough,
    drop whole one-line invoices."""
    cal = frame.cal
    weight = 1 + frame.in_window[inv.day].astype(np.int64)
    cancel_weight = 1 + frame.in_window[cancels.minute // 1440 - cal.day0]
    adjustment_weight = 1 + frame.in_window[adjustments.minute // 1440 - cal.day0]
    total = int(
        (inv.lines * weight).sum() + (cancels.lines * cancel_weight).sum() + adjustment_weight.sum()
    )
    is_original = np.zeros(len(inv.minute), dtype=bool)
    is_original[cancels.original] = True
    is_order = (inv.kind == Kind.ORDER) | (inv.kind == Kind.DOTCOM_ORDER)
    adjustable = np.flatnonzero(is_order & (weight == 1) & ~is_original & (inv.forced == 0))
    n_min = np.where(is_order & (inv.special > 0), 2, 1)
    n = inv.lines
    diff = rows - total
    if diff > 0 and len(adjustable):
        w = n[adjustable].astype(np.float64)
        n[adjustable] += rng.multinomial(diff, w / w.sum())
        return
    if diff >= 0:
        return
    need = -diff
    while need > 0 and len(adjustable):
        room = n[adjustable] - n_min[adjustable]
        if room.sum() <= 0:
            break
        take = np.minimum(rng.multinomial(need, room / room.sum()), room)
        n[adjustable] -= take
        need -= int(take.sum())
    if need > 0:
        single = np.flatnonzero(
            (n == 1)
            & (weight == 1)
            & ~is_original
            & (inv.forced == 0)
            & (inv.kind != Kind.ADJUSTMENT)
        )
        keep = np.ones(len(n), dtype=bool)
        keep[rng.permutation(single)[:need]] = False
        cancels.original = (np.cumsum(keep) - 1)[cancels.original]
        inv.keep(keep)


def _draw_late_lines(rng: np.random.Generator, inv: _DayInvoices, end_min: int) -> tuple[I64, I64]:
    """A few invoices of 20+ lines whose last 5-40 % of product lines run a minute (or
    a few) later, never into the next day or past the end: (first late line, or the
    line count when none; minutes later)."""
    n_inv = len(inv.minute)
    late_minutes = np.where(rng.random(n_inv) < 0.96, 1, rng.integers(2, 10, n_inv))
    day_end = (inv.minute // 1440) * 1440 + 1439
    is_order = (inv.kind == Kind.ORDER) | (inv.kind == Kind.DOTCOM_ORDER)
    can = is_order & (inv.lines >= 20) & (inv.minute + late_minutes <= np.minimum(day_end, end_min))
    late = can & (rng.random(n_inv) < LATE_LINES_SHARE)
    product_lines = inv.product_lines()
    late_from = np.where(
        late,
        product_lines
        - np.maximum(1, np.floor(product_lines * rng.uniform(0.05, 0.4, n_inv)).astype(np.int64)),
        inv.lines,
    )
    return late_from, np.where(late, late_minutes, 0)


def _merge_and_number(
    rng: np.random.Generator,
    inv: _DayInvoices,
    cancels: Cancellations,
    adjustments: _Adjustments,
    late_from: I64,
    late_minutes: I64,
    first_invoice_no: int,
    frame: _Frame,
    pool: int,
) -> Plan:
    """Day invoices, cancellations and adjustments in one time order (ties at random),
    numbered from ``first_invoice_no`` with a few numbers skipped (mean gap 1.72 as in
    the real file; less when that keeps the numbers six-digit: up to ~10 M rows from
    the default first number)."""
    n_day, n_cancel, n_adjust = len(inv.minute), len(cancels.original), len(adjustments.minute)
    minute = np.concatenate([inv.minute, cancels.minute, adjustments.minute])
    total = len(minute)
    kind = np.concatenate(
        [inv.kind, np.full(n_cancel, Kind.ORDER_CANCEL), np.full(n_adjust, Kind.ADJUSTMENT)]
    )
    order = np.lexsort((rng.random(total), minute))
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total)

    def column(day: I64, cancel: I64 | int, adjust: I64 | int, dtype: Any = np.int32) -> IntA:
        """Day-invoice, cancellation and adjustment values, in file order."""
        full = np.concatenate(
            [
                day,
                np.broadcast_to(np.asarray(cancel, dtype=np.int64), n_cancel),
                np.broadcast_to(np.asarray(adjust, dtype=np.int64), n_adjust),
            ]
        )
        return full[order].astype(dtype)

    reversing = ~cancels.orphan
    cancelled_by = np.full(n_day, -1, dtype=np.int64)
    cancelled_by[cancels.original[reversing]] = rank[n_day + np.flatnonzero(reversing)]
    cancelled_lines = np.zeros(n_day, dtype=np.int64)
    cancelled_lines[cancels.original[reversing]] = cancels.lines[reversing]
    original = np.where(cancels.orphan, -1, rank[cancels.original])
    p_gap = INVOICE_GAP_SHARE
    room = LAST_INVOICE_NUMBER - first_invoice_no
    if total * (1 + p_gap * MEAN_GAP) > room:
        p_gap = max(0.0, (room / max(total, 1) - 1) / MEAN_GAP)
    gaps = np.where(rng.random(total) < p_gap, 2 + rng.geometric(1 / MEAN_GAP, total) - 1, 1)
    gaps[0] = 0
    no_day_values = np.zeros(n_day, dtype=np.int64)
    return Plan(
        minute=minute[order],
        kind=kind[order].astype(np.int8),
        lines=column(inv.lines, cancels.lines, 1),
        customer=column(inv.customer, inv.customer[cancels.original], -1),
        country=column(inv.country, inv.country[cancels.original], UK, np.int8),
        number=first_invoice_no + np.cumsum(gaps),
        special=column(inv.special, 0, 0, np.int8),
        adjustment_price=column(no_day_values, 0, adjustments.price, np.int64),
        late_from_line=column(late_from, cancels.lines, 1),
        late_minutes=column(late_minutes, 0, 0, np.int8),
        cancelled_by=column(cancelled_by, -1, -1),
        cancelled_lines=column(cancelled_lines, 0, 0),
        original=column(np.full(n_day, -1, dtype=np.int64), original, -1),
        forced=column(inv.forced, 0, 0, np.int8),
        overlap_windows=frame.windows,
        customer_pool=pool,
    )
