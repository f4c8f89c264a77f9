"""Customers: how many, where they are, how active, when they come and go, and which
one places each customer invoice; the countries of invoices without customer.

Customer i has fixed traits (country, activity), independent of the seed and of the
pool size, so that every file describes the same customer base.
"""

from __future__ import annotations

import numpy as np

from lgs.generate import calibration as real
from lgs.generate.kinds import Kind
from lgs.generate.sampling import F64, I64, BoolA, weighted_index

FIRST_CUSTOMER_ID = 12346
MAX_CUSTOMERS = 99999 - FIRST_CUSTOMER_ID + 1  # customer ids stay five-digit
TRAITS_SEED = 12346
COUNTRY_BLOCK = 1000  # countries are dealt by quota in blocks of this many customers
ACTIVITY_LOG_SD = 1.2  # log-sd of customer activity (invoices per active month)
# Customers whose first invoice is in the first month: the shop's existing base (real:
# 1,045 of 5,942); then the rate of new customers halves in about a year.
FIRST_MONTH_ACQUISITION_SHARE = 0.176
ACQUISITION_HALVING_MONTHS = 17.0
# Return behaviour, calibrated on the real file's retention curve, repeat rate and days
# to a second purchase (the lifecycle figures of profile.py; scripts/tests/test_generate.py):
# - the existing base is drawn by activity ** BASE_ACTIVITY_BIAS (the customers seen in
#   any one month are more often the active ones: the real first month's customers
#   make 15 purchases each over the two years, later ones 1 to 7) and stays;
# - a new customer buys until they churn, after an exponential lifetime of this mean
#   (the biggest accounts stay);
# - in the month of their first invoice a new customer is picked for further invoices
#   with this share of their activity (real: 13 % of new customers buy twice in their
#   first month; 27 % at full weight, 18 % at this one).
BASE_ACTIVITY_BIAS = 0.4
MEAN_LIFETIME_MONTHS = 90.0
FIRST_MONTH_REPEAT_WEIGHT = 0.8
# Invoices per customer grow with the span: 6.3 over the real two years.
INVOICES_PER_CUSTOMER = 6.3


def _country_list() -> list[str]:
    names = list(real.CUSTOMER_COUNTRIES)
    for table in (real.DOTCOM_COUNTRIES, real.OTHER_NO_CUSTOMER_COUNTRIES):
        names += [c for c in table if c not in names]
    return names


COUNTRIES = _country_list()
COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRIES)}
UK = COUNTRY_INDEX["United Kingdom"]
EIRE = COUNTRY_INDEX["EIRE"]


def pool_size(rows: int, span_days: float, customer_invoices: int) -> int:
    """Customers of a file of ``rows`` rows over ``span_days``: scaled on the real
    5,942 customers per 1,067,370 rows over two years, fewer per row over a longer span
    (each buys more often), never more than the customer invoices."""
    span = max(span_days, 1.0) / real.REAL_SPAN_DAYS
    per_customer = 1 + (INVOICES_PER_CUSTOMER - 1) * span**0.8
    pool = round(
        real.REAL_CUSTOMERS * rows / real.REAL_ROWS * INVOICES_PER_CUSTOMER / float(per_customer)
    )
    return max(1, min(pool, customer_invoices, MAX_CUSTOMERS))


