"""The marts BI tools read: one published set, switched atomically after a tested build.

A reader (the BI role on PostgreSQL, the published file opened read-only on DuckDB) reads
in a loop while a build fails a data test, while a build is killed, and while a build
succeeds and is published: every read is one whole set (the previous one or the new
one), never an error, an empty table or a mix. And the BI role reads `published` only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_support import Warehouse, bi_connect, bi_credentials

from lgs import publish
from lgs.errors import LgsError
from lgs.generate import generate
from lgs.run import build_and_publish
from lgs.targets import Target

# one snapshot of the published set: what the reader compares
SNAPSHOT_SQL = """
select
    (select count(*) from {schema}.invoices) as invoices,
    (select sum(amount) from {schema}.invoices) as invoiced,
    (select sum(net_sales) from {schema}.monthly_sales) as monthly_net_sales,
    (select count(*) from {schema}.customers) as customers,
    (select count(*) from {schema}.customer_rfm) as rfm_customers
"""


def _snapshot(wh: Warehouse, schema: str = "published") -> tuple[Any, ...]:
    if schema == "published" and wh.target.kind == "duckdb":
        return _read_published_file(_published_file(wh))
    with wh.active(), wh.target.connection() as conn:
        cur = conn.cursor()
        cur.execute(SNAPSHOT_SQL.format(schema=schema))
        return tuple(cur.fetchone())


def _described(wh: Warehouse, schema: str) -> list[tuple[Any, ...]]:
    """The invoices table's comment, then each column's name, type and comment."""
    if wh.target.kind == "duckdb":
        import duckdb

        with wh.active():
            path = wh.target.published_path() if schema == "published" else wh.target.path()  # type: ignore[attr-defined]
        conn = duckdb.connect(str(path), read_only=True)
        try:
            table = conn.execute(
                "select comment from duckdb_tables() where schema_name = ?"
                " and table_name = 'invoices'",
                [schema],
            ).fetchall()
            return (
                table
                + conn.execute(
                    "select column_name, data_type, comment from duckdb_columns()"
                    " where schema_name = ? and table_name = 'invoices' order by column_index",
                    [schema],
                ).fetchall()
            )
        finally:
            conn.close()
    table = wh.query(f"select obj_description('{schema}.invoices'::regclass) as comment")
    columns = wh.query(
        "select column_name, data_type,"
        f" col_description('{schema}.invoices'::regclass, ordinal_position) as comment"
        f" from information_schema.columns where table_schema = '{schema}'"
        " and table_name = 'invoices' order by ordinal_position"
    )
    return [tuple(table.iloc[0])] + [tuple(row) for row in columns.itertuples(index=False)]


def _published_file(wh: Warehouse) -> Path:
    with wh.active():
        return wh.target.published_path()  # type: ignore[attr-defined]


def _read_published_file(path: Path) -> tuple[Any, ...]:
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        row = conn.execute(SNAPSHOT_SQL.format(schema="published")).fetchone()
    finally:
        conn.close()
    assert row is not None
    return tuple(row)


class Reader:
    """Reads the published set in a loop on a thread of its own, as a BI tool would."""

    def __init__(self, wh: Warehouse) -> None:
        # what the thread needs is looked up here: the warehouse's settings are the
        # process's environment, which the main thread changes meanwhile
        self.conn = bi_connect(wh) if wh.target.kind == "postgres" else None
        self.path = _published_file(wh) if self.conn is None else None
        self.reads: list[tuple[Any, ...]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        conn = self.conn
        try:
            while not self._stop.is_set():
                try:
                    if conn is None:
                        row = _read_published_file(self.path)  # type: ignore[arg-type]
                    else:
                        cur = conn.cursor()
                        cur.execute(SNAPSHOT_SQL.format(schema="published"))
                        row = tuple(cur.fetchone())
                    self.reads.append(row)
                except Exception as exc:  # every error is a finding
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.02)
        finally:
            if conn is not None:
                conn.close()

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


@contextlib.contextmanager
def _kill_after_invoices(pid: int) -> Iterator[None]:
    """Kill dbt (SIGKILL) once it has rebuilt the invoices mart (its log says so)."""
    log = Path(os.environ["DBT_LOG_PATH"]) / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(OSError), open(log, errors="replace") as handle:
                handle.seek(start)
                if "Finished running node model.lgs.invoices" in handle.read():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _tamper_month(wh: Warehouse, delta: int) -> None:
    wh.execute(
        f"update intermediate.int_months_aggregated set total_orders = total_orders + {delta}"
        " where year_month = (select min(year_month) from intermediate.int_months_aggregated)"
    )


def _build(wh: Warehouse, *args: str, **options: Any) -> publish.Published:
    with wh.active():
        return build_and_publish(wh.target, *args, capture=True, **options)


def test_readers_see_one_published_set_through_builds(
    warehouse: Warehouse, target: Target, tmp_path: Path
) -> None:
    if target.kind == "postgres":
        bi_credentials(warehouse)  # the role exists before the build (dbt grants to it)
    first = generate(1_500, 31, tmp_path / "first.csv", end="2011-11-30 18:00")
    second = generate(
        300,
        32,
        tmp_path / "second.csv",
        start="2011-12-01",
        end="2011-12-01 18:00",
        extracts=1,
        first_invoice_no=first.last_invoice_no + 1,
    )
    warehouse.load(first.path)
    result = _build(warehouse)
    assert result.tables == publish.marts.MART_NAMES
    before = _snapshot(warehouse)
    assert before == _snapshot(warehouse, "marts") and before[0] > 0
    # the same columns, types and documentation as the marts (BI tools show it)
    described = _described(warehouse, "published")
    assert described == _described(warehouse, "marts")
    assert described[0][0] and all(column[2] for column in described[1:])
    if target.kind == "postgres":
        assert result.grantees == (bi_credentials(warehouse)[0],)
        privileges = warehouse.query(
            "select has_table_privilege('lgs_bi', 'marts.invoices', 'select') as marts_table,"
            " has_schema_privilege('lgs_bi', 'marts', 'usage') as marts_schema"
        )
        # dbt's grants config reached the mart; the schema stays closed to the BI role
        assert privileges.iloc[0].tolist() == [True, False]

    with Reader(warehouse) as reader:
        warehouse.load(second.path)
        # a data test fails after the invoices mart was rebuilt from the new load: a
        # month of the incremental state, which the new load does not touch, no longer
        # agrees with the invoices
        _tamper_month(warehouse, 1000)
        with pytest.raises(LgsError, match="dbt build") as failed:
            _build(warehouse, "--select", "+monthly_orders")  # enough to fail
        assert "FAIL 1 int_months_aggregated_match_invoices" in str(failed.value)
        assert _snapshot(warehouse, "marts")[0] > before[0], "the marts hold the new load"
        assert _snapshot(warehouse) == before, "a failed test leaves the previous set"
        _tamper_month(warehouse, -1000)
        # a build killed after it rebuilt the invoices mart, before the others
        with pytest.raises(LgsError, match="exit -9"):
            _build(warehouse, watch=_kill_after_invoices)
        assert _snapshot(warehouse) == before, "a killed build leaves the previous set"
        _build(warehouse)
        after = _snapshot(warehouse)
        time.sleep(0.5)

    assert after == _snapshot(warehouse, "marts") and after[0] > before[0]
    assert reader.errors == [], f"{len(reader.errors)} of {len(reader.reads)} reads failed"
    seen = set(reader.reads)
    assert seen <= {before, after}, f"a read saw a mix: {seen - {before, after}}"
    assert before in seen and after in seen
    print(f"reader on {target}: {len(reader.reads)} reads, {len(reader.errors)} errors")


def test_the_bi_role_reads_published_only(build_small: Callable[[str], Warehouse]) -> None:
    wh = build_small("dev")
    bi_credentials(wh)
    with wh.active():
        publish.publish(wh.target)
    conn = bi_connect(wh)
    try:
        cur = conn.cursor()

        def refused(statement: str) -> str:
            import psycopg2

            try:
                cur.execute(statement)
            except psycopg2.errors.InsufficientPrivilege as exc:
                return str(exc).splitlines()[0]
            raise AssertionError(f"the BI role could run: {statement}")

        cur.execute("select count(*) from published.monthly_sales")
        assert cur.fetchone()[0] == wh.scalar("select count(*) from marts.monthly_sales") > 0
        cur.execute("select count(*) from published.invoices")
        assert cur.fetchone()[0] == wh.scalar("select count(*) from marts.invoices") > 0
        for table in (
            "raw.invoice_lines",
            "staging.stg_retail__invoice_lines",
            "intermediate.int_invoice_lines_deduplicated",
            "reference.rfm_segment_definitions",
            "marts.invoices",
        ):
            schema = table.split(".")[0]
            assert f"permission denied for schema {schema}" in refused(f"select * from {table}")
        for statement in (
            "insert into published.country_summary select * from published.country_summary",
            "update published.invoices set amount = 0",
            "delete from published.invoices",
            "truncate published.invoices",
            "create table published.mine (x int)",
            "drop table published.invoices",
            "alter table published.invoices add column x int",
            "copy (select 1) to program 'true'",
        ):
            refused(statement)
    finally:
        conn.close()


def test_a_reader_holding_the_old_set_finishes_and_a_waiting_one_reads_the_new(
    build_small: Callable[[str], Warehouse],
) -> None:
    """What the PostgreSQL swap relies on, step by step: the publish waits for a reader
    in the middle of the old tables (and retries, never failing the reader); a reader
    that waited for the swap's lock reads the new table once it commits, as PostgreSQL
    looks the name up again after a lock wait: no error, no missing table."""
    wh = build_small("dev")
    role = bi_credentials(wh)[0]
    with wh.active():
        publish.publish(wh.target)
        superuser = [wh.target.connect() for _ in range(2)]
    oid = "select 'published.invoices'::regclass::oid"

    def one(conn: Any, sql: str) -> Any:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchone()[0]

    watcher, swapper = superuser
    watcher.autocommit = True
    holder, waiter = bi_connect(wh), bi_connect(wh)
    holder.autocommit = False
    first = one(watcher, oid)
    count = one(holder, "select count(*) from published.invoices")  # its lock stays
    results: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> threading.Thread:
        def target() -> None:
            try:
                results[name] = work()
            except Exception as exc:  # every error is a finding
                results[name] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        return thread

    def waiting(pid: int | None = None) -> bool:
        """A session of lgs waits on a lock (`pid`'s, when given; else any but the test's
        own BI sessions, which also say `lgs`: that is the publish)."""
        own = f"{holder.get_backend_pid()}, {waiter.get_backend_pid()}"
        which = f"pid = {pid}" if pid else f"application_name = 'lgs' and pid not in ({own})"
        return bool(
            one(
                watcher,
                f"select count(*) from pg_stat_activity where wait_event_type = 'Lock' and {which}",
            )
        )

    def until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)

    # 1. lgs publish waits for the reader in the middle of the old set, retrying
    with wh.active():  # the thread's connection reads the warehouse's settings
        publishing = run("publish", lambda: publish.publish(wh.target))
        until(waiting)
        time.sleep(0.5)
        assert "publish" not in results, "the publish did not wait for the reader"
        assert one(holder, "select count(*) from published.invoices") == count
        holder.commit()
        publishing.join(60)
    assert isinstance(results["publish"], publish.Published), results["publish"]
    second = one(watcher, oid)
    assert second != first

    # 2. a reader waiting on the swap's lock reads the new table after the commit
    swapper.autocommit = False
    cur = swapper.cursor()
    cur.execute("lock table published.invoices in access exclusive mode")
    cur.execute("create schema published_next")
    cur.execute("create table published_next.invoices as select * from published.invoices")
    cur.execute(f"grant usage on schema published_next to {role}")
    cur.execute(f"grant select on published_next.invoices to {role}")
    cur.execute("alter schema published rename to published_previous")
    cur.execute("alter schema published_next rename to published")
    reading = run(
        "reader", lambda: one(waiter, "select min(tableoid::oid) from published.invoices")
    )
    until(lambda: waiting(waiter.get_backend_pid()))
    cur.execute("drop schema published_previous cascade")
    swapper.commit()
    reading.join(60)
    third = one(watcher, oid)
    assert results["reader"] == third != second, results["reader"]
    for conn in (*superuser, holder, waiter):
        conn.close()
