"""`lgs load`, atomicity: a load is one transaction. A failure after the rows were
written, SIGKILL while they are written and Ctrl-C leave the raw tables exactly as they
were (a fingerprint taken before and after); what runs after the commit cannot turn a
committed load into a failure. Each test runs on both targets.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from load_support import BIG_ROWS, fetch, fingerprint
from tests_support import PROJECT_DIR, GeneratedData, Warehouse

import lgs.load as load_module
from lgs import embedded, settings
from lgs.load import LoadResult

# --- atomicity ----------------------------------------------------------------------------


def test_after_the_commit_only_best_effort_steps_remain(
    pg_server: embedded.ServerStatus,
    small_data: GeneratedData,
    base_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: the statistics refresh after the commit is not part of the load; its
    failure does not turn a committed load into a reported failure."""
    wh = Warehouse.fresh("dev", "analyze_failure", base_dir)

    def broken_analyze(self: Any, load_id: int) -> None:
        raise psycopg2.OperationalError("simulated failure of analyze")

    monkeypatch.setattr(load_module._PostgresWriter, "after_commit", broken_analyze)
    result = wh.load(small_data.path)
    assert (result.status, result.rows_loaded) == ("loaded", small_data.rows)
    assert fetch(wh, "select count(*) from raw.invoice_lines") == [(small_data.rows,)]


