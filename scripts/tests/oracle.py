"""Independent pandas oracle for the London Gift Shop marts.

This module recomputes every mart of the dbt project straight from the raw CSV
extracts, with pandas and numpy only, the way the LGS analysts' notebooks did
(``read_csv``, ``groupby``, ``qcut``) but with exact arithmetic. The test suite
compares the dbt marts against it, so it must never import the project's own
package (``lgs``) nor share any logic with the SQL.

Exactness
---------
* Prices are parsed from their text into an integer number of thousandths of a
  pound (at most 3 decimals, otherwise ``ValueError``); quantities into int64.
  Line amounts are therefore exact integers in 1/1000 GBP and every sum is exact.
  Money is converted to float GBP only when a mart is emitted (``milli / 1000``
  is correctly rounded); means, percentiles and growth rates are computed as
  ``fractions.Fraction`` first and rounded once.
* Modes, ties, percentiles and RFM bin edges are decided on the exact integers.

Line-level definitions
----------------------
* ``is_cancellation``: the invoice number starts with ``C``;
  ``is_adjustment``: it starts with ``A``.
* ``customer_id``: integer parsed from the float text (``13085.0``), null when
  the field is empty.
* ``line_amount = quantity * unit_price``; ``year_month`` = YYYYMM (int) of the
  line's invoice date; ``month_start`` = first day of that month.
* Extracts: within each file, rows in file order form extracts. Extract 1
  starts at the first data row, with running maximum = its date. A row whose
  invoice date is strictly more than one day below the running maximum of the
  current extract (``date < running_max - 1 day``) starts a new extract, whose
  running maximum starts from that row's own date.
* Deduplication (``dedupe_overlapping_extracts=True``): each invoice number is
  taken from one extract only, the latest extract that holds it, extracts being
  ordered by (file order in ``files``, extract number). All the invoice's lines
  in that extract are kept (exact duplicate lines within the extract included);
  its lines in every other extract are dropped. With ``False`` every line of
  every file is kept (this reproduces the published notebook figures, which
  double count the overlap of the two workbook sheets, 2010-12-01..09).

All marts are computed on the kept lines. Timestamps are naive
``datetime64[us]`` (pandas 3's own unit for parsed text); ``month_start`` is a
``datetime64[us]`` at midnight.

Public API: :func:`compute_marts`. Run ``python scripts/tests/oracle.py FILE``
to print every mart, or ``--self-test`` for the built-in checks.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import oracle_lifecycle
import pandas as pd

__all__ = [
    "MART_COLUMNS",
    "RFM_POPULATIONS",
    "SEGMENTS",
    "check_invariants",
    "compute_marts",
    "read_lines",
    "segment_for",
    "self_test",
]

TS_DTYPE = "datetime64[us]"
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
ONE_DAY_US = 86_400 * 1_000_000
MILLI = 1000

#: Header names of the two raw layouts, mapped to the oracle's column names.
_LAYOUTS: dict[tuple[str, ...], dict[str, str]] = {
    (
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
    ): {
        "Invoice": "invoice_no",
        "StockCode": "stock_code",
        "Quantity": "quantity",
        "InvoiceDate": "invoiced_at",
        "Price": "unit_price",
        "Customer ID": "customer_id",
        "Country": "country",
    },
    (
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ): {
        "InvoiceNo": "invoice_no",
        "StockCode": "stock_code",
        "Quantity": "quantity",
        "InvoiceDate": "invoiced_at",
        "UnitPrice": "unit_price",
        "CustomerID": "customer_id",
        "Country": "country",
    },
}

RFM_POPULATIONS = ("all_orders", "positive_lines")

#: The (R, F) grid: (segment, R scores, F scores). Every one of the 25 cells
#: belongs to exactly one segment (checked in :func:`self_test`).
_SEGMENT_RULES: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("Hibernating", (1, 2), (1, 2)),
    ("At Risk", (1, 2), (3, 4)),
    ("Can't Lose", (1, 2), (5,)),
    ("About to Sleep", (3,), (1, 2)),
    ("Need Attention", (3,), (3,)),
    ("Loyal Customers", (3, 4), (4, 5)),
    ("Promising", (4,), (1,)),
    ("New Customers", (5,), (1,)),
    ("Potential Loyalists", (4, 5), (2, 3)),
    ("Champions", (5,), (4, 5)),
)

#: The 10 segment names, in the order of the rules above.
SEGMENTS: tuple[str, ...] = tuple(rule[0] for rule in _SEGMENT_RULES)

#: Column contract of every mart.
MART_COLUMNS: dict[str, list[str]] = {
    "invoices": [
        "invoice_no",
        "invoiced_at",
        "customer_id",
        "country",
        "is_cancellation",
        "line_count",
        "amount",
        "positive_amount",
        *oracle_lifecycle.INVOICE_COLUMNS,
    ],
    "invoice_amount_summary": [
        "population",
        "invoices",
        "min_amount",
        "mean_amount",
        "median_amount",
        "mode_amount",
        "max_amount",
        "p85_amount",
    ],
    "monthly_orders": [
        "year_month",
        "month_start",
        "total_orders",
        "cancelled_orders",
        "placed_orders",
    ],
    "monthly_sales": [
        "year_month",
        "month_start",
        "net_sales",
        "gross_sales",
        "cancelled_sales",
        "sales_growth_pct",
        "is_complete_month",
    ],
    "monthly_users": [
        "year_month",
        "month_start",
        "active_users",
        "new_users",
        "existing_users",
    ],
    "customer_rfm": [
        "customer_id",
        "last_invoiced_at",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "segment",
    ],
    "rfm_segments": [
        "segment",
        "customers",
        "share_pct",
        "mean_recency_days",
        "mean_frequency",
        "mean_monetary",
        "total_monetary",
    ],
    "customers": [
        "customer_id",
        "country",
        "first_invoiced_at",
        "last_invoiced_at",
        "first_year_month",
        "lifetime_invoices",
        "net_revenue",
        "segment",
        *oracle_lifecycle.CUSTOMER_COLUMNS,
    ],
    # the customer lifecycle marts: scripts/tests/oracle_lifecycle.py
    **oracle_lifecycle.MART_COLUMNS,
}


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

_PRICE_RE = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")
_INT_RE = re.compile(r"[+-]?\d+")
_CUSTOMER_RE = re.compile(r"(\d+)(?:\.0*)?")


def _map_uniques(text: pd.Series, parse: Callable[[str], int], dtype: str) -> np.ndarray:
    """Parse each distinct text value once with ``parse`` and map it back."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    values = np.array([parse(str(u)) for u in uniques], dtype=dtype)
    return values[codes]


