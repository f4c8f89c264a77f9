"""`lgs run` (what `make run` does): warehouse, data, dbt build, charts, report.

Data: the file or folder given with `--data`, else the files dropped into `data/`,
else a realistic generated data set (kept in `<state>/generated/`, so a second run
loads nothing new). Loading a file a second time is a no-op, and the incremental
models process nothing new, so a second run is quick and changes nothing.

In a folder, the files ending in one of `DATA_SUFFIXES` are loaded, in name order
(their content decides the format). README files and hidden files (`.gitkeep`) are
ignored; any other file, and any subfolder, is skipped with a warning naming it. A
folder holding only such files stops the run: it does not fall back to generated data.

A refused file (a bad value, a wrong format) is one transaction that changed nothing:
the run goes on with the folder's other files, builds from what was loaded, and ends
with an error naming each refused file (so `make run` fails and says exactly what
was loaded and what not). When every file is refused, nothing is built.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from lgs import settings, targets, warehouse
from lgs.dbt import REFRESH, run_dbt
from lgs.errors import InputError
from lgs.publish import Published, publish
from lgs.targets import Target

DATA_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".sql", ".sql.gz", ".dump", ".backup")
GENERATED_ROWS = 1_067_370
GENERATED_SEED = 42


def _ignored(path: Path) -> bool:
    """Files that are no data and say nothing to warn about: READMEs, hidden files."""
    return path.name.startswith(".") or path.name.lower().startswith("readme")


def data_files(data: str | None) -> list[Path]:
    """The files to load, in name order (extracts of later files supersede earlier ones).
    Files of the folder it cannot use are named in a warning; when there is nothing
    else, it stops (InputError) rather than generate data in their place."""
    folder = Path(data) if data else settings.project_dir() / "data"
    if data and folder.is_file():
        return [folder.resolve()]
    if data and not folder.exists():
        raise InputError(f"{folder}: no such file or folder")
    if not folder.is_dir():
        return []
    usable, unusable = [], []
    for path in sorted(folder.iterdir()):
        if _ignored(path):
            continue
        if path.is_file() and path.name.lower().endswith(DATA_SUFFIXES):
            usable.append(path.resolve())
        else:
            unusable.append(path)
    accepted = ", ".join(DATA_SUFFIXES)
    if unusable and not usable:
        names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in unusable)
        raise InputError(
            f"{folder} holds no file lgs run can load ({names}): it loads the files whose "
            f"names end in {accepted} (the UCI CSV or workbook, the older layout, a pg_dump of "
            "retail; their content decides), not subfolders. Rename or move those files, "
            "load one with `lgs load FILE`, or empty the folder to get a generated data set"
        )
    for path in unusable:
        if path.is_dir():
            why = f"lgs run does not look into subfolders; `make run DATA={path}` loads it"
        else:
            why = (
                f"its name does not end in {accepted}; rename it, or load it with "
                f"`lgs load {path}` (the content decides the format)"
            )
        print(f"lgs: warning: {path} is skipped: {why}", file=sys.stderr)
    return usable


def generated_file() -> Path:
    from lgs.generate import generate

    out = (
        settings.state_dir()
        / "generated"
        / f"lgs_generated_{GENERATED_ROWS}_seed{GENERATED_SEED}.csv.gz"
    )
    if not out.exists():
        settings.private_dir(out.parent)
        partial = out.with_name(out.name + ".partial.csv.gz")
        print(
            f"no data in data/: generating a realistic data set ({GENERATED_ROWS:,} rows, "
            f"seed {GENERATED_SEED})"
        )
        generate(GENERATED_ROWS, GENERATED_SEED, partial)
        partial.rename(out)
    return out


def line_test_arguments(new_loads: list[int]) -> tuple[str, ...]:
    """What the build of a run adds to REFRESH. The line-level tests check the newest load
    by default (a load never changes once written); when this run made several loads,
    they check each of them: `line_tests_from_load` is the first. (Only then: a new value
    of a var makes dbt parse the whole project again, some seconds.)"""
    if len(new_loads) > 1:
        return ("--vars", json.dumps({"line_tests_from_load": min(new_loads)}))
    return ()


def run(data: str | None = None, target: str | Target = targets.DEFAULT) -> int:
    from lgs import charts, report
    from lgs.load import load_file

    target = targets.get(target)
    started = time.monotonic()
    files = data_files(data)  # first: a folder it cannot use changes nothing
    warehouse.ensure_running(target)
    if not files:
        files = [generated_file()]
    refused: list[Path] = []
    new_loads: list[int] = []
    for file in files:
        try:
            result = load_file(file, target)
            print(result.summary())
            if result.status != "unchanged" and result.load_id is not None:
                new_loads.append(result.load_id)
        except InputError as exc:
            if len(files) == 1:
                raise
            print(f"lgs: refused: {exc}", file=sys.stderr, flush=True)
            refused.append(file)
    if len(refused) == len(files):
        raise InputError(
            f"each of the {len(files)} files was refused (see above); nothing was loaded or built"
        )
    published = build_and_publish(target, *line_test_arguments(new_loads))
    outputs = [*charts.render(target), *report.render(target)]
    _print_summary(target, outputs, time.monotonic() - started, published)
    if refused:
        loaded = [file.name for file in files if file not in refused]
        raise InputError(
            f"{len(refused)} of {len(files)} files refused and not loaded: "
            f"{', '.join(file.name for file in refused)} (see above); the marts were built "
            f"from the others ({', '.join(loaded)}) and what was loaded before"
        )
    return 0


def build_and_publish(target: Target, *dbt_args: str, **run_options: Any) -> Published:
    """`dbt build` (seeds, models, data tests), then the marts published for BI tools as
    one set (`lgs.publish`). A failed or killed build raises before anything is published:
    the previous set stays. `run_options` go to `run_dbt` (a `watch` of the dbt process)."""
    run_dbt([*REFRESH, *dbt_args], target, **run_options)
    return publish(target)


def _print_summary(
    target: Target, outputs: list[str], seconds: float, published: Published
) -> None:
    info = target.describe()
    print()
    print(f"Done in {seconds:.0f} s. The marts are in schema `marts` of the {target} warehouse:")
    for key in ("url", "psql", "path", "shell"):
        if key in info:
            print(f"  {key:>5}: {info[key]}")
    print(f"  BI tools read the published set: {published.location}")
    for output in outputs:
        print(f"  {output}")
    print(target.lifecycle)
