"""Independent pandas oracle for the customer lifecycle marts (issue 12).

Computes, from the kept invoice lines that ``oracle.read_lines`` returns, the marts
``customer_months``, ``cohort_retention``, ``customer_movement``,
``repeat_purchase_summary``, ``monthly_sales_by_customer_type`` and ``country_summary``,
the repeat-purchase columns of ``customers`` and the product units of ``invoices``.
Like ``oracle.py`` it shares no code with the SQL and never imports the project's
package: it works on lines, the SQL on invoices and incremental aggregates.

Definitions (the analysts' own, issue 12):

* A known customer is a line with a customer id. A customer's cohort month is the month
  of their first line; they are active in a month when they have any line in it
  (cancellations included).
* A purchase is an invoice that is neither a cancellation (``C``) nor an adjustment
  (``A``); its instant is the timestamp of its first line. Days between two instants are
  whole days, truncated.
* A product line has a stock code (without surrounding spaces) that matches none of the
  SQL ``LIKE`` patterns of ``seeds/non_product_stock_codes.csv`` (case-sensitive, ``%``
  any text, ``_`` one character): the seed is the definition, the matching is ours.
* Customer type: ``wholesale`` when the customer's units per purchase (positive
  quantities on product lines of their purchases / purchase invoices) are at least the
  threshold (default 400), else ``retail``; customers without a purchase are ``retail``.
  Lines without a customer are ``unknown``.
* The data spans the calendar months from the first to the last month of all kept lines
  (with or without a customer), gap months included. The month of the last line is
  incomplete unless that line falls on the month's last day.

Money is exact (integers of 1/1000 GBP) until emitted as float pounds; ratios are
computed as fractions and rounded once.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

TS_DTYPE = "datetime64[us]"
ONE_DAY_US = 86_400 * 1_000_000
MILLI = 1000
NON_PRODUCT_SEED = Path(__file__).resolve().parents[2] / "seeds" / "non_product_stock_codes.csv"
CUSTOMER_TYPES = ("wholesale", "retail", "unknown")

#: Column contract of the lifecycle marts (the SQL marts may have more).
MART_COLUMNS: dict[str, list[str]] = {
    "customer_months": [
        "customer_id",
        "year_month",
        "month_start",
        "cohort_year_month",
        "months_since_first",
        "is_active",
        "invoices_in_month",
        "purchases_in_month",
        "net_sales_in_month",
        "lifetime_invoices",
        "lifetime_purchases",
        "lifetime_net_sales",
    ],
    "cohort_retention": [
        "cohort_year_month",
        "months_since_first",
        "year_month",
        "month_start",
        "cohort_customers",
        "active_customers",
        "retention_pct",
        "net_sales",
        "cumulative_net_sales",
        "net_sales_per_cohort_customer",
        "is_complete_month",
        "is_left_censored",
    ],
    "customer_movement": [
        "year_month",
        "month_start",
        "active_customers",
        "new_customers",
        "retained_customers",
        "reactivated_customers",
        "churned_customers",
        "new_net_sales",
        "retained_net_sales",
        "reactivated_net_sales",
        "is_complete_month",
    ],
    "repeat_purchase_summary": [
        "population",
        "customers",
        "repeat_customers",
        "repeat_rate_pct",
        "median_days_to_second_purchase",
        "mean_days_to_second_purchase",
    ],
    "monthly_sales_by_customer_type": [
        "year_month",
        "month_start",
        "customer_type",
        "net_sales",
        "active_customers",
        "share_of_net_sales_pct",
        "is_complete_month",
    ],
    "country_summary": [
        "country",
        "invoices",
        "customers",
        "net_sales",
        "share_of_net_sales_pct",
        "first_invoiced_at",
        "last_invoiced_at",
    ],
}
#: The columns this module adds to the oracle's ``customers`` and ``invoices``.
CUSTOMER_COLUMNS = [
    "purchase_invoices",
    "first_purchase_at",
    "second_purchase_at",
    "days_to_second_purchase",
    "is_repeat_customer",
    "customer_type",
    "mean_units_per_purchase",
]
INVOICE_COLUMNS = ["positive_product_quantity"]


# --------------------------------------------------------------------------
# Small exact helpers
# --------------------------------------------------------------------------


def _money(milli: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(milli, dtype=np.int64) / MILLI


def _fraction(numerator: int, denominator: int) -> float:
    """numerator / denominator exactly, rounded once; NaN when dividing by 0."""
    return float(Fraction(int(numerator), int(denominator))) if denominator else float("nan")


def _ts(values: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).view(TS_DTYPE)


def _month_number(year_month: np.ndarray | pd.Series) -> np.ndarray:
    """YYYYMM -> months since year 0 (201001 -> 2010 * 12 + 0)."""
    year_month = np.asarray(year_month, dtype=np.int64)
    return year_month // 100 * 12 + year_month % 100 - 1


def _year_month(month_number: np.ndarray) -> np.ndarray:
    month_number = np.asarray(month_number, dtype=np.int64)
    return month_number // 12 * 100 + month_number % 12 + 1


def _month_start(month_number: np.ndarray) -> np.ndarray:
    month_number = np.asarray(month_number, dtype=np.int64)
    return (month_number - 1970 * 12).astype("datetime64[M]").astype(TS_DTYPE)


def _like(pattern: str) -> re.Pattern[str]:
    """A SQL LIKE pattern as a regular expression (whole text, case-sensitive)."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def product_flags(stock_codes: pd.Series) -> np.ndarray:
    """True for each line whose stock code is a product (matches no seed pattern)."""
    seed = pd.read_csv(NON_PRODUCT_SEED, dtype=str, keep_default_na=False)
    patterns = [_like(p) for p in seed["stock_code_pattern"]]
    codes, uniques = pd.factorize(stock_codes.astype(str).str.strip(" "), use_na_sentinel=False)
    flags = np.array([not any(p.fullmatch(u) for p in patterns) for u in uniques], dtype=bool)
    return flags[codes] if len(codes) else np.empty(0, dtype=bool)


