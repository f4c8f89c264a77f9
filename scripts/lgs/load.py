"""`lgs load FILE`: invoice lines into the `raw` schema, exactly as the file said.

How a load runs:

1. The file is recognised from its content (`lgs.sources`); workbooks and dumps are
   converted, streaming, to CSV text. Its sha256 decides whether it was loaded before:
   the same file again is a no-op, unless `replace=True`.
2. DuckDB's CSV reader (multi-threaded, never the whole file in Python memory) reads the
   text into a temporary table; for a PostgreSQL target an in-process DuckDB does this
   work, for a DuckDB target the target itself. Every value is checked there in SQL, and
   the rows are split into extracts (`sql/read.sql`).
3. The good rows go into `raw.invoice_lines`, typed only where loss-free, with their
   provenance (load id, source file, extract number, source row). In PostgreSQL each load
   is its own partition, filled with `COPY ... FREEZE` and attached, so the models read
   one load cheaply.
4. `raw.loads` logs the load. Everything above is one transaction: any failure (bad data,
   full disk, Ctrl-C, a killed process) leaves the raw tables exactly as they were.

`replace=True` (`lgs load --replace`) loads a file again: its earlier load's rows are
deleted and the file's rows inserted, in the same one transaction, without a lock that
would stop readers of raw (they read the earlier rows until the commit). The new load
gets the next load id, and the file keeps its place in the load order (its first load's
id, `stg_retail__invoice_lines.load_order`): a correction file loaded after it still wins
the invoices both hold.

The SQL is in `lgs/sql/` (`raw.sql` on every target, `read.sql` in the reading engine,
`postgres.sql` and `duckdb.sql` for each kind's writer), rendered by `lgs.queries`.
A load shows its progress on a terminal (tqdm), and says nothing otherwise.

Bad rows: by default any row that cannot be read exactly (an unparseable quantity, price
or date, a missing invoice number...) refuses the whole file, naming the file, the row,
the column, the value and what was expected. With `max_rejects=N` a file with up to N
such rows loads without them; they are kept, with the reason, in `raw.rejected_lines`
and counted in `raw.loads.rows_rejected`. A file that is not readable as a whole (wrong
delimiter, a row with too many or too few columns, broken quoting, bad encoding,
truncated gzip) is always refused.

Extracts: workbook sheets are extracts; in a CSV or a dump, a new extract starts where
the invoice date falls back more than one day below the running maximum of the current
extract (whose running maximum then restarts from that row).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lgs import queries, settings, targets
from lgs.errors import InputError, LgsError
from lgs.filecheck import check_bounds, diagnose
from lgs.sources import COLUMNS, Source, detect
from lgs.targets import Target

# What each column must hold, by the column `find_bad_rows` (sql/read.sql) names as a
# row's problem.
EXPECTED = {
    "invoice_no": "an invoice number such as 489434 or C489449",
    "stock_code": "a stock code such as 85048",
    "quantity": "a whole number such as 12 or -3",
    "invoice_date": "a date and time as YYYY-MM-DD HH:MM:SS",
    "unit_price": "a decimal price such as 2.55 (at most 4 decimals)",
    "customer_id": "a whole customer id such as 13085 or 13085.0, or nothing",
    "description": "text without NUL (0x00) characters",
    "country": "text without NUL (0x00) characters",
}


def expected(column: str, window: tuple[date, date]) -> str:
    """What `column` must hold; for the date, with the plausible window (`window`)."""
    if column == "invoice_date":
        return f"{EXPECTED[column]}, from {window[0]} to {window[1]}"
    return EXPECTED[column]


@dataclass
class LoadResult:
    file: Path
    status: str  # "loaded", "replaced" (an earlier load of the same file replaced) or "unchanged"
    load_id: int | None
    file_format: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    extract_rows: list[int] = field(default_factory=list)
    seconds: float = 0.0
    sha256: str = ""

    def summary(self) -> str:
        if self.status == "unchanged":
            return (
                f"{self.file.name}: already loaded as load {self.load_id} (same sha256); nothing "
                "to do. Use --replace to load it again."
            )
        extracts = ", ".join(f"{n:,}" for n in self.extract_rows)
        text = (
            f"{self.file.name}: load {self.load_id} ({self.file_format}): {self.rows_loaded:,} of "
            f"{self.rows_read:,} rows loaded in {self.seconds:.1f} s; "
            f"{len(self.extract_rows)} extract(s) of {extracts} rows"
        )
        if self.rows_rejected:
            text += f"; {self.rows_rejected:,} bad row(s) kept in raw.rejected_lines"
        if self.status == "replaced":
            text += "; it replaces the earlier load of this file"
        return text


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- the reading engine: DuckDB -------------------------------------------------------------


class Engine:
    """Stages one file in DuckDB, checks it and finds its extracts (sql/read.sql)."""

    def __init__(self, duck: Any) -> None:
        self.duck = duck

    def run(self, name: str, **context: Any) -> Any:
        query = queries.render("read", name, **context)
        return self.duck.execute(query.sql, query.params)

    def scalar(self, name: str, **context: Any) -> Any:
        row = self.run(name, **context).fetchone()
        return None if row is None else row[0]

    def stage(self, source: Source) -> int:
        import duckdb

        compression = "gzip" if source.gzipped else "none"
        try:
            self.run("stage", path=str(source.csv_path), compression=compression)
        except duckdb.Error as exc:
            if _interrupted(exc):
                raise KeyboardInterrupt from None
            raise diagnose(source, str(exc)) from None
        return int(self.scalar("count_rows"))

    def check(self, window: tuple[date, date]) -> int:
        """Set the rows with a bad value aside (in load_bad); how many there are. `window`:
        the first and last day a line may be dated."""
        earliest, latest = window
        self.run(
            "find_bad_rows",
            earliest=datetime.combine(earliest, datetime.min.time()),
            after_latest=datetime.combine(latest + timedelta(days=1), datetime.min.time()),
        )
        total = int(self.scalar("count_bad_rows"))
        if total:
            self.run("drop_bad_rows")
        return total

    def bad_rows(self, limit: int) -> list[tuple[Any, ...]]:
        return self.run("bad_rows", limit=limit).fetchall()

    def extract_starts(self) -> list[int]:
        """First rows of the extracts: the first row more than one day below the running
        maximum of the current extract starts the next one."""
        starts = [int(self.scalar("first_row"))]
        while (found := self.scalar("next_extract_start", first_row=starts[-1])) is not None:
            starts.append(int(found))
        return starts

    def typed_lines(self, load_id: int, file_name: str, starts: list[int]) -> queries.Query:
        """The good rows as raw.invoice_lines columns (typing happens in the target)."""
        return queries.render(
            "read",
            "typed_lines",
            load_id=load_id,
            source_file=file_name,
            starts=[int(first) for first in starts],
        )


# --- the writers: one per kind of target -----------------------------------------------------


class _Writer:
    """Writes one load into a target, in one transaction. `steps`: the progress steps a
    load into this kind of target takes."""

    style = "%s"
    steps = 3
    partitioned = False  # raw.invoice_lines has one partition per load

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cur = conn.cursor()

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
        self.cur.execute(sql, params)

    def run(self, file: str, name: str, **context: Any) -> list[Any]:
        """Statement `name` of sql/<file>.sql; its rows (none for a statement without)."""
        query = queries.render(file, name, style=self.style, **context)
        self.execute(query.sql, query.params)
        return self.cur.fetchall() if self.cur.description else []

    def begin(self) -> None:
        raise NotImplementedError

    def ensure_schema(self) -> None:
        for name in queries.names("raw"):
            if name.startswith("create_"):
                self.run("raw", name, partitioned=self.partitioned)

    def lock(self) -> None:
        """Serialise concurrent loads."""

    def reader(self, workdir: Path) -> Engine:
        """The DuckDB that reads the file: an in-process one of its own, in `workdir`."""
        import duckdb

        return Engine(duckdb.connect(config={"temp_directory": str(workdir / "spill")}))

    def insert_lines(
        self, engine: Engine, lines: queries.Query, load_id: int, workdir: Path, meter: tqdm
    ) -> None:
        raise NotImplementedError

    def drop_load(self, load_id: int) -> None:
        self.run("raw", "delete_lines", load_id=load_id)

    def after_commit(self, load_id: int) -> None:
        """Best-effort work once the load is committed (its failure fails nothing)."""

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()


class _PostgresWriter(_Writer):
    steps = 4  # the rows are copied into the server as a fourth step
    partitioned = True

    def begin(self) -> None:
        self.conn.autocommit = False

    def lock(self) -> None:
        """Wait for a load under way to commit (it holds raw.loads), saying so on stderr,
        for at most LGS_LOAD_LOCK_TIMEOUT seconds."""
        import psycopg2.errors

        self.execute("savepoint lgs_lock")
        try:
            self.run("postgres", "try_lock_loads")
            return
        except psycopg2.errors.LockNotAvailable:
            self.execute("rollback to savepoint lgs_lock")
        holders = self.run("postgres", "lock_holders")
        who = (
            ", ".join(f"{name} (pid {pid}, since {since})" for pid, name, since in holders)
            if holders
            else "another session"
        )
        timeout = settings.load_lock_timeout()
        print(
            f"lgs: another load is under way: waiting for {who} to finish "
            f"(at most {timeout} s, LGS_LOAD_LOCK_TIMEOUT)",
            file=sys.stderr,
            flush=True,
        )
        self.run("postgres", "set_lock_timeout", timeout=f"{timeout}s")
        try:
            self.run("postgres", "lock_loads")
        except psycopg2.errors.LockNotAvailable:
            raise LgsError(
                f"gave up after {timeout} s waiting for {who} to finish; nothing was loaded "
                "(run the load again later, or set LGS_LOAD_LOCK_TIMEOUT to wait longer)"
            ) from None
        self.run("postgres", "set_lock_timeout", timeout="0")

    def insert_lines(
        self, engine: Engine, lines: queries.Query, load_id: int, workdir: Path, meter: tqdm
    ) -> None:
        """One partition per load: created, filled with COPY FREEZE and attached."""
        csv_path = workdir / "lines.csv"
        engine.run("export_lines", lines=lines, csv_path=str(csv_path))
        meter.update()
        meter.set_postfix_str("copying into PostgreSQL")
        self.run("postgres", "create_partition", load_id=int(load_id))
        copy = queries.render("postgres", "copy_partition", load_id=int(load_id)).sql
        printed = io.StringIO()
        with (
            open(csv_path, "rb") as handle,
            tqdm.wrapattr(
                handle,
                "read",
                total=csv_path.stat().st_size,
                desc="copying",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                leave=False,
                disable=meter.disable,
            ) as metered,
            # when the server ends the session during the COPY, psycopg2 prints its error
            # (through sys.excepthook) and raises "invalid socket": the load's one-line
            # message says the server's reason instead
            contextlib.redirect_stderr(printed),
        ):
            try:
                self.cur.copy_expert(copy, metered, size=1 << 20)
            except Exception as exc:
                said = re.search(r"^psycopg2\.errors\.\w+: (.+)$", printed.getvalue(), re.M)
                if said:
                    exc.add_note(SERVER_SAID + said.group(1))
                raise
        self.run("postgres", "attach_partition", load_id=int(load_id))

    def drop_load(self, load_id: int) -> None:
        """A replaced load's rows deleted from its partition, which stays attached and
        empty: dropping or detaching it would lock raw.invoice_lines against every
        reader until the commit; a DELETE lets them read the old rows meanwhile."""
        self.run("postgres", "empty_partition", load_id=int(load_id))

    def after_commit(self, load_id: int) -> None:
        """Fresh planner statistics of the new partition, for the models that read it."""
        self.conn.autocommit = True
        self.run("postgres", "analyze_partition", load_id=int(load_id))


class _DuckDBWriter(_Writer):
    style = "?"

    def __init__(self, conn: Any) -> None:
        # a DuckDB cursor is a second connection: keep one, so that the staging tables
        # and the transaction are shared with the engine
        self.conn = conn
        self.cur = conn

    def begin(self) -> None:
        self.conn.execute("begin transaction")

    def reader(self, workdir: Path) -> Engine:
        """The target itself reads the file."""
        return Engine(self.conn)

    def insert_lines(
        self, engine: Engine, lines: queries.Query, load_id: int, workdir: Path, meter: tqdm
    ) -> None:
        self.run("duckdb", "insert_lines", lines=lines)


WRITERS: dict[str, type[_Writer]] = {"postgres": _PostgresWriter, "duckdb": _DuckDBWriter}


def _open_writer(target: Target) -> _Writer:
    if target.kind not in WRITERS:
        raise LgsError(f"lgs cannot load into a {target.kind} target ({target}) yet")
    return WRITERS[target.kind](target.connect())


# --- the load -----------------------------------------------------------------------------------


def _format_bad_rows(
    source: Source, rows: list[Any], total: int, max_rejects: int, window: tuple[date, date]
) -> str:
    header = source.column_names  # as the user's file names them, also when converted
    where = source.positions(int(row[0]) for row in rows)
    lines = []
    for row in rows:
        source_row, column = int(row[0]), str(row[1])
        index = COLUMNS.index(column)
        value = row[2 + index]
        shown = "nothing" if value is None else repr(value)
        lines.append(
            f"  {where[source_row]}, column {header[index]}: {shown}; "
            f"expected {expected(column, window)}"
        )
    more = f"\n  ... and {total - len(rows):,} more" if total > len(rows) else ""
    allowance = f"; --max-rejects allows {max_rejects:,}" if max_rejects else ""
    return (
        f"{source.path}: {total:,} row(s) cannot be read{allowance}; nothing was loaded:\n"
        + "\n".join(lines)
        + more
    )


def load_file(
    path: Path | str,
    target: str | Target = targets.DEFAULT,
    *,
    replace: bool = False,
    max_rejects: int = 0,
    progress: bool | None = None,
) -> LoadResult:
    """Load one file into the target's raw layer (see the module docstring)."""
    # DuckDB reads every file, also for PostgreSQL: imported before the load starts, as a
    # Ctrl-C while its extension module initialises aborts the process ("Critical
    # nanobind error") instead of raising KeyboardInterrupt
    import duckdb  # noqa: F401

    with _sigint_guard() as guard:
        return _load_file(
            path, target, replace=replace, max_rejects=max_rejects, progress=progress, guard=guard
        )


