"""Tests of the synthetic data generator (`lgs.generate`) against the real data's profile.

- `test_profile_matches_real`: ~1.07 M generated rows (seed 42) compared figure by
  figure with the real file (profiled from ../shared/data when present, else the
  recorded `REAL_PROFILE`), within the tolerances stated in `TOLERANCES`. It prints
  the generation time; no test asserts on time.
- `test_recorded_profile_is_the_real_files`: where the real file is present, the
  recorded `REAL_PROFILE` must equal its live profile.
- `test_same_output_for_the_same_arguments` (and the big file's hash): the generator
  writes exactly the files it wrote when the hashes were recorded.
- determinism, layout (exact CSV form), the edge cases every small file must hold,
  cancellations, extracts, scaling and the incremental "one more day" use.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lgs.generate import HEADER, generate
from lgs.generate.profile import REAL_PROFILE, extract_starts, profile, read

PROJECT_DIR = Path(__file__).resolve().parents[2]
REAL_FILE = (
    Path(os.environ.get("LGS_REAL_DATA_DIR") or PROJECT_DIR.parent / "shared" / "data")
    / "online_retail_II.csv.gz"
)
BIG_ROWS = 1_067_370  # the real file's size, so that counts compare directly
BIG_SEED = 42

# How each figure of `profile()` may differ between the generated and the real file:
# ("abs", d): |gen - real| <= d; ("rel", r): |gen - real| <= r * |real|; ("eq", None):
# equal; ("range", (lo, hi)): lo <= gen <= hi whatever the real value (only where the
# real figure is too small a sample to compare with, said per line). The bounds are
# a little wider than the spread seen over seeds (1, 2, 7, 42) and far narrower than
# what a missing feature gives (noted per line as "without it: ...").
TOLERANCES: dict[str, tuple[str, Any]] = {
    # generate() writes exactly `rows` rows, the overlap counted twice.
    "rows": ("eq", None),
    # invoices follow from rows and the calibrated lines per invoice (seen -1.0 %);
    # without the small invoices (cancellations, write-offs) about -25 %.
    "invoices": ("rel", 0.04),
    # the pool is sized on the real 5,942 customers per 1,067,370 rows; each buys.
    "customers": ("rel", 0.01),
    # two workbook sheets, found by the fall-back rule.
    "extracts": ("eq", None),
    # rows of 2010-12-01..09 present twice (seen -8 %..+11 %: December is lumpy);
    # without the December front-loading -30 %, without overlap 0.
    "overlap_rows": ("rel", 0.2),
    # within an extract the real file is in date order (0), as generate() writes it.
    "max_fallback_within_extract_minutes": ("eq", None),
    # dotcom orders are large and heavy-tailed (seen +/-0.8 pp); without them 0.5 %.
    "no_customer_line_share": ("abs", 0.015),
    # cancellations (seen -6 %); without them 0.
    "c_line_share": ("rel", 0.12),
    "c_invoice_share": ("abs", 0.01),
    # bad-debt adjustments: 4 events per 1.07 M rows, one of them as +x, -x, -x (real:
    # 6 invoices, 5 negative; seen exactly that). One triple fewer or more (4 and 4, 8
    # and 6) stays within; without adjustments 0.
    "a_invoices": ("abs", 2),
    "a_negative_price_invoices": ("abs", 1),
    # invoice sizes (seen +1 %); the median needs the many one-line invoices.
    "lines_per_invoice_mean": ("rel", 0.04),
    "lines_per_invoice_median": ("abs", 2),
    "lines_per_invoice_p99": ("rel", 0.15),
    "lines_per_invoice_max": ("rel", 0.5),
    "lines_per_c_invoice_mean": ("rel", 0.1),
    # exact duplicate rows in the file (overlap included) and within the extracts
    # (seen -4 %/+4 %); without duplicated lines 0.0217 / 0.0023.
    "duplicate_share": ("abs", 0.005),
    "duplicate_share_unique": ("rel", 0.15),
    # stock write-offs and zero-price lines (seen -3 %).
    "zero_price_share": ("rel", 0.15),
    "negative_non_c_share": ("rel", 0.15),
    "negative_non_c_without_customer_share": ("eq", None),
    # the negative A lines are the only negative prices (real 5, seen 5).
    "negative_price_rows": ("abs", 1),
    # every country of the shop; UK share of lines (seen -0.1 pp..+0.5 pp).
    "countries": ("eq", None),
    "uk_share": ("abs", 0.012),
    "has_unspecified_country": ("eq", None),
    # one customer and one country per invoice, a customer on every line or on none.
    "invoices_mixed_customer": ("eq", None),
    "invoices_multi_customer": ("eq", None),
    "invoices_multi_country": ("eq", None),
    # a few invoices run one to a few minutes later, never into another day. The real
    # longest span (9) is the largest of only three invoices running more than a minute
    # late; the largest of ~3 draws swings 1..9 by seed (the former generator gave 1 for
    # seed 7), so only a bound is checked; the rate itself is compared above.
    "invoices_multi_timestamp_share": ("abs", 0.0015),
    "invoice_max_span_minutes": ("range", (1, 15)),
    "invoices_multi_day": ("eq", None),
    # seasonality: the peak month per year; every month is checked in the test.
    "peak_month": ("eq", None),
    "months": ("eq", None),
    # trading days and hours (Saturday nearly closed; Sunday open; evening Thursdays).
    "saturday_invoice_share": ("abs", 0.002),
    "sunday_invoice_share": ("abs", 0.012),
    "invoice_hour_mean": ("abs", 0.25),
    "invoice_hour_min": ("abs", 1),
    "invoice_hour_max": ("abs", 1),
    # repeat buyers (seen 0.70..0.735); with uniform activity 0.91 (heaviest: 23).
    "repeat_customer_share": ("abs", 0.035),
    "invoices_per_customer_mean": ("rel", 0.05),
    # the heaviest customer (seen 219..529): heavy tail.
    "invoices_per_customer_max": ("rel", 0.5),
    "customer_id_min": ("eq", None),
    "customer_id_max": ("abs", 60),
    # C lines of a customer matched with the latest earlier line of the customer at the
    # same code and price (seen -0.008..+0.003): the others cancel orders before the
    # data or not in it, lines at another price, or non-product lines; cancelling only
    # orders in the file at their price gives 0.953, the former generator 0.967.
    "c_lines_matching_earlier_share": ("abs", 0.025),
    # ... in the calendar month of that original (seen +0.006..+0.015): cancellations
    # reverse orders of earlier months too. The former generator kept 0.95 in the same
    # month; lags beyond a week 1.3 times shorter give +0.031.
    "c_same_month_share": ("abs", 0.03),
    # ... days after that original: median (seen -1.4 %..-0.5 %) and 90th percentile
    # (seen -1.4 %..+5 %); the former generator 3.0 and 11.8 days, lags beyond a week
    # 1.3 times shorter a 90th percentile of -17 %.
    "c_lag_days_median": ("rel", 0.1),
    "c_lag_days_p90": ("rel", 0.12),
    # Customer lifecycle, as the lifecycle marts define it (each invoice once). Seen
    # over seeds 1, 2, 3, 7, 42; "before" is the generator before its return behaviour
    # was calibrated on these figures. New customers active k months after their first
    # month, mean over cohorts (seen -2.3..+1.6 pp; 12 months sits 1.6..2.2 pp low);
    # before: +4.0, +3.6, +0.9, +4.9, -0.8 pp (returning too soon, then fading).
    "retention_pct_month_1": ("abs", 3.0),
    "retention_pct_month_2": ("abs", 3.0),
    "retention_pct_month_3": ("abs", 3.0),
    "retention_pct_month_6": ("abs", 3.0),
    "retention_pct_month_12": ("abs", 3.0),
    # the existing base (the first month's customers): mean % active a month in the
    # first and the second year (seen -2.3..+0.1 and -2.5..0 pp); before, it faded like
    # new customers: 27.6 and 14.7 (-11.5 and -15.1 pp).
    "first_cohort_retention_pct_year_1": ("abs", 4.0),
    "first_cohort_retention_pct_year_2": ("abs", 4.0),
    # a month's active customers also active the month before / returning after a gap
    # (seen 0..+0.5 and -1.3..-0.7 pp); before: +1.8 and -4.5 pp.
    "retained_share_pct": ("abs", 2.5),
    "reactivated_share_pct": ("abs", 2.5),
    # customers with 2+ purchases, % of those with one (seen -1.1..+0.9 pp).
    "repeat_rate_pct": ("abs", 3.0),
    # whole days from the first purchase to the second: the median (seen -2 %..+8 %;
    # before 33 days, -40 %) and the mean, a looser check of the tail (seen +7 %..+14 %:
    # a few more late second purchases).
    "days_to_second_purchase_median": ("rel", 0.15),
    "days_to_second_purchase_mean": ("rel", 0.2),
    # non-product stock codes (POST, DOT, M, C2, D, S, BANK CHARGES, ...).
    "non_product_line_share": ("rel", 0.25),
    "non_product_codes": ("abs", 8),
    "stock_codes": ("rel", 0.1),
    # awkward descriptions: empty, with a comma, a double quote, edge spaces.
    "empty_description_share": ("rel", 0.2),
    "description_comma_share": ("rel", 0.2),
    "description_quote_share": ("rel", 0.4),
    "description_edge_space_share": ("abs", 0.02),
    # prices as the real file writes them: no exponent, and a few with three decimals
    # (the PADS lines at 0.001: a count of mean ~17 whose seed spread, seen 13..20, is
    # Poisson-like, sd ~4; without them 0).
    "price_three_decimals_rows": ("abs", 10),
    "price_exponent_rows": ("eq", None),
    "price_median": ("rel", 0.15),
    "quantity_median": ("abs", 1),
}
MONTH_TOLERANCE = 0.12  # invoices per month / mean: seen within 0.05 (flat would be 0.7)


def _check(rule: str, value: Any, gen: Any, real: Any) -> bool:
    if rule == "eq":
        return bool(gen == real)
    if rule == "abs":
        return abs(gen - real) <= value
    if rule == "rel":
        return abs(gen - real) <= value * abs(real)
    if rule == "range":
        return bool(value[0] <= gen <= value[1])
    raise ValueError(rule)


@pytest.fixture(scope="module")
def live_real_profile() -> dict[str, Any] | None:
    """The profile of the real file, or None where it is absent."""
    return profile(REAL_FILE) if REAL_FILE.exists() else None


@pytest.fixture(scope="module")
def real_profile(live_real_profile: dict[str, Any] | None) -> dict[str, Any]:
    if live_real_profile is not None:
        return live_real_profile
    if not REAL_PROFILE:
        pytest.skip("neither the real file nor lgs/generate/real_profile.json is present")
    return REAL_PROFILE


@pytest.mark.real
def test_recorded_profile_is_the_real_files(live_real_profile: dict[str, Any] | None) -> None:
    """The recorded figures (used where the real file is absent) are exactly those of the
    real file, so they cannot drift from it or from `profile()`. After changing
    `profile()`, rewrite them: ``python -m lgs.generate.profile FILE --write``."""
    if live_real_profile is None:
        pytest.skip(f"{REAL_FILE} is absent")
    live = json.loads(json.dumps(live_real_profile))  # as the JSON file stores it
    changed = {
        key: (REAL_PROFILE.get(key), live.get(key))
        for key in sorted(set(live) | set(REAL_PROFILE))
        if REAL_PROFILE.get(key) != live.get(key)
    }
    assert not changed, f"real_profile.json differs from the real file (recorded, live): {changed}"
    assert set(TOLERANCES) <= set(live)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real file's size (seed 42), gzipped as `lgs bench` writes it."""
    out = tmp_path_factory.mktemp("big") / "generated.csv.gz"
    started = time.perf_counter()
    result = generate(BIG_ROWS, BIG_SEED, out)
    seconds = time.perf_counter() - started
    print(f"\ngenerated {result.rows:,} rows in {seconds:.1f} s")
    return out