# --------------------------------------------------------------------------
# Per invoice and per customer
# --------------------------------------------------------------------------


def _invoices(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per invoice: customer, instant (first line), purchase flag, product units."""
    quantity = lines["quantity"].to_numpy()
    units = np.where(product_flags(lines["stock_code"]) & (quantity > 0), quantity, 0)
    work = pd.DataFrame(
        {
            "inv": lines["inv"].to_numpy(),
            "invoice_no": lines["invoice_no"].to_numpy(),
            "customer": lines["customer"].to_numpy(),
            "ts": lines["ts"].to_numpy(),
            "units": units.astype(np.int64),
            "is_purchase": ~(lines["is_cancellation"] | lines["is_adjustment"]).to_numpy(),
        }
    )
    return work.groupby("inv", sort=False).agg(
        invoice_no=("invoice_no", "first"),
        customer=("customer", "first"),
        ts=("ts", "min"),
        units=("units", "sum"),
        is_purchase=("is_purchase", "first"),
    )


def _customer_purchases(
    lines: pd.DataFrame, invoices: pd.DataFrame, threshold: Fraction
) -> pd.DataFrame:
    """The repeat-purchase columns of ``customers``, one row per known customer."""
    customers = np.unique(lines.loc[lines["customer"] >= 0, "customer"].to_numpy())
    purchases = invoices.loc[(invoices["customer"] >= 0) & invoices["is_purchase"]]
    purchases = purchases.sort_values(["customer", "ts", "invoice_no"], kind="stable")
    order = purchases.groupby("customer").cumcount().to_numpy()
    per = purchases.groupby("customer").agg(
        purchase_invoices=("ts", "size"), units=("units", "sum")
    )
    per = per.reindex(customers, fill_value=0)
    first = purchases.loc[order == 0].set_index("customer")["ts"].reindex(customers)
    second = purchases.loc[order == 1].set_index("customer")["ts"].reindex(customers)
    count = per["purchase_invoices"].to_numpy(dtype=np.int64)
    units = per["units"].to_numpy(dtype=np.int64)
    wholesale = [
        n > 0 and u * threshold.denominator >= threshold.numerator * n
        for u, n in zip(units.tolist(), count.tolist(), strict=True)
    ]
    has_second = second.notna().to_numpy()
    gap = np.where(has_second, second.fillna(0).to_numpy() - first.fillna(0).to_numpy(), 0)
    days = pd.array(gap // ONE_DAY_US, dtype="Int64")
    days[~has_second] = pd.NA
    first_at = pd.Series(first.to_numpy(), dtype="Int64")
    second_at = pd.Series(second.to_numpy(), dtype="Int64")
    return pd.DataFrame(
        {
            "customer_id": customers.astype(np.int64),
            "purchase_invoices": count,
            "first_purchase_at": pd.to_datetime(first_at.astype("float64"), unit="us"),
            "second_purchase_at": pd.to_datetime(second_at.astype("float64"), unit="us"),
            "days_to_second_purchase": days,
            "is_repeat_customer": count >= 2,
            "customer_type": np.where(wholesale, "wholesale", "retail"),
            "mean_units_per_purchase": [_fraction(u, n) for u, n in zip(units, count, strict=True)],
        }
    )


# --------------------------------------------------------------------------
# Marts
# --------------------------------------------------------------------------


def _span(lines: pd.DataFrame) -> tuple[int, int, int | None]:
    """First and last month number of the data, and the incomplete month (or None)."""
    numbers = _month_number(lines["year_month"].to_numpy())
    last_ts = pd.Timestamp(_ts(np.array([lines["ts"].max()]))[0])
    incomplete = None
    if (last_ts.normalize() + pd.Timedelta(days=1)).month == last_ts.month:
        incomplete = int(_month_number(np.array([last_ts.year * 100 + last_ts.month]))[0])
    return int(numbers.min()), int(numbers.max()), incomplete


def _active_months(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per known customer and month with a line: invoices, purchases, net."""
    known = lines.loc[lines["customer"] >= 0]
    keys = ["customer", "year_month"]
    is_purchase = ~(known["is_cancellation"] | known["is_adjustment"])
    distinct = known.assign(is_purchase=is_purchase).drop_duplicates([*keys, "inv"])
    counted = distinct.groupby(keys).agg(invoices=("inv", "size"), purchases=("is_purchase", "sum"))
    counted["net_milli"] = known.groupby(keys)["amount_milli"].sum()
    counted = counted.reset_index()
    counted["month_number"] = _month_number(counted["year_month"])
    cohort = counted.groupby("customer")["month_number"].transform("min")
    counted["cohort_number"] = cohort
    return counted


def _customer_months(active: pd.DataFrame, last: int) -> pd.DataFrame:
    cohorts = active.groupby("customer")["cohort_number"].first()
    spans = (last - cohorts.to_numpy() + 1).astype(np.int64)
    starts = np.cumsum(spans) - spans
    offsets = np.arange(int(spans.sum()), dtype=np.int64) - np.repeat(starts, spans)
    number = np.repeat(cohorts.to_numpy(), spans) + offsets
    dense = pd.DataFrame(
        {
            "customer": np.repeat(cohorts.index.to_numpy(), spans),
            "month_number": number,
            "cohort_number": np.repeat(cohorts.to_numpy(), spans),
            "months_since_first": offsets,
        }
    )
    facts = active[["customer", "month_number", "invoices", "purchases", "net_milli"]]
    dense = dense.merge(facts, on=["customer", "month_number"], how="left")
    for column in ("invoices", "purchases", "net_milli"):
        dense[column] = dense[column].fillna(0).astype(np.int64)
    lifetime = dense.groupby("customer")[["invoices", "purchases", "net_milli"]].cumsum()
    return pd.DataFrame(
        {
            "customer_id": dense["customer"].to_numpy(dtype=np.int64),
            "year_month": _year_month(dense["month_number"]),
            "month_start": _month_start(dense["month_number"]),
            "cohort_year_month": _year_month(dense["cohort_number"]),
            "months_since_first": dense["months_since_first"].to_numpy(dtype=np.int64),
            "is_active": dense["invoices"].to_numpy() > 0,
            "invoices_in_month": dense["invoices"].to_numpy(),
            "purchases_in_month": dense["purchases"].to_numpy(),
            "net_sales_in_month": _money(dense["net_milli"]),
            "lifetime_invoices": lifetime["invoices"].to_numpy(dtype=np.int64),
            "lifetime_purchases": lifetime["purchases"].to_numpy(dtype=np.int64),
            "lifetime_net_sales": _money(lifetime["net_milli"]),
            "_net_milli": dense["net_milli"].to_numpy(),
        }
    )


def _cohort_retention(
    customer_months: pd.DataFrame, first: int, incomplete: int | None
) -> pd.DataFrame:
    grouped = customer_months.groupby(["cohort_year_month", "months_since_first"], sort=True).agg(
        cohort_customers=("customer_id", "size"),
        active_customers=("is_active", "sum"),
        net_milli=("_net_milli", "sum"),
    )
    grouped["cumulative_milli"] = grouped.groupby(level=0)["net_milli"].cumsum()
    grouped = grouped.reset_index()
    number = _month_number(grouped["cohort_year_month"]) + grouped["months_since_first"].to_numpy()
    cohort = grouped["cohort_customers"].to_numpy(dtype=np.int64)
    active = grouped["active_customers"].to_numpy(dtype=np.int64)
    cumulative = grouped["cumulative_milli"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "cohort_year_month": grouped["cohort_year_month"].to_numpy(dtype=np.int64),
            "months_since_first": grouped["months_since_first"].to_numpy(dtype=np.int64),
            "year_month": _year_month(number),
            "month_start": _month_start(number),
            "cohort_customers": cohort,
            "active_customers": active,
            "retention_pct": [_fraction(100 * a, c) for a, c in zip(active, cohort, strict=True)],
            "net_sales": _money(grouped["net_milli"]),
            "cumulative_net_sales": _money(cumulative),
            "net_sales_per_cohort_customer": [
                _fraction(m, c * MILLI) for m, c in zip(cumulative, cohort, strict=True)
            ],
            "is_complete_month": number != (incomplete if incomplete is not None else -1),
            "is_left_censored": _month_number(grouped["cohort_year_month"]) == first,
        }
    )


