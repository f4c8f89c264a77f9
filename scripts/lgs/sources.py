"""Recognising an input file and presenting it to the loader as CSV text.

Accepted inputs, recognised from their content (never from the file name):

- `csv-ii`: the CSV form of the UCI "Online Retail II" workbook
  (`Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country`);
- `csv-i`: the older UCI "Online Retail" layout (`InvoiceNo, ..., UnitPrice, CustomerID, ...`);
- `xlsx-ii`, `xlsx-i`: the UCI workbooks themselves; each sheet is one extract;
- `pgdump-copy`, `pgdump-insert`: a plain pg_dump of a table `retail(invoice_no, stock_code,
  description, quantity, invoice_date, unit_price, customer_id, country)`, COPY or INSERT form;
- `pgdump-custom`: the same as a custom-format dump (`pg_dump -Fc`), read through pg_restore.

Any of the text forms may be gzipped. CSV files are read by the warehouse itself (COPY,
DuckDB's reader); the other forms are converted here, streaming, into a temporary CSV in
the II layout, so every file ends up on the same validated path.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import gzip
import io
import re
import subprocess
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from lgs.errors import InputError

# The one schema every input is mapped to, in this order.
COLUMNS = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)
HEADER_II = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)
HEADER_I = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
LAYOUTS = {"ii": HEADER_II, "i": HEADER_I}

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PGDMP_MAGIC = b"PGDMP"


@dataclass
class SheetRows:
    """Where the data rows of one workbook sheet are: the row of its header, and the blank
    rows skipped between data rows (as (data rows before them, blank rows so far))."""

    header_row: int
    gaps: list[tuple[int, int]] = field(default_factory=list)

    def skip(self, data_rows_before: int) -> None:
        if self.gaps and self.gaps[-1][0] == data_rows_before:
            self.gaps[-1] = (data_rows_before, self.gaps[-1][1] + 1)
        else:
            self.gaps.append((data_rows_before, (self.gaps[-1][1] if self.gaps else 0) + 1))

    def row_of(self, index: int) -> int:
        """The sheet row (1-based) of the data row `index` (0-based) of this sheet."""
        at = bisect.bisect_right(self.gaps, (index, sys.maxsize)) - 1
        return self.header_row + 1 + index + (self.gaps[at][1] if at >= 0 else 0)


@dataclass
class Source:
    """A recognised input: where its CSV text is, and how to name its rows in messages."""

    path: Path  # the file the user gave
    file_format: str  # one of the formats in the module docstring
    csv_path: Path  # CSV text in `layout` (the file itself, or a converted temporary file)
    layout: str  # "ii" or "i": which header the CSV text carries
    gzipped: bool  # csv_path is gzip-compressed
    # Extract boundaries known from the structure (workbook sheets): 1-based first data rows.
    extract_starts: list[int] | None = None
    sheet_names: list[str] = field(default_factory=list)
    sheet_rows: list[SheetRows] = field(default_factory=list)  # one per sheet in sheet_names

    @property
    def converted(self) -> bool:
        return self.csv_path != self.path

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns as the user's file names them, in the order of `COLUMNS`."""
        if self.file_format.startswith("pgdump"):
            return COLUMNS
        return HEADER_I if self.file_format in ("csv-i", "xlsx-i") else HEADER_II

    def where(self, source_row: int) -> str:
        """Human position of a data row (1-based, header excluded) in the user's file."""
        return self.positions([source_row])[source_row]

    def positions(self, source_rows: Iterable[int]) -> dict[int, str]:
        """`where` for several data rows, reading a CSV file once."""
        wanted = sorted(set(source_rows))
        if self.file_format.startswith("xlsx") and self.extract_starts:
            out = {}
            for row in wanted:
                sheet = 0
                for i, first in enumerate(self.extract_starts):
                    if row >= first:
                        sheet = i
                in_sheet = self.sheet_rows[sheet].row_of(row - self.extract_starts[sheet])
                out[row] = f"sheet {self.sheet_names[sheet]!r}, row {in_sheet}"
            return out
        if self.file_format.startswith("pgdump"):
            return {row: f"data row {row} of table retail" for row in wanted}
        lines = _record_lines(self, wanted)
        return {
            row: f"line {lines[row]} (data row {row})" if row in lines else f"data row {row}"
            for row in wanted
        }


