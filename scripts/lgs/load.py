"""`lgs load FILE`: invoice lines into the `raw` schema, exactly as the file said.

How a load runs:

1. The file is recognised from its content (`lgs.sources`); workbooks and dumps are
   converted, streaming, to CSV text. Its sha256 decides whether it was loaded before:
   the same file again is a no-op, unless `replace=True`.
2. DuckDB's CSV reader (multi-threaded, never the whole file in Python memory) reads the
   text into a temporary table; for the `dev` and `postgres` targets an in-process DuckDB
   does this work, for `duckdb` the target itself. Every value is checked there in SQL
   (`CHECKS`), and the rows are split into extracts (`_extract_starts`).
3. The good rows go into `raw.invoice_lines`, typed only where loss-free, with their
   provenance (load id, source file, extract number, source row). In PostgreSQL each load
   is its own partition, filled with `COPY ... FREEZE` and attached, so a reload drops
   one partition and the models read one load cheaply.
4. `raw.loads` logs the load. Everything above is one transaction: any failure (bad data,
   full disk, Ctrl-C, a killed process) leaves the raw tables exactly as they were.

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

import codecs
import contextlib
import csv
import gzip
import hashlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from lgs import settings, targets
from lgs.errors import InputError
from lgs.progress import Progress
from lgs.sources import COLUMNS, LAYOUTS, Source, detect

# The raw layer: what was received, typed only where the conversion is loss-free.
RAW_TABLES = {
    "loads": """
        load_id bigint not null,
        file_name text not null,
        file_path text not null,
        file_sha256 text not null,
        file_format text not null,
        extracts integer not null,
        rows_read bigint not null,
        rows_loaded bigint not null,
        rows_rejected bigint not null,
        started_at timestamp not null,
        finished_at timestamp not null,
        status text not null,
        replaced_by_load_id bigint
    """,
    "invoice_lines": """
        load_id bigint not null,
        source_file text not null,
        extract_no integer not null,
        source_row bigint not null,
        invoice_no text not null,
        stock_code text not null,
        description text,
        quantity bigint not null,
        invoice_date timestamp not null,
        unit_price numeric(18, 4) not null,
        customer_id text,
        country text
    """,
    "rejected_lines": """
        load_id bigint not null,
        source_row bigint not null,
        column_name text not null,
        value text,
        expected text not null,
        invoice_no text,
        stock_code text,
        description text,
        quantity text,
        invoice_date text,
        unit_price text,
        customer_id text,
        country text
    """,
}

# Checks on the text of every row: (column, condition flagging a bad value, what was
# expected). The first failing check names a row's problem. Patterns are full matches.
CHECKS: list[tuple[str, str, str]] = [
    (
        "invoice_no",
        "invoice_no is null or trim(invoice_no) = '' or contains(invoice_no, chr(0))",
        "an invoice number such as 489434 or C489449",
    ),
    (
        "stock_code",
        "stock_code is null or trim(stock_code) = '' or contains(stock_code, chr(0))",
        "a stock code such as 85048",
    ),
    (
        "quantity",
        "quantity is null or not regexp_full_match(quantity, '-?[0-9]{1,15}')",
        "a whole number such as 12 or -3",
    ),
    (
        "invoice_date",
        "invoice_date is null or not regexp_full_match(invoice_date, "
        "'[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?') "
        "or try_cast(invoice_date as timestamp) is null "
        "or starts_with(invoice_date, '0000')",  # DuckDB reads year 0, PostgreSQL does not
        "a date and time as YYYY-MM-DD HH:MM:SS",
    ),
    (
        "unit_price",
        "unit_price is null or not regexp_full_match(unit_price, '-?[0-9]{1,14}([.][0-9]{1,4})?')",
        "a decimal price such as 2.55 (at most 4 decimals)",
    ),
    (
        "customer_id",
        "customer_id is not null and not regexp_full_match(customer_id, '[0-9]{1,18}([.]0+)?')",
        "a whole customer id such as 13085 or 13085.0, or nothing",
    ),
    # PostgreSQL text cannot hold NUL: refuse it here, by name, for both targets
    ("description", "contains(description, chr(0))", "text without NUL (0x00) characters"),
    ("country", "contains(country, chr(0))", "text without NUL (0x00) characters"),
]


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


# --- precise diagnostics of a file DuckDB could not read ------------------------------------


class CheckedStream:
    """Reads the CSV bytes, checking gzip integrity and UTF-8, to name a broken file's
    problem precisely (file and line)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._raw: BinaryIO = open(source.csv_path, "rb")  # noqa: SIM115 (closed in close())
        self._stream: BinaryIO = (
            gzip.GzipFile(fileobj=self._raw) if source.gzipped else self._raw  # type: ignore[assignment]
        )
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._lines = 0

    def read(self, size: int = 1 << 20) -> bytes:
        try:
            # read1: what one step decompresses, so a truncated stream is named after the
            # last line it really holds (read() drops a partly decompressed chunk)
            chunk = self._stream.read1(size)
        except EOFError:
            raise InputError(
                f"{self.source.path}: the gzip stream ends before its end-of-stream marker, after "
                f"line {self._lines}: a truncated or partly downloaded file; copy it again"
            ) from None
        except (OSError, zlib.error) as exc:
            raise InputError(
                f"{self.source.path}: corrupt gzip data after line {self._lines}: {exc}"
            ) from None
        try:
            self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self._lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
            bad = (
                f"byte 0x{chunk[exc.start]:02x}"
                if exc.start < len(chunk)
                else "the end of the file"
            )
            raise InputError(
                f"{self.source.path}: line {line}: {bad} is not valid UTF-8; expected a UTF-8 "
                "file (convert it, e.g. `iconv -f latin1 -t utf-8`)"
            ) from None
        self._lines += chunk.count(b"\n")
        return chunk

    def close(self) -> None:
        self._stream.close()
        self._raw.close()


