"""Figures that characterise an "Online Retail II" CSV file, real or generated.

`profile(path)` reads a file in the UCI "Online Retail II" CSV layout and returns a
flat dictionary of figures (shares, counts, shapes) used to compare generated files
with the real one. `REAL_PROFILE` holds the same figures computed from the real file
(`real_profile.json` beside this module), for machines where the real file is absent;
regenerate it with ``python -m lgs.generate.profile /path/to/online_retail_II.csv.gz --write``.

Extracts: rows are taken in file order; a row whose date is more than one day below
the running maximum of the current extract starts a new extract, whose running maximum
restarts from that row. Rows of an extract dated no later than the last date of the
previous extract are its *overlap* with it; "unique" figures drop them.

Customer lifecycle figures (`lifecycle`) follow the definitions of the lifecycle marts
(issue 12) on the lines the models count: each invoice once, from the latest extract
that holds it.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REAL_PROFILE_PATH = Path(__file__).with_name("real_profile.json")
DAY = np.timedelta64(1, "D")
RETENTION_MONTHS = (1, 2, 3, 6, 12)  # months since the cohort month of the retention figures


def read(path: str | Path) -> pd.DataFrame:
    """The file as categorical strings, plus parsed columns ``dt``, ``qty``, ``price``."""
    df = pd.read_csv(path, dtype="category", keep_default_na=False, na_filter=False)
    # parse each distinct value once
    codes = {c: df[c].cat.codes.to_numpy() for c in ("InvoiceDate", "Quantity", "Price")}
    when = pd.to_datetime(df["InvoiceDate"].cat.categories, format="%Y-%m-%d %H:%M:%S")
    df["dt"] = when.to_numpy()[codes["InvoiceDate"]]
    df["qty"] = df["Quantity"].cat.categories.astype(np.int64).to_numpy()[codes["Quantity"]]
    df["price"] = df["Price"].cat.categories.astype(np.float64).to_numpy()[codes["Price"]]
    return df


def extract_starts(dates: np.ndarray) -> list[int]:
    """Row positions where extracts start (by the rule in the module docstring)."""
    d = dates.astype("datetime64[m]")
    starts = [0]
    pos = 0
    while pos < len(d):
        run = np.maximum.accumulate(d[pos:])
        fall = np.flatnonzero(run - d[pos:] > DAY)
        if len(fall) == 0:
            break
        pos += int(fall[0])
        starts.append(pos)
    return starts


def _flag(series: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """``test`` applied to each distinct value only (fast on repetitive columns)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), list(series.cat.categories)
    else:
        codes, uniques = pd.factorize(series)
    flags = np.array([bool(test(str(x))) for x in uniques] + [False], dtype=bool)
    return pd.Series(flags[codes], index=series.index)


def _round(x: float, nd: int = 6) -> float:
    return float(round(float(x), nd))


def deduplicated(df: pd.DataFrame, starts: list[int]) -> pd.DataFrame:
    """The lines that count: each invoice from the latest extract that holds it (the
    models' `dedupe_overlapping_extracts`); ``starts``: the extracts' first rows."""
    extract = np.zeros(len(df), dtype=np.int64)
    for number, start in enumerate(starts[1:], start=1):
        extract[start:] = number
    invoice = df["Invoice"].cat.codes.to_numpy()
    latest = np.zeros(int(invoice.max()) + 1 if len(invoice) else 0, dtype=np.int64)
    np.maximum.at(latest, invoice, extract)
    return df[extract == latest[invoice]]


def _mean_pct(values: list[float]) -> float | None:
    """Mean in percent, 4 decimals; None when there is nothing to average."""
    return _round(100 * float(np.mean(values)), 4) if values else None


