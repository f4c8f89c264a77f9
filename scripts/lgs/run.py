"""`lgs run` (what `make run` does): warehouse, data, dbt build, charts, report.

Data: the file or folder given with `--data`, else the files dropped into `data/`,
else a realistic generated data set (kept in `<state>/generated/`, so a second run
loads nothing new). Loading a file a second time is a no-op, and the incremental
models process nothing new, so a second run is quick and changes nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from pathlib import Path

from lgs import settings, targets, warehouse
from lgs.dbt import run_dbt
from lgs.errors import InputError

DATA_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".sql", ".sql.gz", ".dump", ".backup")
GENERATED_ROWS = 1_067_370
GENERATED_SEED = 42


def data_files(data: str | None) -> list[Path]:
    """The files to load, in name order (extracts of later files supersede earlier ones)."""
    folder = Path(data) if data else settings.project_dir() / "data"
    if data and folder.is_file():
        return [folder.resolve()]
    if data and not folder.exists():
        raise InputError(f"{folder}: no such file or folder")
    if not folder.is_dir():
        return []
    return sorted(
        p.resolve()
        for p in folder.iterdir()
        if p.is_file() and p.name.lower().endswith(DATA_SUFFIXES)
    )


def generated_file() -> Path:
    from lgs.generate import generate

    out = (
        settings.state_dir()
        / "generated"
        / f"lgs_generated_{GENERATED_ROWS}_seed{GENERATED_SEED}.csv.gz"
    )
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial.csv.gz")
        print(
            f"no data in data/: generating a realistic data set ({GENERATED_ROWS:,} rows, "
            f"seed {GENERATED_SEED})"
        )
        generate(GENERATED_ROWS, GENERATED_SEED, partial)
        partial.rename(out)
    return out


def run(data: str | None = None, target: str = "dev") -> int:
    from lgs.load import load_file

    started = time.monotonic()
    warehouse.ensure_running(target)
    files = data_files(data)
    if not files:
        files = [generated_file()]
    for file in files:
        print(load_file(file, target).summary())
    run_dbt(["build"], target)
    outputs: list[str] = []
    for name in ("charts", "report"):
        if importlib.util.find_spec(f"lgs.{name}") is not None:
            module = importlib.import_module(f"lgs.{name}")
            outputs.extend(module.render(target))
    _print_summary(target, outputs, time.monotonic() - started)
    return 0


def _print_summary(target: str, outputs: list[str], seconds: float) -> None:
    info = targets.describe(target)
    print()
    print(f"Done in {seconds:.0f} s. The marts are in schema `marts` of the {target} warehouse:")
    for key in ("url", "psql", "path", "shell"):
        if key in info:
            print(f"  {key:>5}: {info[key]}")
    for output in outputs:
        print(f"  {output}")
    if target == "dev":
        print(
            "Stop the warehouse with `make stop` (.venv/bin/lgs warehouse stop); "
            "`make run` starts it again."
        )
