"""The lines of the plan's invoices, a block of invoices at a time: products,
quantities, prices, descriptions, exact duplicates, extra and non-product lines, and
the lines of cancellations (drawn with their original order, kept until their own
block).

Lines refer to the catalogue by index (codes, descriptions) and carry prices in mils;
writer.py turns them into text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.catalogue import Catalogue
from lgs.generate.kinds import EXTRA_LINES, Extra, Forced, Kind
from lgs.generate.plan import Plan
from lgs.generate.sampling import (
    I64,
    BoolA,
    from_cumulative,
    from_frequencies,
    prices,
    weighted_index,
)

# Chosen so that the profile of a generated file matches the real one.
ZERO_PRICE_LINE_SHARE = 0.0007  # product lines given away at price 0
GIFT_VOUCHER_SHARE = 0.0004  # dotcom lines that are gift vouchers
DCGS_LINE_SHARE = 0.0006  # dotcom lines with a DCGS product
# Exact duplicate lines: the share of an invoice's lines repeating an earlier one grows
# with its size up to DUPLICATE_MAX (1 - exp(-(lines / SCALE) ** POWER)).
DUPLICATE_MAX, DUPLICATE_SCALE, DUPLICATE_POWER = 0.03, 60.0, 1.6
DOTCOM_DUPLICATE_FACTOR = 0.05  # dotcom orders rarely repeat a line
# Cancellations: the cancelled quantity equals the ordered one; a few cancelled lines
# are at the product's other (bulk/base) price.
FULL_QUANTITY_CANCEL_SHARE = 0.36
OTHER_PRICE_CANCEL_SHARE = 0.04


@dataclass
class Lines:
    """Lines, one entry per row."""

    invoice: I64  # plan index
    position: I64  # within the invoice
    minute: I64
    code: I64  # index into Catalogue.code_texts
    description: I64  # index into Catalogue.description_texts
    quantity: I64
    price: I64  # mils

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        return Lines(
            *(
                np.concatenate([getattr(p, f.name) for p in parts])
                if parts
                else np.zeros(0, dtype=np.int64)
                for f in fields(Lines)
            )
        )

    def take(self, idx: I64 | BoolA) -> Lines:
        return Lines(*(getattr(self, f.name)[idx] for f in fields(Lines)))


class BlockLines:
    """Lines of consecutive blocks of invoices (`lines(i0, i1)`, in file order), with
    the cancellations drawn in earlier blocks."""

    def __init__(self, plan: Plan, cat: Catalogue, seed: int) -> None:
        self.plan, self.cat, self.seed = plan, cat, seed
        self.block = 0
        self.pending: list[Lines] = []  # cancellation lines of later blocks

    def lines(self, i0: int, i1: int) -> Lines:
        plan, cat = self.plan, self.cat
        rng = np.random.default_rng([self.seed, 2, self.block])
        self.block += 1
        sel = np.arange(i0, i1)
        kinds = plan.kind[sel]
        with_products = (kinds == Kind.ORDER) | (kinds == Kind.DOTCOM_ORDER)
        orders = sel[with_products]
        singles = sel[~with_products & (kinds != Kind.ORDER_CANCEL)]
        orphans = sel[(kinds == Kind.ORDER_CANCEL) & (plan.original[sel] < 0)]
        order_lines = product_lines(rng, plan, cat, orders)
        parts = [order_lines, single_lines(rng, plan, cat, singles)]
        if len(orphans):
            parts.append(orphan_cancel_lines(rng, plan, cat, orphans))
        cancelled = orders[plan.cancelled_by[orders] >= 0]
        if len(cancelled):
            first_line = np.searchsorted(order_lines.invoice, cancelled, side="left")
            self.pending.append(cancel_lines(rng, plan, cat, order_lines, cancelled, first_line))
        if self.pending:
            pending = Lines.concat(self.pending)
            here = pending.invoice < i1
            parts.append(pending.take(here))
            rest = pending.take(~here)
            self.pending = [rest] if len(rest.invoice) else []
        lines = Lines.concat(parts)
        return lines.take(np.lexsort((lines.position, lines.invoice, lines.minute)))


def _prices_of_the_day(cat: Catalogue, prod: I64, after: BoolA) -> tuple[I64, I64]:
    """Base and bulk price of products before or ``after`` their price change."""
    base = np.where(after, cat.price_after[prod], cat.price_before[prod])
    bulk_price = np.where(after, cat.bulk_price_after[prod], cat.bulk_price_before[prod])
    return base, bulk_price


def _bulk_share(quantity: I64) -> np.ndarray:
    return np.asarray(real.BULK_SHARE)[
        np.searchsorted(np.asarray(real.BULK_FROM_QUANTITY), quantity, side="right")
    ]


def _set_customer_quantities(
    rng: np.random.Generator, cat: Catalogue, prod: I64, customer: BoolA, qty: I64
) -> None:
    """Quantities of the ``customer`` lines, by the price band of their product."""
    band = cat.price_band[prod]
    for b in range(3):
        m = customer & (band == b)
        if m.any():
            qty[m] = from_frequencies(rng, int(m.sum()), real.QUANTITY_BY_PRICE_BAND[b], 1200.0)


def product_lines(rng: np.random.Generator, plan: Plan, cat: Catalogue, sel: I64) -> Lines:
    """Lines of orders and dotcom orders: popular products (dotcom orders list each
    once), quantities and prices by band and bulk, a few given away, gift vouchers,
    exact duplicates, and the extra last line."""
    n = plan.lines[sel]
    total = int(n.sum())
    inv = np.repeat(sel, n)
    pos = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
    special = np.repeat(plan.special[sel], n)
    n_rep = np.repeat(n, n)
    n_prod = n_rep - (special > 0)
    is_d = np.repeat(plan.kind[sel] == Kind.DOTCOM_ORDER, n)
    minute = np.repeat(plan.minute[sel], n)
    minute = minute + np.where(
        pos >= np.repeat(plan.late_from_line[sel], n), np.repeat(plan.late_minutes[sel], n), 0
    )
    forced = np.repeat(plan.forced[sel], n)
    prod, dcgs = _products(rng, cat, inv, pos, n_prod, is_d, forced)

    qty = from_frequencies(rng, total, real.DOTCOM_QUANTITY, 200.0)
    _set_customer_quantities(rng, cat, prod, ~is_d, qty)
    after = minute >= cat.price_changes_at[prod]
    base, bulk = _prices_of_the_day(cat, prod, after)
    price = np.where(rng.random(total) < _bulk_share(qty), bulk, base)
    dotcom = np.where(after, cat.dotcom_price_after[prod], cat.dotcom_price_before[prod])
    price = np.where(is_d, dotcom, price)
    price = np.where(rng.random(total) < ZERO_PRICE_LINE_SHARE, 0, price)
    desc = np.where(
        minute >= cat.description_changes_at[prod],
        cat.description_after[prod],
        cat.description_before[prod],
    )
    code = cat.product_code[prod]
    gift = is_d & ~dcgs & (rng.random(total) < GIFT_VOUCHER_SHARE)
    if gift.any():
        g = rng.integers(0, len(cat.gift_voucher_code), int(gift.sum()))
        code[gift] = cat.gift_voucher_code[g]
        desc[gift] = cat.gift_voucher_description[g]
        price[gift] = cat.gift_voucher_price[g]
        qty[gift] = 1

    src = _duplicate_sources(rng, minute, pos, n_rep, n_prod, is_d, forced)
    code, desc, qty, price = code[src], desc[src], qty[src], price[src]
    _set_extra_lines(rng, cat, special, pos, n_rep, code, desc, qty, price)
    return Lines(inv, pos, minute, code, desc, qty, price)


def _products(
    rng: np.random.Generator,
    cat: Catalogue,
    inv: I64,
    pos: I64,
    n_prod: I64,
    is_d: BoolA,
    forced: I64,
) -> tuple[I64, BoolA]:
    """The product of each line (and which are DCGS products of the dotcom shop)."""
    total = len(inv)
    n_regular = cat.regular_products
    prod = np.minimum(
        np.searchsorted(cat.popularity_cdf, rng.random(total), side="right"), n_regular - 1
    )
    # dotcom orders list each product once: redraw repeats uniformly
    key = inv * np.int64(n_regular + 1) + prod
    order = np.argsort(key, kind="stable")
    rep = np.zeros(total, dtype=bool)
    rep[order[1:]] = key[order[1:]] == key[order[:-1]]
    rep &= is_d
    if rep.any():
        prod[rep] = rng.integers(0, n_regular, int(rep.sum()))
    dcgs = is_d & (rng.random(total) < DCGS_LINE_SHARE)
    prod = np.where(dcgs, cat.dcgs_products[rng.integers(0, len(cat.dcgs_products), total)], prod)
    f_comma = ((forced & Forced.COMMA) > 0) & (pos == 0)
    f_quote = ((forced & Forced.QUOTE) > 0) & (pos == n_prod - 1)
    if f_comma.any() and len(cat.products_with_comma):
        pick = rng.integers(0, len(cat.products_with_comma), int(f_comma.sum()))
        prod[f_comma] = cat.products_with_comma[pick]
    if f_quote.any() and len(cat.products_with_quote):
        pick = rng.integers(0, len(cat.products_with_quote), int(f_quote.sum()))
        prod[f_quote] = cat.products_with_quote[pick]
    return prod, dcgs


def _duplicate_sources(
    rng: np.random.Generator,
    minute: I64,
    pos: I64,
    n_rep: I64,
    n_prod: I64,
    is_d: BoolA,
    forced: I64,
) -> I64:
    """For each line the line it copies: itself, or for an exact duplicate an earlier
    product line of its invoice at the same minute (followed back to the first)."""
    total = len(pos)
    p_dup = DUPLICATE_MAX * (1 - np.exp(-((n_rep / DUPLICATE_SCALE) ** DUPLICATE_POWER)))
    p_dup = np.where(is_d, p_dup * DOTCOM_DUPLICATE_FACTOR, p_dup)
    is_dup = (pos >= 1) & (pos < n_prod) & (rng.random(total) < p_dup)
    is_dup |= ((forced & Forced.DUPLICATE) > 0) & (pos == 1) & (n_prod >= 2)
    src = np.arange(total)
    back = 1 + np.floor(rng.random(total) * np.maximum(pos, 1)).astype(np.int64)
    src = np.where(is_dup, src - back, src)
    for _ in range(64):
        nxt = src[src]
        if np.array_equal(nxt, src):
            break
        src = nxt
    return np.where(minute[src] == minute, src, np.arange(total))


def _set_extra_lines(
    rng: np.random.Generator,
    cat: Catalogue,
    special: I64,
    pos: I64,
    n_rep: I64,
    code: I64,
    desc: I64,
    qty: I64,
    price: I64,
) -> None:
    """The extra last line (postage, carriage, manual, pads, dotcom postage) in place."""
    last = (special > 0) & (pos == n_rep - 1)
    if not last.any():
        return
    li = np.flatnonzero(last)
    sp = special[li]
    for extra, line in EXTRA_LINES.items():
        m = sp == extra
        if not m.any():
            continue
        k = li[m]
        code[k] = cat.non_product_code[(line.code, line.description)]
        desc[k] = cat.non_product_description[(line.code, line.description)]
        qty[k] = 1
        if extra == Extra.DOTCOM_POSTAGE:
            per_line = prices(rng, len(k), line.price)
            price[k] = np.maximum(10, np.rint(per_line * n_rep[k] / 10) * 10).astype(np.int64)
        else:
            price[k] = prices(rng, len(k), line.price)
        if extra == Extra.POSTAGE:
            qty[k] = np.minimum(rng.geometric(0.4, len(k)), 8)


def single_lines(rng: np.random.Generator, plan: Plan, cat: Catalogue, sel: I64) -> Lines:
    """Lines of write-offs, zero-price lines, non-product lines and their
    cancellations, and bad-debt adjustments (one line each)."""
    k = len(sel)
    kind = plan.kind[sel]
    prod = np.minimum(
        np.searchsorted(cat.popularity_cdf, rng.random(k), side="right"),
        cat.regular_products - 1,
    )
    code = cat.product_code[prod].copy()
    desc = np.full(k, cat.empty_description, dtype=np.int64)
    qty = np.ones(k, dtype=np.int64)
    price = np.zeros(k, dtype=np.int64)
    w = kind == Kind.WRITE_OFF
    if w.any():
        desc[w] = cat.write_off_notes[weighted_index(rng, int(w.sum()), cat.write_off_note_share)]
        qty[w] = -from_cumulative(rng, int(w.sum()), real.WRITE_OFF_QUANTITY)
    z = np.flatnonzero(kind == Kind.ZERO_PRICE)
    if len(z):
        desc[z] = cat.zero_price_notes[weighted_index(rng, len(z), cat.zero_price_note_share)]
        show = rng.random(len(z)) < real.ZERO_PRICE_PRODUCT_DESCRIPTION_SHARE
        desc[z[show]] = cat.description_before[prod[z[show]]]
        qty[z] = from_cumulative(rng, len(z), real.ZERO_PRICE_QUANTITY)
    for k_kind, sign in ((Kind.NON_PRODUCT, 1), (Kind.NON_PRODUCT_CANCEL, -1)):
        m = np.flatnonzero(kind == k_kind)
        if not len(m):
            continue
        sp = plan.special[sel[m]]
        for s_i in np.unique(sp).tolist():
            line = real.NON_PRODUCT_LINES[s_i]
            mm = m[sp == s_i]
            code[mm] = cat.non_product_code[(line.code, line.description)]
            desc[mm] = cat.non_product_description[(line.code, line.description)]
            price[mm] = prices(rng, len(mm), line.price)
            q = np.where(
                rng.random(len(mm)) < 0.85,
                1,
                rng.integers(1, max(line.max_quantity, 1) + 1, len(mm)),
            )
            qty[mm] = sign * q
    a = kind == Kind.ADJUSTMENT
    if a.any():
        code[a] = cat.bad_debt_code
        desc[a] = cat.bad_debt_description
        price[a] = plan.adjustment_price[sel[a]]
        qty[a] = 1
    return Lines(
        sel.astype(np.int64), np.zeros(k, dtype=np.int64), plan.minute[sel], code, desc, qty, price
    )


def _cancelled_quantity(rng: np.random.Generator, qty: I64) -> I64:
    """The negative quantity of a cancelled line: the ordered one, or part of it."""
    full = rng.random(len(qty)) < FULL_QUANTITY_CANCEL_SHARE
    part = 1 + np.floor(rng.random(len(qty)) * np.maximum(qty, 1)).astype(np.int64)
    return -np.where(full, qty, np.minimum(part, qty))


def cancel_lines(
    rng: np.random.Generator,
    plan: Plan,
    cat: Catalogue,
    lines: Lines,
    origs: I64,
    first_line: I64,
) -> Lines:
    """Lines of the cancellations of the given originals (``first_line``: their first
    line in ``lines``): a run of the original's product lines, reversed in full or in
    part; at the new price when the product's price changed since the order, and a few
    at the product's other price of the day (bulk for base or base for bulk, as the
    real file's C lines at 0.85 or 1.18 times the ordered price)."""
    k = plan.cancelled_lines[origs]
    n_prod = plan.lines[origs] - (plan.special[origs] > 0)
    offset = rng.integers(0, np.maximum(n_prod, 1))
    total = int(k.sum())
    j = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
    src = np.repeat(first_line, k) + (np.repeat(offset, k) + j) % np.repeat(n_prod, k)
    cqty = _cancelled_quantity(rng, lines.quantity[src])
    cr = np.repeat(plan.cancelled_by[origs], k)
    cr_minute = plan.minute[cr]
    price = lines.price[src]
    prod = cat.product_of_code[lines.code[src]]
    p = np.maximum(prod, 0)
    crossed = (prod >= 0) & (lines.minute[src] < cat.price_changes_at[p])
    crossed &= cr_minute >= cat.price_changes_at[p]
    price = np.where(crossed & (price == cat.price_before[p]), cat.price_after[p], price)
    price = np.where(crossed & (price == cat.bulk_price_before[p]), cat.bulk_price_after[p], price)
    other = (rng.random(total) < OTHER_PRICE_CANCEL_SHARE) & (prod >= 0) & (price > 0)
    if other.any():
        p = prod[other]
        base, bulk = _prices_of_the_day(cat, p, cr_minute[other] >= cat.price_changes_at[p])
        price[other] = np.where(price[other] == base, bulk, base)
    return Lines(cr, j, cr_minute, lines.code[src], lines.description[src], cqty, price)


def orphan_cancel_lines(rng: np.random.Generator, plan: Plan, cat: Catalogue, sel: I64) -> Lines:
    """Lines of cancellations whose original is before the data or not in the file:
    products as customers order them, at their price of the day, reversed."""
    k = plan.lines[sel].astype(np.int64)
    total = int(k.sum())
    inv = np.repeat(sel, k)
    pos = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
    minute = plan.minute[inv]
    prod = np.minimum(
        np.searchsorted(cat.popularity_cdf, rng.random(total), side="right"),
        cat.regular_products - 1,
    )
    qty = np.ones(total, dtype=np.int64)
    _set_customer_quantities(rng, cat, prod, np.ones(total, dtype=bool), qty)
    base, bulk = _prices_of_the_day(cat, prod, minute >= cat.price_changes_at[prod])
    price = np.where(rng.random(total) < _bulk_share(qty), bulk, base)
    desc = np.where(
        minute >= cat.description_changes_at[prod],
        cat.description_after[prod],
        cat.description_before[prod],
    )
    return Lines(
        inv, pos, minute, cat.product_code[prod], desc, _cancelled_quantity(rng, qty), price
    )
