"""Running dbt from `lgs`, on the same target and settings as the rest of the tool."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from lgs import settings
from lgs.errors import LgsError


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise LgsError("dbt is not installed in this environment; run `make run` to set it up")
    return found


def environment(target: str, *, colors: bool = True) -> dict[str, str]:
    """The environment dbt needs to reach the same warehouse as `lgs` (no secrets added).
    Without `colors` dbt writes no terminal colour codes (into a log, a pipe, a capture)."""
    env = dict(os.environ)
    if not colors:
        env.setdefault("DBT_USE_COLORS", "false")
    env["DBT_PROFILES_DIR"] = str(settings.project_dir())
    env["DBT_PROJECT_DIR"] = str(settings.project_dir())
    env["LGS_TARGET"] = target
    env["LGS_STATE_DIR"] = str(settings.state_dir())
    env["LGS_DUCKDB_PATH"] = str(settings.duckdb_path())
    env["LGS_PG_PORT"] = str(settings.pg_port())
    env["LGS_PG_DATABASE"] = settings.pg_database()
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(
    args: Sequence[str], target: str, *, capture: bool = False, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`dbt <args> --target <target>` in the project folder."""
    command = [dbt_executable(), *args, "--target", target]
    result = subprocess.run(
        command,
        cwd=settings.project_dir(),
        env=environment(target, colors=not capture and sys.stdout.isatty()),
        text=True,
        capture_output=capture,
        check=False,
    )
    if check and result.returncode != 0:
        detail = ""
        if capture:
            detail = "\n" + "\n".join((result.stdout or "").splitlines()[-40:])
        raise LgsError(
            f"`dbt {' '.join(args)}` failed on target {target} (exit {result.returncode}){detail}"
        )
    return result