def _diagnose(source: Source, engine_message: str) -> InputError:
    """DuckDB refused the file: re-read it in Python to name the problem precisely."""
    stream = CheckedStream(source)
    try:
        while stream.read():
            pass
    except InputError as exc:
        return exc
    finally:
        stream.close()
    header = ",".join(LAYOUTS[source.layout])
    found = _first_malformed_record(source, header)
    if found is not None:
        return found
    line = re.search(r"[Ll]ine:? (\d+)", engine_message)
    where = f"line {line.group(1)}: " if line else ""
    first = engine_message.strip().splitlines()[0]
    first = re.sub(r"^[\w ]+ Error: ", "", first)
    return InputError(
        f"{source.path}: {where}cannot be read as CSV ({first}); expected 8 comma-separated "
        f"columns ({header}), with text holding commas or quotes in double quotes"
    )


def _first_malformed_record(source: Source, header: str) -> InputError | None:
    """The first record (after the header) without exactly 8 fields, or with broken quoting,
    named by the line it starts on; None when Python's reader finds none."""
    opener: Any = gzip.open if source.gzipped else open
    with opener(source.csv_path, "rt", encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, strict=True)
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                if start == 1 or not record:  # the header (checked already); blank lines
                    continue
                if len(record) != len(COLUMNS):
                    spans = f" (it runs on to line {end}: is a double quote not closed?)"
                    return InputError(
                        f"{source.path}: line {start}: {len(record)} field(s) "
                        f"where 8 are expected{spans if end > start else ''}; expected the "
                        f"columns {header}, with text holding commas in double quotes"
                    )
        except csv.Error as exc:
            start = end + 1
            problem = (
                "a double-quoted field is never closed"
                if "end of data" in str(exc) or reader.line_num > start
                else f"broken quoting ({exc})"
            )
            return InputError(
                f"{source.path}: line {start}: {problem}; text holding commas "
                'or quotes must be in double quotes, with a quote inside written twice ("")'
            )
    return None


# --- the reading engine: DuckDB -------------------------------------------------------------


