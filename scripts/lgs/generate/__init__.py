"""Synthetic "Online Retail II" data for London Gift Shop (LGS).

`generate()` writes a CSV file in exactly the layout of the widespread CSV form of
the UCI "Online Retail II" workbook (header
``Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country``),
filled with invented invoices whose shape is calibrated on the real data set:
seasonality, invoice sizes, customers and their repeat behaviour, cancellations,
adjustments, stock write-offs, non-product stock codes, exact duplicate lines,
awkward descriptions, countries, trading hours and days, and the two overlapping
workbook extracts. Only aggregate figures of the real file are used
(`calibration.toml`); no row of it is copied. Stock codes, descriptions, customers and
prices are invented.

The modules, in the order the work runs:

- `calibration` (with `calibration.toml`, `vocabulary.toml`): the real file's figures;
- `trading_calendar`: trading days, hours and closures, monthly rates, extract overlaps;
- `catalogue`: the shop's products, codes, descriptions and prices (a fixed seed);
- `customers`: the customer base, acquisition, activity and churn, countries;
- `cancellations`: which orders are cancelled, when, and by how many lines;
- `plan`: one row per invoice of the file (`make_plan`, about 1/20 of its rows);
- `lines`: the lines of a block of invoices;
- `writer`: formatting and writing, block by block, the overlap written twice;
- `profile` (with `real_profile.json`): the figures of a file, to compare with the
  real one's (scripts/tests/test_generate.py).

Everything is drawn from generators seeded from ``seed`` (the catalogue and the
customer base from fixed seeds, so that every file describes the same shop), so the
same arguments always give a byte-identical file (gzip headers carry no time stamp).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgs.generate.customers import MAX_CUSTOMERS
from lgs.generate.plan import make_plan
from lgs.generate.trading_calendar import parse_minutes
from lgs.generate.writer import HEADER, write_file

__all__ = ["HEADER", "GenerateResult", "generate"]


@dataclass(frozen=True)
class GenerateResult:
    """What `generate()` wrote."""

    path: Path
    rows: int  # data rows (without header), overlap rows counted twice
    invoices: int  # distinct invoice numbers
    customers: int  # distinct customer ids
    extracts: int
    seconds: float
    last_invoice_no: int  # highest invoice number (digits); use +1 to continue


def generate(
    rows: int,
    seed: int,
    out: Path,
    *,
    start: str = "2009-12-01",
    end: str = "2011-12-09 12:50",
    extracts: int = 2,
    first_invoice_no: int = 489434,
    customers: int | None = None,
    progress: bool | None = None,
) -> GenerateResult:
    """Write ``rows`` synthetic invoice lines (plus header) to ``out``.

    Args:
        rows: data rows of the file, the overlap between extracts included (>= 100).
        seed: random seed; the same arguments always give a byte-identical file.
        out: output path; gzip-compressed when it ends in ``.gz``.
        start, end: first and last minute of the data (``YYYY-MM-DD[ HH:MM]``; a bare
            ``end`` date means the end of that day).
        extracts: number of overlapping extracts the file is the concatenation of
            (the real file: 2, overlapping 2010-12-01..09).
        first_invoice_no: number of the first invoice; numbers increase with time.
        customers: size of the customer pool (default: scaled on the real
            5,942 customers per 1,067,370 rows over two years).
        progress: a progress bar on stderr; by default when stderr is a terminal.
    """
    t0 = time.perf_counter()
    out = Path(out)
    if rows < 100:
        raise ValueError("rows must be >= 100")
    if customers is not None and not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be within 1..{MAX_CUSTOMERS}")
    start_min = parse_minutes(start)
    end_min = parse_minutes(end, end=True)
    if end_min <= start_min:
        raise ValueError("end must be after start")
    plan = make_plan(rows, seed, start_min, end_min, extracts, customers, first_invoice_no)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_file(plan, seed, out, rows, progress)
    return GenerateResult(
        path=out,
        rows=written,
        invoices=len(plan.minute),
        customers=len(np.unique(plan.customer[plan.customer >= 0])),
        extracts=len(plan.overlap_windows) + 1,
        seconds=time.perf_counter() - t0,
        last_invoice_no=int(plan.number[-1]) if len(plan.number) else first_invoice_no - 1,
    )
