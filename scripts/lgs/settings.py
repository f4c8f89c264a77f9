"""Where things live and how the targets are configured.

Everything is read from environment variables with defaults that work on a fresh
clone, so the same settings drive `lgs`, `dbt` (through `profiles.yml`) and the tests:

| variable | default | meaning |
|---|---|---|
| `LGS_PROJECT_DIR` | the folder holding `dbt_project.yml` | the dbt project |
| `LGS_STATE_DIR` | `<project>/warehouse` | git-ignored local state: PostgreSQL data, DuckDB file |
| `LGS_OUTPUT_DIR` | `<project>/output` | charts, report, benchmark results |
| `LGS_PG_PORT` | `54329` | port of the embedded PostgreSQL (`dev` target) on 127.0.0.1 |
| `LGS_PG_DATABASE` | `lgs` | database of the `dev` target |
| `LGS_DUCKDB_PATH` | `<state>/lgs.duckdb` | DuckDB file of the `duckdb` target |
| `PGHOST` ... `PGDATABASE` | see `postgres_settings` | the `postgres` target (your own server) |
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TARGETS = ("dev", "postgres", "duckdb")
DEFAULT_PG_PORT = 54329


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


def output_dir() -> Path:
    return Path(os.environ.get("LGS_OUTPUT_DIR") or project_dir() / "output").resolve()


def duckdb_path() -> Path:
    return Path(os.environ.get("LGS_DUCKDB_PATH") or state_dir() / "lgs.duckdb").resolve()


def pg_port() -> int:
    raw = os.environ.get("LGS_PG_PORT") or str(DEFAULT_PG_PORT)
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"LGS_PG_PORT={raw!r}: expected a port number (1-65535)") from None
    if not 0 < port < 65536:
        raise ValueError(f"LGS_PG_PORT={raw!r}: expected a port number (1-65535)")
    return port


def pg_database() -> str:
    name = os.environ.get("LGS_PG_DATABASE") or "lgs"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(
            f"LGS_PG_DATABASE={name!r}: expected a lower-case identifier (letters, digits, _)"
        )
    return name


@dataclass(frozen=True)
class PostgresSettings:
    """Connection settings of a PostgreSQL target (no password is ever written to a file)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, *, with_password: bool = False) -> str:
        secret = f":{self.password}" if with_password and self.password else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{self.database}"


def postgres_settings(target: str) -> PostgresSettings:
    """Settings of the `dev` (embedded) or `postgres` (libpq environment) target."""
    if target == "dev":
        return PostgresSettings("127.0.0.1", pg_port(), "postgres", "", pg_database())
    if target == "postgres":
        port = os.environ.get("PGPORT") or "5432"
        if not port.isdigit():
            raise ValueError(f"PGPORT={port!r}: expected a port number")
        return PostgresSettings(
            host=os.environ.get("PGHOST") or "localhost",
            port=int(port),
            user=os.environ.get("PGUSER") or "postgres",
            password=os.environ.get("PGPASSWORD") or "",
            database=os.environ.get("PGDATABASE") or "lgs",
        )
    raise ValueError(f"target {target!r} is not a PostgreSQL target")


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