class Engine:
    """Stages one file in DuckDB, checks it and finds its extracts."""

    def __init__(self, duck: Any) -> None:
        self.duck = duck

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.duck.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def stage(self, source: Source) -> int:
        import duckdb

        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
        path = str(source.csv_path).replace("'", "''")
        try:
            # row_number() over () follows the file order, which DuckDB's reader preserves
            self.duck.execute(
                "create temporary table load_text as select row_number() over () as source_row, * "
                f"from read_csv('{path}', header = true, columns = {columns}, auto_detect = false, "
                "delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
                f"null_padding = false, compression = '{'gzip' if source.gzipped else 'none'}')"
            )
        except duckdb.Error as exc:
            if _interrupted(exc):
                raise KeyboardInterrupt from None
            raise _diagnose(source, str(exc)) from None
        return int(self.scalar("select count(*) from load_text"))

    def check(self) -> int:
        cases = " ".join(f"when {bad} then {i}" for i, (_c, bad, _e) in enumerate(CHECKS, start=1))
        self.duck.execute(
            "create temporary table load_bad as select * from ("
            f"select source_row, case {cases} end as problem, {', '.join(COLUMNS)} "
            "from load_text) as checked where problem is not null"
        )
        total = int(self.scalar("select count(*) from load_bad"))
        if total:
            self.duck.execute(
                "delete from load_text where source_row in (select source_row from load_bad)"
            )
        return total

    def bad_rows(self, limit: int) -> list[tuple[Any, ...]]:
        return self.duck.execute(
            f"select source_row, problem, {', '.join(COLUMNS)} from load_bad order by source_row "
            "limit ?",
            [limit],
        ).fetchall()

    def extract_starts(self) -> list[int]:
        """First rows of the extracts: the first row more than one day below the running
        maximum of the current extract starts the next one."""
        starts = [int(self.scalar("select min(source_row) from load_text"))]
        while True:
            found = self.scalar(
                "select min(source_row) from ("
                "select source_row, invoiced_at, max(invoiced_at) over ("
                "order by source_row rows between unbounded preceding and current row) "
                "as running_max from (select source_row, cast(invoice_date as timestamp) "
                "as invoiced_at from load_text where source_row >= ?) as lines"
                ") as scanned where invoiced_at < running_max - interval '1 day'",
                [starts[-1]],
            )
            if found is None:
                return starts
            starts.append(int(found))

    def typed_select(self, load_id: int, file_name: str, starts: list[int]) -> str:
        """The good rows as raw.invoice_lines columns (typing happens in the target)."""
        if len(starts) == 1:
            extract = "1"
        else:
            whens = " ".join(
                f"when source_row >= {first} then {n}"
                for n, first in reversed(list(enumerate(starts, start=1)))
            )
            extract = f"case {whens} end"
        name = file_name.replace("'", "''")
        return (
            f"select {int(load_id)} as load_id, '{name}' as source_file, {extract} as extract_no, "
            f"source_row, {', '.join(COLUMNS)} from load_text"
        )


# --- the targets ----------------------------------------------------------------------------


class _Target:
    param = "%s"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cur = conn.cursor()

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
        self.cur.execute(sql.replace("%s", self.param), params)

    def all(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Any]:
        self.execute(sql, params)
        return self.cur.fetchall()

    def begin(self) -> None:
        raise NotImplementedError

    def ensure_schema(self) -> None:
        self.execute("create schema if not exists raw")
        for name, columns in RAW_TABLES.items():
            self.execute(
                f"create table if not exists raw.{name} ({columns}){self.table_suffix(name)}"
            )

    def table_suffix(self, name: str) -> str:
        return ""

    def lock(self) -> None:
        """Serialise concurrent loads."""

    def insert_lines(
        self, engine: Engine, select: str, load_id: int, workdir: Path, meter: Progress
    ) -> None:
        raise NotImplementedError

    def drop_load(self, load_id: int) -> None:
        self.execute("delete from raw.invoice_lines where load_id = %s", [load_id])

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()


