"""`lgs load`: accepted inputs, provenance, reloads, refusals, bad rows, atomicity, extracts.

Every fixture is built at test time in a temporary folder: small CSV texts written here,
workbooks written with openpyxl from the rows of the generated `small_data` file, and
PostgreSQL dumps written by the real `pg_dump` of the embedded server from a scratch
database. Each test runs on both targets (`dev`, the embedded PostgreSQL, and `duckdb`),
in a fresh empty warehouse. The real UCI files are used when present (`-m real`).

Refusals are checked through the command line (exit code, one clear message, no Python
traceback) and by a fingerprint of the raw tables taken before and after: a refused or
failed load must leave them exactly as they were, also when they already hold a load.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from tests_support import PROJECT_DIR, GeneratedData, Warehouse, environment

import lgs.load as load_module
from lgs import embedded, settings, targets
from lgs.errors import InputError
from lgs.load import LoadResult, ensure_raw_schema
from lgs.sources import COLUMNS

HEADER_II = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price"]
HEADER_II += ["Customer ID", "Country"]
HEADER_I = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"]
HEADER_I += ["CustomerID", "Country"]
SHEETS = ("Year 2009-2010", "Year 2010-2011")
REAL_II_SHA256 = "447fff51885130f574a2346b1a6887c3b4eb433af0448e8470da998e11887786"
REAL_I_SHA256 = "c985c71915d76541fb070383e71354eacbfc07bede8d5de61d89873b9187a4eb"
BIG_ROWS = 300_000

# Rows that are hard to carry through a dump or a CSV: quotes, commas, tabs, backslashes,
# `\N`, line breaks, `;` and `);` at the end of a line inside a text, spaces, nulls.
_LATE = "2011-12-09 12:00:00"  # within the last hour of the generated data: no new extract
AWKWARD_ROWS = [
    ["999001", "X1", 'QUOTE \' AND "DOUBLE", COMMA', "3", _LATE, "0.001", "", "France"],
    ["999001", "X2", "TAB\tBACKSLASH \\ AND \\N", "1", _LATE, "2.5", "12345.0", "France"],
    ["999002", "X3", "ENDS WITH;\nNEXT LINE", "2", _LATE, "1", "", "United Kingdom"],
    ["999002", "X4", "PAREN);\n(", "-2", _LATE, "0", "", ""],
    ["999003", "X5", "", "1", _LATE, "12.75", "12346.0", "EIRE"],
    ["999003", "X6", "  SPACES AROUND  ", "4", _LATE, "0.85", "12346.0", "EIRE"],
]


# --- helpers ------------------------------------------------------------------------------


def fetch(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query as plain Python values (no pandas conversions)."""
    with wh.active(), targets.connection(wh.target) as conn:
        if wh.target == "duckdb":
            return [tuple(row) for row in conn.execute(sql).fetchall()]
        cur = conn.cursor()
        cur.execute(sql)
        return [tuple(row) for row in cur.fetchall()]


def fingerprint(wh: Warehouse) -> dict[str, Any]:
    """Everything a load may change in the raw layer: its tables (PostgreSQL partitions
    included), their row counts, a checksum of the lines and the whole load log."""
    return {
        "tables": fetch(
            wh,
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "order by table_name",
        ),
        "lines": fetch(
            wh,
            "select count(*), coalesce(sum(source_row), 0), coalesce(sum(quantity), 0), "
            "count(distinct load_id), min(load_id), max(load_id) from raw.invoice_lines",
        ),
        "loads": fetch(
            wh,
            "select load_id, file_name, file_sha256, file_format, extracts, rows_read, "
            "rows_loaded, rows_rejected, cast(started_at as varchar), "
            "cast(finished_at as varchar), status, replaced_by_load_id from raw.loads "
            "order by load_id",
        ),
        "rejected": fetch(wh, "select count(*) from raw.rejected_lines"),
    }


def ensure_raw(wh: Warehouse) -> None:
    with wh.active():
        ensure_raw_schema(wh.target)


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of a CSV file as Python's csv module reads them."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def write_csv(path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = HEADER_II) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customer(value: str | None) -> str | None:
    """A customer id as the CSV writes it (`13085.0`) and as a dump or workbook writes the
    same number (`13085`): the raw layer keeps what the file said; compare the number."""
    if value is None or value == "":
        return None
    return value[:-2] if value.endswith(".0") else value


def expected_rows(rows: Iterable[Sequence[str]]) -> list[tuple[Any, ...]]:
    """What raw.invoice_lines must hold for CSV rows: text exactly as written (empty ->
    null), typed values in their canonical text form."""
    out = []
    for n, r in enumerate(rows, start=1):
        when = r[4] if len(r[4]) == 19 else r[4] + ":00"
        price = str(Decimal(r[5]).quantize(Decimal("0.0001")))
        out.append(
            (n, r[0], r[1], r[2] or None, str(int(r[3])), when, price, customer(r[6]), r[7] or None)
        )
    return out


def raw_rows(wh: Warehouse, load_id: int) -> list[tuple[Any, ...]]:
    got = fetch(
        wh,
        "select source_row, invoice_no, stock_code, description, cast(quantity as varchar), "
        "cast(invoice_date as varchar), cast(unit_price as varchar), customer_id, country "
        f"from raw.invoice_lines where load_id = {int(load_id)} order by source_row",
    )
    return [(*row[:7], customer(row[7]), row[8]) for row in got]


def extract_numbers(dates: Iterable[str]) -> list[int]:
    """The extract rule, independently: a row more than one day below the running maximum
    of the current extract starts the next extract, whose maximum restarts from it."""
    numbers, current, running = [], 1, None
    for text in dates:
        when = datetime.fromisoformat(text)
        if running is not None and when < running - timedelta(days=1):
            current, running = current + 1, when
        else:
            running = when if running is None else max(running, when)
        numbers.append(current)
    return numbers