def _price_to_milli(text: str) -> int:
    """``'6.95'`` -> 6950: a price as an exact integer number of 1/1000 GBP.

    Raises ``ValueError`` for anything that is not a plain decimal number or
    that has a non-zero digit after the third decimal.
    """
    match = _PRICE_RE.fullmatch(text.strip())
    if match is None or not (match.group(2) or match.group(3)):
        raise ValueError(f"price is not a plain decimal number: {text!r}")
    sign, whole, frac = match.group(1), match.group(2) or "0", match.group(3) or ""
    frac = frac.rstrip("0")
    if len(frac) > 3:
        raise ValueError(f"price has more than 3 decimals: {text!r}")
    value = int(whole) * MILLI + int(frac.ljust(3, "0"))
    return -value if sign == "-" else value


def _quantity_to_int(text: str) -> int:
    """``'-12'`` -> -12; raises ``ValueError`` unless the text is an integer."""
    if _INT_RE.fullmatch(text.strip()) is None:
        raise ValueError(f"quantity is not an integer: {text!r}")
    return int(text)


def _customer_to_int(text: str) -> int:
    """``'13085.0'`` -> 13085, ``''`` -> -1 (the null marker used internally)."""
    stripped = text.strip()
    if stripped == "":
        return -1
    match = _CUSTOMER_RE.fullmatch(stripped)
    if match is None:
        raise ValueError(f"customer id is not a whole number: {text!r}")
    return int(match.group(1))


