"""What the loader's tests share (test_load_formats, test_load_refusals,
test_load_atomicity): helpers that read the raw layer and write input files, and the
input files themselves as session fixtures (conftest.py registers this module as a
pytest plugin).

Every input is built at test time in a temporary folder: small CSV texts, workbooks
written with openpyxl from the rows of the generated `small_data` file, and PostgreSQL
dumps written by the real `pg_dump` of the embedded server from a scratch database.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import subprocess
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from tests_support import GeneratedData, Warehouse

from lgs import embedded, targets
from lgs.load import ensure_raw_schema

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

BIG_ROWS = 300_000


# --- helpers ------------------------------------------------------------------------------


def fetch(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query as plain Python values (no pandas conversions)."""
    with wh.active(), wh.target.connection() as conn:
        if wh.target.kind == "duckdb":
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


# --- the input files ----------------------------------------------------------------------


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
    conf = targets.get("dev").settings()
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