def extract_of_rows(wh: Warehouse, load_id: int) -> list[int]:
    return [
        int(r[0])
        for r in fetch(
            wh,
            f"select extract_no from raw.invoice_lines where load_id = {int(load_id)} "
            "order by source_row",
        )
    ]


def assert_refused(
    result: subprocess.CompletedProcess[str], *fragments: str, lines: int = 1
) -> None:
    """A refusal through the CLI: non-zero exit, no traceback, a message of `lines` lines
    holding every fragment."""
    err = result.stderr
    assert result.returncode != 0, f"expected a refusal, got exit 0:\n{result.stdout}"
    assert "Traceback" not in err, err
    assert err.startswith("lgs: error: "), err
    assert len(err.strip().splitlines()) == lines, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in the message:\n{err}"


def png_bytes() -> bytes:
    """A real (1x1, white) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], list[list[str]]]]) -> Path:
    """A workbook with one sheet per entry, cells typed as in the UCI workbook (numbers,
    dates, empty cells for missing values)."""
    import openpyxl

    def typed(r: Sequence[str]) -> list[Any]:
        return [
            int(r[0]) if r[0].isdigit() else r[0],
            int(r[1]) if r[1].isdigit() else r[1],
            r[2] or None,
            int(r[3]),
            datetime.fromisoformat(r[4]),
            float(r[5]),
            float(r[6]) if r[6] else None,
            r[7] or None,
        ]

    book = openpyxl.Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append(typed(row))
    book.save(path)
    return path


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def small_rows(small_data: GeneratedData) -> list[list[str]]:
    rows = read_rows(small_data.path)
    assert len(rows) == small_data.rows
    return rows


@pytest.fixture(scope="session")
def awkward_csv(tmp_path_factory: pytest.TempPathFactory, small_rows: list[list[str]]) -> Path:
    """The generated rows and the awkward ones, as a II CSV."""
    return write_csv(tmp_path_factory.mktemp("awkward") / "awkward.csv", small_rows + AWKWARD_ROWS)


@pytest.fixture(scope="session")
def dumps(
    tmp_path_factory: pytest.TempPathFactory, pg_server: embedded.ServerStatus, awkward_csv: Path
) -> dict[str, Path]:
    """pg_dump files of a table retail holding the rows of `awkward_csv`, in file order,
    written by the real pg_dump of the embedded server in each form it offers."""
    folder = tmp_path_factory.mktemp("dumps")
    conf = settings.postgres_settings("dev")
    scratch = "lgs_dump_source"
    admin = psycopg2.connect(host=conf.host, port=conf.port, user=conf.user, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {scratch} with (force)")
        cur.execute(f"create database {scratch}")
    rows = read_rows(awkward_csv)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for r in rows:  # the customer id column is an integer in this table
        writer.writerow([*r[:6], str(int(float(r[6]))) if r[6] else "", r[7]])
    text.seek(0)
    conn = psycopg2.connect(host=conf.host, port=conf.port, user=conf.user, dbname=scratch)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "create table retail (invoice_no text, stock_code text, description text, "
                "quantity integer, invoice_date timestamp, unit_price double precision, "
                "customer_id integer, country text)"
            )
            # one COPY: the rows are stored, and dumped, in file order
            cur.copy_expert("copy retail from stdin with (format csv)", text)
            conn.commit()
            cur.execute("select invoice_no, stock_code, description from retail")
            stored = cur.fetchall()
            assert stored == [(r[0], r[1], r[2] or None) for r in rows], "table order"
            cur.execute("select count(*) from retail where description like '%' || chr(9) || '%'")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()
    forms = {
        "copy-data-only.sql": ["--data-only"],
        "copy-full.sql": [],
        "inserts.sql": ["--inserts"],
        "column-inserts.sql": ["--column-inserts"],
        "rows-per-insert.sql": ["--rows-per-insert=50"],
        "custom.dump": ["-Fc"],
    }
    env = {**os.environ, "PGHOST": conf.host, "PGPORT": str(conf.port), "PGUSER": conf.user}
    out: dict[str, Path] = {}
    for name, options in forms.items():
        path = folder / name
        subprocess.run(
            [str(embedded.bin_dir() / "pg_dump"), *options, "-d", scratch, "-f", str(path)],
            env=env,
            check=True,
            capture_output=True,
        )
        out[name] = path
    gz = folder / "copy-full.sql.gz"
    gz.write_bytes(gzip.compress(out["copy-full.sql"].read_bytes(), mtime=0))
    out[gz.name] = gz
    with admin.cursor() as cur:
        cur.execute(f"drop database {scratch} with (force)")
    admin.close()
    # the forms really differ as named
    assert "COPY public.retail (" in out["copy-data-only.sql"].read_text()
    assert "CREATE TABLE public.retail" in out["copy-full.sql"].read_text()
    assert "INSERT INTO public.retail VALUES (" in out["inserts.sql"].read_text()
    assert "INSERT INTO public.retail (invoice_no," in out["column-inserts.sql"].read_text()
    assert "INSERT INTO public.retail VALUES\n\t(" in out["rows-per-insert.sql"].read_text()
    assert out["custom.dump"].read_bytes()[:5] == b"PGDMP"
    return out


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~300k generated rows: a load of a few seconds, long enough to interrupt."""
    from lgs.generate import generate

    path = tmp_path_factory.mktemp("big") / "big.csv"
    assert generate(BIG_ROWS, 11, path).rows == BIG_ROWS
    return path


# --- accepted inputs ----------------------------------------------------------------------


