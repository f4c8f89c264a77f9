"""`lgs lint`: sqlfluff over the project's SQL, each file with the templater it is written for.

- dbt's SQL (models, tests, analyses) with the dbt templater, compiled against a
  throw-away DuckDB file (the settings are `.sqlfluff` at the project root);
- the loader's SQL (`scripts/lgs/sql/*.sql`: no dbt models, Jinja templates the loader
  renders itself) with the jinja templater and the sample values of
  `scripts/lgs/sql/.sqlfluff` (sqlfluff takes the templater from the command line only:
  a `.sqlfluff` below the working folder may not change it).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lgs import settings, targets
from lgs.dbt import environment

LOADER_SQL = Path("scripts/lgs/sql")
DEFAULT_PATHS = ("models", "tests", "analyses", str(LOADER_SQL))


def _is_loader_sql(path: str) -> bool:
    resolved = (settings.project_dir() / path).resolve()
    folder = (settings.project_dir() / LOADER_SQL).resolve()
    return resolved == folder or folder in resolved.parents


def lint(paths: Sequence[str]) -> int:
    """Lint `paths` (relative to the project); the exit code of the worst sqlfluff run."""
    existing = [p for p in paths if (settings.project_dir() / p).exists()]
    loader = [p for p in existing if _is_loader_sql(p)]
    dbt = [p for p in existing if not _is_loader_sql(p)]
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    codes = []
    with tempfile.TemporaryDirectory(prefix="lgs-lint-") as scratch:
        env = environment(targets.get("duckdb"))
        env["LGS_DUCKDB_PATH"] = str(Path(scratch) / "lint.duckdb")
        env["DBT_TARGET_PATH"] = str(Path(scratch) / "target")
        env["DBT_LOG_PATH"] = str(Path(scratch) / "logs")
        for templater, group in (("dbt", dbt), ("jinja", loader)):
            if group:
                command = [sqlfluff, "lint", "--templater", templater, *group]
                run = subprocess.run(command, cwd=settings.project_dir(), env=env, check=False)
                codes.append(run.returncode)
    return max(codes, default=0)
