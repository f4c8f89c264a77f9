"""`lgs publish`: the marts BI tools read, switched as one set after a tested build.

dbt builds into schema `marts` (its incremental state lives there; the charts, the report
and the tests read it in the process that built it). A BI tool reads the **published**
set instead: the last fully built and tested marts, all switched at once, so a reader never
sees a mix of old and new marts, a missing or half-built table, or an error because dbt is
writing. `lgs run` publishes right after a successful `dbt build` (never after a failed or
killed one); after a plain `dbt build`, `lgs publish` does it.

- PostgreSQL (`dev`, `postgres`): schema `published`, replaced in one transaction: the marts
  are copied into `published_next` (types, not-null columns, table and column comments),
  SELECT is granted on them (and USAGE on the schema) to the BI role, the old tables are
  locked, `published` is renamed away, `published_next` takes its name, and the old set is
  dropped. A reader mid-query on the old tables finishes first (the lock waits for it, for
  at most `LOCK_WAIT` at a time, so that the publish never deadlocks with a reader that
  holds one table and waits for another; it then retries); a later reader waits for the
  commit and then reads the new tables (PostgreSQL looks a name up again once the lock it
  waited for is granted). The old set is dropped with CASCADE: a view someone made over
  `published` is dropped with it, so views for BI tools belong in the publish itself.
- DuckDB: a file of its own beside the warehouse, `<warehouse>.published.duckdb`, holding
  schema `published` with the same tables (the same SQL works on both targets). It is
  written under a temporary name in the same folder and renamed over the old one: a reader
  that opened the old file keeps reading it, the next one opens the new set. BI tools open
  it read-only and never open the warehouse file, which dbt writes.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgs import marts, targets
from lgs.errors import LgsError, WarehouseError
from lgs.targets import DuckDBTarget, PostgresTarget, Target, _owner_only

SCHEMA = targets.PUBLISHED_SCHEMA  # what BI tools read
NEXT = "published_next"
PREVIOUS = "published_previous"
LOCK_WAIT = "200ms"  # one attempt at the old tables' locks (below deadlock_timeout, 1 s)
LOCK_PATIENCE = 120.0  # seconds of attempts before the publish gives up


@dataclass
class Published:
    target: Target
    location: str  # what a BI tool opens: the schema, or the file
    tables: tuple[str, ...]
    grantees: tuple[str, ...]
    seconds: float

    def summary(self) -> str:
        to = f"; SELECT granted to {', '.join(self.grantees)}" if self.grantees else ""
        return f"published {len(self.tables)} marts to {self.location} in {self.seconds:.1f} s{to}"


def bi_role_name(target: Target) -> str | None:
    """The BI role a target's published marts are granted to (`PostgresTarget.bi_role`:
    on `dev` the login `lgs warehouse start` manages, on `postgres` LGS_BI_ROLE when it
    exists there). None on DuckDB, which has no roles."""
    return target.bi_role() if isinstance(target, PostgresTarget) else None


def publish(target: str | Target) -> Published:
    """Publish the marts of `target` as one set (see the module docstring)."""
    target = targets.get(target)
    started = time.monotonic()
    if isinstance(target, DuckDBTarget):
        location, grantees = _publish_duckdb(target), ()
    else:
        location, grantees = _publish_postgres(target)
    return Published(target, location, marts.MART_NAMES, grantees, time.monotonic() - started)


# --- PostgreSQL ------------------------------------------------------------------------------


def _publish_postgres(target: Target) -> tuple[str, tuple[str, ...]]:
    import psycopg2.errors
    from psycopg2 import sql

    with target.connection() as conn:
        cur = conn.cursor()
        _check_built(cur, "select to_regclass(%s) is not null", target)
        role = bi_role_name(target)
        grantees: tuple[str, ...] = ()
        if role:
            cur.execute("select 1 from pg_roles where rolname = %s", [role])
            grantees = (role,) if cur.fetchone() else ()
        cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(NEXT)))
        cur.execute(sql.SQL("create schema {}").format(sql.Identifier(NEXT)))
        for name in marts.MART_NAMES:
            new, old = sql.Identifier(NEXT, name), sql.Identifier(marts.SCHEMA, name)
            # LIKE keeps the column types, not-null and the column comments
            cur.execute(sql.SQL("create table {} (like {} including comments)").format(new, old))
            cur.execute(sql.SQL("insert into {} select * from {}").format(new, old))
            cur.execute("select obj_description(to_regclass(%s), 'pg_class')", [f"marts.{name}"])
            (comment,) = cur.fetchone()
            if comment:
                cur.execute(sql.SQL("comment on table {} is %s").format(new), [comment])
        for role_name in grantees:
            who = sql.Identifier(role_name)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(NEXT), who))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(
                    sql.Identifier(NEXT), who
                )
            )
        # the old set: every table locked at once, or none (a reader holding one of them
        # while waiting for another must never deadlock with the publish)
        cur.execute("select to_regnamespace(%s) is not null", [SCHEMA])
        (exists,) = cur.fetchone()
        if exists:
            cur.execute(
                "select format('%%I.%%I', schemaname, tablename) from pg_tables "
                "where schemaname = %s order by tablename",
                [SCHEMA],
            )
            old_tables = [row[0] for row in cur.fetchall()]
            cur.execute("select set_config('lock_timeout', %s, true)", [LOCK_WAIT])
            deadline = time.monotonic() + LOCK_PATIENCE
            while old_tables:
                cur.execute("savepoint lgs_publish_lock")
                try:
                    cur.execute(f"lock table {', '.join(old_tables)} in access exclusive mode")
                    break
                except psycopg2.errors.LockNotAvailable:
                    cur.execute("rollback to savepoint lgs_publish_lock")
                    if time.monotonic() > deadline:
                        raise WarehouseError(
                            f"cannot publish on {target}: readers of schema {SCHEMA} held its "
                            f"tables for {LOCK_PATIENCE:.0f} s; the previous set stays published"
                        ) from None
                    time.sleep(0.05)
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(SCHEMA), sql.Identifier(PREVIOUS)
                )
            )
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(NEXT), sql.Identifier(SCHEMA)
            )
        )
        if exists:
            cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(PREVIOUS)))
        conn.commit()
    return f"schema {SCHEMA}", grantees


def _check_built(cur: Any, probe: str, target: Target) -> None:
    """Every mart exists (a clear error instead of a half-published set)."""
    missing = []
    for name in marts.MART_NAMES:
        cur.execute(probe, [f"{marts.SCHEMA}.{name}"])
        row = cur.fetchone()
        if not (row and row[0]):
            missing.append(name)
    if missing:
        raise LgsError(
            f"cannot publish on {target}: marts {', '.join(missing)} not built; run "
            f"`dbt build --target {target}` (or `lgs run`) first; nothing was published"
        )


# --- DuckDB ----------------------------------------------------------------------------------


def _publish_duckdb(target: DuckDBTarget) -> str:
    final = target.published_path()
    partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
    try:
        with target.connection() as conn:
            # the warehouse is open for writing: no other publish runs; a killed one
            # may have left its partial file
            for stale in final.parent.glob(f".{final.name}.*.partial*"):
                stale.unlink(missing_ok=True)
            cur = conn.cursor()
            _check_built(
                cur,
                "select count(*) > 0 from information_schema.tables "
                "where table_schema || '.' || table_name = ?",
                target,
            )
            conn.execute(f"attach '{_quoted(partial)}' as lgs_publishing")
            try:
                conn.execute(f"create schema lgs_publishing.{SCHEMA}")
                for name in marts.MART_NAMES:
                    conn.execute(
                        f"create table lgs_publishing.{SCHEMA}.{name} as "
                        f"select * from {marts.SCHEMA}.{name}"
                    )
                    _copy_duckdb_comments(conn, name)
                conn.execute("checkpoint lgs_publishing")
            finally:
                conn.execute("detach lgs_publishing")
        _owner_only(partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, final)
        _fsync_dir(final.parent)
    finally:
        for stale in (partial, partial.with_name(partial.name + ".wal")):
            with contextlib.suppress(OSError):
                stale.unlink()
    return f"{final} (schema {SCHEMA}, open it read-only)"


def _copy_duckdb_comments(conn: Any, name: str) -> None:
    row = conn.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()",
        [marts.SCHEMA, name],
    ).fetchone()
    if row and row[0]:
        conn.execute(f"comment on table lgs_publishing.{SCHEMA}.{name} is {_literal(row[0])}")
    for column, comment in conn.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and "
        "table_name = ? and database_name = current_database() and comment is not null",
        [marts.SCHEMA, name],
    ).fetchall():
        conn.execute(
            f'comment on column lgs_publishing.{SCHEMA}.{name}."{column}" is {_literal(comment)}'
        )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB's COMMENT takes no parameter)."""
    return "'" + text.replace("'", "''") + "'"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