class _SigintGuard:
    """Ctrl-C interrupts a load until its commit starts; from then on it is ignored, so a
    load that was committed is never reported as interrupted ("nothing was changed").
    It is also remembered: an interrupt that a library swallowed (one arriving while
    DuckDB's module is imported is lost) still stops the load before its commit."""

    committing = False
    interrupted = False


@contextlib.contextmanager
def _sigint_guard() -> Iterator[_SigintGuard]:
    guard = _SigintGuard()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield guard  # someone else handles Ctrl-C here
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if not guard.committing:
            guard.interrupted = True
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C, also as DuckDB reports it when it arrives during a query."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    if isinstance(exc, RuntimeError) and str(exc).strip().lower() == "query interrupted":
        return True
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(exc, duckdb.InterruptException)


SERVER_SAID = "the server said: "


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or during (psycopg2 raises "invalid
    socket" during the server's own error when the server ends a COPY)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _connection_lost(exc: BaseException, db: _Writer) -> bool:
    """The server went away under the load (it crashed, was stopped or killed the
    session): the driver's error, not a failure of the file."""
    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is None or not isinstance(exc, psycopg2.Error):
        return False
    if any((getattr(e, "pgcode", None) or "").startswith(("57P", "08")) for e in _chain(exc)):
        return True
    closed = bool(getattr(db.conn, "closed", 0))
    return closed and isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)