def _record_lines(source: Source, wanted: list[int]) -> dict[int, int]:
    """The line each wanted data row of a CSV file starts on: a quoted text may span
    lines, and blank lines are no rows (as the warehouse's CSV reader counts them)."""
    found: dict[int, int] = {}
    if not wanted:
        return found
    targets, last = set(wanted), wanted[-1]
    opener: Any = gzip.open if source.gzipped else open
    with (
        contextlib.suppress(OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error),
        opener(source.csv_path, "rt", encoding="utf-8-sig", newline="") as text,
    ):
        reader = csv.reader(text)
        end, data_row = 0, 0
        for record in reader:
            start, end = end + 1, reader.line_num
            if start == 1 or not record:  # the header; blank lines
                continue
            data_row += 1
            if data_row in targets:
                found[data_row] = start
                if data_row == last:
                    break
    return found


# --- sniffing ----------------------------------------------------------------------------


def _open_bytes(path: Path) -> BinaryIO:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _read_head(path: Path, size: int = 65536) -> bytes:
    try:
        with _open_bytes(path) as handle:
            return handle.read(size)
    except EOFError:
        raise InputError(
            f"{path}: the gzip stream ends before its end-of-stream marker (a truncated or "
            "partly downloaded file); download or copy it again"
        ) from None
    except (OSError, zlib.error) as exc:
        raise InputError(f"{path}: cannot be read as gzip: {exc}") from None