def _customer_movement(
    active: pd.DataFrame, first: int, last: int, incomplete: int | None
) -> pd.DataFrame:
    """Every calendar month of the data: new, retained (active the previous calendar month
    too), reactivated (not new, not active the previous month), churned."""
    pairs = active[["customer", "month_number", "cohort_number", "net_milli"]]
    previous = pairs[["customer", "month_number"]].assign(month_number=pairs["month_number"] + 1)
    marked = pairs.merge(
        previous.assign(was_active=True), on=["customer", "month_number"], how="left"
    )
    was_active = marked["was_active"].fillna(False).to_numpy(dtype=bool)
    is_new = (marked["month_number"] == marked["cohort_number"]).to_numpy()
    status = np.where(is_new, "new", np.where(was_active, "retained", "reactivated"))
    marked["status"] = status
    left = previous.merge(
        pairs[["customer", "month_number"]].assign(stays=True),
        on=["customer", "month_number"],
        how="left",
    )
    churned = left.loc[left["stays"].isna() & (left["month_number"] <= last)]
    months = np.arange(first, last + 1, dtype=np.int64)
    counts = marked.groupby(["month_number", "status"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=months, columns=["new", "retained", "reactivated"], fill_value=0)
    sales = marked.groupby(["month_number", "status"])["net_milli"].sum().unstack(fill_value=0)
    sales = sales.reindex(index=months, columns=["new", "retained", "reactivated"], fill_value=0)
    active_count = marked.groupby("month_number").size().reindex(months, fill_value=0)
    churn_count = churned.groupby("month_number").size().reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "year_month": _year_month(months),
            "month_start": _month_start(months),
            "active_customers": active_count.to_numpy(dtype=np.int64),
            "new_customers": counts["new"].to_numpy(dtype=np.int64),
            "retained_customers": counts["retained"].to_numpy(dtype=np.int64),
            "reactivated_customers": counts["reactivated"].to_numpy(dtype=np.int64),
            "churned_customers": churn_count.to_numpy(dtype=np.int64),
            "new_net_sales": _money(sales["new"]),
            "retained_net_sales": _money(sales["retained"]),
            "reactivated_net_sales": _money(sales["reactivated"]),
            "is_complete_month": months != (incomplete if incomplete is not None else -1),
        }
    )


