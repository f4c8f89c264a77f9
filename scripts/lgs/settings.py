"""Where things live.

Everything is read from environment variables at each call, with defaults that work on
a fresh clone, so the same settings drive `lgs`, `dbt` and the tests:

| variable | default | meaning |
|---|---|---|
| `LGS_PROJECT_DIR` | the folder holding `dbt_project.yml` | the dbt project |
| `LGS_STATE_DIR` | `<project>/warehouse` | git-ignored local state: PostgreSQL data, DuckDB file |
| `LGS_OUTPUT_DIR` | `<project>/output` | charts, report, benchmark results |
| `LGS_EARLIEST_INVOICE_DATE` | `2000-01-01` | the loader refuses a line dated before this day |
| `LGS_LATEST_INVOICE_DATE` | tomorrow (UTC) | ... or after this day |
| `LGS_LOAD_LOCK_TIMEOUT` | `300` | seconds a load waits for another load to finish |

How each warehouse is reached (`LGS_PG_PORT`, `LGS_DUCKDB_PATH`, `PGHOST`...) is in
`profiles.yml`, read through `lgs.targets`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

from lgs.errors import LgsError


def project_dir() -> Path:
    """The dbt project root: `LGS_PROJECT_DIR`, else the nearest parent of this package or of
    the working directory holding `dbt_project.yml`."""
    env = os.environ.get("LGS_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "dbt_project.yml").is_file():
                return candidate
    raise RuntimeError("cannot find the dbt project (no dbt_project.yml); set LGS_PROJECT_DIR")


def state_dir() -> Path:
    return Path(os.environ.get("LGS_STATE_DIR") or project_dir() / "warehouse").resolve()


def private_dir(path: Path) -> Path:
    """`path` (the state folder or a folder in it), created readable by its owner only
    (0700) when it does not exist yet; an existing folder keeps the mode it has."""
    state = state_dir()
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            private = folder == path or state in (folder, *folder.parents)
            folder.mkdir(mode=0o700 if private else 0o777, exist_ok=True)
    return path


def output_dir() -> Path:
    return Path(os.environ.get("LGS_OUTPUT_DIR") or project_dir() / "output").resolve()


@contextlib.contextmanager
def overridden(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (hence settings) for a block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


EARLIEST_INVOICE_DATE = dt.date(2000, 1, 1)


def invoice_date_window() -> tuple[dt.date, dt.date]:
    """The first and the last day an invoice line may carry: a line dated 1970 or 2099 is
    a typo or a broken export, and would make bogus extracts, a "complete" final month in
    the future and recencies of decades. The latest day defaults to tomorrow (UTC), so a
    file written today in any time zone loads."""
    earliest = _date_setting("LGS_EARLIEST_INVOICE_DATE", EARLIEST_INVOICE_DATE)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    latest = _date_setting("LGS_LATEST_INVOICE_DATE", tomorrow)
    if latest < earliest:
        raise LgsError(
            f"LGS_LATEST_INVOICE_DATE ({latest}) is before LGS_EARLIEST_INVOICE_DATE ({earliest})"
        )
    return earliest, latest


def _date_setting(name: str, default: dt.date) -> dt.date:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise LgsError(f"{name}={value!r}: expected a date as YYYY-MM-DD") from None


def load_lock_timeout() -> int:
    """Seconds a load waits for a load under way (PostgreSQL) before it gives up."""
    value = os.environ.get("LGS_LOAD_LOCK_TIMEOUT") or "300"
    if not value.isdigit() or int(value) < 1:
        raise LgsError(f"LGS_LOAD_LOCK_TIMEOUT={value!r}: expected a whole number of seconds >= 1")
    return int(value)