def detect(path: Path, workdir: Path) -> Source:
    """Recognise `path` and return how to read it; raises InputError with what was expected."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    with open(path, "rb") as probe:
        magic = probe.read(8)
    gzipped = magic[:2] == GZIP_MAGIC
    if magic[:4] == ZIP_MAGIC:
        return _xlsx_source(path, workdir)
    if magic[:5] == PGDMP_MAGIC:
        return _pg_restore_source(path, workdir)
    head = _read_head(path)
    if not head.strip():
        raise InputError(
            f"{path}: the file holds no data (only whitespace{' after gunzip' if gzipped else ''})"
        )
    if head[:5] == PGDMP_MAGIC:
        raise InputError(f"{path}: a gzipped custom-format pg_dump; gunzip it first")
    text = _decode_head(path, head)
    first_line = text.splitlines()[0] if text else ""
    # an invoice header first decides: a quoted description may hold a line such as
    # "SET OF 3 ..." that would otherwise look like SQL
    if _header_layout(first_line) is None and _looks_like_sql(text):
        return _pgdump_source(path, workdir, gzipped)
    layout = _csv_layout(path, first_line)
    lines = text.splitlines()
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        raise InputError(f"{path}: has the header of an invoice file but no data rows")
    return Source(path, f"csv-{layout}", path, layout, gzipped)


def _decode_head(path: Path, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            f"{path}: the file is UTF-16 encoded; expected UTF-8 (re-save it as UTF-8 CSV)"
        )
    if b"\x00" in head:
        raise InputError(
            f"{path}: not a recognised invoice file (it holds binary data); expected a CSV with "
            f"header {','.join(HEADER_II)}, an .xlsx workbook, or a pg_dump of a table retail"
        )
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line}: byte 0x{head[exc.start]:02x} is not valid UTF-8; expected a "
            "UTF-8 file (re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`)"
        ) from None
    return text.removeprefix("\ufeff")


def _looks_like_sql(text: str) -> bool:
    head = text[:4096]
    return "PostgreSQL database dump" in head or bool(
        re.search(r"^\s*(SET|CREATE|COPY|INSERT|SELECT pg_catalog)\b", head, re.MULTILINE)
    )


def _header_layout(first_line: str) -> str | None:
    """The layout whose header `first_line` is, if any."""
    fields = next(csv.reader([first_line]), [])
    names = tuple(name.strip() for name in fields)
    return next((layout for layout, header in LAYOUTS.items() if names == header), None)


def _csv_layout(path: Path, first_line: str) -> str:
    layout = _header_layout(first_line)
    if layout is not None:
        return layout
    fields = next(csv.reader([first_line]), [])
    names = tuple(name.strip() for name in fields)
    expected = ",".join(HEADER_II)
    for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
        parts = tuple(p.strip() for p in first_line.split(delimiter))
        if len(parts) > 1 and (parts in (HEADER_II, HEADER_I) or len(fields) == 1):
            raise InputError(
                f"{path}: line 1: the columns are separated by {label}; expected commas "
                f"(header {expected})"
            )
    known = set(HEADER_II) | set(HEADER_I)
    if len(fields) > 1 and any(name in known for name in names):
        for header in (HEADER_II, HEADER_I):
            missing = [c for c in header if c not in names]
            unknown = [c for c in names if c not in header]
            if len(missing) + len(unknown) <= 4:
                detail = []
                if missing:
                    detail.append(f"missing column(s) {', '.join(missing)}")
                if unknown:
                    detail.append(f"unknown column(s) {', '.join(unknown)}")
                if not missing and not unknown:
                    detail.append("the columns are in another order")
                raise InputError(
                    f"{path}: line 1: {'; '.join(detail)}; expected the header {','.join(header)}"
                )
    # the content of a file that is not an invoice file is never echoed (it may be any
    # file the user can read, e.g. through a link): only its shape is described
    raise InputError(
        f"{path}: not a recognised invoice file: line 1 is not an invoice header "
        f"({len(fields)} field(s), {sum(name in known for name in names)} of them an invoice "
        f"column); expected a CSV "
        f"with header {expected} (or the older InvoiceNo,...,UnitPrice,CustomerID,Country), "
        "an .xlsx workbook, or a pg_dump of a table retail"
    )


# --- conversions into CSV text (II layout) -------------------------------------------------


class _CsvSink:
    """Writes canonical II-layout CSV rows to a temporary file."""

    def __init__(self, workdir: Path, stem: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.path = workdir / f"{stem}.converted.csv"
        self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(HEADER_II)
        self.rows = 0

    def write(self, values: Iterable[str | None]) -> None:
        self._writer.writerow(["" if v is None else v for v in values])
        self.rows += 1

    def close(self) -> None:
        self._handle.close()


def _cell_text(value: object) -> str | None:
    """A workbook cell as the CSV form of the workbook writes it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e15 else f"{value:.1f}"
    return str(value)


def _xlsx_source(path: Path, workdir: Path) -> Source:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - pinned dependency
        raise InputError(f"{path}: reading .xlsx needs openpyxl ({exc})") from None
    # a file object, not the name: openpyxl refuses names without an .xlsx-like suffix,
    # and the format is recognised from the content
    handle = open(path, "rb")  # noqa: SIM115 (closed below)
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:
        handle.close()
        raise InputError(
            f"{path}: a zip file that is not a readable .xlsx workbook ({exc})"
        ) from None
    sink = _CsvSink(workdir, path.name)
    starts: list[int] = []
    names: list[str] = []
    positions: list[SheetRows] = []
    layout = None
    try:
        for sheet in book.worksheets:
            # row numbers are the sheet's own: read-only sheets yield empty rows for gaps
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            header, header_row = None, 0
            for number, candidate in rows:  # the header: the first row with a value
                if any(v is not None for v in candidate):
                    header, header_row = candidate, number
                    break
            if header is None:
                continue
            names_in_sheet = tuple(str(v).strip() if v is not None else "" for v in header)
            while names_in_sheet and names_in_sheet[-1] == "":
                names_in_sheet = names_in_sheet[:-1]
            sheet_layout = next((k for k, h in LAYOUTS.items() if names_in_sheet == h), None)
            if sheet_layout is None:
                raise InputError(
                    f"{path}: sheet {sheet.title!r}, row 1: header {list(names_in_sheet)} is "
                    f"not an invoice header; expected {', '.join(HEADER_II)} (or the older "
                    "InvoiceNo ... UnitPrice, CustomerID layout)"
                )
            if layout is not None and sheet_layout != layout:
                raise InputError(
                    f"{path}: sheet {sheet.title!r} uses another layout than the first sheet"
                )
            layout = sheet_layout
            first = sink.rows + 1
            count = 0
            where = SheetRows(header_row)
            for number, row in rows:
                values = list(row[:8]) + [None] * (8 - len(row[:8]))
                if all(v is None for v in values):
                    where.skip(count)
                    continue
                if len(row) > 8 and any(v is not None for v in row[8:]):
                    raise InputError(
                        f"{path}: sheet {sheet.title!r}, row {number}: has values beyond the "
                        "8 invoice columns"
                    )
                if isinstance(values[3], float) and values[3].is_integer():
                    values[3] = int(values[3])  # a quantity stored as 6.0 is the integer 6
                sink.write(_cell_text(v) for v in values)
                count += 1
            if count:
                starts.append(first)
                names.append(sheet.title)
                positions.append(where)
    finally:
        sink.close()
        book.close()
        handle.close()
    if not starts:
        raise InputError(f"{path}: the workbook holds no invoice rows")
    return Source(path, f"xlsx-{layout}", sink.path, "ii", False, starts, names, positions)


