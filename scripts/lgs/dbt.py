"""Running dbt from `lgs`, on the same target and settings as the rest of the tool."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from lgs import settings, targets
from lgs.errors import LgsError
from lgs.targets import Target

# What a refresh runs (`lgs run`, and the bench that measures it): seeds, models and the
# data tests. The unit tests check the SQL against fixed inputs, not the data: they cost
# a 1x build about an eighth of its time and run in `make test`, where the SQL changes
# (dbt Labs keeps them to development and CI too). Plain `dbt build` still runs them.
REFRESH = ("build", "--exclude-resource-type", "unit_test")


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise LgsError("dbt is not installed in this environment; run `make run` to set it up")
    return found


def environment(target: str | Target, *, colors: bool = True) -> dict[str, str]:
    """The environment dbt needs to reach the same warehouse as `lgs` (no secrets added).
    Without `colors` dbt writes no terminal colour codes (into a log, a pipe, a capture)."""
    env = dict(os.environ)
    if not colors:
        env.setdefault("DBT_USE_COLORS", "false")
    env["DBT_PROFILES_DIR"] = str(settings.project_dir())
    env["DBT_PROJECT_DIR"] = str(settings.project_dir())
    env.update(targets.get(target).dbt_environment())
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(
    args: Sequence[str],
    target: str | Target,
    *,
    capture: bool = False,
    check: bool = True,
    watch: Callable[[int], AbstractContextManager[object]] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`dbt <args> --target <target>` in the project folder. `capture` keeps its output
    (and writes no colour codes into it); `watch(pid)` is entered while dbt runs (the
    bench measures its memory so)."""
    target = targets.get(target)
    command = [dbt_executable(), *args, "--target", target.name]
    pipe = subprocess.PIPE if capture else None
    with subprocess.Popen(
        command,
        cwd=settings.project_dir(),
        env=environment(target, colors=not capture and sys.stdout.isatty()),
        text=True,
        stdout=pipe,
        stderr=pipe,
    ) as proc:
        try:
            with watch(proc.pid) if watch else contextlib.nullcontext():
                stdout, stderr = proc.communicate()
        except BaseException:
            proc.kill()
            raise
    result = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
    if check and result.returncode != 0:
        detail = ""
        if capture:
            tail = (result.stdout or "").splitlines()[-40:] + (result.stderr or "").splitlines()
            detail = "\n" + "\n".join(tail[-60:])
        raise LgsError(
            f"`dbt {' '.join(args)}` failed on target {target} (exit {result.returncode}){detail}"
        )
    return result