def _repeat_purchase_summary(purchases: pd.DataFrame) -> pd.DataFrame:
    buyers = purchases.loc[purchases["purchase_invoices"] > 0]
    rows = []
    for population in ("all", "wholesale", "retail"):
        part = buyers if population == "all" else buyers[buyers["customer_type"] == population]
        days = part["days_to_second_purchase"].dropna().astype("int64")
        repeat = int(part["is_repeat_customer"].sum())
        rows.append(
            {
                "population": population,
                "customers": len(part),
                "repeat_customers": repeat,
                "repeat_rate_pct": _fraction(100 * repeat, len(part)),
                # the analysts' pandas median: linear interpolation
                "median_days_to_second_purchase": float(days.median()) if len(days) else np.nan,
                "mean_days_to_second_purchase": _fraction(int(days.sum()), len(days)),
            }
        )
    return pd.DataFrame(rows, columns=MART_COLUMNS["repeat_purchase_summary"])


def _monthly_sales_by_customer_type(
    lines: pd.DataFrame, purchases: pd.DataFrame, incomplete: int | None
) -> pd.DataFrame:
    types = purchases.set_index("customer_id")["customer_type"]
    customer = lines["customer"].to_numpy()
    known_type = types.reindex(np.where(customer >= 0, customer, -1)).to_numpy(dtype=object)
    line_type = np.where(customer >= 0, known_type, "unknown")
    work = pd.DataFrame(
        {
            "year_month": lines["year_month"].to_numpy(),
            "customer_type": line_type,
            "customer": customer,
            "amount_milli": lines["amount_milli"].to_numpy(),
        }
    )
    months = np.unique(work["year_month"].to_numpy())
    grid = pd.MultiIndex.from_product([months, CUSTOMER_TYPES], names=["year_month", "type"])
    keys = [work["year_month"], work["customer_type"]]
    net = work.groupby(keys)["amount_milli"].sum().reindex(grid, fill_value=0)
    known = work.loc[work["customer"] >= 0]
    active = (
        known.groupby([known["year_month"], known["customer_type"]])["customer"]
        .nunique()
        .reindex(grid, fill_value=0)
    )
    month_net = work.groupby("year_month")["amount_milli"].sum()
    month_of = grid.get_level_values(0).to_numpy()
    totals = month_net.reindex(month_of).to_numpy(dtype=np.int64)
    net_values = net.to_numpy(dtype=np.int64)
    numbers = _month_number(month_of)
    return pd.DataFrame(
        {
            "year_month": month_of.astype(np.int64),
            "month_start": _month_start(numbers),
            "customer_type": grid.get_level_values(1).to_numpy(dtype=object),
            "net_sales": _money(net_values),
            "active_customers": active.to_numpy(dtype=np.int64),
            "share_of_net_sales_pct": [
                _fraction(100 * n, t) for n, t in zip(net_values, totals, strict=True)
            ],
            "is_complete_month": numbers != (incomplete if incomplete is not None else -1),
        }
    )