# pg_dump -----------------------------------------------------------------------------------

_COPY_RE = re.compile(
    r"^COPY\s+(?:(?:\"?\w+\"?)\.)?\"?retail\"?\s*\(([^)]*)\)\s+FROM\s+stdin;\s*$", re.IGNORECASE
)
_INSERT_RE = re.compile(
    r"^INSERT\s+INTO\s+(?:(?:\"?\w+\"?)\.)?\"?retail\"?\s*(\(([^)]*)\))?\s*VALUES\s*", re.IGNORECASE
)
_TUPLE_RE = re.compile(r"\(((?:'(?:[^']|'')*'|[^()'])*)\)")
_FIELD_RE = re.compile(r"\s*('(?:[^']|'')*'|[^,]+?)\s*(?:,|$)")
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")


def _copy_unescape(value: str) -> str | None:
    if value == r"\N":
        return None
    if "\\" not in value:
        return value

    def repl(match: re.Match[str]) -> str:
        token = match.group(1)
        if token[0] == "x":
            return chr(int(token[1:], 16))
        if token[0] in "01234567":
            return chr(int(token, 8))
        return _COPY_ESCAPES.get(token, token)

    return _COPY_ESCAPE_RE.sub(repl, value)


def _sql_literal(token: str) -> str | None:
    token = token.strip()
    if token.upper() == "NULL":
        return None
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    # typed literals such as '2010-12-01 08:26:00'::timestamp never appear in pg_dump output,
    # numbers appear bare
    return token


def _normalise_number(value: str | None) -> str | None:
    """float8 values print as `2.55` or `1e-05`; write them without exponent."""
    if value is None or "e" not in value.lower():
        return value
    try:
        return format(Decimal(value), "f")
    except InvalidOperation:
        return value


def _dump_lines(path: Path, gzipped: bool) -> Iterator[str]:
    raw = gzip.open(path, "rb") if gzipped else open(path, "rb")  # noqa: SIM115
    with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:  # type: ignore[arg-type]
        lineno = 0
        try:
            for line in text:
                lineno += 1
                yield line.rstrip("\n")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: after line {lineno}: not valid UTF-8 ({exc.reason}); "
                "expected a UTF-8 dump"
            ) from None
        except EOFError:
            raise InputError(f"{path}: the gzip stream ends early (a truncated file)") from None


