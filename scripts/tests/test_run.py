"""`lgs run` (what `make run` calls): which files of a data folder it loads, and what it
says about the others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import PROJECT_DIR

from lgs import run

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
