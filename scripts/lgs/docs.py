"""`lgs docs` (`make docs`): the dbt documentation site, generated and served locally.

    lgs docs [--target dev|postgres|duckdb] [--port N] [--no-serve]

1. `dbt docs generate --static` against the target's warehouse: `index.html`,
   `manifest.json` and `catalog.json` in dbt's folder for the target
   (`<DBT_TARGET_PATH or target>/<target name>`), plus `static_index.html`, the whole
   site in one file, copied to `<output>/dbt-docs.html` (opens offline, nothing to serve);
2. `dbt docs serve --host 127.0.0.1 --port N` (default 8080) until Ctrl-C, unless
   `--no-serve`.

The lineage graph shows the marts and, through `models/marts/_marts__exposures.yml`, who
reads each of them (the chart script, the report, the notebook).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lgs import settings, targets
from lgs.dbt import run_dbt
from lgs.errors import LgsError
from lgs.targets import Target

DEFAULT_PORT = 8080


def static_page() -> Path:
    return settings.output_dir() / "dbt-docs.html"


def generate(target: str | Target) -> list[str]:
    """`dbt docs generate --static`; returns the lines to print."""
    from lgs import warehouse

    target = targets.get(target)
    warehouse.ensure_running(target)
    run_dbt(["docs", "generate", "--static"], target)
    folder = target.dbt_target_path()
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


def check_port(port: int) -> int:
    if not 0 < port < 65536:
        raise LgsError(f"--port {port}: expected a port number (1-65535)")
    return port


def serve(target: str | Target, port: int = DEFAULT_PORT) -> None:
    """`dbt docs serve` on 127.0.0.1 until Ctrl-C."""
    check_port(port)
    print(f"serving the docs on http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"], target)