def test_ii_csv_provenance_and_load_log(
    warehouse: Warehouse, small_data: GeneratedData, small_rows: list[list[str]]
) -> None:
    path = small_data.path
    result = warehouse.load(path)
    assert (result.status, result.load_id, result.file_format) == ("loaded", 1, "csv-ii")
    assert result.rows_read == result.rows_loaded == len(small_rows) == 4_000
    assert result.rows_rejected == 0
    # every value as the file says it
    assert raw_rows(warehouse, 1) == expected_rows(small_rows)
    # provenance on every row
    provenance = fetch(
        warehouse,
        "select count(*), count(distinct source_row), min(source_row), max(source_row), "
        "min(load_id), max(load_id), min(source_file), max(source_file) from raw.invoice_lines",
    )
    assert provenance == [(4000, 4000, 1, 4000, 1, 1, path.name, path.name)]
    # a few rows against the file's own lines: line n + 1 holds source row n
    lines = path.read_text(encoding="utf-8").splitlines()
    for n in (1, 2, 1629, 1630, 2718, 4000):
        line = next(csv.reader([lines[n]]))
        got = fetch(
            warehouse,
            "select invoice_no, stock_code, description, cast(quantity as varchar), customer_id "
            f"from raw.invoice_lines where source_row = {n}",
        )
        assert got == [(line[0], line[1], line[2] or None, line[3], line[6] or None)], n
    # the extracts: the generated file is two overlapping extracts
    numbers = extract_numbers(r[4] for r in small_rows)
    assert numbers[-1] == 2
    assert extract_of_rows(warehouse, 1) == numbers
    assert result.extract_rows == [numbers.count(1), numbers.count(2)] == [1629, 2371]
    # the load log
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    (log,) = fetch(
        warehouse,
        "select load_id, file_name, file_path, file_sha256, file_format, extracts, rows_read, "
        "rows_loaded, rows_rejected, started_at, finished_at, status, replaced_by_load_id "
        "from raw.loads",
    )
    assert log[:9] == (1, path.name, str(path.resolve()), sha, "csv-ii", 2, 4000, 4000, 0)
    assert log[11:] == ("loaded", None)
    started, finished = log[9], log[10]
    assert started <= finished
    assert abs(datetime.now(UTC).replace(tzinfo=None) - finished) < timedelta(minutes=5)
    assert result.sha256 == sha


@pytest.mark.parametrize("form", ["csv-gz", "csv-i", "xlsx-ii", "xlsx-i"])
def test_other_accepted_forms_give_the_same_rows(
    warehouse: Warehouse, small_rows: list[list[str]], tmp_path: Path, form: str
) -> None:
    """The gzipped CSV, the older layout as CSV or workbook, and a two-sheet workbook of
    the II layout all give the rows of the plain CSV (recognised from content: the file
    names say nothing)."""
    numbers = extract_numbers(r[4] for r in small_rows)
    first = numbers.count(1)
    path = tmp_path / "input.data"
    extracts = [first, len(small_rows) - first]
    if form == "csv-gz":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(HEADER_II)
        writer.writerows(small_rows)
        path.write_bytes(gzip.compress(text.getvalue().encode()))
        expected_format = "csv-ii"
    elif form == "csv-i":
        write_csv(path, small_rows, HEADER_I)
        expected_format = "csv-i"
    elif form == "xlsx-ii":
        # each sheet one extract, as in the UCI workbook
        sheets = {
            SHEETS[0]: (HEADER_II, small_rows[:first]),
            SHEETS[1]: (HEADER_II, small_rows[first:]),
        }
        write_xlsx(path, sheets)
        expected_format = "xlsx-ii"
    else:
        write_xlsx(path, {"Online Retail": (HEADER_I, small_rows)})
        expected_format = "xlsx-i"
        extracts = [len(small_rows)]  # one sheet: one extract, whatever the dates do
    result = warehouse.load(path)
    assert result.file_format == expected_format
    assert result.rows_loaded == len(small_rows)
    assert result.extract_rows == extracts
    assert raw_rows(warehouse, result.load_id) == expected_rows(small_rows)


def test_workbook_sheets_are_the_extracts(
    warehouse: Warehouse, small_rows: list[list[str]], tmp_path: Path
) -> None:
    """Sheets split where they split, not where the dates fall back; a bad cell is named
    by its sheet and row."""
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {SHEETS[0]: (HEADER_II, small_rows[:1000]), SHEETS[1]: (HEADER_II, small_rows[1000:])},
    )
    result = warehouse.load(path)
    assert result.extract_rows == [1000, 3000]
    assert extract_of_rows(warehouse, result.load_id) == [1] * 1000 + [2] * 3000
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        {SHEETS[0]: (HEADER_II, small_rows[:10]), SHEETS[1]: (HEADER_II, small_rows[10:20])},
    )
    import openpyxl

    book = openpyxl.load_workbook(path)
    book[SHEETS[1]]["D6"] = "two"  # row 6 of the second sheet: its 5th data row
    book.save(path)
    with pytest.raises(InputError) as error:
        warehouse.load(path)
    assert f"sheet '{SHEETS[1]}', row 6, column Quantity: 'two'" in str(error.value)