def lifecycle(lines: pd.DataFrame) -> dict[str, Any]:
    """Retention, customer movement and repeat purchase of known customers.

    A customer's cohort month is the month of their first line; they are active in a
    month with any line in it (cancellations included). A purchase is an invoice that
    is neither a cancellation (C) nor an adjustment (A), at the time of its first line.

    - ``retention_pct_month_k``: the mean over cohorts of the % of the cohort active k
      months after its cohort month. The first month's cohort is left out (it holds
      everyone who bought before the data starts), and so is the month the data ends
      in (a partial month).
    - ``first_cohort_retention_pct_year_1``/``_2``: that first cohort's, the existing
      customer base's: the mean % of it active in months 1-12 and 13-24 after the first
      (complete months only).
    - ``retained_share_pct`` and ``reactivated_share_pct``: the mean over months (from
      the second through the last complete one) of the % of the month's active
      customers who were active the month before, and who were not but are not new.
    - ``repeat_rate_pct``: customers with 2+ purchases, % of those with 1+;
      ``days_to_second_purchase_median``/``_mean``: whole days (truncated) from a
      repeat customer's first purchase to their second (pandas median).
    """
    month = (lines["dt"].dt.year * 12 + lines["dt"].dt.month - 1).to_numpy()
    first_month, last_month = int(month.min()), int(month.max())
    known = (lines["Customer ID"] != "").to_numpy()
    active = pd.DataFrame(
        {"customer": lines["Customer ID"].cat.codes.to_numpy()[known], "month": month[known]}
    ).drop_duplicates()
    active["cohort"] = active.groupby("customer")["month"].transform("min")
    cohort_size = active[active["month"] == active["cohort"]].groupby("cohort").size()
    counts = active.groupby(["cohort", "month"]).size()
    out: dict[str, Any] = {}
    for k in RETENTION_MONTHS:
        shares = [
            counts.get((c, c + k), 0) / n
            for c, n in cohort_size.items()
            if first_month < c and c + k < last_month
        ]
        out[f"retention_pct_month_{k}"] = _mean_pct(shares)
    base = cohort_size.get(first_month, 0)  # none when no known customer buys then
    for year in (1, 2):
        shares = [
            counts.get((first_month, first_month + k), 0) / base
            for k in range(12 * year - 11, 12 * year + 1)
            if first_month + k < last_month and base
        ]
        out[f"first_cohort_retention_pct_year_{year}"] = _mean_pct(shares)
    before = active[["customer", "month"]].assign(month=active["month"] + 1, was_active=True)
    moves = active.merge(before, on=["customer", "month"], how="left")
    moves = moves[(moves["month"] > first_month) & (moves["month"] < last_month)]
    retained = moves["was_active"].eq(True)
    reactivated = ~retained & (moves["month"] > moves["cohort"])
    by_month = pd.DataFrame({"r": retained, "a": reactivated, "month": moves["month"]})
    shares_by_month = by_month.groupby("month")[["r", "a"]].mean()
    out["retained_share_pct"] = _mean_pct(shares_by_month["r"].tolist())
    out["reactivated_share_pct"] = _mean_pct(shares_by_month["a"].tolist())
    return out | _repeat_purchase(lines[known])


def _repeat_purchase(lines: pd.DataFrame) -> dict[str, Any]:
    """Repeat rate and days to the second purchase (see `lifecycle`)."""
    purchase = lines[~_flag(lines["Invoice"], lambda x: x.startswith(("C", "A")))]
    at = purchase.groupby(["Customer ID", "Invoice"], observed=True)["dt"].min().reset_index()
    at = at.sort_values(["Customer ID", "dt"], kind="stable")
    rank = at.groupby("Customer ID", observed=True).cumcount()
    first = at[rank == 0].set_index("Customer ID")["dt"]
    second = at[rank == 1].set_index("Customer ID")["dt"]
    days = (second - first.reindex(second.index)) // pd.Timedelta(days=1)
    return {
        "repeat_rate_pct": _mean_pct([len(second) / len(first)]) if len(first) else None,
        "days_to_second_purchase_median": float(days.median()) if len(days) else None,
        "days_to_second_purchase_mean": _round(days.mean(), 3) if len(days) else None,
    }