def customer_traits(pool: int) -> tuple[I64, F64]:
    """Country and activity of customers 0..pool-1.

    Countries are dealt in blocks of 1,000 customers by quota, foreign customers spread
    evenly over the activity ranks of their block, so that the share of lines by
    country is stable; countries too rare for a quota get fixed customers within the
    first ~5,900 ids (so the real-size pool has them all)."""
    block = COUNTRY_BLOCK
    n = max(1, -(-pool // block)) * block
    z = np.random.default_rng(TRAITS_SEED).standard_normal(n)
    activity = np.exp(ACTIVITY_LOG_SD * z + 0.2 * np.maximum(z - 2.0, 0.0) ** 1.5)
    names = list(real.CUSTOMER_COUNTRIES)
    counts = np.array(list(real.CUSTOMER_COUNTRIES.values()), dtype=np.float64)
    rare = [i for i, c in enumerate(counts) if c < 10]
    common = [i for i in range(len(names)) if i not in rare and names[i] != "United Kingdom"]
    uk = names.index("United Kingdom")
    share = counts / counts[[uk, *common]].sum() * block
    quota = {i: int(share[i]) for i in common}
    left = block - int(share[uk]) - sum(quota.values())
    for i in sorted(common, key=lambda i: share[i] - int(share[i]), reverse=True)[:left]:
        quota[i] += 1
    foreign = np.array([i for i in common for _ in range(quota[i])], dtype=np.int64)
    country = np.full(n, uk, dtype=np.int64)
    for b in range(n // block):
        rng = np.random.default_rng([TRAITS_SEED, b])
        ranks = np.argsort(-activity[b * block : (b + 1) * block], kind="stable")
        slots = np.floor(
            (np.arange(len(foreign)) + rng.random(len(foreign))) * block / len(foreign)
        ).astype(np.int64)
        country[b * block + ranks[slots]] = rng.permutation(foreign)
    rare_customers = {
        41 + 131 * j + 2903 * k: ci for j, ci in enumerate(rare) for k in range(int(counts[ci]))
    }
    # The heaviest customers, like the real ones, are mostly British.
    heaviest = np.argsort(-activity[: min(n, real.REAL_CUSTOMERS)], kind="stable")
    heaviest_list = [int(i) for i in heaviest if int(i) not in rare_customers]
    for k, idx in enumerate(heaviest_list[: len(real.HEAVY_CUSTOMER_COUNTRIES)]):
        country[idx] = names.index(real.HEAVY_CUSTOMER_COUNTRIES[k])
    for idx, ci in rare_customers.items():
        if idx < n:
            country[idx] = ci
    country_global = np.array([COUNTRY_INDEX[c] for c in names], dtype=np.int64)[country]
    return country_global[:pool], activity[:pool]


def _acquisition_months(rng: np.random.Generator, slots_per_month: I64, pool: int) -> I64:
    """New customers of each month: a bump in the first month (the existing base), then
    a decaying share of the month's invoices; no month acquires more customers than it
    has customer invoices (the excess moves to later months, then back to earlier)."""
    n_months = len(slots_per_month)
    q = slots_per_month.astype(np.float64) * np.exp(
        -np.arange(n_months) / ACQUISITION_HALVING_MONTHS
    )
    if n_months > 1:
        q[0] = 0.0
        q = q / max(q.sum(), 1e-12) * (1 - FIRST_MONTH_ACQUISITION_SHARE)
        q[0] = FIRST_MONTH_ACQUISITION_SHARE
    new = rng.multinomial(pool, q / q.sum()).astype(np.int64)
    carry = 0
    for m in range(n_months):
        new[m] += carry
        carry = max(0, int(new[m] - slots_per_month[m]))
        new[m] -= carry
    for m in range(n_months - 1, -1, -1):
        if carry == 0:
            break
        take = min(int(slots_per_month[m] - new[m]), carry)
        new[m] += take
        carry -= take
    return new


def _acquisition_order(rng: np.random.Generator, activity: F64, base_size: int) -> I64:
    """Customers in the order they are acquired: the existing base (the first month's
    ``base_size``) drawn without replacement with weights activity ** BASE_ACTIVITY_BIAS
    (Efraimidis-Spirakis keys), then the others at random."""
    keys = np.log(rng.random(len(activity))) / activity**BASE_ACTIVITY_BIAS
    by_key = np.argsort(-keys, kind="stable")
    rest = by_key[base_size:]
    return np.concatenate([by_key[:base_size], rest[rng.permutation(len(rest))]])


def assign_customers(rng: np.random.Generator, slot_month: I64, pool: int) -> I64:
    """Customer of each customer-invoice slot (slots sorted by time; month index).

    Customers are acquired over time (`_acquisition_months`, `_acquisition_order`), each
    buys their first invoice in their month of acquisition, then each slot of a month
    goes to a customer of the month by activity, until they churn (see the return
    behaviour constants)."""
    n_slots = len(slot_month)
    out = np.empty(n_slots, dtype=np.int64)
    if n_slots == 0 or pool == 0:
        return np.full(n_slots, -1, dtype=np.int64)
    _, activity = customer_traits(pool)
    n_months = int(slot_month.max()) + 1
    slots_per_month = np.bincount(slot_month, minlength=n_months)
    if n_slots < pool:  # fewer invoices than customers: no acquisition schedule
        cum = np.cumsum(activity)
        return np.searchsorted(cum, rng.random(n_slots) * cum[-1], side="right")
    new = _acquisition_months(rng, slots_per_month, pool)
    order = _acquisition_order(rng, activity, int(new[0]))
    first_month = np.empty(pool, dtype=np.int64)
    first_month[order] = np.repeat(np.arange(n_months), new)
    last_month = first_month + rng.exponential(MEAN_LIFETIME_MONTHS, pool)
    last_month[order[: new[0]]] = np.inf  # the existing base stays
    last_month[activity > np.exp(2 * ACTIVITY_LOG_SD)] = np.inf  # so do big accounts
    starts = np.concatenate([[0], np.cumsum(slots_per_month)])
    for m in range(n_months):
        s0, s1 = int(starts[m]), int(starts[m + 1])
        if s1 == s0:
            continue
        perm = s0 + rng.permutation(s1 - s0)
        newcomers = order[int(new[:m].sum()) : int(new[: m + 1].sum())]
        out[perm[: len(newcomers)]] = newcomers
        rest = perm[len(newcomers) :]
        if len(rest):
            active = np.flatnonzero((first_month <= m) & (last_month >= m))
            if len(active) == 0:
                active = np.flatnonzero(first_month <= m)
            if len(active) == 0:
                active = np.arange(pool)
            weight = activity[active]
            weight = np.where(first_month[active] == m, weight * FIRST_MONTH_REPEAT_WEIGHT, weight)
            cum = np.cumsum(weight)
            pick = np.searchsorted(cum, rng.random(len(rest)) * cum[-1], side="right")
            out[rest] = active[np.minimum(pick, len(active) - 1)]
    return out


def invoice_countries(
    rng: np.random.Generator,
    kind: I64,
    customer: I64,
    has_customer: BoolA,
    lines: I64,
    pool: int,
) -> I64:
    """Country of each invoice: its customer's; for invoices without customer drawn
    from the real countries of their kind. At the real size every country of the
    dotcom shop appears (on small dotcom orders)."""
    country = np.full(len(kind), UK, dtype=np.int64)
    customer_country, _ = customer_traits(pool)
    country[has_customer] = customer_country[customer[has_customer]]
    for k, table in (
        (Kind.DOTCOM_ORDER, real.DOTCOM_COUNTRIES),
        (Kind.NON_PRODUCT, real.OTHER_NO_CUSTOMER_COUNTRIES),
        (Kind.NON_PRODUCT_CANCEL, real.OTHER_NO_CUSTOMER_COUNTRIES),
    ):
        sel = np.flatnonzero((kind == k) & ~has_customer)
        if len(sel):
            index = np.array([COUNTRY_INDEX[c] for c in table])
            country[sel] = index[weighted_index(rng, len(sel), list(table.values()))]
    dotcom_uk = np.flatnonzero((kind == Kind.DOTCOM_ORDER) & (country == UK))
    if len(dotcom_uk) >= 1000:
        missing = [c for c in real.DOTCOM_COUNTRIES if not (country == COUNTRY_INDEX[c]).any()]
        small = dotcom_uk[lines[dotcom_uk] <= 10]
        if len(small) < len(missing):
            small = dotcom_uk
        chosen = rng.choice(small, len(missing), replace=False).tolist()
        for c, i in zip(missing, chosen, strict=True):
            country[i] = COUNTRY_INDEX[c]
    return country