def test_bad_cells_are_named_by_the_files_own_column_and_row(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A bad value is named by the column as the user's file calls it (also when the file
    is converted: the older workbook's UnitPrice and CustomerID, a dump's quantity and
    unit_price) and by its real line or row: past a quoted text spanning lines, blank
    lines and blank sheet rows."""
    good = ["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00", "6.95", "13085.0", "UK"]

    def row(**changes: str) -> list[str]:
        out = list(good)
        for name, value in changes.items():
            out[HEADER_I.index(name)] = value
        return out

    csv_path = tmp_path / "multiline.csv"
    csv_path.write_text(
        ",".join(HEADER_II) + "\n"  # line 1
        + '489434,85048,"GLASS BALL\nSET OF 3",12,2009-12-01 07:45:00,6.95,,UK\n'  # lines 2-3
        + "\n"  # line 4: blank, no row
        + ",".join(good) + "\n"  # line 5, data row 2
        + ",".join(row(Quantity="ten")) + "\n"  # line 6, data row 3
    )  # fmt: skip
    assert_refused(
        warehouse.lgs("load", str(csv_path)),
        "line 6 (data row 3), column Quantity: 'ten'; expected a whole number",
        lines=2,
    )

    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    first = book.create_sheet("Online Retail")
    first.append(HEADER_I)  # row 1
    first.append(good)  # row 2
    first.append([])  # row 3: blank
    first.append(row(Quantity="two"))  # row 4
    first.append(row(UnitPrice="£1"))  # row 5
    first.append(row(CustomerID="abc"))  # row 6
    later = book.create_sheet("Later")
    later.append([])  # row 1: blank, the header follows
    later.append(HEADER_I)  # row 2
    later.append(good)  # row 3
    later.append(row(UnitPrice="1,5"))  # row 4
    xlsx_path = tmp_path / "older.xlsx"
    book.save(xlsx_path)
    assert_refused(
        warehouse.lgs("load", str(xlsx_path)),
        "4 row(s) cannot be read",
        "sheet 'Online Retail', row 4, column Quantity: 'two'",
        "sheet 'Online Retail', row 5, column UnitPrice: '£1'",
        "sheet 'Online Retail', row 6, column CustomerID: 'abc'",
        "sheet 'Later', row 4, column UnitPrice: '1,5'",
        lines=5,
    )

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Wide")
    for values in (HEADER_I, good, [], good, [*good, "EXTRA"]):  # rows 1-5
        sheet.append(values)
    wide = tmp_path / "wide.xlsx"
    book.save(wide)
    assert_refused(
        warehouse.lgs("load", str(wide)),
        "sheet 'Wide', row 5: has values beyond the 8 invoice columns",
    )

    columns = ", ".join(COLUMNS)
    dump = tmp_path / "retail.sql"
    dump.write_text(
        f"COPY public.retail ({columns}) FROM stdin;\n"
        + "\t".join(good) + "\n"
        + "\t".join(row(Quantity="two")) + "\n"
        + "\t".join(row(UnitPrice="£1")) + "\n"
        + "\\.\n"
    )  # fmt: skip
    assert_refused(
        warehouse.lgs("load", str(dump)),
        "data row 2 of table retail, column quantity: 'two'",
        "data row 3 of table retail, column unit_price: '£1'",
        lines=3,
    )


@pytest.mark.parametrize(
    "form",
    [
        "copy-data-only.sql",
        "copy-full.sql",
        "copy-full.sql.gz",
        "inserts.sql",
        "column-inserts.sql",
        "rows-per-insert.sql",
        "custom.dump",
    ],
)
def test_pg_dumps_give_the_rows_of_the_csv(
    warehouse: Warehouse, dumps: dict[str, Path], awkward_csv: Path, form: str
) -> None:
    rows = read_rows(awkward_csv)
    result = warehouse.load(dumps[form])
    expected_format = {"custom.dump": "pgdump-custom"}.get(
        form, "pgdump-copy" if form.startswith("copy") else "pgdump-insert"
    )
    assert result.file_format == expected_format
    assert result.rows_read == result.rows_loaded == len(rows) == 4006
    got = raw_rows(warehouse, result.load_id)
    assert got == expected_rows(rows)
    # the awkward texts byte for byte (tab, backslash, \N, line breaks, quotes, spaces)
    awkward = {r[1]: r[2] or None for r in AWKWARD_ROWS}
    assert {row[2]: row[3] for row in got[-len(AWKWARD_ROWS) :]} == awkward
    assert got[-3][8] is None  # an empty country is null
    # the dump keeps the file order, so the extracts are those of the CSV
    numbers = extract_numbers(r[4] for r in rows)
    assert extract_of_rows(warehouse, result.load_id) == numbers
    assert result.extract_rows == [numbers.count(1), numbers.count(2)]


def test_the_csv_of_the_dumps_loads_as_written(warehouse: Warehouse, awkward_csv: Path) -> None:
    result = warehouse.load(awkward_csv)
    assert raw_rows(warehouse, result.load_id) == expected_rows(read_rows(awkward_csv))


def test_quoting_survives_exactly(warehouse: Warehouse, tmp_path: Path) -> None:
    """Descriptions as written: commas, doubled quotes, leading and trailing spaces, a
    line break; an empty field (quoted or not) is null, spaces alone are kept. (A line
    of a description starting with SET must not make the file look like a SQL dump.)"""
    text = (
        ",".join(HEADER_II) + "\n"
        '1,A,"BOX, LARGE",1,2010-01-01 10:00:00,1.0,,UK\n'
        '1,B,"MUG ""I LOVE LONDON""",1,2010-01-01 10:00:00,1.0,,UK\n'
        '1,C,"  LEADING",1,2010-01-01 10:00:00,1.0,,UK\n'
        "1,D,TRAILING  ,1,2010-01-01 10:00:00,1.0,,UK\n"
        '1,E,"  BOTH, AND ""QUOTES""  ",1,2010-01-01 10:00:00,1.0,,UK\n'
        "1,F,,1,2010-01-01 10:00:00,1.0,,UK\n"
        '1,G,"",1,2010-01-01 10:00:00,1.0,"",UK\n'
        '1,H,"   ",1,2010-01-01 10:00:00,1.0,,UK\n'
        '1,I,"GIFT BOX\nSET OF 3 TINS",1,2010-01-01 10:00:00,1.0,,UK\n'  # a line like SQL
        "1,J,?,1,2010-01-01 10:00:00,1.0,,UK\n"
    )
    path = tmp_path / "quoting.csv"
    path.write_text(text, encoding="utf-8")
    result = warehouse.load(path)
    got = fetch(
        warehouse,
        "select stock_code, description, customer_id from raw.invoice_lines "
        f"where load_id = {result.load_id} order by source_row",
    )
    assert got == [
        ("A", "BOX, LARGE", None),
        ("B", 'MUG "I LOVE LONDON"', None),
        ("C", "  LEADING", None),
        ("D", "TRAILING  ", None),
        ("E", '  BOTH, AND "QUOTES"  ', None),
        ("F", None, None),
        ("G", None, None),
        ("H", "   ", None),
        ("I", "GIFT BOX\nSET OF 3 TINS", None),
        ("J", "?", None),
    ]