@pytest.mark.slow
def test_profile_matches_real(real_profile: dict[str, Any], big_file: Path) -> None:
    gen = profile(big_file)
    failures = []
    print(f"{'figure':44} {'real':>18} {'generated':>18}  tolerance")
    for key, (rule, value) in TOLERANCES.items():
        ok = _check(rule, value, gen[key], real_profile[key])
        print(f"{key:44} {real_profile[key]!s:>18} {gen[key]!s:>18}  {rule} {value}")
        if not ok:
            failures.append(f"{key}: real {real_profile[key]}, generated {gen[key]}")
    assert set(gen["month_invoices"]) == set(real_profile["month_invoices"])
    for month, real_value in real_profile["month_invoices"].items():
        if abs(gen["month_invoices"][month] - real_value) > MONTH_TOLERANCE:
            failures.append(f"month {month}: real {real_value}, {gen['month_invoices'][month]}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------
# Same output for the same arguments
# ---------------------------------------------------------------------------------

# Files the generator wrote, by their arguments: sha256 of the CSV text (of the
# decompressed text for .csv.gz: gzip's bytes depend on the zlib version) and
# (invoices, customers, extracts, last invoice number) of the result. The subpackage
# wrote exactly the files of the former 2.1k-line module (commit e3d3eba, whose hashes
# these were); they were recorded again when the customers' return behaviour was
# calibrated on the real retention and repeat figures. The cases cover the paths of the
# plan and the writer: tiny files (forced edge cases, the fallback cancellation), the
# incremental "one more day", fixed customer pools smaller and larger than the
# invoices, three extracts, a range outside the real one (seasonal rates, the overall
# month mix) with invoice numbers near 999,999 (fewer skipped numbers), and 300,000
# rows (several blocks, cancellations carried from one block to a later one).
SAME_OUTPUT_CASES: list[tuple[str, dict[str, Any], str, tuple[int, int, int, int]]] = [
    (
        "300_seed0.csv",
        {"rows": 300, "seed": 0},
        "36b26b85456604144e4d5f22619a6ba3104f94478e23d05490821d361d8e0516",
        (63, 2, 2, 489608),
    ),
    (
        "2000_seed3.csv.gz",
        {"rows": 2_000, "seed": 3},
        "ca211cfa64910f8343bcbc5bd5bc06be289fcd67012c77914d730b193d571903",
        (135, 11, 2, 489710),
    ),
    (
        "4000_seed7.csv",
        {"rows": 4_000, "seed": 7},
        "509bed56390b457e880e05b60f58e71b5c0a1ef5a7b5f81789f38b5cb4885c8c",
        (232, 22, 2, 489784),
    ),
    (
        "3000_seed11_to_nov.csv",
        {"rows": 3_000, "seed": 11, "end": "2011-11-30 18:00"},
        "c015d046a3ec15d37a0512c7ff1c03a08bd4342b6ba79a75b50286cb8f3722fd",
        (179, 17, 2, 489686),
    ),
    (
        "one_more_day.csv",
        {
            "rows": 2_000,
            "seed": 8,
            "start": "2011-12-10",
            "end": "2011-12-10 18:00",
            "extracts": 1,
            "first_invoice_no": 581588,
        },
        "c852ddbeec89e744921f7b7291e81f08806df0435160fcd3457fc5fb588d5d71",
        (115, 68, 1, 581785),
    ),
    (
        "20000_seed1_300_customers.csv",
        {"rows": 20_000, "seed": 1, "customers": 300},
        "d9ffd0fe2744cdde432bb7ace54a52c59a4dfe7bd7da498d36dcb18033f7224d",
        (994, 300, 2, 491233),
    ),
    (
        "20000_seed1_5000_customers.csv",
        {"rows": 20_000, "seed": 1, "customers": 5_000},
        "bb813dfa12119109c339db4724684f577dd4c4325d0c75c9e0c7ec7e767c9fab",
        (1019, 572, 2, 491196),
    ),
    (
        "40000_seed5_3_extracts.csv",
        {"rows": 40_000, "seed": 5, "extracts": 3},
        "06bb4d2e2de7309426bb20f04d89752f38989164ce26ae15ee86fa88941556a0",
        (1996, 223, 3, 492922),
    ),
    (
        "10000_seed6_2012.csv",
        {
            "rows": 10_000,
            "seed": 6,
            "start": "2012-02-01",
            "end": "2013-01-31",
            "first_invoice_no": 998_500,
        },
        "76b3353ed279eb0055add09a3d2be832544a375b817670025eb76d24bdb6f99e",
        (533, 87, 2, 999370),
    ),
    (
        "300000_seed2.csv",
        {"rows": 300_000, "seed": 2},
        "578e7aa65c42a74c48f45ae95f256b668873ba30736fd9193f9dca1f3dc75f33",
        (14869, 1670, 2, 514823),
    ),
]
# The big file of `test_profile_matches_real` (1,067,370 rows, seed 42), decompressed.
BIG_FILE_SHA256 = "53ff0fb9e61d5117ffe257378fe2f97811dc1d1f8fec891fe7dacffb071f683f"


def _text_sha256(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha256(gzip.decompress(data) if path.name.endswith(".gz") else data).hexdigest()


@pytest.mark.parametrize(
    ("name", "args", "sha256", "figures"), SAME_OUTPUT_CASES, ids=[c[0] for c in SAME_OUTPUT_CASES]
)
def test_same_output_for_the_same_arguments(
    tmp_path: Path,
    name: str,
    args: dict[str, Any],
    sha256: str,
    figures: tuple[int, int, int, int],
) -> None:
    args = dict(args)
    result = generate(args.pop("rows"), args.pop("seed"), tmp_path / name, **args)
    assert _text_sha256(result.path) == sha256
    assert (result.invoices, result.customers, result.extracts, result.last_invoice_no) == figures


@pytest.mark.slow
def test_same_output_for_the_big_file(big_file: Path) -> None:
    assert _text_sha256(big_file) == BIG_FILE_SHA256


# ---------------------------------------------------------------------------------
# Small files
# ---------------------------------------------------------------------------------


def _raw_lines(path: Path) -> list[str]:
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return fh.read().split("\n")[:-1]


def test_deterministic(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{n}.csv.gz" for n in "abc")
    generate(3_000, 11, a)
    generate(3_000, 11, b)
    generate(3_000, 12, c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    plain = tmp_path / "a.csv"
    generate(3_000, 11, plain)
    assert gzip.decompress(a.read_bytes()) == plain.read_bytes()


def test_layout(tmp_path: Path) -> None:
    """The exact CSV form of the real file: header, RFC-4180 minimal quoting, value
    formats."""
    out = tmp_path / "layout.csv"
    generate(5_000, 3, out)
    lines = _raw_lines(out)
    assert lines[0] + "\n" == HEADER
    assert len(lines) == 5_001
    rows = list(csv.reader(lines[1:]))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    assert buf.getvalue().split("\n")[:-1] == lines[1:]  # minimal quoting, as Python's csv
    assert all(len(r) == 8 for r in rows)
    inv, code, _, qty, date, price, cust, country = zip(*rows, strict=True)
    assert all(re.fullmatch(r"[CA]?\d{6}", v) for v in inv)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:00", v) for v in date)
    assert all(re.fullmatch(r"-?\d+", v) for v in qty)
    assert all(re.fullmatch(r"-?\d+\.\d{1,3}", v) and repr(float(v)) == v for v in price)
    assert all(v == "" or re.fullmatch(r"\d{5}\.0", v) for v in cust)
    assert all(code) and all(country)
    assert min(int(float(v)) for v in cust if v) >= 12346


def _has_edge_cases(path: Path) -> dict[str, bool]:
    df = read(path)
    text = "\n".join(_raw_lines(path))
    inv = df["Invoice"].astype(str)
    is_c = inv.str.startswith("C")
    no_cust = df["Customer ID"].astype(str) == ""
    prof = profile(path)
    return {
        "cancellation": bool(is_c.any()),
        "adjustment": bool(inv.str.startswith("A").any()),
        "zero price": bool((df["price"] == 0).any()),
        "negative non-C quantity": bool(((df["qty"] < 0) & ~is_c).any()),
        "line without customer": bool(no_cust.any()),
        "exact duplicate line": prof["duplicate_share_unique"] > 0,
        "description with comma": bool(df["Description"].astype(str).str.contains(",").any()),
        "description with doubled quote": '""' in text,
        "two overlapping extracts": prof["extracts"] == 2 and prof["overlap_rows"] > 0,
        "cancellation reverses a line": prof["c_lines_matching_earlier_share"] > 0,
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("rows", [300, 2_000])
def test_small_file_edge_cases(tmp_path: Path, rows: int, seed: int) -> None:
    out = tmp_path / "small.csv"
    result = generate(rows, seed, out)
    assert result.rows == rows == len(_raw_lines(out)) - 1
    missing = [k for k, ok in _has_edge_cases(out).items() if not ok]
    assert not missing, missing


def _extracts(df: pd.DataFrame) -> list[pd.DataFrame]:
    starts = [*extract_starts(df["dt"].to_numpy()), len(df)]
    return [df.iloc[a:b] for a, b in itertools.pairwise(starts)]


def test_extracts_and_invoices(tmp_path: Path) -> None:
    """Overlap identical in both extracts; per invoice one customer and country, one
    day; invoice numbers increase with time; dates never fall back within an extract."""
    out = tmp_path / "x.csv"
    generate(20_000, 5, out)
    df = read(out)
    cols = list(df.columns[:8])
    e1, e2 = _extracts(df)
    assert e1["dt"].max().strftime("%Y-%m-%d") == "2010-12-09"
    assert e2["dt"].min().strftime("%Y-%m-%d") == "2010-12-01"
    head = e2[e2["dt"] <= e1["dt"].max()][cols].astype(str).reset_index(drop=True)
    tail = e1[e1["dt"] >= e2["dt"].min().normalize()][cols].astype(str).reset_index(drop=True)
    assert len(head) > 0
    pd.testing.assert_frame_equal(head, tail)
    for part in (e1, e2):
        d = part["dt"].to_numpy()
        assert (np.maximum.accumulate(d) - d).max() <= np.timedelta64(60, "m")
        g = part.groupby(part["Invoice"].astype(str), observed=True)
        assert (g["Customer ID"].nunique() <= 1).all()
        assert (g["Country"].nunique() == 1).all()
        days = g["dt"].agg(["min", "max"])
        assert (days["min"].dt.date == days["max"].dt.date).all()
        assert ((days["max"] - days["min"]) <= pd.Timedelta(minutes=15)).all()
        days["num"] = days.index.str.lstrip("CA").astype(int)
        assert (np.diff(days.sort_values(["min", "num"])["num"].to_numpy()) > 0).all()


def test_cancellations_reverse_earlier_lines(tmp_path: Path) -> None:
    """C lines of products have a customer and a negative quantity; most repeat an
    earlier line of the same customer (code, description) with a quantity no larger,
    nearly always at its price, and about half of those are in another calendar month
    (cancellations reverse orders of earlier months too). The others reverse orders
    before the data or not in it."""
    out = tmp_path / "c.csv"
    generate(30_000, 9, out)
    df = read(out)
    for col in ("Invoice", "StockCode", "Description", "Price", "Customer ID"):
        df[col] = df[col].astype(str)
    df = df.drop_duplicates(subset=list(df.columns[:8]))
    is_c = df["Invoice"].str.startswith("C")
    products = df["StockCode"].str.match(r"\d{5}")
    c_lines = df[is_c & products]
    assert len(c_lines) > 100
    assert (c_lines["qty"] < 0).all() and (c_lines["Customer ID"] != "").all()
    keys = ["Customer ID", "StockCode", "Description"]
    orig = df[~is_c & (df["qty"] > 0)][[*keys, "dt", "qty", "Price"]]
    m = c_lines.reset_index().merge(orig, on=keys, suffixes=("", "_o"))
    m = m[(m["dt_o"] < m["dt"]) & (m["qty_o"] >= -m["qty"])]
    latest = m.sort_values("dt_o").groupby("index").last()
    assert len(latest) >= 0.8 * len(c_lines)  # seen 0.88..0.94 over seeds
    assert (latest["Price"] == latest["Price_o"]).mean() >= 0.85  # seen 0.93..0.97
    same_month = latest["dt"].dt.to_period("M") == latest["dt_o"].dt.to_period("M")
    assert 0.3 <= same_month.mean() <= 0.7  # seen 0.42..0.54; the real file 0.52


def test_scales_with_rows(tmp_path: Path) -> None:
    small = generate(20_000, 1, tmp_path / "s.csv")
    large = generate(80_000, 1, tmp_path / "l.csv")
    assert large.rows == 80_000
    assert 3.4 <= large.invoices / small.invoices <= 4.6
    assert 3.6 <= large.customers / small.customers <= 4.4
    # a pool no larger than the customer invoices: every customer buys
    assert generate(20_000, 1, tmp_path / "g.csv", customers=300).customers == 300
    # a larger pool (e.g. the full shop for one more day): the active part of it buys
    wide = generate(20_000, 1, tmp_path / "w.csv", customers=5_000)
    ids = read(wide.path)["Customer ID"].astype(str)
    assert wide.customers <= 5_000
    assert ids[ids != ""].astype(float).max() < 12346 + 5_000


def test_one_more_day(tmp_path: Path) -> None:
    """The incremental benchmark's use: one new day of invoices after the data ends."""
    out = tmp_path / "day.csv"
    result = generate(
        2_000,
        8,
        out,
        start="2011-12-10",
        end="2011-12-10 18:00",
        extracts=1,
        first_invoice_no=581588,
    )
    assert result.rows == 2_000 and result.extracts == 1
    df = read(out)
    assert (df["dt"].dt.strftime("%Y-%m-%d") == "2011-12-10").all()
    assert df["dt"].max() <= pd.Timestamp("2011-12-10 18:00")
    nums = df["Invoice"].astype(str).str.lstrip("CA").astype(int)
    assert nums.min() == 581588 and nums.max() == result.last_invoice_no
    assert len(extract_starts(df["dt"].to_numpy())) == 1


def test_range_too_short_for_extracts(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(1_000, 1, tmp_path / "x.csv", start="2011-06-01", end="2011-06-04")