def _country_summary(lines: pd.DataFrame) -> pd.DataFrame:
    known = lines["customer"].where(lines["customer"] >= 0)
    per = (
        lines.assign(known_customer=known)
        .groupby("country", sort=True)
        .agg(
            invoices=("inv", "nunique"),
            customers=("known_customer", "nunique"),
            net_milli=("amount_milli", "sum"),
            first_ts=("ts", "min"),
            last_ts=("ts", "max"),
        )
    )
    total = int(lines["amount_milli"].sum())
    net = per["net_milli"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "country": per.index.astype(str).to_numpy(),
            "invoices": per["invoices"].to_numpy(dtype=np.int64),
            "customers": per["customers"].to_numpy(dtype=np.int64),
            "net_sales": _money(net),
            "share_of_net_sales_pct": [_fraction(100 * n, total) for n in net],
            "first_invoiced_at": _ts(per["first_ts"]),
            "last_invoiced_at": _ts(per["last_ts"]),
        }
    )


def lifecycle_marts(
    lines: pd.DataFrame, *, wholesale_min_units_per_purchase: float | str = 400
) -> dict[str, pd.DataFrame]:
    """Every lifecycle mart from the kept lines, plus ``_customer_purchases`` (the new
    columns of ``customers``, keyed by ``customer_id``) and ``_invoice_units`` (the new
    column of ``invoices``, keyed by ``invoice_no``)."""
    threshold = Fraction(str(wholesale_min_units_per_purchase))
    invoices = _invoices(lines)
    purchases = _customer_purchases(lines, invoices, threshold)
    units = pd.DataFrame(
        {
            "invoice_no": invoices["invoice_no"].astype(str).to_numpy(),
            "positive_product_quantity": invoices["units"].to_numpy(dtype=np.int64),
        }
    )
    marts: dict[str, pd.DataFrame] = {"_customer_purchases": purchases, "_invoice_units": units}
    if len(lines) == 0:
        for name, columns in MART_COLUMNS.items():
            marts[name] = pd.DataFrame(columns=columns)
        return marts
    first, last, incomplete = _span(lines)
    active = _active_months(lines)
    customer_months = _customer_months(active, last)
    marts["customer_months"] = customer_months
    marts["cohort_retention"] = _cohort_retention(customer_months, first, incomplete)
    marts["customer_movement"] = _customer_movement(active, first, last, incomplete)
    marts["repeat_purchase_summary"] = _repeat_purchase_summary(purchases)
    marts["monthly_sales_by_customer_type"] = _monthly_sales_by_customer_type(
        lines, purchases, incomplete
    )
    marts["country_summary"] = _country_summary(lines)
    return marts