def test_folders_and_files_named_with_quotes(
    warehouse: Warehouse, small_rows: list[list[str]], tmp_path: Path
) -> None:
    """A single quote in the input's folder and name and in the state folder (where the
    loader writes its scratch files) is data, not SQL."""
    folder = tmp_path / "it's data"
    folder.mkdir()
    path = write_csv(folder / "o'brien.csv", small_rows[:50])
    state = tmp_path / "o'brien's state"
    with environment({"LGS_STATE_DIR": str(state)}):
        result = warehouse.load(path)
    assert (result.status, result.rows_loaded) == ("loaded", 50)
    assert raw_rows(warehouse, result.load_id) == expected_rows(small_rows[:50])
    assert fetch(warehouse, "select distinct source_file from raw.invoice_lines") == [
        ("o'brien.csv",)
    ]
    assert fetch(warehouse, "select file_path from raw.loads") == [(str(path),)]
    assert list((state / "tmp").iterdir()) == []  # the scratch folder was removed


# --- reloads ------------------------------------------------------------------------------


def test_same_file_again_is_a_no_op_and_replace_reloads_it(
    warehouse: Warehouse, small_data: GeneratedData, tmp_path: Path
) -> None:
    path = small_data.path
    first = warehouse.load(path)
    assert first.load_id == 1
    before = fingerprint(warehouse)
    again = warehouse.lgs("load", str(path))
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout and "load 1" in again.stdout
    assert fingerprint(warehouse) == before
    # the same content under another name is the same file
    copy = tmp_path / "renamed_copy.csv"
    copy.write_bytes(path.read_bytes())
    assert warehouse.load(copy).status == "unchanged"
    assert fingerprint(warehouse) == before

    replaced = warehouse.lgs("load", str(path), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "load 2" in replaced.stdout and "replaces the earlier load" in replaced.stdout
    loads = fetch(
        warehouse,
        "select load_id, status, replaced_by_load_id, rows_loaded from raw.loads order by 1",
    )
    assert loads == [(1, "replaced", 2, 4000), (2, "loaded", None, 4000)]
    lines = fetch(warehouse, "select load_id, count(*) from raw.invoice_lines group by load_id")
    assert lines == [(2, 4000)]
    if warehouse.target == "dev":  # the old load's partition is gone, the new one attached
        parts = fetch(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name like 'invoice_lines_load_%'",
        )
        assert parts == [("invoice_lines_load_2",)]
    # and the replacement is itself a no-op when loaded once more
    assert warehouse.load(path).status == "unchanged"


# --- refusals -----------------------------------------------------------------------------

GOOD = [
    "489434,85048,15CM CHRISTMAS GLASS BALL,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom",
    "489435,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:46:00,6.75,,France",
    '489436,79323W,"A, B ""C""",3,2009-12-01 08:00:00,1.5,12.0,Spain',
]  # fmt: skip
HEAD = ",".join(HEADER_II)


def _text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _with_row2(old: str, new: str) -> bytes:
    return _text(HEAD, GOOD[0], GOOD[1].replace(old, new, 1), GOOD[2])


def _gz_truncated() -> bytes:
    data = gzip.compress(_text(HEAD, *(GOOD * 3000)), mtime=0)
    return data[: len(data) // 2]


def _xlsx_wrong_header(path: Path) -> bytes:
    rows = [next(csv.reader([g])) for g in GOOD]
    header = [*HEADER_II[:5], "Cost", *HEADER_II[6:]]
    write_xlsx(path, {SHEETS[0]: (HEADER_II, rows), SHEETS[1]: (header, rows)})
    return path.read_bytes()


SQL_WITHOUT_RETAIL = b"""--
-- PostgreSQL database dump
--
SET client_encoding = 'UTF8';
CREATE TABLE public.orders (id integer, amount numeric);
COPY public.orders (id, amount) FROM stdin;
1\t2.50
\\.
"""

# name -> (file bytes, or a function of a scratch path giving them; fragments of the
# message; lines of the message)
BAD_INPUTS: dict[str, tuple[bytes | Callable[[Path], bytes], list[str], int]] = {
    "missing-column": (
        _text(HEAD.replace(",Country", ""), *(g.rsplit(",", 1)[0] for g in GOOD)),
        ["line 1: missing column(s) Country", "expected the header Invoice,StockCode"],
        1,
    ),
    "unknown-column": (
        _text(HEAD + ",Discount", *(g + ",0" for g in GOOD)),
        ["line 1: unknown column(s) Discount", "expected the header Invoice,StockCode"],
        1,
    ),
    "semicolons": (
        _text(*(line.replace(",", ";") for line in [HEAD, GOOD[0], GOOD[1]])),
        ["line 1: the columns are separated by semicolons; expected commas"],
        1,
    ),
    "tabs": (
        _text(*(line.replace(",", "\t") for line in [HEAD, GOOD[0], GOOD[1]])),
        ["line 1: the columns are separated by tabs; expected commas"],
        1,
    ),
    "bad-quantity": (
        _with_row2(",12,", ",twelve,"),
        ["line 3 (data row 2), column Quantity: 'twelve'; expected a whole number"],
        2,
    ),
    "bad-price": (
        _with_row2(",6.75,", ",£6.75,"),
        ["line 3 (data row 2), column Price: '£6.75'; expected a decimal price such as 2.55"],
        2,
    ),
    "bad-date": (
        _with_row2("2009-12-01 07:46:00", "01/12/2009 07:46"),
        ["line 3 (data row 2), column InvoiceDate: '01/12/2009 07:46'; expected a date"],
        2,
    ),
    "impossible-date": (
        _with_row2("2009-12-01 07:46:00", "2009-02-30 07:46:00"),
        ["line 3 (data row 2), column InvoiceDate: '2009-02-30 07:46:00'; expected a date"],
        2,
    ),
    "year-zero": (  # DuckDB reads it, PostgreSQL does not: refused on both, by name
        _with_row2("2009-12-01 07:46:00", "0000-12-01 07:46:00"),
        ["line 3 (data row 2), column InvoiceDate: '0000-12-01 07:46:00'"],
        2,
    ),
    "nul-in-text-late": (  # past the sniffed head; PostgreSQL text cannot hold it
        _text(HEAD, *(GOOD * 30_000), GOOD[1].replace("PINK", "PI\x00NK")),
        ["line 90002 (data row 90001), column Description: 'PI\\x00NK CHERRY LIGHTS'", "NUL"],
        2,
    ),
    "too-many-fields": (
        _with_row2(",France", ",France,extra"),
        ["line 3: 9 field(s) where 8 are expected"],
        1,
    ),
    "too-few-fields": (
        _with_row2(",,France", ",France"),
        ["line 3: 7 field(s) where 8 are expected"],
        1,
    ),
    "unclosed-quote": (
        _with_row2("PINK CHERRY LIGHTS", '"PINK CHERRY LIGHTS'),
        ["line 3: a double-quoted field is never closed"],
        1,
    ),
    "empty-file": (b"", ["the file is empty (0 bytes)"], 1),
    "header-only": (_text(HEAD), ["has the header of an invoice file but no data rows"], 1),
    "truncated-gzip": (_gz_truncated(), ["the gzip stream ends before", "truncated"], 1),
    "latin-1": (
        _text(HEAD, GOOD[0])
        + "489437,1,CAFÉ MUG,1,2009-12-01 09:00:00,1.0,,France\n".encode("latin-1"),
        ["line 3: byte 0xc9 is not valid UTF-8; expected a UTF-8 file"],
        1,
    ),
    "utf-16": (
        _text(HEAD, *GOOD).decode().encode("utf-16"),
        ["the file is UTF-16 encoded; expected UTF-8"],
        1,
    ),
    "png": (png_bytes(), ["not a recognised invoice file (it holds binary data)"], 1),
    "random-bytes": (
        b"\x00\x01" + random.Random(5).randbytes(4096),
        ["not a recognised invoice file (it holds binary data)"],
        1,
    ),
    "text-file": (
        b"Dear customer,\nyour order has shipped.\n",
        ["not a recognised invoice file: line 1 is 'Dear customer,'", "expected a CSV"],
        1,
    ),
    "xlsx-wrong-header": (
        _xlsx_wrong_header,
        [f"sheet '{SHEETS[1]}', row 1", "'Cost'", "is not an invoice header"],
        1,
    ),
    "sql-without-retail": (
        SQL_WITHOUT_RETAIL,
        ["a SQL file without data for a table retail"],
        1,
    ),
}


@pytest.fixture(scope="module", params=["dev", "duckdb"])
def refusing(
    request: pytest.FixtureRequest, base_dir: Path, small_data: GeneratedData
) -> tuple[Warehouse, Warehouse]:
    """Two warehouses shared by the refusal cases of one target: one with empty raw tables,
    one holding a good load. A refused file changes neither (each case checks it)."""
    target = str(request.param)
    if target == "dev":
        request.getfixturevalue("pg_server")
    empty = Warehouse.fresh(target, "refusals_empty", base_dir)
    ensure_raw(empty)
    loaded = Warehouse.fresh(target, "refusals_loaded", base_dir)
    assert loaded.load(small_data.path).rows_loaded == small_data.rows
    return empty, loaded


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_changes_nothing(
    refusing: tuple[Warehouse, Warehouse], small_data: GeneratedData, tmp_path: Path, case: str
) -> None:
    content, fragments, lines = BAD_INPUTS[case]
    path = tmp_path / "input.csv"  # the same name for every case: content decides
    path.write_bytes(content(tmp_path / "scratch.xlsx") if callable(content) else content)
    empty, loaded = refusing
    # on empty raw tables, in-process: the error names the file
    before = fingerprint(empty)
    assert before["lines"][0][0] == 0 and len(before["tables"]) >= 3
    with pytest.raises(InputError) as error:
        empty.load(path)
    assert str(path) in str(error.value)
    assert fingerprint(empty) == before
    # on raw tables holding a good load, through the command line
    before = fingerprint(loaded)
    assert before["lines"][0][0] == small_data.rows and len(before["loads"]) == 1
    result = loaded.lgs("load", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert_refused(result, f"lgs: error: {path}: ", *fragments, lines=lines)
    if case == "truncated-gzip":  # named after the last line it holds, not "line 0"
        holds = re.search(r"after line (\d+):", result.stderr)
        assert holds and int(holds.group(1)) > 1000, result.stderr
    assert fingerprint(loaded) == before


def test_truncated_custom_dump_and_dump_without_rows(
    warehouse: Warehouse, dumps: dict[str, Path], tmp_path: Path
) -> None:
    ensure_raw(warehouse)
    before = fingerprint(warehouse)
    data = dumps["custom.dump"].read_bytes()
    cut = tmp_path / "cut.dump"
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = warehouse.lgs("load", str(cut))
    assert_refused(result, "pg_restore cannot read this custom-format dump")
    text = dumps["copy-data-only.sql"].read_text()
    head, _, tail = text.partition("FROM stdin;\n")
    unended = tmp_path / "unended.sql"
    unended.write_text(head + "FROM stdin;\n" + tail.split("\\.\n")[0][:5000].rsplit("\n", 1)[0])
    assert_refused(warehouse.lgs("load", str(unended)), "has no end marker", "truncated dump")
    assert fingerprint(warehouse) == before


# --- bad rows in a good file --------------------------------------------------------------


def _with_bad_rows(rows: list[list[str]], bad: dict[int, tuple[int, str]]) -> list[list[str]]:
    out = [list(r) for r in rows]
    for index, (column, value) in bad.items():
        out[index][column] = value
    return out


def test_bad_rows_refused_by_default_or_kept_aside_with_max_rejects(
    warehouse: Warehouse, small_rows: list[list[str]], tmp_path: Path
) -> None:
    bad = {10: (3, "ten"), 20: (5, "1,5"), 30: (4, "2010-02-30 10:00:00")}
    path = write_csv(tmp_path / "three_bad.csv", _with_bad_rows(small_rows, bad))
    ensure_raw(warehouse)
    before = fingerprint(warehouse)
    listed = [
        "line 12 (data row 11), column Quantity: 'ten'; expected a whole number",
        "line 22 (data row 21), column Price: '1,5'; expected a decimal price",
        "line 32 (data row 31), column InvoiceDate: '2010-02-30 10:00:00'; expected a date",
    ]
    refused = warehouse.lgs("load", str(path))
    assert_refused(refused, "3 row(s) cannot be read; nothing was loaded", *listed, lines=4)
    assert fingerprint(warehouse) == before
    too_few = warehouse.lgs("load", str(path), "--max-rejects", "2")
    assert_refused(too_few, "3 row(s) cannot be read; --max-rejects allows 2", *listed, lines=4)
    assert fingerprint(warehouse) == before

    accepted = warehouse.lgs("load", str(path), "--max-rejects", "3")
    assert accepted.returncode == 0, accepted.stderr
    assert "3,997 of 4,000 rows loaded" in accepted.stdout
    assert "3 bad row(s) kept in raw.rejected_lines" in accepted.stdout
    assert fetch(
        warehouse, "select load_id, rows_read, rows_loaded, rows_rejected, status from raw.loads"
    ) == [(1, 4000, 3997, 3, "loaded")]
    rejected = fetch(
        warehouse,
        "select load_id, source_row, column_name, value, expected, invoice_no, quantity, "
        "invoice_date, unit_price from raw.rejected_lines order by source_row",
    )
    r = small_rows
    assert rejected == [
        (1, 11, "quantity", "ten", "a whole number such as 12 or -3", r[10][0], "ten",
         r[10][4], r[10][5]),
        (1, 21, "unit_price", "1,5", "a decimal price such as 2.55 (at most 4 decimals)",
         r[20][0], r[20][3], r[20][4], "1,5"),
        (1, 31, "invoice_date", "2010-02-30 10:00:00", "a date and time as YYYY-MM-DD HH:MM:SS",
         r[30][0], r[30][3], "2010-02-30 10:00:00", r[30][5]),
    ]  # fmt: skip
    kept = fetch(warehouse, "select source_row from raw.invoice_lines order by source_row")
    assert [k[0] for k in kept] == [n for n in range(1, 4001) if n not in (11, 21, 31)]
    good = [row for i, row in enumerate(expected_rows(small_rows)) if i not in bad]
    assert raw_rows(warehouse, 1) == good


def test_many_bad_rows_are_summarised(
    warehouse: Warehouse, small_rows: list[list[str]], tmp_path: Path
) -> None:
    bad = {i: (3, f"{i}x") for i in range(100, 107)}
    path = write_csv(tmp_path / "seven_bad.csv", _with_bad_rows(small_rows, bad))
    result = warehouse.lgs("load", str(path), "--max-rejects", "6")
    assert_refused(
        result, "7 row(s) cannot be read; --max-rejects allows 6", "... and 2 more", lines=7
    )
    assert "'104x'" in result.stderr and "'105x'" not in result.stderr
    # every row bad: refused whatever the allowance
    everything = write_csv(
        tmp_path / "all_bad.csv", [[*small_rows[0][:3], "x", *small_rows[0][4:]]]
    )
    assert_refused(warehouse.lgs("load", str(everything), "--max-rejects", "5"), lines=2)


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

    def broken_analyze(self: Any) -> None:
        raise psycopg2.OperationalError("simulated failure of analyze")

    monkeypatch.setattr(load_module._PostgresTarget, "analyze", broken_analyze)
    result = wh.load(small_data.path)
    assert (result.status, result.rows_loaded) == ("loaded", small_data.rows)
    assert fetch(wh, "select count(*) from raw.invoice_lines") == [(small_data.rows,)]


def test_missing_file_and_folder(warehouse: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        warehouse.load(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a folder; give a file"):
        warehouse.load(tmp_path)
    assert_refused(warehouse.lgs("load", str(tmp_path / "absent.csv")), "no such file")


def test_a_failure_after_the_rows_were_written_changes_nothing(
    warehouse: Warehouse,
    small_data: GeneratedData,
    awkward_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warehouse.load(small_data.path)
    before = fingerprint(warehouse)
    written: list[int] = []
    type_of_target: dict[str, Any] = {
        "dev": load_module._PostgresTarget,
        "duckdb": load_module._DuckDBTarget,
    }
    insert_lines = type_of_target[warehouse.target].insert_lines

    def counting_insert(self: Any, *args: Any) -> None:
        insert_lines(self, *args)
        self.execute("select count(*) from raw.invoice_lines")
        written.append(int(self.cur.fetchone()[0]))

    def broken_result(*args: Any, **kwargs: Any) -> LoadResult:
        raise RuntimeError("simulated failure at the very end of the load")

    monkeypatch.setattr(type_of_target[warehouse.target], "insert_lines", counting_insert)
    monkeypatch.setattr(load_module, "LoadResult", broken_result)
    with pytest.raises(RuntimeError, match="simulated failure"):
        warehouse.load(awkward_csv)
    assert written == [4000 + 4006], "the rows were written inside the transaction"
    assert fingerprint(warehouse) == before
    monkeypatch.undo()

    # the same for the insert into raw.loads, the last statement of the transaction
    execute = load_module._Target.execute

    def failing_execute(self: Any, sql: str, params: Any = ()) -> None:
        if sql.startswith("insert into raw.loads"):
            raise RuntimeError("simulated failure writing raw.loads")
        execute(self, sql, params)

    monkeypatch.setattr(load_module._Target, "execute", failing_execute)
    with pytest.raises(RuntimeError, match="simulated failure writing raw"):
        warehouse.load(awkward_csv)
    assert fingerprint(warehouse) == before
    monkeypatch.undo()
    assert warehouse.load(awkward_csv).load_id == 2


def _write_phase_started(wh: Warehouse, db_size: int) -> Callable[[], bool]:
    """True once the load writes its rows: PostgreSQL shows the COPY into the load's
    partition; DuckDB's file grows (it writes large inserts before the commit)."""
    if wh.target == "duckdb":
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
        [sys.executable, "-m", "lgs.cli", "load", str(path), "--target", wh.target],
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
        if warehouse.target == "dev"
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


# --- extracts -----------------------------------------------------------------------------


def test_extracts_follow_the_running_maximum_of_the_current_extract(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    dates = [
        "2010-01-10 10:00:00",
        "2010-01-11 12:00:00",  # running maximum of extract 1
        "2010-01-11 11:00:00",  # an hour back: same extract
        "2010-01-10 13:00:00",  # 23 h below the maximum: same extract
        "2010-01-10 11:30:00",  # 24.5 h below the maximum (1.5 h below the row before): new
        "2010-01-10 11:45:00",  # 24.25 h below extract 1's maximum: extract 2 restarted it
        "2010-01-09 09:00:00",  # more than a day below extract 2's maximum: a third extract
        "2010-01-09 10:00:00",
        "2010-01-08 10:00:00",  # exactly one day below: not more than one day, same extract
    ]
    rows = [[f"{500000 + i}", "85048", "X", "1", d, "1.0", "", "UK"] for i, d in enumerate(dates)]
    expected = [1, 1, 1, 1, 2, 2, 3, 3, 3]
    assert extract_numbers(dates) == expected
    result = warehouse.load(write_csv(tmp_path / "extracts.csv", rows))
    assert extract_of_rows(warehouse, result.load_id) == expected
    assert result.extract_rows == [4, 2, 3]
    assert fetch(warehouse, "select extracts from raw.loads") == [(3,)]


# --- the real files -----------------------------------------------------------------------


def _file_lines(path: Path, wanted: set[int]) -> dict[int, list[str]]:
    """Lines `wanted` (1-based, header = 1) of a gzipped CSV, parsed."""
    found: dict[int, list[str]] = {}
    last = max(wanted)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number in wanted:
                found[number] = next(csv.reader([line]))
            if number >= last:
                break
    return found


def _check_real_lines(wh: Warehouse, path: Path, load_id: int, source_rows: list[int]) -> None:
    lines = _file_lines(path, {n + 1 for n in source_rows})
    got = {
        int(r[0]): r[1:]
        for r in fetch(
            wh,
            "select source_row, invoice_no, stock_code, description, cast(quantity as varchar), "
            "customer_id, country from raw.invoice_lines where load_id = "
            f"{int(load_id)} and source_row in ({', '.join(map(str, source_rows))})",
        )
    }
    for n in source_rows:
        line = lines[n + 1]
        assert got[n] == (line[0], line[1], line[2] or None, line[3], line[6] or None, line[7]), n


@pytest.mark.real
@pytest.mark.slow
def test_real_ii_file(warehouse: Warehouse, real_ii: Path) -> None:
    started = time.perf_counter()
    result = warehouse.load(real_ii)
    seconds = time.perf_counter() - started
    print(f"\nload of {real_ii.name} into {warehouse.target}: {seconds:.2f} s")
    assert result.rows_read == result.rows_loaded == 1_067_370
    assert result.extract_rows == [525_461, 541_909]
    overlap = fetch(
        warehouse,
        "select extract_no, count(*) from raw.invoice_lines where invoice_date >= "
        "'2010-12-01' and invoice_date < '2010-12-10' group by 1 order by 1",
    )
    assert overlap == [(1, 22_523), (2, 22_523)]
    (log,) = fetch(
        warehouse,
        "select file_sha256, file_format, extracts, rows_read, rows_loaded, rows_rejected, "
        "status from raw.loads",
    )
    assert log == (REAL_II_SHA256, "csv-ii", 2, 1_067_370, 1_067_370, 0, "loaded")
    facts = fetch(
        warehouse,
        "select count(*) filter (where description is null), "
        "count(*) filter (where customer_id is null), count(distinct country), "
        "count(*) filter (where invoice_no like 'C%') from raw.invoice_lines",
    )
    assert facts == [(4_382, 243_007, 43, 19_494)]
    _check_real_lines(warehouse, real_ii, result.load_id, [1, 3, 525_461, 525_462, 1_067_370])


@pytest.mark.real
@pytest.mark.slow
def test_real_older_file(warehouse: Warehouse, real_i: Path) -> None:
    started = time.perf_counter()
    result = warehouse.load(real_i)
    seconds = time.perf_counter() - started
    print(f"\nload of {real_i.name} into {warehouse.target}: {seconds:.2f} s")
    assert (result.file_format, result.rows_loaded, result.extract_rows) == (
        "csv-i",
        541_909,
        [541_909],
    )
    assert fetch(warehouse, "select file_sha256 from raw.loads") == [(REAL_I_SHA256,)]
    _check_real_lines(warehouse, real_i, result.load_id, [1, 2, 270_000, 541_909])