def profile(path: str | Path) -> dict[str, Any]:
    """Figures of an Online Retail II file (see the module docstring)."""
    df = read(path)
    n_rows = len(df)
    dates = df["dt"].to_numpy()
    starts = extract_starts(dates)
    bounds = [*starts, n_rows]
    overlap = np.zeros(n_rows, dtype=bool)
    max_fallback = np.timedelta64(0, "m")
    prev_max = None
    for a, b in itertools.pairwise(bounds):
        d = dates[a:b].astype("datetime64[m]")
        run = np.maximum.accumulate(d)
        max_fallback = max(max_fallback, (run - d).max())
        if prev_max is not None:
            overlap[a:b] = d <= prev_max
        prev_max = d.max()
    u = df[~overlap]

    inv = df["Invoice"]
    is_c = _flag(inv, lambda x: x.startswith("C"))
    is_a = _flag(inv, lambda x: x.startswith("A"))
    no_cust = df["Customer ID"] == ""
    n_inv = inv.nunique()

    # invoices (on unique rows)
    g = u.groupby("Invoice", sort=False, observed=True)
    sizes = g.size()
    first_dt = g["dt"].min()
    span = g["dt"].max() - first_dt
    inv_c = sizes.index.str.startswith("C")
    empty = (u["Customer ID"] == "").groupby(u["Invoice"], sort=False, observed=True)
    mixed_cust = empty.any() & ~empty.all()
    month = first_dt.dt.strftime("%Y-%m")
    per_month = month.value_counts().sort_index()
    month_norm = {m: _round(c / per_month.mean(), 4) for m, c in per_month.items()}
    peaks: dict[str, str] = {}
    for year in sorted({m[:4] for m in per_month.index}):
        sub = per_month[per_month.index.str.startswith(year)]
        peaks[year] = str(sub.idxmax())[5:]
    weekday = first_dt.dt.day_of_week
    hour = first_dt.dt.hour

    # customers: repeat buyers (more than one non-C invoice)
    u_c = is_c[~overlap]
    cust_inv = u[(u["Customer ID"] != "") & ~u_c]
    per_cust = cust_inv.groupby("Customer ID", observed=True)["Invoice"].nunique()
    per_cust = per_cust[per_cust > 0]
    all_cust = df.loc[~no_cust, "Customer ID"]
    ids = (
        pd.Series(all_cust.unique().astype(str)).astype(float).astype(np.int64)
        if len(all_cust)
        else pd.Series([0])
    )

    # cancellations: each C line of a customer is matched with the latest earlier line
    # of the same customer, code and price with a positive quantity (its "original");
    # share matched, share in the original's calendar month, days after it
    uc = u_c
    keys = ["Customer ID", "StockCode", "Price"]
    c_lines = u[uc & (u["Customer ID"] != "")][[*keys, "dt"]].sort_values("dt")
    o_lines = u[~uc & (u["Customer ID"] != "") & (u["qty"] > 0)][[*keys, "dt"]]
    o_lines = o_lines.rename(columns={"dt": "dt_orig"}).sort_values("dt_orig")
    matched = pd.merge_asof(
        c_lines,
        o_lines,
        left_on="dt",
        right_on="dt_orig",
        by=keys,
        allow_exact_matches=False,
        direction="backward",
    )
    has = matched["dt_orig"].notna()
    same_month = matched.loc[has, "dt"].dt.to_period("M") == matched.loc[
        has, "dt_orig"
    ].dt.to_period("M")
    lag_days = (matched.loc[has, "dt"] - matched.loc[has, "dt_orig"]) / pd.Timedelta(days=1)

    code = df["StockCode"]
    desc = df["Description"]
    price_txt = df["Price"]
    product = _flag(code, lambda x: bool(re.match(r"\d{5}", x)) or x.startswith("DCGS"))
    n_unique = len(u)
    return {
        "rows": n_rows,
        "invoices": int(n_inv),
        "customers": int(all_cust.nunique()),
        "extracts": len(starts),
        "overlap_rows": int(overlap.sum()),
        "max_fallback_within_extract_minutes": int(max_fallback / np.timedelta64(1, "m")),
        "no_customer_line_share": _round(no_cust.mean()),
        "c_line_share": _round(is_c.mean()),
        "c_invoice_share": _round(inv[is_c].nunique() / n_inv),
        "a_invoices": int(inv[is_a].nunique()),
        "a_negative_price_invoices": int(inv[is_a & (df["price"] < 0)].nunique()),
        "lines_per_invoice_mean": _round(n_unique / max(len(sizes), 1), 3),
        "lines_per_invoice_median": float(sizes.median()),
        "lines_per_invoice_p99": float(sizes.quantile(0.99)),
        "lines_per_invoice_max": int(sizes.max()),
        "lines_per_c_invoice_mean": _round(sizes[inv_c].mean(), 3) if inv_c.any() else 0.0,
        "duplicate_share": _round(df.duplicated(subset=list(df.columns[:8])).mean()),
        "duplicate_share_unique": _round(u.duplicated(subset=list(df.columns[:8])).mean()),
        "zero_price_share": _round((df["price"] == 0).mean()),
        "negative_price_rows": int((df["price"] < 0).sum()),
        "negative_non_c_share": _round(((df["qty"] < 0) & ~is_c).mean()),
        "negative_non_c_without_customer_share": _round(
            (no_cust[(df["qty"] < 0) & ~is_c]).mean() if ((df["qty"] < 0) & ~is_c).any() else 0.0
        ),
        "countries": int(df["Country"].nunique()),
        "uk_share": _round((df["Country"] == "United Kingdom").mean()),
        "has_unspecified_country": bool((df["Country"] == "Unspecified").any()),
        "invoices_mixed_customer": int(mixed_cust.sum()),
        "invoices_multi_customer": int((g["Customer ID"].nunique() > 1).sum()),
        "invoices_multi_country": int((g["Country"].nunique() > 1).sum()),
        "invoices_multi_timestamp_share": _round((span > pd.Timedelta(0)).mean()),
        "invoice_max_span_minutes": int(span.max() / pd.Timedelta(minutes=1)),
        "invoices_multi_day": int((g["dt"].max().dt.date != first_dt.dt.date).sum()),
        "month_invoices": month_norm,
        "peak_month": peaks,
        "months": len(per_month),
        "saturday_invoice_share": _round((weekday == 5).mean()),
        "sunday_invoice_share": _round((weekday == 6).mean()),
        "invoice_hour_mean": _round(hour.mean(), 3),
        "invoice_hour_min": int(hour.min()),
        "invoice_hour_max": int(hour.max()),
        "repeat_customer_share": _round((per_cust > 1).sum() / max(all_cust.nunique(), 1)),
        "invoices_per_customer_mean": _round(per_cust.mean(), 3),
        "invoices_per_customer_max": int(per_cust.max()) if len(per_cust) else 0,
        "customer_id_min": int(ids.min()),
        "customer_id_max": int(ids.max()),
        "c_lines_matching_earlier_share": _round(has.mean()) if len(has) else 0.0,
        "c_same_month_share": _round(same_month.mean()) if len(same_month) else 0.0,
        "c_lag_days_median": _round(lag_days.median(), 3) if len(lag_days) else 0.0,
        "c_lag_days_p90": _round(lag_days.quantile(0.9), 3) if len(lag_days) else 0.0,
        "non_product_line_share": _round((~product).mean()),
        "non_product_codes": int(code[~product].nunique()),
        "stock_codes": int(code.nunique()),
        "empty_description_share": _round((desc == "").mean()),
        "description_comma_share": _round(_flag(desc, lambda x: "," in x).mean()),
        "description_quote_share": _round(_flag(desc, lambda x: '"' in x).mean()),
        "description_edge_space_share": _round(
            _flag(desc, lambda x: x.startswith(" ") or x.endswith(" ")).mean()
        ),
        "price_three_decimals_rows": int(
            _flag(price_txt, lambda x: bool(re.search(r"\.\d{3}", x))).sum()
        ),
        "price_exponent_rows": int(_flag(price_txt, lambda x: "e" in x.lower()).sum()),
        "price_median": float(df["price"].median()),
        "quantity_median": float(df["qty"].median()),
        "first_date": str(dates.min())[:16].replace("T", " "),
        "last_date": str(dates.max())[:16].replace("T", " "),
    } | lifecycle(deduplicated(df, starts))


def _load_real_profile() -> dict[str, Any]:
    if REAL_PROFILE_PATH.exists():
        return dict(json.loads(REAL_PROFILE_PATH.read_text()))
    return {}


REAL_PROFILE: dict[str, Any] = _load_real_profile()


if __name__ == "__main__":
    result = profile(sys.argv[1])
    if "--write" in sys.argv[2:]:
        REAL_PROFILE_PATH.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(json.dumps(result, indent=1))
