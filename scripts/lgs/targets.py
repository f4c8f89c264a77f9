"""The three warehouses (`dev`, `postgres`, `duckdb`): how to reach each one.

They are the same three outputs as in `profiles.yml`, configured by the same environment
variables (see `lgs.settings`), so `lgs` and `dbt` always talk to the same database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from lgs import settings
from lgs.errors import WarehouseError


def check_target(target: str) -> str:
    if target not in settings.TARGETS:
        raise WarehouseError(
            f"unknown target {target!r}; expected one of {', '.join(settings.TARGETS)}"
        )
    return target


def is_duckdb(target: str) -> bool:
    return check_target(target) == "duckdb"


def connect(target: str, *, read_only: bool = False) -> Any:
    """A DB-API connection to the target (psycopg2 for PostgreSQL, duckdb otherwise)."""
    if is_duckdb(target):
        import duckdb

        path = settings.duckdb_path()
        if read_only and not path.exists():
            raise WarehouseError(f"the DuckDB warehouse {path} does not exist yet; run `make run`")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseError(
                f"cannot open {path}: {exc}\n(DuckDB allows one writer at a time: is dbt or "
                "another lgs command using it?)"
            ) from exc
    import psycopg2

    conf = settings.postgres_settings(target)
    try:
        conn = psycopg2.connect(
            host=conf.host,
            port=conf.port,
            user=conf.user,
            password=conf.password or None,
            dbname=conf.database,
            connect_timeout=10,
            application_name="lgs",
        )
    except psycopg2.OperationalError as exc:
        hint = (
            "start it with `lgs warehouse start` (or `make run`)"
            if target == "dev"
            else "check PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE"
        )
        raise WarehouseError(
            f"cannot connect to the {target} warehouse at {conf.url()}: {str(exc).strip()}\n{hint}"
        ) from exc
    if read_only:
        conn.set_session(readonly=True)
    return conn


@contextlib.contextmanager
def connection(target: str, *, read_only: bool = False) -> Iterator[Any]:
    conn = connect(target, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def describe(target: str) -> dict[str, str]:
    """What a BI tool, psql or DuckDB needs to reach the target (never a password)."""
    if is_duckdb(target):
        path = settings.duckdb_path()
        return {
            "target": target,
            "url": f"duckdb:///{path}",
            "path": str(path),
            "shell": f"duckdb {path}",
            "marts": "schema marts",
        }
    conf = settings.postgres_settings(target)
    info = {
        "target": target,
        "url": conf.url(),
        "host": conf.host,
        "port": str(conf.port),
        "database": conf.database,
        "user": conf.user,
        "psql": f'psql "{conf.url()}"',
        "marts": "schema marts",
    }
    if target == "dev":
        info["password"] = "(none: trust authentication, 127.0.0.1 only)"
    return info