def check_invariants(marts: dict[str, pd.DataFrame]) -> list[str]:
    """The issue's identities, on the oracle's own frames (empty = they hold)."""
    failures: list[str] = []
    movement = marts["customer_movement"].set_index("year_month")
    users = marts["monthly_users"].set_index("year_month")
    parts = (
        movement["new_customers"]
        + movement["retained_customers"]
        + movement["reactivated_customers"]
    )
    if not (parts == movement["active_customers"]).all():
        failures.append("customer_movement: active != new + retained + reactivated")
    previous_active = movement["active_customers"].shift(1, fill_value=0)
    if not (
        previous_active == movement["retained_customers"] + movement["churned_customers"]
    ).all():
        failures.append("customer_movement: previous active != retained + churned")
    for column, theirs in (("active_customers", "active_users"), ("new_customers", "new_users")):
        if not (movement[column].reindex(users.index) == users[theirs]).all():
            failures.append(f"customer_movement.{column} != monthly_users.{theirs}")
    by_type = marts["monthly_sales_by_customer_type"].groupby("year_month")["net_sales"].sum()
    sales = marts["monthly_sales"].set_index("year_month")["net_sales"]
    if not np.allclose(by_type.reindex(sales.index).to_numpy(), sales.to_numpy(), atol=0.005):
        failures.append("monthly_sales_by_customer_type: types do not sum to net_sales")
    retention = marts["cohort_retention"]
    first = retention.loc[retention["months_since_first"] == 0].set_index("cohort_year_month")
    if not (first["active_customers"] == first["cohort_customers"]).all():
        failures.append("cohort_retention: a cohort is not fully active in month 0")
    summary = marts["repeat_purchase_summary"].set_index("population")
    for column in ("customers", "repeat_customers"):
        if summary.loc["all", column] != summary.loc[["wholesale", "retail"], column].sum():
            failures.append(f"repeat_purchase_summary: {column} of all != wholesale + retail")
    return failures
