"""`lgs docs` (`make docs`): the dbt documentation site, generated and served locally.

    lgs docs [--target dev|postgres|duckdb] [--port N] [--no-serve]

1. `dbt docs generate --static` against the target's warehouse: `index.html`,
   `manifest.json` and `catalog.json` in dbt's target folder (`target/`, or
   `DBT_TARGET_PATH`), plus `static_index.html`, the whole site in one file, copied to
   `<output>/dbt-docs.html` (opens offline, nothing to serve);
2. `dbt docs serve --host 127.0.0.1 --port N` (default 8080) until Ctrl-C, unless
   `--no-serve`.

The lineage graph shows the marts and, through `models/marts/_marts__exposures.yml`, who
reads each of them (the chart script, the report, the notebook).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from lgs import settings
from lgs.dbt import run_dbt
from lgs.errors import LgsError

DEFAULT_PORT = 8080


def dbt_target_dir() -> Path:
    """dbt's target folder: `DBT_TARGET_PATH` (relative to the project) or `target/`."""
    path = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return (path if path.is_absolute() else settings.project_dir() / path).resolve()


def static_page() -> Path:
    return settings.output_dir() / "dbt-docs.html"


def generate(target: str) -> list[str]:
    """`dbt docs generate --static`; returns the lines to print."""
    from lgs import warehouse

    warehouse.ensure_running(target)
    run_dbt(["docs", "generate", "--static"], target)
    folder = dbt_target_dir()
    single = folder / "static_index.html"
    if not single.is_file():
        raise LgsError(f"`dbt docs generate --static` did not write {single}")
    page = static_page()
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(single, page)
    return [
        f"docs: {folder / 'index.html'} (with manifest.json and catalog.json)",
        f"docs, single page (opens offline): {page}",
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the docs server on 127.0.0.1 (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="only generate the docs (and the single-file page), do not serve them",
    )


def command(args: argparse.Namespace) -> int:
    port = int(getattr(args, "port", DEFAULT_PORT))
    if not 0 < port < 65536:
        raise LgsError(f"--port {port}: expected a port number (1-65535)")
    for line in generate(args.target):
        print(line, flush=True)
    if getattr(args, "no_serve", False):
        return 0
    print(f"serving the docs on http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    run_dbt(
        ["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        args.target,
    )
    return 0
