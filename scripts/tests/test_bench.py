"""A smoke run of `lgs bench` on tiny generated data (the real bench is `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests_support import PROJECT_DIR


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
