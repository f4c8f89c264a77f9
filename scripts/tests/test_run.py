"""`lgs run` (what `make run` calls): which files of a data folder it loads, and what it
says about the others."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import MART_KEYS, PROJECT_DIR, generate_small

from lgs import charts, run

ACCEPTED = ", ".join(run.DATA_SUFFIXES)


def _lgs(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgs.cli", *args],
        env={**os.environ, **env},
        text=True,
        capture_output=True,
        check=False,
        cwd=PROJECT_DIR,
        timeout=300,
    )


def _isolated(base: Path) -> dict[str, str]:
    """Settings pointing into `base`: a state folder, outputs and a DuckDB file of its own."""
    return {
        "LGS_STATE_DIR": str(base / "state"),
        "LGS_OUTPUT_DIR": str(base / "output"),
        "LGS_DUCKDB_PATH": str(base / "state" / "lgs.duckdb"),
    }


def test_files_it_cannot_use_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("README.md", ".gitkeep", "b.csv.gz", "a.XLSX", "retail.sql", "notes.txt"):
        (folder / name).write_text("")
    (folder / "older").mkdir()
    files = run.data_files(str(folder))
    assert files == [(folder / n).resolve() for n in ("a.XLSX", "b.csv.gz", "retail.sql")]
    assert capsys.readouterr().err.splitlines() == [
        f"lgs: warning: {folder / 'notes.txt'} is skipped: its name does not end in "
        f"{ACCEPTED}; rename it, or load it with `lgs load {folder / 'notes.txt'}` (the "
        "content decides the format)",
        f"lgs: warning: {folder / 'older'} is skipped: lgs run does not look into subfolders; "
        f"`make run DATA={folder / 'older'}` loads it",
    ]


def test_a_folder_without_data_files_generates_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    assert run.data_files(str(folder)) == []
    (folder / "README.md").write_text("drop your files here")
    (folder / ".gitkeep").write_text("")
    assert run.data_files(str(folder)) == []
    assert capsys.readouterr().err == ""


def test_a_folder_of_only_unusable_files_stops_the_run(tmp_path: Path) -> None:
    """Not a silent switch to generated data: a clear refusal, and nothing started or made."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "README.md").write_text("drop your files here")
    (folder / "export.txt").write_text("Invoice,StockCode\n")
    (folder / "2011").mkdir()
    env = _isolated(tmp_path)
    result = _lgs("run", "--target", "duckdb", "--data", str(folder), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (
        f"lgs: error: {folder} holds no file lgs run can load (2011/, export.txt): it loads "
        f"the files whose names end in {ACCEPTED} (the UCI CSV or workbook, the older layout, "
        "a pg_dump of retail; their content decides), not subfolders. Rename or move those "
        "files, load one with `lgs load FILE`, or empty the folder to get a generated data "
        "set\n"
    )
    assert result.stdout == ""
    assert not Path(env["LGS_STATE_DIR"]).exists()  # no warehouse, no generated file


def _snapshot(duckdb_path: Path) -> dict[str, object]:
    """What a run writes: the load log and every mart (row counts, and one mart whole)."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        return {
            "loads": conn.execute(
                "select load_id, file_name, file_sha256, file_format, extracts, rows_read, "
                "rows_loaded, rows_rejected, started_at, finished_at, status, "
                "replaced_by_load_id from raw.loads order by load_id"
            ).fetchall(),
            "lines": conn.execute("select count(*) from raw.invoice_lines").fetchall(),
            "marts": {
                name: conn.execute(f"select count(*) from marts.{name}").fetchone()
                for name in MART_KEYS
            },
            "monthly_sales": conn.execute(
                "select * from marts.monthly_sales order by year_month"
            ).fetchall(),
        }


def test_run_builds_everything_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """`lgs run --target duckdb` on a folder holding one small generated file: it loads
    it, builds, draws the charts and the report, and says where they are and that there
    is nothing to stop; the same run again loads nothing and changes nothing."""
    data = generate_small(tmp_path / "data", rows=3_000, seed=7)
    env = _isolated(tmp_path)
    duck, output = Path(env["LGS_DUCKDB_PATH"]), Path(env["LGS_OUTPUT_DIR"])

    first = _lgs("run", "--target", "duckdb", "--data", str(data.path.parent), env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    out = first.stdout
    assert "generating" not in out
    assert re.search(
        rf"^{data.path.name}: load 1 \(csv-ii\): 3,000 of 3,000 rows loaded in [\d.]+ s; "
        r"2 extract\(s\) of [\d,]+, [\d,]+ rows$",
        out,
        re.MULTILINE,
    ), out[:2000]
    assert "Completed successfully" in out
    assert "\x1b[" not in out, "dbt's colour codes in a log that is not a terminal"
    summary = out[out.rindex("\nDone in ") + 1 :].splitlines()
    assert re.fullmatch(
        r"Done in \d+ s\. The marts are in schema `marts` of the duckdb warehouse:", summary[0]
    ), summary
    published = duck.with_name(duck.name.removesuffix(".duckdb") + ".published.duckdb")
    assert summary[1:] == [
        f"    url: duckdb:///{duck}",
        f"   path: {duck}",
        f"  shell: duckdb {duck}",
        f"  BI tools read the published set: {published} (schema published, open it read-only)",
        f"  charts: {output / 'charts'}/ ({len(charts.CHART_FILES)} PNG)",
        f"  report: {output / 'report.html'}",
        "Nothing to stop: DuckDB runs inside each command that opens the file (one writer at "
        "a time).",
    ]
    assert len(list((output / "charts").glob("*.png"))) == len(charts.CHART_FILES)
    assert (output / "report.html").read_text(encoding="utf-8").lstrip().startswith("<!")
    before = _snapshot(duck)
    import duckdb

    with duckdb.connect(str(published), read_only=True) as conn:
        assert (
            conn.execute("select * from published.monthly_sales order by year_month").fetchall()
            == before["monthly_sales"]
        ), "the published set is the one built"
    assert before["loads"][0][1:2] == (data.path.name,) and len(before["loads"]) == 1
    assert before["lines"] == [(3_000,)]
    assert all(count[0] > 0 for count in before["marts"].values()), before["marts"]

    second = _lgs("run", "--target", "duckdb", "--data", str(data.path.parent), env=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert (
        f"{data.path.name}: already loaded as load 1 (same sha256); nothing to do. Use "
        "--replace to load it again."
    ) in second.stdout
    assert "load 2" not in second.stdout
    assert _snapshot(duck) == before

    # good, bad, good: the bad file is refused and named, the others are loaded and
    # built, and the run ends in an error that says exactly that
    bad = data.path.parent / "generated_2500_bad.csv"  # between the two in name order
    rows = list(csv.reader(data.path.read_text(encoding="utf-8").splitlines()))
    rows[1][3] = "ten"  # the quantity
    with open(bad, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows[:50])
    more = generate_small(data.path.parent, rows=2_000, seed=8)
    assert sorted(p.name for p in data.path.parent.iterdir()) == sorted(
        [data.path.name, bad.name, more.path.name]
    )
    third = _lgs("run", "--target", "duckdb", "--data", str(data.path.parent), env=env)
    assert third.returncode == 2, third.stdout[-3000:] + third.stderr
    assert f"lgs: refused: {bad}: 1 row(s) cannot be read; nothing was loaded" in third.stderr
    assert re.search(
        rf"^{more.path.name}: load 2 \(csv-ii\): 2,000 of 2,000 rows", third.stdout, re.M
    )
    assert "Completed successfully" in third.stdout
    assert third.stderr.strip().splitlines()[-1] == (
        f"lgs: error: 1 of 3 files refused and not loaded: {bad.name} (see above); the marts "
        f"were built from the others ({more.path.name}, {data.path.name}) and what was "
        "loaded before"
    )
    after = _snapshot(duck)
    assert [load[1] for load in after["loads"]] == [data.path.name, more.path.name]
    assert not any(load[1] == bad.name for load in after["loads"])
    assert after["lines"] == [(5_000,)]


@pytest.mark.parametrize(
    "data",
    ["data/a`touch {marker}`b.csv", "data/$(touch {marker}).csv", 'data/x"; touch {marker}; ".csv'],
)
def test_make_run_passes_data_as_typed_never_as_code(tmp_path: Path, data: str) -> None:
    """`make run DATA=...` hands the value to `lgs run` as one argument, as typed: no shell
    runs backticks, `$(...)` or quotes in it (a fake `.venv` records what `lgs` receives)."""
    marker = tmp_path / "ran"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()  # newer than the lock: make does not set up a real venv
    received = tmp_path / "argv"
    fake = venv / "bin" / "lgs"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{received}"\n', encoding="utf-8")
    fake.chmod(0o755)
    value = data.format(marker=marker)
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "run", f"VENV={venv}", f"DATA={value}"],
        cwd=PROJECT_DIR,
        text=True,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert received.read_text(encoding="utf-8").splitlines() == [
        "run",
        "--target",
        "dev",
        "--data",
        value,
    ]


def test_a_run_that_makes_several_loads_tests_the_lines_of_each() -> None:
    """The line-level tests check the newest load unless told otherwise: a run of several
    new loads widens them to its first one (one new load, or none, needs nothing)."""
    assert run.line_test_arguments([]) == ()
    assert run.line_test_arguments([7]) == ()
    assert run.line_test_arguments([8, 9, 7]) == ("--vars", '{"line_tests_from_load": 7}')
