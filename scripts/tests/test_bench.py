"""A smoke run of `lgs bench` on tiny generated data (the real bench is `make bench`), and
the pandas way it measures dbt against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import oracle
from tests_support import PROJECT_DIR, GeneratedData

from lgs import pandas_way


def test_bench_runs_end_to_end_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "lgs.cli", "bench", "--scales", "1", "--targets", "duckdb"),
            *("--rows", "3000", "--no-real", "--out", str(out)),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    (run,) = report["results"]
    assert run["target"] == "duckdb" and run["rows"] == 3000
    assert run["extra"]["day_rows"] == 2000
    for step in (
        "load",
        "full_build",
        "charts_report",
        "day_load",
        "incremental_build",
        "incremental_run",
        "full_run",
    ):
        assert run[step]["seconds"] > 0, step
    assert run["full_build"]["peak_mb"] > 50, "dbt with DuckDB uses more than 50 MB"
    pandas = report["pandas"]["1"]
    assert pandas["seconds"] > 0 and pandas["peak_mb"] > 50 and not pandas["note"]
    (ratio,) = report["ratios"]
    assert 0 < ratio["incremental_run_over_full_run"] < 5
    assert "| 1x | duckdb | 3,000 |" in result.stdout


def test_the_pandas_way_computes_the_marts_of_the_undeduplicated_lines(
    small_data: GeneratedData,
) -> None:
    """The bench's pandas way does the whole work: its marts are the oracle's with the
    overlapping extracts counted twice, as the notebooks counted them (to the penny)."""
    ours = pandas_way.compute_marts(small_data.path)
    expected = oracle.compute_marts([small_data.path], dedupe_overlapping_extracts=False)
    for name, columns in (
        ("monthly_orders", ["total_orders", "cancelled_orders", "placed_orders"]),
        ("monthly_sales", ["net_sales", "gross_sales", "cancelled_sales", "sales_growth_pct"]),
        ("monthly_users", ["active_users", "new_users", "existing_users"]),
        ("customer_rfm", ["recency_days", "frequency", "monetary"]),
        ("customers", ["lifetime_invoices", "net_revenue"]),
    ):
        key = "year_month" if name.startswith("monthly") else "customer_id"
        theirs = expected[name].set_index(key)[columns].sort_index()
        mine = ours[name][columns].sort_index()
        assert list(mine.index.astype("int64")) == list(theirs.index), name
        np.testing.assert_allclose(mine.to_numpy(float), theirs.to_numpy(float), atol=0.005)
    assert ours["monthly_sales"]["is_complete_month"].tolist() == (
        expected["monthly_sales"]["is_complete_month"].tolist()
    )
    invoices = expected["invoices"].set_index("invoice_no").sort_index()
    np.testing.assert_allclose(ours["invoices"]["amount"].sort_index(), invoices["amount"])
    summary = expected["invoice_amount_summary"].set_index("population")
    columns = ["invoices", "min_amount", "median_amount", "max_amount", "p85_amount"]
    np.testing.assert_allclose(
        ours["invoice_amount_summary"][columns].to_numpy(float),
        summary[columns].to_numpy(float),
        atol=0.005,
    )
    assert set(ours["customer_rfm"]["segment"]) <= set(oracle.SEGMENTS)