def test_a_load_waiting_for_another_says_so_and_gives_up_cleanly(
    pg_server: embedded.ServerStatus,
    small_data: GeneratedData,
    base_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: while a load holds raw.loads, a second one says whom it waits for,
    goes on when the first commits, and gives up after LGS_LOAD_LOCK_TIMEOUT with one
    line and nothing loaded."""
    wh = Warehouse.fresh("dev", "lock_wait", base_dir)
    wh.load(small_data.path)
    before = fingerprint(wh)
    with wh.active(), wh.target.connection() as holder:
        cur = holder.cursor()
        cur.execute("set application_name = 'the_first_load'")
        cur.execute("lock table raw.loads in share row exclusive mode")
        monkeypatch.setenv("LGS_LOAD_LOCK_TIMEOUT", "2")
        started = time.monotonic()
        refused = wh.lgs("load", str(small_data.path))
        waited = time.monotonic() - started
        holder.rollback()
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 2, refused.stderr
    assert lines[0].startswith(
        "lgs: another load is under way: waiting for the_first_load (pid "
    ), lines[0]
    assert lines[0].endswith("to finish (at most 2 s, LGS_LOAD_LOCK_TIMEOUT)")
    assert lines[1].startswith("lgs: error: gave up after 2 s waiting for the_first_load (pid ")
    assert "nothing was loaded" in lines[1]
    assert waited >= 2
    assert fingerprint(wh) == before

    # the holder commits once the second load waits for it: that load goes on
    monkeypatch.setenv("LGS_LOAD_LOCK_TIMEOUT", "60")

    def commit_when_waited_for(holder: Any, watcher: Any) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            watcher.execute(
                "select count(*) from pg_locks where relation = 'raw.loads'::regclass"
                " and not granted"
            )
            if watcher.fetchone()[0]:
                break
            time.sleep(0.1)
        holder.commit()

    with wh.active(), wh.target.connection() as holder, wh.target.connection() as watch:
        watch.autocommit = True
        holder.cursor().execute("lock table raw.loads in share row exclusive mode")
        release = threading.Thread(target=commit_when_waited_for, args=(holder, watch.cursor()))
        release.start()
        try:
            waited_for = wh.lgs("load", str(small_data.path))
        finally:
            release.join()
    assert waited_for.returncode == 0, waited_for.stderr
    assert "another load is under way: waiting for" in waited_for.stderr
    assert "already loaded as load 1" in waited_for.stdout
    assert fingerprint(wh) == before


def test_a_failure_after_the_rows_were_written_changes_nothing(
    warehouse: Warehouse,
    small_data: GeneratedData,
    awkward_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warehouse.load(small_data.path)
    before = fingerprint(warehouse)
    written: list[int] = []
    writer = load_module.WRITERS[warehouse.target.kind]
    insert_lines = writer.insert_lines

    def counting_insert(self: Any, *args: Any) -> None:
        insert_lines(self, *args)
        self.execute("select count(*) from raw.invoice_lines")
        written.append(int(self.cur.fetchone()[0]))

    def broken_result(*args: Any, **kwargs: Any) -> LoadResult:
        raise RuntimeError("simulated failure at the very end of the load")

    monkeypatch.setattr(writer, "insert_lines", counting_insert)
    monkeypatch.setattr(load_module, "LoadResult", broken_result)
    with pytest.raises(RuntimeError, match="simulated failure"):
        warehouse.load(awkward_csv)
    assert written == [4000 + 4006], "the rows were written inside the transaction"
    assert fingerprint(warehouse) == before
    monkeypatch.undo()

    # the same for the insert into raw.loads, the last statement of the transaction
    execute = load_module._Writer.execute

    def failing_execute(self: Any, sql: str, params: Any = ()) -> None:
        if sql.startswith("insert into raw.loads"):
            raise RuntimeError("simulated failure writing raw.loads")
        execute(self, sql, params)

    monkeypatch.setattr(load_module._Writer, "execute", failing_execute)
    with pytest.raises(RuntimeError, match="simulated failure writing raw"):
        warehouse.load(awkward_csv)
    assert fingerprint(warehouse) == before
    monkeypatch.undo()
    assert warehouse.load(awkward_csv).load_id == 2


def _write_phase_started(wh: Warehouse, db_size: int) -> Callable[[], bool]:
    """True once the load writes its rows: PostgreSQL shows the COPY into the load's
    partition; DuckDB's file grows (it writes large inserts before the commit)."""
    if wh.target.kind == "duckdb":
        path = Path(wh.env["LGS_DUCKDB_PATH"])
        return lambda: path.stat().st_size > db_size
    return lambda: _activity(wh, "query ilike 'copy raw.invoice_lines_load_%' and state = 'active'")


def _staging_started(wh: Warehouse) -> Callable[[], bool]:
    """True while the load reads and checks the file (PostgreSQL target): its session
    has taken its load id and waits, idle in its transaction."""
    return lambda: _activity(
        wh, "query ilike 'select coalesce(max(load_id)%' and state = 'idle in transaction'"
    )


def _activity(wh: Warehouse, condition: str) -> bool:
    """Whether another session of the warehouse's database matches `condition`."""
    found = fetch(
        wh,
        "select count(*) from pg_stat_activity where datname = current_database() "
        f"and pid <> pg_backend_pid() and {condition}",
    )
    return bool(found[0][0])


def _start_cli_load(wh: Warehouse, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lgs.cli", "load", str(path), "--target", wh.target.name],
        env={**os.environ, **wh.env},
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(proc: subprocess.Popen[str], ready: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 120:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the load ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        if ready():
            return time.monotonic() - started
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {what} within 120 s")


def _workdirs(pid: int) -> list[Path]:
    return list((settings.state_dir() / "tmp").glob(f"lgs-load-{pid}-*"))


@pytest.mark.slow
def test_a_killed_load_changes_nothing(
    warehouse: Warehouse, small_data: GeneratedData, big_file: Path
) -> None:
    """SIGKILL while the rows are being written: no `finally` runs, the transaction is
    simply never committed."""
    warehouse.load(small_data.path)
    before = fingerprint(warehouse)
    size = Path(warehouse.env.get("LGS_DUCKDB_PATH", "/dev/null")).stat().st_size
    proc = _start_cli_load(warehouse, big_file)
    try:
        waited = _wait_until(proc, _write_phase_started(warehouse, size), "the rows were written")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    print(f"\n{warehouse.target}: killed {waited:.1f} s after the start, while writing rows")
    assert proc.returncode == -signal.SIGKILL, "it was still loading when killed"
    assert _workdirs(proc.pid), "the killed load left its scratch folder"
    assert fingerprint(warehouse) == before
    again = warehouse.load(big_file)
    assert (again.status, again.load_id, again.rows_loaded) == ("loaded", 2, BIG_ROWS)
    assert not _workdirs(proc.pid), "the next load removed the dead load's scratch folder"
    counts = fetch(
        warehouse, "select load_id, count(*) from raw.invoice_lines group by 1 order by 1"
    )
    assert counts == [(1, small_data.rows), (2, BIG_ROWS)]


@pytest.mark.slow
def test_ctrl_c_changes_nothing_and_says_so(
    warehouse: Warehouse, small_data: GeneratedData, big_file: Path
) -> None:
    """SIGINT while DuckDB works (staging on `dev`, writing on `duckdb`): DuckDB reports it
    as a query error of its own, which must still read as an interruption."""
    warehouse.load(small_data.path)
    before = fingerprint(warehouse)
    size = Path(warehouse.env.get("LGS_DUCKDB_PATH", "/dev/null")).stat().st_size
    ready = (
        _staging_started(warehouse)
        if warehouse.target.kind == "postgres"
        else _write_phase_started(warehouse, size)
    )
    proc = _start_cli_load(warehouse, big_file)
    try:
        _wait_until(proc, ready, "the load was under way")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out
    assert "Traceback" not in err, err
    assert "lgs: interrupted; nothing was changed" in err
    assert fingerprint(warehouse) == before
    assert warehouse.load(big_file).load_id == 2


@pytest.mark.slow
def test_ctrl_c_during_the_copy_into_postgresql_says_one_line(
    pg_server: embedded.ServerStatus, small_data: GeneratedData, big_file: Path, base_dir: Path
) -> None:
    """PostgreSQL, while the COPY writes the rows: Ctrl-C (psycopg2 cancels the COPY and
    raises QueryCanceled) gives the documented line and exit code 130, never a traceback;
    raw is unchanged."""
    wh = Warehouse.fresh("dev", "copy_ctrl_c", base_dir)
    wh.load(small_data.path)
    before = fingerprint(wh)
    proc = _start_cli_load(wh, big_file)
    try:
        _wait_until(proc, _write_phase_started(wh, 0), "the COPY started")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == "lgs: interrupted; nothing was changed", err
    assert fingerprint(wh) == before
    assert wh.load(big_file).load_id == 2


@pytest.mark.slow
def test_a_server_gone_during_the_copy_says_one_line(
    pg_server: embedded.ServerStatus, small_data: GeneratedData, big_file: Path, base_dir: Path
) -> None:
    """The server ends the load's session while the COPY writes the rows (as a crash or
    a shutdown does: AdminShutdown, 57P01, then a closed connection): the documented
    one-line message and exit code 3, never a psycopg2 traceback; raw is unchanged."""
    wh = Warehouse.fresh("dev", "copy_server_gone", base_dir)
    wh.load(small_data.path)
    before = fingerprint(wh)
    proc = _start_cli_load(wh, big_file)
    try:
        _wait_until(proc, _write_phase_started(wh, 0), "the COPY started")
        ended = fetch(
            wh,
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid() "
            "and query ilike 'copy raw.invoice_lines_load_%'",
        )
        assert ended == [(True,)]
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(
        f"lgs: error: the dev warehouse went away during the load of {big_file.name} "
        "(terminating connection due to administrator command): nothing was loaded, raw is "
        "as it was; start it with `lgs warehouse start` (or `make run`), then load the file "
        "again\n"
    ), err
    assert fingerprint(wh) == before
    assert wh.load(big_file).load_id == 2