def _parse_timestamps(text: pd.Series) -> np.ndarray:
    """Parse ``YYYY-MM-DD HH:MM:SS`` text into int64 microseconds (naive)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object), format=TS_FORMAT)
    return parsed.to_numpy(dtype=TS_DTYPE).view("int64")[codes]


def _extract_numbers(ts_us: np.ndarray) -> np.ndarray:
    """Extract number (1, 2, ...) of each row of one file, rows in file order.

    A row starts a new extract when its timestamp is strictly more than one day
    below the running maximum of the current extract; the new extract's running
    maximum then starts from that row's own timestamp.
    """
    n = len(ts_us)
    out = np.empty(n, dtype=np.int64)
    start, extract = 0, 1
    while start < n:
        if extract > 64:  # pathological input: finish row by row
            run_max = ts_us[start]
            for i in range(start, n):
                value = int(ts_us[i])
                if value < run_max - ONE_DAY_US:
                    extract += 1
                    run_max = value
                elif value > run_max:
                    run_max = value
                out[i] = extract
            break
        segment = ts_us[start:]
        run_max = np.maximum.accumulate(segment)
        breaks = np.flatnonzero(segment < run_max - ONE_DAY_US)
        end = start + int(breaks[0]) if breaks.size else n
        out[start:end] = extract
        start, extract = end, extract + 1
    return out


def _read_one(path: Path) -> pd.DataFrame:
    """Read one raw CSV (plain or .gz, either layout) into typed columns."""
    header = tuple(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)
    if header not in _LAYOUTS:
        raise ValueError(f"{path}: unknown header {header}")
    rename = _LAYOUTS[header]
    raw = pd.read_csv(
        path,
        usecols=list(rename),
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
        na_filter=False,
    ).rename(columns=rename)
    return pd.DataFrame(
        {
            "invoice_no": raw["invoice_no"].astype(str),
            "stock_code": raw["stock_code"].astype(str),
            "quantity": _map_uniques(raw["quantity"], _quantity_to_int, "int64"),
            "price_milli": _map_uniques(raw["unit_price"], _price_to_milli, "int64"),
            "ts": _parse_timestamps(raw["invoiced_at"]),
            "customer": _map_uniques(raw["customer_id"], _customer_to_int, "int64"),
            "country": raw["country"].astype(str),
        }
    )


def read_lines(
    files: Sequence[str | Path], *, dedupe_overlapping_extracts: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read, type, split into extracts and (optionally) deduplicate the lines.

    Returns ``(lines, stats)``. ``lines`` holds the kept lines with the columns
    ``invoice_no`` (text), ``stock_code`` (text), ``quantity`` (int64), ``price_milli`` (int64, unit
    price in 1/1000 GBP), ``ts`` (int64 microseconds), ``customer`` (int64, -1
    when unknown), ``country``, ``file_index``, ``extract``, ``amount_milli``
    (exact line amount), ``inv`` (int code of the invoice number),
    ``is_cancellation``, ``is_adjustment`` and ``year_month``. ``stats`` has
    one row per (file, extract) with row counts and date ranges.
    """
    frames = []
    for file_index, name in enumerate(files, start=1):
        path = Path(name)
        frame = _read_one(path)
        frame["file_index"] = file_index
        frame["file"] = str(path)
        frame["extract"] = _extract_numbers(frame["ts"].to_numpy())
        frame["row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
        frames.append(frame)
    lines = pd.concat(frames, ignore_index=True) if frames else _read_empty()
    # Global extract order: (file order, extract number).
    extracts = lines["extract"].to_numpy()
    stride = int(extracts.max()) + 1 if len(extracts) else 1
    ordinal_key = lines["file_index"].to_numpy() * stride + extracts
    codes, _ = pd.factorize(lines["invoice_no"])
    latest = pd.Series(ordinal_key).groupby(codes).transform("max").to_numpy()
    kept = latest == ordinal_key if dedupe_overlapping_extracts else np.ones(len(lines), bool)
    lines["kept"] = kept

    stats = (
        lines.groupby(["file_index", "file", "extract"], sort=True)
        .agg(
            first_row=("row", "min"),
            rows_read=("row", "size"),
            rows_kept=("kept", "sum"),
            invoices=("invoice_no", "nunique"),
            min_ts=("ts", "min"),
            max_ts=("ts", "max"),
        )
        .reset_index()
    )
    stats["rows_kept"] = stats["rows_kept"].astype("int64")
    stats["rows_dropped"] = stats["rows_read"] - stats["rows_kept"]
    stats["extracts_in_file"] = stats.groupby("file_index")["extract"].transform("size")
    stats["min_invoiced_at"] = stats.pop("min_ts").to_numpy().view(TS_DTYPE)
    stats["max_invoiced_at"] = stats.pop("max_ts").to_numpy().view(TS_DTYPE)

    lines = lines.loc[kept].drop(columns=["kept", "row", "file"]).reset_index(drop=True)
    if len(lines):
        peak = int(lines["quantity"].abs().max()) * int(lines["price_milli"].abs().max())
        if peak >= 2**62:
            raise ValueError("line amounts would overflow int64 thousandths of a pound")
    lines["amount_milli"] = lines["quantity"] * lines["price_milli"]
    lines["inv"], _ = pd.factorize(lines["invoice_no"])
    lines["is_cancellation"] = lines["invoice_no"].str.startswith("C")
    lines["is_adjustment"] = lines["invoice_no"].str.startswith("A")
    stamps = lines["ts"].to_numpy().view(TS_DTYPE)
    index = pd.DatetimeIndex(stamps)
    lines["year_month"] = (index.year * 100 + index.month).to_numpy(dtype=np.int64)
    return lines, stats


def _read_empty() -> pd.DataFrame:
    """An empty typed line frame (no files given)."""
    return pd.DataFrame(
        {
            "invoice_no": pd.Series([], dtype=str),
            "stock_code": pd.Series([], dtype=str),
            "quantity": np.empty(0, np.int64),
            "price_milli": np.empty(0, np.int64),
            "ts": np.empty(0, np.int64),
            "customer": np.empty(0, np.int64),
            "country": pd.Series([], dtype=str),
            "file_index": np.empty(0, np.int64),
            "file": pd.Series([], dtype=str),
            "extract": np.empty(0, np.int64),
            "row": np.empty(0, np.int64),
        }
    )


# --------------------------------------------------------------------------
# Exact helpers
# --------------------------------------------------------------------------


def _money(milli: np.ndarray | pd.Series) -> np.ndarray:
    """Exact 1/1000 GBP integers -> float GBP (correctly rounded)."""
    return np.asarray(milli, dtype=np.int64) / MILLI


def _frac_money(value: Fraction | None) -> float:
    """An exact amount in 1/1000 GBP -> float GBP (NaN for None)."""
    return float("nan") if value is None else float(value / MILLI)


def _ratio(numerator: int, denominator: int) -> float:
    """``numerator / denominator`` exactly, rounded once; NaN when dividing by 0."""
    return float(Fraction(numerator, denominator)) if denominator else float("nan")


def _exact_quantile(sorted_values: np.ndarray, q: Fraction) -> Fraction:
    """Quantile with linear interpolation (numpy/pandas ``linear``), exact.

    The virtual index is ``q * (n - 1)``; the value is
    ``a[lo] + (a[hi] - a[lo]) * (index - lo)``.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("quantile of an empty sample")
    position = q * (n - 1)
    lo = position.numerator // position.denominator
    hi = min(lo + 1, n - 1)
    low, high = int(sorted_values[lo]), int(sorted_values[hi])
    return low + (high - low) * (position - lo)


def _exact_mode(values: np.ndarray) -> int:
    """Most frequent value; the smallest one on ties."""
    uniques, counts = np.unique(values, return_counts=True)
    return int(uniques[int(np.argmax(counts))])


def _scaled(values: np.ndarray, factor: int) -> np.ndarray:
    """``values * factor`` without int64 overflow (object ints when needed)."""
    values = np.asarray(values, dtype=np.int64)
    peak = int(np.abs(values).max()) if len(values) else 0
    if peak * factor < 2**62:
        return values * factor
    return values.astype(object) * factor


def _above(values: np.ndarray, edge: Fraction) -> np.ndarray:
    """``values > edge`` for integer values, decided exactly."""
    return np.asarray(_scaled(values, edge.denominator) > edge.numerator, dtype=bool)


def _below(values: np.ndarray, edge: Fraction) -> np.ndarray:
    """``values < edge`` for integer values, decided exactly."""
    return np.asarray(_scaled(values, edge.denominator) < edge.numerator, dtype=bool)


def quintile_bins(values: np.ndarray) -> np.ndarray:
    """The qcut rule written out, exactly: bins 1..5 of integer ``values``.

    Edges are the 0.2/0.4/0.6/0.8 quantiles (linear interpolation); a value's
    bin is 1 + the number of edges strictly below it (right-closed bins, the
    lowest bin including the minimum), exactly what
    ``pd.qcut(values, 5, labels=[1, 2, 3, 4, 5])`` returns when it succeeds.
    """
    values = np.asarray(values, dtype=np.int64)
    bins = np.ones(len(values), dtype=np.int64)
    if len(values) == 0:
        return bins
    ordered = np.sort(values)
    for k in range(1, 5):
        bins += _above(values, _exact_quantile(ordered, Fraction(k, 5)))
    return bins


def _qcut_bins(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Bins 1..5 as ``pd.qcut`` computes them, with the exact fallback.

    Returns ``(bins, used_fallback)``. When qcut succeeds its result must equal
    :func:`quintile_bins`; a difference would mean a float artefact decided a
    bin, which is raised as an ``AssertionError``.
    """
    exact = quintile_bins(values)
    try:
        cut = pd.qcut(pd.Series(values), 5, labels=[1, 2, 3, 4, 5])
    except (ValueError, IndexError):
        return exact, True
    pandas_bins = cut.astype("int64").to_numpy()
    if not np.array_equal(pandas_bins, exact):
        raise AssertionError("pd.qcut and the exact quintile rule disagree")
    return pandas_bins, False


def segment_for(r_score: int, f_score: int) -> str:
    """The segment of an (R, F) cell of the grid."""
    for name, r_scores, f_scores in _SEGMENT_RULES:
        if r_score in r_scores and f_score in f_scores:
            return name
    raise ValueError(f"no segment for R={r_score} F={f_score}")


_SEGMENT_GRID = np.array(
    [[segment_for(r, f) for f in range(1, 6)] for r in range(1, 6)], dtype=object
)


def _month_start(year_month: np.ndarray) -> np.ndarray:
    """YYYYMM integers -> first day of the month (datetime64[us])."""
    year_month = np.asarray(year_month, dtype=np.int64)
    parts = pd.DataFrame({"year": year_month // 100, "month": year_month % 100, "day": 1})
    if len(parts) == 0:
        return np.empty(0, dtype=TS_DTYPE)
    return pd.to_datetime(parts).to_numpy(dtype=TS_DTYPE)


def _previous_month(year_month: int) -> int:
    """YYYYMM of the previous calendar month."""
    year, month = divmod(year_month, 100)
    return (year - 1) * 100 + 12 if month == 1 else year * 100 + month - 1


def _parse_as_of(text: str) -> int:
    """``'YYYY-MM-DD'`` (midnight) or ``'YYYY-MM-DD HH:MM:SS'`` -> microseconds."""
    for fmt in ("%Y-%m-%d", TS_FORMAT):
        try:
            moment = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return int(np.datetime64(moment, "us").astype(np.int64))
    raise ValueError(f"rfm_as_of must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS': {text!r}")


def _ts(values: np.ndarray | pd.Series) -> np.ndarray:
    """int64 microseconds -> datetime64[us]."""
    return np.asarray(values, dtype=np.int64).view(TS_DTYPE)


# --------------------------------------------------------------------------
# Marts
# --------------------------------------------------------------------------


def _invoices(lines: pd.DataFrame) -> pd.DataFrame:
    """Mart ``invoices``: one row per invoice number.

    ``invoiced_at`` = earliest line timestamp; ``customer_id`` and ``country``
    = the invoice's only customer / country (asserted); ``line_count`` = kept
    lines; ``amount`` = net sum of line amounts; ``positive_amount`` = sum of
    line amounts over lines with quantity > 0 and unit price > 0 (0 if none).
    """
    positive = (lines["quantity"] > 0) & (lines["price_milli"] > 0)
    work = lines.assign(
        country_code=pd.factorize(lines["country"])[0],
        positive_milli=lines["amount_milli"].where(positive, 0),
    )
    grouped = work.groupby("inv", sort=True).agg(
        invoice_no=("invoice_no", "first"),
        ts=("ts", "min"),
        customer_min=("customer", "min"),
        customer_max=("customer", "max"),
        country_min=("country_code", "min"),
        country_max=("country_code", "max"),
        country=("country", "first"),
        line_count=("ts", "size"),
        amount_milli=("amount_milli", "sum"),
        positive_milli=("positive_milli", "sum"),
    )
    mixed_customers = grouped["customer_min"] != grouped["customer_max"]
    if mixed_customers.any():
        bad = grouped.loc[mixed_customers, "invoice_no"].head(5).tolist()
        raise AssertionError(f"invoices with more than one customer: {bad}")
    mixed_countries = grouped["country_min"] != grouped["country_max"]
    if mixed_countries.any():
        bad = grouped.loc[mixed_countries, "invoice_no"].head(5).tolist()
        raise AssertionError(f"invoices with more than one country: {bad}")
    customer = grouped["customer_min"].to_numpy()
    customer_id = pd.array(np.where(customer < 0, 0, customer), dtype="Int64")
    customer_id[customer < 0] = pd.NA
    out = pd.DataFrame(
        {
            "invoice_no": grouped["invoice_no"].astype(str).to_numpy(),
            "invoiced_at": _ts(grouped["ts"]),
            "customer_id": customer_id,
            "country": grouped["country"].astype(str).to_numpy(),
            "is_cancellation": grouped["invoice_no"].str.startswith("C").to_numpy(dtype=bool),
            "line_count": grouped["line_count"].to_numpy(dtype=np.int64),
            "amount": _money(grouped["amount_milli"]),
            "positive_amount": _money(grouped["positive_milli"]),
            "_amount_milli": grouped["amount_milli"].to_numpy(dtype=np.int64),
            "_positive_milli": grouped["positive_milli"].to_numpy(dtype=np.int64),
            "_customer": customer,
        }
    )
    return out.sort_values("invoice_no", kind="stable").reset_index(drop=True)


def _amount_summary_row(population: str, amounts: np.ndarray) -> dict[str, object]:
    """Summary of exact invoice amounts (1/1000 GBP) for one population."""
    if len(amounts) == 0:
        return {"population": population, "invoices": 0} | {
            col: float("nan") for col in MART_COLUMNS["invoice_amount_summary"][2:]
        }
    ordered = np.sort(amounts)
    return {
        "population": population,
        "invoices": len(ordered),
        "min_amount": _frac_money(Fraction(int(ordered[0]))),
        "mean_amount": _frac_money(Fraction(int(ordered.sum()), len(ordered))),
        "median_amount": _frac_money(_exact_quantile(ordered, Fraction(1, 2))),
        "mode_amount": _frac_money(Fraction(_exact_mode(ordered))),
        "max_amount": _frac_money(Fraction(int(ordered[-1]))),
        "p85_amount": _frac_money(_exact_quantile(ordered, Fraction(17, 20))),
    }


def _invoice_amount_summary(invoices: pd.DataFrame) -> pd.DataFrame:
    """Mart ``invoice_amount_summary``: one row per population.

    ``all`` = invoices with ``positive_amount > 0`` (their positive_amount);
    ``below_p85`` = those whose positive_amount is strictly below the 85th
    percentile (linear interpolation) of the ``all`` amounts. Columns: count,
    min, mean, median, mode (smallest on ties), max and the population's own
    85th percentile.
    """
    amounts = invoices["_positive_milli"].to_numpy()
    amounts = amounts[amounts > 0]
    if len(amounts):
        p85 = _exact_quantile(np.sort(amounts), Fraction(17, 20))
        below = amounts[_below(amounts, p85)]
    else:
        below = amounts
    rows = [_amount_summary_row("all", amounts), _amount_summary_row("below_p85", below)]
    out = pd.DataFrame(rows, columns=MART_COLUMNS["invoice_amount_summary"])
    out["invoices"] = out["invoices"].astype("int64")
    return out


def _monthly(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Marts ``monthly_orders``, ``monthly_sales`` and ``monthly_users``.

    One row per calendar month with at least one kept line.

    * orders: ``total_orders`` = distinct invoices with a line that month;
      ``cancelled_orders`` = distinct ``C`` invoices; ``placed_orders`` =
      total - 2 * cancelled.
    * sales: ``net_sales`` = sum of all line amounts; ``gross_sales`` = lines
      of non-``C`` invoices; ``cancelled_sales`` = lines of ``C`` invoices;
      ``sales_growth_pct`` = 100 * (net - previous calendar month's net) /
      previous (null for the first month, a missing previous month or a zero
      previous net); ``is_complete_month`` is false only for the month of the
      latest line timestamp, unless that timestamp falls on the month's last
      day.
    * users: ``active_users`` = distinct known customers with any line that
      month; ``new_users`` = those whose first month (over all their lines) is
      this month; ``existing_users`` = the others.
    """
    year_month = lines["year_month"]
    months = np.unique(year_month.to_numpy())
    month_start = _month_start(months)

    pairs = lines[["year_month", "inv", "is_cancellation"]].drop_duplicates(["year_month", "inv"])
    total = pairs.groupby("year_month").size().reindex(months, fill_value=0)
    cancelled = (
        pairs.loc[pairs["is_cancellation"]]
        .groupby("year_month")
        .size()
        .reindex(months, fill_value=0)
    )
    orders = pd.DataFrame(
        {
            "year_month": months.astype(np.int64),
            "month_start": month_start,
            "total_orders": total.to_numpy(dtype=np.int64),
            "cancelled_orders": cancelled.to_numpy(dtype=np.int64),
        }
    )
    orders["placed_orders"] = orders["total_orders"] - 2 * orders["cancelled_orders"]

    amount = lines["amount_milli"]
    is_c = lines["is_cancellation"]
    net = amount.groupby(year_month).sum().reindex(months, fill_value=0)
    gross = amount.where(~is_c, 0).groupby(year_month).sum().reindex(months, fill_value=0)
    cancel = amount.where(is_c, 0).groupby(year_month).sum().reindex(months, fill_value=0)
    net_by_month = {int(m): int(v) for m, v in net.items()}
    growth = []
    for month in months:
        previous = net_by_month.get(_previous_month(int(month)))
        if previous is None or previous == 0:
            growth.append(float("nan"))
        else:
            change = Fraction(100 * (net_by_month[int(month)] - previous), previous)
            growth.append(float(change))
    complete = np.ones(len(months), dtype=bool)
    if len(lines):
        last = pd.Timestamp(_ts(np.array([lines["ts"].max()]))[0])
        if (last.normalize() + pd.Timedelta(days=1)).month == last.month:
            complete[months == last.year * 100 + last.month] = False
    sales = pd.DataFrame(
        {
            "year_month": months.astype(np.int64),
            "month_start": month_start,
            "net_sales": _money(net),
            "gross_sales": _money(gross),
            "cancelled_sales": _money(cancel),
            "sales_growth_pct": np.array(growth, dtype=float),
            "is_complete_month": complete,
        }
    )

    known = lines.loc[lines["customer"] >= 0, ["customer", "year_month"]]
    first_month = known.groupby("customer")["year_month"].min()
    active = known.drop_duplicates()
    is_new = active["year_month"].to_numpy() == first_month.reindex(active["customer"]).to_numpy()
    active_count = active.groupby("year_month").size().reindex(months, fill_value=0)
    new_count = active.loc[is_new].groupby("year_month").size().reindex(months, fill_value=0)
    users = pd.DataFrame(
        {
            "year_month": months.astype(np.int64),
            "month_start": month_start,
            "active_users": active_count.to_numpy(dtype=np.int64),
            "new_users": new_count.to_numpy(dtype=np.int64),
        }
    )
    users["existing_users"] = users["active_users"] - users["new_users"]
    return orders, sales, users


def _customer_rfm(
    lines: pd.DataFrame, population: str, as_of_us: int | None
) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Mart ``customer_rfm``: one row per customer in the RFM population.

    Population ``all_orders``: every line with a customer (cancellations
    included); ``positive_lines``: lines with a customer, quantity > 0 and
    line amount > 0. Only lines with timestamp < as-of count. Per customer:
    ``last_invoiced_at`` (latest line timestamp), ``recency_days`` (floor of
    the days from it to the as-of instant), ``frequency`` (distinct invoices),
    ``monetary`` (sum of line amounts). On the customers sorted by id:
    ``R = qcut(recency, 5, labels=[5,4,3,2,1])``,
    ``F = qcut(frequency.rank(method="first"), 5, labels=[1..5])``,
    ``M = qcut(monetary, 5, labels=[1..5])``, with the exact rule of
    :func:`quintile_bins` when qcut raises. ``segment`` from the (R, F) grid.
    Returns the mart and which scores used the fallback.
    """
    mask = lines["customer"].to_numpy() >= 0
    if population == "positive_lines":
        mask &= (lines["quantity"].to_numpy() > 0) & (lines["amount_milli"].to_numpy() > 0)
    elif population != "all_orders":
        raise ValueError(f"rfm_population must be one of {RFM_POPULATIONS}: {population!r}")
    if as_of_us is not None:
        mask &= lines["ts"].to_numpy() < as_of_us
    subset = lines.loc[mask, ["customer", "ts", "inv", "amount_milli"]]
    per = subset.groupby("customer", sort=True).agg(
        last_ts=("ts", "max"),
        frequency=("inv", "nunique"),
        monetary_milli=("amount_milli", "sum"),
    )
    customer = per.index.to_numpy(dtype=np.int64)
    recency = (
        (as_of_us - per["last_ts"].to_numpy(dtype=np.int64)) // ONE_DAY_US
        if as_of_us is not None
        else np.zeros(len(per), dtype=np.int64)
    )
    frequency = per["frequency"].to_numpy(dtype=np.int64)
    monetary = per["monetary_milli"].to_numpy(dtype=np.int64)

    # rank(method="first") on frequency, customers in id order: ties by id.
    first_rank = np.empty(len(frequency), dtype=np.int64)
    first_rank[np.argsort(frequency, kind="stable")] = np.arange(1, len(frequency) + 1)
    recency_bin, r_fallback = _qcut_bins(recency)
    f_score, f_fallback = _qcut_bins(first_rank)
    m_score, m_fallback = _qcut_bins(monetary)
    r_score = 6 - recency_bin
    segment = _SEGMENT_GRID[r_score - 1, f_score - 1] if len(per) else np.empty(0, dtype=object)
    out = pd.DataFrame(
        {
            "customer_id": customer,
            "last_invoiced_at": _ts(per["last_ts"]),
            "recency_days": recency.astype(np.int64),
            "frequency": frequency,
            "monetary": _money(monetary),
            "r_score": r_score.astype(np.int64),
            "f_score": f_score.astype(np.int64),
            "m_score": m_score.astype(np.int64),
            "rfm_score": [f"{r}{f}{m}" for r, f, m in zip(r_score, f_score, m_score, strict=True)],
            "segment": pd.array(segment, dtype=str),
            "_monetary_milli": monetary,
        }
    )
    fallbacks = {"r_fallback": r_fallback, "f_fallback": f_fallback, "m_fallback": m_fallback}
    return out, fallbacks


def _rfm_segments(rfm: pd.DataFrame) -> pd.DataFrame:
    """Mart ``rfm_segments``: one row per segment (all 10, sorted by name).

    ``customers``; ``share_pct`` = 100 * customers / all RFM customers; mean
    recency / frequency / monetary (null when the segment is empty);
    ``total_monetary`` (0 when empty).
    """
    total_customers = len(rfm)
    rows = []
    for name in sorted(SEGMENTS):
        part = rfm.loc[rfm["segment"] == name]
        n = len(part)
        monetary = int(part["_monetary_milli"].sum())
        rows.append(
            {
                "segment": name,
                "customers": n,
                "share_pct": _ratio(100 * n, total_customers),
                "mean_recency_days": _ratio(int(part["recency_days"].sum()), n),
                "mean_frequency": _ratio(int(part["frequency"].sum()), n),
                "mean_monetary": _ratio(monetary, n * MILLI),
                "total_monetary": _frac_money(Fraction(monetary)),
            }
        )
    out = pd.DataFrame(rows, columns=MART_COLUMNS["rfm_segments"])
    out["customers"] = out["customers"].astype("int64")
    return out


def _customers(lines: pd.DataFrame, invoices: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    """Mart ``customers``: one row per known customer (any kept line).

    ``country`` of the latest invoice (latest ``invoiced_at``, ties by the
    greatest invoice_no as text); first / last line timestamps;
    ``first_year_month``; ``lifetime_invoices`` (distinct invoices,
    cancellations included); ``net_revenue`` (sum of all line amounts);
    ``segment`` from ``customer_rfm`` (null when not in the RFM population).
    """
    known = lines.loc[lines["customer"] >= 0, ["customer", "ts", "inv", "amount_milli"]]
    per = known.groupby("customer", sort=True).agg(
        first_ts=("ts", "min"),
        last_ts=("ts", "max"),
        lifetime_invoices=("inv", "nunique"),
        net_milli=("amount_milli", "sum"),
    )
    latest = (
        invoices.loc[
            invoices["_customer"] >= 0, ["_customer", "invoiced_at", "invoice_no", "country"]
        ]
        .sort_values(["_customer", "invoiced_at", "invoice_no"], kind="stable")
        .drop_duplicates("_customer", keep="last")
        .set_index("_customer")["country"]
    )
    first_index = pd.DatetimeIndex(_ts(per["first_ts"]))
    segments = rfm.set_index("customer_id")["segment"]
    return pd.DataFrame(
        {
            "customer_id": per.index.to_numpy(dtype=np.int64),
            "country": latest.reindex(per.index).astype(str).to_numpy(),
            "first_invoiced_at": first_index.to_numpy(),
            "last_invoiced_at": _ts(per["last_ts"]),
            "first_year_month": (first_index.year * 100 + first_index.month).to_numpy(
                dtype=np.int64
            ),
            "lifetime_invoices": per["lifetime_invoices"].to_numpy(dtype=np.int64),
            "net_revenue": _money(per["net_milli"]),
            "segment": pd.array(segments.reindex(per.index).to_numpy(dtype=object), dtype="str"),
        }
    )


def compute_marts(
    files: Sequence[str | Path],
    *,
    dedupe_overlapping_extracts: bool = True,
    rfm_population: str = "all_orders",
    rfm_as_of: str | None = None,
    wholesale_min_units_per_purchase: float | str = 400,
) -> dict[str, pd.DataFrame]:
    """Compute every mart from raw CSV files, independently of the SQL.

    ``files`` are loaded in this order (load 1, load 2, ...), each plain or
    gzipped, in either raw layout. ``rfm_population`` is ``"all_orders"`` or
    ``"positive_lines"``. ``rfm_as_of`` is ``'YYYY-MM-DD'`` (its midnight) or
    ``'YYYY-MM-DD HH:MM:SS'``; the default is the midnight after the day of the
    latest kept line timestamp. Only lines strictly before it count for RFM.
    ``wholesale_min_units_per_purchase`` is the customer-type threshold of the
    lifecycle marts (``oracle_lifecycle``).

    Returns one DataFrame per mart (keys and columns of :data:`MART_COLUMNS`,
    sorted by the grain key) plus ``_stats`` (one row per file extract: rows
    read / kept / dropped, distinct invoices, date range) and ``_totals`` (one
    row: files, extracts, rows read / kept / dropped, the RFM settings used and
    which RFM scores needed the exact qcut fallback).
    """
    if rfm_population not in RFM_POPULATIONS:
        raise ValueError(f"rfm_population must be one of {RFM_POPULATIONS}: {rfm_population!r}")
    lines, stats = read_lines(files, dedupe_overlapping_extracts=dedupe_overlapping_extracts)

    if rfm_as_of is not None:
        as_of_us: int | None = _parse_as_of(rfm_as_of)
    elif len(lines):
        last_us = int(lines["ts"].max())
        as_of_us = (last_us // ONE_DAY_US + 1) * ONE_DAY_US
    else:
        as_of_us = None

    invoices = _invoices(lines)
    summary = _invoice_amount_summary(invoices)
    orders, sales, users = _monthly(lines)
    rfm, fallbacks = _customer_rfm(lines, rfm_population, as_of_us)
    segments = _rfm_segments(rfm)
    customers = _customers(lines, invoices, rfm)
    lifecycle = oracle_lifecycle.lifecycle_marts(
        lines, wholesale_min_units_per_purchase=wholesale_min_units_per_purchase
    )
    invoices = invoices.merge(lifecycle.pop("_invoice_units"), on="invoice_no", how="left")
    customers = customers.merge(lifecycle.pop("_customer_purchases"), on="customer_id", how="left")

    totals = pd.DataFrame(
        [
            {
                "files": len(files),
                "extracts": len(stats),
                "rows_read": int(stats["rows_read"].sum()),
                "rows_kept": int(stats["rows_kept"].sum()),
                "rows_dropped": int(stats["rows_dropped"].sum()),
                "dedupe_overlapping_extracts": dedupe_overlapping_extracts,
                "rfm_population": rfm_population,
                "rfm_as_of": pd.NaT
                if as_of_us is None
                else pd.Timestamp(_ts(np.array([as_of_us]))[0]),
                **fallbacks,
            }
        ]
    )
    marts = {
        "invoices": invoices,
        "invoice_amount_summary": summary,
        "monthly_orders": orders,
        "monthly_sales": sales,
        "monthly_users": users,
        "customer_rfm": rfm,
        "rfm_segments": segments,
        "customers": customers,
        **lifecycle,
    }
    out = {
        name: marts[name][columns].reset_index(drop=True) for name, columns in MART_COLUMNS.items()
    }
    out["_stats"] = stats
    out["_totals"] = totals
    return out


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def check_invariants(marts: dict[str, pd.DataFrame]) -> list[str]:
    """Cross-mart identities that must hold; returns the failures (empty = ok)."""
    failures: list[str] = []
    invoices = marts["invoices"]
    orders = marts["monthly_orders"]
    users = marts["monthly_users"]
    sales = marts["monthly_sales"]
    customers = marts["customers"]
    rfm = marts["customer_rfm"]
    segments = marts["rfm_segments"]
    if invoices["invoice_no"].duplicated().any():
        failures.append("invoices: invoice_no not unique")
    if not (
        orders["placed_orders"] + 2 * orders["cancelled_orders"] == orders["total_orders"]
    ).all():
        failures.append("monthly_orders: placed + 2 * cancelled != total")
    if not (users["new_users"] + users["existing_users"] == users["active_users"]).all():
        failures.append("monthly_users: new + existing != active")
    if int(users["new_users"].sum()) != len(customers):
        failures.append("monthly_users: sum(new_users) != number of customers")
    first_months = customers["first_year_month"].value_counts()
    new_by_month = users.set_index("year_month")["new_users"]
    if not (first_months.reindex(new_by_month.index, fill_value=0) == new_by_month).all():
        failures.append("monthly_users: new_users != customers by first_year_month")
    net_from_invoices = round(float(invoices["amount"].sum()), 2)
    if abs(net_from_invoices - float(sales["net_sales"].sum())) > 0.01:
        failures.append("monthly_sales: net_sales total != invoices amount total")
    if not np.allclose(
        sales["gross_sales"] + sales["cancelled_sales"], sales["net_sales"], atol=1e-6
    ):
        failures.append("monthly_sales: gross + cancelled != net")
    if int(segments["customers"].sum()) != len(rfm):
        failures.append("rfm_segments: customers do not add up to customer_rfm")
    if len(segments) != len(SEGMENTS):
        failures.append("rfm_segments: not 10 rows")
    for r_score, f_score, segment in (
        rfm[["r_score", "f_score", "segment"]].drop_duplicates().itertuples(index=False)
    ):
        if segment_for(int(r_score), int(f_score)) != segment:
            failures.append(f"customer_rfm: R={r_score} F={f_score} -> {segment}")
    if not set(rfm["customer_id"]).issubset(set(customers["customer_id"])):
        failures.append("customer_rfm: customers missing from customers")
    return failures + oracle_lifecycle.check_invariants(marts)


def self_test(seed: int = 20240601, rounds: int = 600) -> None:
    """Built-in checks of the oracle's own building blocks (raises on failure).

    * each of the 25 (R, F) cells maps to exactly one of the 10 segments, and
      every segment is used;
    * :func:`quintile_bins` equals ``pd.qcut`` whenever qcut succeeds (random
      integer samples of many sizes, with and without ties);
    * exact quantile and mode agree with pandas on small integers;
    * price parsing is exact and strict;
    * extract splitting follows the 'more than one day below the running
      maximum' rule, and deduplication keeps each invoice from its latest
      extract (a two-file end-to-end example).
    """
    for r_score in range(1, 6):
        for f_score in range(1, 6):
            owners = [n for n, rs, fs in _SEGMENT_RULES if r_score in rs and f_score in fs]
            assert len(owners) == 1, (r_score, f_score, owners)
    assert set(_SEGMENT_GRID.ravel()) == set(SEGMENTS) and len(SEGMENTS) == 10

    rng = np.random.default_rng(seed)
    compared = 0
    for i in range(rounds):
        n = int(rng.integers(1, 400)) if i % 3 else int(rng.integers(5, 5000))
        high = int(rng.choice([3, 10, 1000, 10**6, 10**11]))
        values = rng.integers(-high // 4, high, n)
        if i % 7 == 0:
            values = np.arange(1, n + 1)
        try:
            expected = (
                pd.qcut(pd.Series(values), 5, labels=[1, 2, 3, 4, 5]).astype("int64").to_numpy()
            )
        except ValueError:
            continue
        compared += 1
        assert np.array_equal(expected, quintile_bins(values)), (n, high)
        ordered = np.sort(values)
        for q in (Fraction(1, 2), Fraction(17, 20), Fraction(3, 5)):
            exact = _exact_quantile(ordered, q)
            assert abs(float(exact) - pd.Series(values).quantile(float(q))) <= 1e-6 * max(
                1, abs(float(exact))
            )
    assert compared > rounds // 2, compared
    assert _exact_mode(np.array([3, 1, 3, 1, 2])) == 1

    assert _price_to_milli("6.95") == 6950 and _price_to_milli("0.001") == 1
    assert _price_to_milli("-11062.06") == -11062060 and _price_to_milli("2.1") == 2100
    assert _price_to_milli("5") == 5000 and _price_to_milli("1.2500") == 1250
    for bad in ("1.2345", "", "abc", "1e-3", "NaN"):
        try:
            _price_to_milli(bad)
        except ValueError:
            continue
        raise AssertionError(f"price {bad!r} accepted")
    assert _customer_to_int("13085.0") == 13085 and _customer_to_int("") == -1

    hour = ONE_DAY_US // 24
    offsets = [0, 10, 9, 40, 15, 14, 15 - 24, 15 - 24]  # hours
    ts = np.array(offsets, dtype=np.int64) * hour + 100 * ONE_DAY_US
    ts[-1] -= 1  # one microsecond more than a day below the running max 15h
    # row 5 (15h) is 25h below the running max 40h: new extract, max 15h;
    # row 7 is exactly one day below 15h: same extract; row 8 starts a third.
    assert _extract_numbers(ts).tolist() == [1, 1, 1, 1, 2, 2, 2, 3]

    header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    old_header = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    )
    first = header + (
        '1,A,"X, ""Y""",2,2020-01-31 23:59:00,1.005,100.0,UK\n'
        '1,A,"X, ""Y""",2,2020-01-31 23:59:00,1.005,100.0,UK\n'
        "2,B,Z,3,2020-02-10 10:00:00,0.5,200.0,France\n"
        "C2,B,Z,-1,2020-02-10 11:00:00,0.5,200.0,France\n"
        "2,B,Z,3,2020-02-01 10:00:00,0.5,200.0,France\n"
    )
    second = old_header + "2,B,Z,3,2020-02-01 10:00:00,0.5,200.0,France\n"
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder, "a.csv"), Path(folder, "b.csv")]
        paths[0].write_text(first)
        paths[1].write_text(second)
        kept = compute_marts(paths)
        every = compute_marts(paths, dedupe_overlapping_extracts=False)
    assert kept["_stats"]["extract"].tolist() == [1, 2, 1]
    assert kept["_stats"]["extracts_in_file"].tolist() == [2, 2, 1]
    assert kept["_totals"].loc[0, "rows_dropped"] == 2  # invoice 2: file 2 wins
    assert every["_totals"].loc[0, "rows_dropped"] == 0
    assert kept["invoices"]["line_count"].tolist() == [2, 1, 1]  # 1 keeps its duplicate
    assert kept["monthly_sales"]["net_sales"].tolist() == [4.02, 1.0]
    assert every["monthly_sales"]["net_sales"].tolist() == [4.02, 4.0]
    assert not check_invariants(kept) and not check_invariants(every)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _print_marts(marts: dict[str, pd.DataFrame], focus_month: int = 201012) -> None:
    """Print every mart compactly, and the ``focus_month`` row of monthly marts."""
    with pd.option_context(
        "display.width", 200, "display.max_columns", 30, "display.float_format", "{:,.3f}".format
    ):
        for name, frame in marts.items():
            print(f"\n== {name}: {len(frame)} rows")
            if len(frame) <= 30:
                print(frame.to_string(index=False))
            else:
                print(frame.head(5).to_string(index=False))
                print("...")
                print(frame.tail(3).to_string(index=False, header=False))
        for name in ("monthly_orders", "monthly_sales", "monthly_users"):
            row = marts[name].loc[marts[name]["year_month"] == focus_month]
            print(f"\n== {name} {focus_month}")
            print(row.to_string(index=False) if len(row) else "(no row)")


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: ``oracle.py FILE [FILE ...] [--no-dedupe] [--population P] [--as-of D]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "files", nargs="*", type=Path, help="raw CSV files (plain or .gz), in load order"
    )
    parser.add_argument(
        "--no-dedupe", action="store_true", help="keep the lines of overlapping extracts"
    )
    parser.add_argument("--population", choices=RFM_POPULATIONS, default="all_orders")
    parser.add_argument(
        "--as-of", default=None, help="RFM as-of: YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS'"
    )
    parser.add_argument(
        "--wholesale-min-units", default="400", help="wholesale threshold (units per purchase)"
    )
    parser.add_argument("--month", type=int, default=201012, help="month row to show (YYYYMM)")
    parser.add_argument("--self-test", action="store_true", help="run the built-in checks")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.self_test:
        started = time.perf_counter()
        self_test()
        print(f"self-test ok in {time.perf_counter() - started:.1f} s")
        if not args.files:
            return 0
    if not args.files:
        parser.error("at least one FILE is required")
    started = time.perf_counter()
    marts = compute_marts(
        args.files,
        dedupe_overlapping_extracts=not args.no_dedupe,
        rfm_population=args.population,
        rfm_as_of=args.as_of,
        wholesale_min_units_per_purchase=args.wholesale_min_units,
    )
    elapsed = time.perf_counter() - started
    _print_marts(marts, args.month)
    failures = check_invariants(marts)
    print("\ninvariants:", failures or "ok")
    print(f"computed in {elapsed:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