class _PostgresTarget(_Target):
    def begin(self) -> None:
        self.conn.autocommit = False

    def table_suffix(self, name: str) -> str:
        return " partition by list (load_id)" if name == "invoice_lines" else ""

    def lock(self) -> None:
        self.execute("lock table raw.loads in share row exclusive mode")

    def insert_lines(
        self, engine: Engine, select: str, load_id: int, workdir: Path, meter: Progress
    ) -> None:
        """One partition per load: created, filled with COPY FREEZE (no later vacuum of
        these rows, no WAL where the server allows it) and attached, in this transaction."""
        csv_path = workdir / "lines.csv"
        quoted = str(csv_path).replace("'", "''")  # a quote in the state folder's name
        engine.duck.execute(f"copy ({select}) to '{quoted}' (header false)")
        meter.phase("copying into PostgreSQL", csv_path.stat().st_size)
        part = f"raw.invoice_lines_load_{int(load_id)}"
        self.execute(
            f"create table {part} (like raw.invoice_lines including defaults, "
            f"check (load_id = {int(load_id)}))"
        )
        with open(csv_path, "rb") as handle:
            self.cur.copy_expert(
                f"copy {part} from stdin with (format csv, freeze true)",
                _Metered(handle, meter),
                size=1 << 20,
            )
        self.execute(
            f"alter table raw.invoice_lines attach partition {part} for values in ({int(load_id)})"
        )

    def drop_load(self, load_id: int) -> None:
        self.execute(f"drop table if exists raw.invoice_lines_load_{int(load_id)}")

    def analyze(self, load_id: int) -> None:
        """Planner statistics of the new partition only: analysing the partitioned
        table would sample every load, a cost that grows with the history."""
        self.conn.autocommit = True
        self.execute(f"analyze raw.invoice_lines_load_{int(load_id)}")


class _DuckDBTarget(_Target):
    param = "?"

    def __init__(self, conn: Any) -> None:
        # a DuckDB cursor is a second connection: keep one, so that the staging tables
        # and the transaction are shared with the engine
        self.conn = conn
        self.cur = conn

    def begin(self) -> None:
        self.execute("begin transaction")

    def insert_lines(
        self, engine: Engine, select: str, load_id: int, workdir: Path, meter: Progress
    ) -> None:
        self.execute(
            f"insert into raw.invoice_lines select load_id, source_file, extract_no, source_row, "
            "invoice_no, stock_code, description, cast(quantity as bigint), "
            "cast(invoice_date as timestamp), cast(unit_price as decimal(18, 4)), customer_id, "
            f"country from ({select}) as lines"
        )


class _Metered:
    """A file handed to COPY that moves the progress bar as it is read."""

    def __init__(self, handle: BinaryIO, meter: Progress) -> None:
        self._handle = handle
        self._meter = meter

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._meter.advance(self._handle.tell())
        return chunk


def _open_target(target: str) -> _Target:
    conn = targets.connect(target)
    return _DuckDBTarget(conn) if targets.is_duckdb(target) else _PostgresTarget(conn)


def _engine_for(target_db: _Target, workdir: Path) -> Engine:
    if isinstance(target_db, _DuckDBTarget):
        return Engine(target_db.conn)
    import duckdb

    duck = duckdb.connect(config={"temp_directory": str(workdir / "spill")})
    return Engine(duck)


# --- the load -----------------------------------------------------------------------------------


def _format_bad_rows(source: Source, rows: list[Any], total: int, max_rejects: int) -> str:
    header = source.column_names  # as the user's file names them, also when converted
    where = source.positions(int(row[0]) for row in rows)
    lines = []
    for row in rows:
        source_row, problem = int(row[0]), int(row[1])
        column, _bad, expected = CHECKS[problem - 1]
        index = COLUMNS.index(column)
        value = row[2 + index]
        shown = "nothing" if value is None else repr(value)
        lines.append(f"  {where[source_row]}, column {header[index]}: {shown}; expected {expected}")
    more = f"\n  ... and {total - len(rows):,} more" if total > len(rows) else ""
    allowance = f"; --max-rejects allows {max_rejects:,}" if max_rejects else ""
    return (
        f"{source.path}: {total:,} row(s) cannot be read{allowance}; nothing was loaded:\n"
        + "\n".join(lines)
        + more
    )


def load_file(
    path: Path | str,
    target: str = "dev",
    *,
    replace: bool = False,
    max_rejects: int = 0,
    progress: bool | None = None,
) -> LoadResult:
    """Load one file into the target's raw layer (see the module docstring)."""
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