def _lost(exc: BaseException, target: Target, path: Path, committing: bool) -> LgsError:
    from lgs.errors import WarehouseError

    notes = [n for e in _chain(exc) for n in getattr(e, "__notes__", [])]
    said = [n.removeprefix(SERVER_SAID) for n in notes if n.startswith(SERVER_SAID)]
    coded = [str(e) for e in _chain(exc) if getattr(e, "pgcode", None)]
    why = ([*said, *coded, str(exc)][0].strip().splitlines() or ["connection closed"])[0]
    hint = target.unreachable_hint() if hasattr(target, "unreachable_hint") else ""
    if committing:
        return WarehouseError(
            f"the {target} warehouse went away while the load of {path.name} was being "
            f"committed ({why}): it may or may not have been loaded; once the server is "
            f"back ({hint}), `lgs load` of the same file loads it or says it already was"
        )
    return WarehouseError(
        f"the {target} warehouse went away during the load of {path.name} ({why}): "
        f"nothing was loaded, raw is as it was; {hint}, then load the file again"
    )


def _load_file(
    path: Path | str,
    target: str | Target,
    *,
    replace: bool,
    max_rejects: int,
    progress: bool | None,
    guard: _SigintGuard,
) -> LoadResult:
    path = Path(path).expanduser().resolve()
    started = time.monotonic()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    if not path.is_file():
        raise InputError(
            f"{path}: {'is a folder; give a file' if path.is_dir() else 'no such file'}"
        )
    if max_rejects < 0:
        raise InputError("--max-rejects must be 0 or more")
    digest = sha256_of(path)
    db = _open_writer(targets.get(target))
    workdir = _new_workdir()
    # a bar of the load's steps on a terminal (tqdm: `disable=None` is off elsewhere)
    meter = tqdm(
        total=db.steps,
        desc=path.name,
        unit="step",
        leave=False,
        disable=None if progress is None else not progress,
        bar_format="{desc}: {bar} {n_fmt}/{total_fmt} steps, {postfix} {elapsed}",
    )
    engine: Engine | None = None
    try:
        try:
            db.begin()
            db.ensure_schema()
            db.lock()
            previous = [int(r[0]) for r in db.run("raw", "previous_loads", sha256=digest)]
            if previous and not replace:
                db.rollback()
                return LoadResult(path, "unchanged", previous[-1], sha256=digest)
            load_id = int(db.run("raw", "next_load_id")[0][0])

            meter.set_postfix_str("reading the file")
            source = detect(path, workdir)
            check_bounds(source)
            engine = db.reader(workdir)
            rows_read = engine.stage(source)
            if rows_read == 0:
                raise InputError(f"{path}: has a header but no data rows")
            meter.update()
            meter.set_postfix_str("checking every value")
            window = settings.invoice_date_window()
            bad_total = engine.check(window)
            if bad_total > max_rejects or bad_total == rows_read:
                raise InputError(
                    _format_bad_rows(source, engine.bad_rows(5), bad_total, max_rejects, window)
                )
            starts = source.extract_starts or engine.extract_starts()
            meter.update()

            meter.set_postfix_str("writing raw.invoice_lines")
            for old in previous:
                db.drop_load(old)
            if previous:
                db.run("raw", "mark_replaced", load_id=load_id, sha256=digest)
            lines = engine.typed_lines(load_id, path.name, starts)
            db.insert_lines(engine, lines, load_id, workdir, meter)
            if bad_total:
                _insert_rejects(db, load_id, engine.bad_rows(bad_total), window)
            extract_rows = [int(r[1]) for r in db.run("raw", "extract_rows", load_id=load_id)]
            db.run(
                "raw",
                "record_load",
                load_id=load_id,
                file_name=path.name,
                file_path=str(path),
                sha256=digest,
                file_format=source.file_format,
                extracts=len(starts),
                rows_read=rows_read,
                rows_loaded=rows_read - bad_total,
                rows_rejected=bad_total,
                started_at=started_at,
                finished_at=datetime.now(UTC).replace(tzinfo=None),
            )
            meter.update()
            # the result is built inside the transaction: nothing that can fail comes
            # between the commit and the caller
            result = LoadResult(
                file=path,
                status="replaced" if previous else "loaded",
                load_id=load_id,
                file_format=source.file_format,
                rows_read=rows_read,
                rows_loaded=rows_read - bad_total,
                rows_rejected=bad_total,
                extract_rows=extract_rows,
                sha256=digest,
            )
            if guard.interrupted:
                raise KeyboardInterrupt
            guard.committing = True
            db.commit()
        except BaseException as exc:
            committing, guard.committing = guard.committing, False
            db.rollback()
            # Ctrl-C that a driver turned into an error of its own (psycopg2 cancels the
            # COPY it interrupted: QueryCanceled) is still an interruption
            if (guard.interrupted or _interrupted(exc)) and not isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            if _connection_lost(exc, db):
                raise _lost(exc, targets.get(target), path, committing) from None
            raise
        finally:
            meter.close()
            if engine is not None and engine.duck is not db.conn:
                with contextlib.suppress(Exception):
                    engine.duck.close()
            shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.monotonic() - started
        # the load is committed: a failure here is no failure of the load
        with contextlib.suppress(Exception):
            db.after_commit(load_id)
        return result
    finally:
        with contextlib.suppress(Exception):
            db.conn.close()


def _insert_rejects(db: _Writer, load_id: int, rows: list[Any], window: tuple[date, date]) -> None:
    for source_row, column, *values in rows:
        db.run(
            "raw",
            "record_rejected_line",
            load_id=load_id,
            source_row=int(source_row),
            column_name=column,
            value=values[COLUMNS.index(column)],
            expected=expected(column, window),
            **dict(zip(COLUMNS, values, strict=True)),
        )


def _tmp_root() -> Path:
    return settings.private_dir(settings.state_dir() / "tmp")


def _new_workdir() -> Path:
    """A scratch folder for one load, named after its process; folders left by loads whose
    process is gone (killed: no `finally` ran) are removed first, as they can be large."""
    root = _tmp_root()
    for stale in root.glob("lgs-load-*-*"):
        pid = stale.name.split("-")[2]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"lgs-load-{os.getpid()}-", dir=root))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_raw_schema(target: str | Target) -> None:
    """Create the empty raw tables (so `dbt build` works before the first load)."""
    db = _open_writer(targets.get(target))
    try:
        db.begin()
        db.ensure_schema()
        db.commit()
    finally:
        db.conn.close()