def _pgdump_source(
    path: Path, workdir: Path, gzipped: bool, lines: Iterator[str] | None = None
) -> Source:
    sink = _CsvSink(workdir, path.name)
    found = None
    try:
        it = lines if lines is not None else _dump_lines(path, gzipped)
        lineno = 0
        for line in it:
            lineno += 1
            copy = _COPY_RE.match(line)
            if copy:
                found = "pgdump-copy"
                order = _column_order(path, lineno, copy.group(1))
                for data in it:
                    lineno += 1
                    if data == "\\.":
                        break
                    fields = data.split("\t")
                    if len(fields) != len(order):
                        raise InputError(
                            f"{path}: line {lineno}: {len(fields)} tab-separated values in the "
                            f"COPY data of table retail; expected {len(order)}"
                        )
                    values = [_copy_unescape(f) for f in fields]
                    sink.write(_canonical(values, order))
                else:
                    raise InputError(
                        f"{path}: the COPY data of table retail has no end marker (\\.): "
                        "a truncated dump"
                    )
                continue
            insert = _INSERT_RE.match(line)
            if insert:
                found = "pgdump-insert"
                order = (
                    _column_order(path, lineno, insert.group(2))
                    if insert.group(1)
                    else list(range(8))
                )
                statement_line = lineno
                parts = [line[insert.end() :]]
                # the statement ends at a `;` ending a line outside any string literal: a
                # text value may span lines and hold `;` or `);` itself (with
                # standard_conforming_strings, as pg_dump writes, `''` is the only escape)
                quotes = parts[0].count("'")
                while quotes % 2 or not parts[-1].rstrip().endswith(";"):
                    more = next(it, None)
                    if more is None:
                        raise InputError(
                            f"{path}: line {statement_line}: INSERT statement never ends "
                            "(truncated dump)"
                        )
                    lineno += 1
                    parts.append(more)
                    quotes += more.count("'")
                statement = "\n".join(parts)
                end = 0
                for match in _TUPLE_RE.finditer(statement):
                    if statement[end : match.start()].strip(" \t\r\n,"):
                        break
                    end = match.end()
                    tokens = [m.group(1) for m in _FIELD_RE.finditer(match.group(1))]
                    if len(tokens) != len(order):
                        raise InputError(
                            f"{path}: line {statement_line}: an INSERT into retail has "
                            f"{len(tokens)} values; expected {len(order)}"
                        )
                    sink.write(_canonical([_sql_literal(t) for t in tokens], order))
                if end == 0 or statement[end:].strip() != ";":
                    raise InputError(
                        f"{path}: line {statement_line}: cannot read the values of this INSERT "
                        "into retail; expected pg_dump's form VALUES ('text', 12, ...), (...);"
                    )
    finally:
        sink.close()
    if found is None:
        raise InputError(
            f"{path}: a SQL file without data for a table retail; expected a pg_dump of "
            f"retail({', '.join(COLUMNS)}) in COPY or INSERT form"
        )
    if sink.rows == 0:
        raise InputError(f"{path}: the dump of table retail holds no rows")
    return Source(path, found, sink.path, "ii", False)


def _column_order(path: Path, lineno: int, column_list: str) -> list[int]:
    names = [c.strip().strip('"') for c in column_list.split(",")]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        raise InputError(
            f"{path}: line {lineno}: table retail has {'; '.join(problems)}; expected "
            f"retail({', '.join(COLUMNS)})"
        )
    return [names.index(c) for c in COLUMNS]


def _canonical(values: list[str | None], order: list[int]) -> list[str | None]:
    row = [values[i] for i in order]
    row[5] = _normalise_number(row[5])
    return row


def _pg_restore_source(path: Path, workdir: Path) -> Source:
    from lgs.embedded import bin_dir

    proc = subprocess.Popen(
        [str(bin_dir() / "pg_restore"), "--data-only", "--table=retail", "-f", "-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines = (line.rstrip("\n") for line in proc.stdout)
    failure: InputError | None = None
    try:
        source = _pgdump_source(path, workdir, False, lines)
    except InputError as exc:
        failure = exc
    proc.stdout.close()
    stderr = proc.stderr.read()
    if proc.wait() != 0:
        raise InputError(
            f"{path}: pg_restore cannot read this custom-format dump: {stderr.strip()}"
        )
    if failure is not None:
        raise failure
    source.file_format = "pgdump-custom"
    return source