def _load_file(
    path: Path | str,
    target: str,
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
    db = _open_target(target)
    workdir = _new_workdir()
    meter = Progress(4 if target != "duckdb" else 3, path.name, enabled=progress)
    engine: Engine | None = None
    try:
        try:
            db.begin()
            db.ensure_schema()
            db.lock()
            previous = [
                int(r[0])
                for r in db.all(
                    "select load_id from raw.loads where file_sha256 = %s and status = 'loaded' "
                    "order by load_id",
                    [digest],
                )
            ]
            if previous and not replace:
                db.rollback()
                return LoadResult(path, "unchanged", previous[-1], sha256=digest)
            load_id = int(db.all("select coalesce(max(load_id), 0) + 1 from raw.loads")[0][0])

            meter.phase("reading the file")
            source = detect(path, workdir)
            engine = _engine_for(db, workdir)
            rows_read = engine.stage(source)
            if rows_read == 0:
                raise InputError(f"{path}: has a header but no data rows")
            meter.phase("checking every value")
            bad_total = engine.check()
            if bad_total > max_rejects or bad_total == rows_read:
                raise InputError(
                    _format_bad_rows(source, engine.bad_rows(5), bad_total, max_rejects)
                )
            starts = source.extract_starts or engine.extract_starts()

            meter.phase("writing raw.invoice_lines")
            for old in previous:
                db.drop_load(old)
            if previous:
                marks = ", ".join(["%s"] * len(previous))
                db.execute(
                    f"update raw.loads set status = 'replaced', replaced_by_load_id = %s "
                    f"where load_id in ({marks})",
                    [load_id, *previous],
                )
            db.insert_lines(
                engine, engine.typed_select(load_id, path.name, starts), load_id, workdir, meter
            )
            if bad_total:
                _insert_rejects(db, load_id, engine.bad_rows(bad_total))
            extract_rows = [
                int(r[1])
                for r in db.all(
                    "select extract_no, count(*) from raw.invoice_lines where load_id = %s "
                    "group by extract_no order by extract_no",
                    [load_id],
                )
            ]
            db.execute(
                "insert into raw.loads (load_id, file_name, file_path, file_sha256, file_format, "
                "extracts, rows_read, rows_loaded, rows_rejected, started_at, finished_at, "
                "status) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'loaded')",
                [
                    load_id,
                    path.name,
                    str(path),
                    digest,
                    source.file_format,
                    len(starts),
                    rows_read,
                    rows_read - bad_total,
                    bad_total,
                    started_at,
                    datetime.now(UTC).replace(tzinfo=None),
                ],
            )
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
            guard.committing = False
            db.rollback()
            if _interrupted(exc) and not isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            raise
        finally:
            meter.close()
            if engine is not None and engine.duck is not db.conn:
                with contextlib.suppress(Exception):
                    engine.duck.close()
            shutil.rmtree(workdir, ignore_errors=True)
        result.seconds = time.monotonic() - started
        if isinstance(db, _PostgresTarget):
            # fresh planner statistics for the models that read it next; the load is
            # committed, so a failure here is no failure of the load
            with contextlib.suppress(Exception):
                db.analyze(load_id)
        return result
    finally:
        with contextlib.suppress(Exception):
            db.conn.close()


def _insert_rejects(db: _Target, load_id: int, rows: list[Any]) -> None:
    records = []
    for row in rows:
        source_row, problem, *values = row
        column, _bad, expected = CHECKS[int(problem) - 1]
        records.append(
            [load_id, int(source_row), column, values[COLUMNS.index(column)], expected, *values]
        )
    marks = ", ".join(["%s"] * 13)
    for record in records:
        db.execute(f"insert into raw.rejected_lines values ({marks})", record)


def _tmp_root() -> Path:
    root = settings.state_dir() / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


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


def ensure_raw_schema(target: str) -> None:
    """Create the empty raw tables (so `dbt build` works before the first load)."""
    db = _open_target(target)
    try:
        db.begin()
        db.ensure_schema()
        db.commit()
    finally:
        db.conn.close()
