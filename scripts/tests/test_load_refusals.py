"""`lgs load`, refusals: a bad file is refused with one clear message (file, line, column,
value, what was expected) and a non-zero exit, and changes nothing; a few bad rows in a
good file refuse it too, unless `--max-rejects` allows them.

Refusals are checked through the command line (exit code, one clear message, no Python
traceback) and by a fingerprint of the raw tables taken before and after, also when
they already hold a load. Each bad input is a fixture case, built at test time.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import random
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from load_support import (
    HEADER_II,
    SHEETS,
    assert_refused,
    ensure_raw,
    expected_rows,
    fetch,
    fingerprint,
    raw_rows,
    write_csv,
    write_xlsx,
)
from tests_support import GeneratedData, Warehouse

from lgs import targets
from lgs.errors import InputError
from lgs.sources import detect


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


# --- refusals -----------------------------------------------------------------------------

GOOD = [
    "489434,85048,15CM CHRISTMAS GLASS BALL,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom",
    "489435,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:46:00,6.75,,France",
    '489436,79323W,"A, B ""C""",3,2009-12-01 08:00:00,1.5,12.0,Spain',
]  # fmt: skip
HEAD = ",".join(HEADER_II)
# the last day a line may be dated by default (lgs.settings.invoice_date_window)
TOMORROW = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


def _text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _with_row2(old: str, new: str) -> bytes:
    return _text(HEAD, GOOD[0], GOOD[1].replace(old, new, 1), GOOD[2])


def _gzip_bomb() -> bytes:
    """About 1 MiB of gzip that decompresses to 300 MiB of one valid line repeated."""
    line = (GOOD[0] + "\n").encode()
    block = line * ((1 << 20) // len(line))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
        packed.write(_text(HEAD))
        for _ in range(300):
            packed.write(block)
    return out.getvalue()


def _gz_truncated() -> bytes:
    data = gzip.compress(_text(HEAD, *(GOOD * 3000)), mtime=0)
    return data[: len(data) // 2]


def _xlsx_wrong_header(folder: Path) -> bytes:
    rows = [next(csv.reader([g])) for g in GOOD]
    header = [*HEADER_II[:5], "Cost", *HEADER_II[6:]]
    path = folder / "scratch.xlsx"
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


@dataclass(frozen=True)
class BadInput:
    """One bad file: its bytes (a function of a scratch folder, called by the `bad_input`
    fixture when the case runs), fragments of the message, and its lines."""

    content: Callable[[Path], bytes]
    fragments: list[str]
    lines: int


BAD_INPUTS: dict[str, BadInput] = {
    "missing-column": BadInput(
        lambda _: _text(HEAD.replace(",Country", ""), *(g.rsplit(",", 1)[0] for g in GOOD)),
        ["line 1: missing column(s) Country", "expected the header Invoice,StockCode"],
        1,
    ),
    "unknown-column": BadInput(
        lambda _: _text(HEAD + ",Discount", *(g + ",0" for g in GOOD)),
        ["line 1: unknown column(s) Discount", "expected the header Invoice,StockCode"],
        1,
    ),
    "semicolons": BadInput(
        lambda _: _text(*(line.replace(",", ";") for line in [HEAD, GOOD[0], GOOD[1]])),
        ["line 1: the columns are separated by semicolons; expected commas"],
        1,
    ),
    "tabs": BadInput(
        lambda _: _text(*(line.replace(",", "\t") for line in [HEAD, GOOD[0], GOOD[1]])),
        ["line 1: the columns are separated by tabs; expected commas"],
        1,
    ),
    "bad-quantity": BadInput(
        lambda _: _with_row2(",12,", ",twelve,"),
        ["line 3 (data row 2), column Quantity: 'twelve'; expected a whole number"],
        2,
    ),
    "bad-price": BadInput(
        lambda _: _with_row2(",6.75,", ",£6.75,"),
        ["line 3 (data row 2), column Price: '£6.75'; expected a decimal price such as 2.55"],
        2,
    ),
    "bad-date": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", "01/12/2009 07:46"),
        ["line 3 (data row 2), column InvoiceDate: '01/12/2009 07:46'; expected a date"],
        2,
    ),
    "impossible-date": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", "2009-02-30 07:46:00"),
        ["line 3 (data row 2), column InvoiceDate: '2009-02-30 07:46:00'; expected a date"],
        2,
    ),
    "year-zero": BadInput(  # DuckDB reads it, PostgreSQL does not: refused on both, by name
        lambda _: _with_row2("2009-12-01 07:46:00", "0000-12-01 07:46:00"),
        ["line 3 (data row 2), column InvoiceDate: '0000-12-01 07:46:00'"],
        2,
    ),
    # implausible dates: one such line once made bogus extracts, a "complete" final month
    # in 2099 and recencies of 32,000 days, and every test passed
    "date-1970": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", "1970-01-01 00:00:00"),
        [
            "line 3 (data row 2), column InvoiceDate: '1970-01-01 00:00:00'; expected a date "
            f"and time as YYYY-MM-DD HH:MM:SS, from 2000-01-01 to {TOMORROW}"
        ],
        2,
    ),
    "date-2099": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", "2099-12-01 07:46:00"),
        [
            f"column InvoiceDate: '2099-12-01 07:46:00'; expected a date and time as YYYY-MM-DD "
            f"HH:MM:SS, from 2000-01-01 to {TOMORROW}"
        ],
        2,
    ),
    "date-the-day-after-tomorrow": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", f"{TOMORROW + dt.timedelta(days=1)} 00:00:00"),
        [f"column InvoiceDate: '{TOMORROW + dt.timedelta(days=1)} 00:00:00'"],
        2,
    ),
    "date-the-last-minute-before-2000": BadInput(
        lambda _: _with_row2("2009-12-01 07:46:00", "1999-12-31 23:59:00"),
        ["column InvoiceDate: '1999-12-31 23:59:00'; expected a date and time"],
        2,
    ),
    # bounded work: once a 1 MB gzip of newlines held a load (and its lock) for minutes
    "blank-lines-gzip": BadInput(
        lambda _: gzip.compress(_text(HEAD, GOOD[0]) + b"\n" * (64 << 20), mtime=0),
        ["after line 2: more than 1,000 blank lines in a row; an invoice file has none"],
        1,
    ),
    "blank-lines-late": BadInput(
        lambda _: _text(HEAD, *(GOOD * 1000)) + b"\r\n" * 1002 + _text(GOOD[0]),
        ["after line 3001: more than 1,000 blank lines in a row"],
        1,
    ),
    "gzip-bomb": BadInput(
        lambda _: _gzip_bomb(),
        [
            "decompresses to more than 100 times its size (over 256 MiB from ",
            "refused as a possible gzip bomb",
        ],
        1,
    ),
    "nul-in-text-late": BadInput(  # past the sniffed head; PostgreSQL text cannot hold it
        lambda _: _text(HEAD, *(GOOD * 30_000), GOOD[1].replace("PINK", "PI\x00NK")),
        ["line 90002 (data row 90001), column Description: 'PI\\x00NK CHERRY LIGHTS'", "NUL"],
        2,
    ),
    "too-many-fields": BadInput(
        lambda _: _with_row2(",France", ",France,extra"),
        ["line 3: 9 field(s) where 8 are expected"],
        1,
    ),
    "too-few-fields": BadInput(
        lambda _: _with_row2(",,France", ",France"),
        ["line 3: 7 field(s) where 8 are expected"],
        1,
    ),
    "unclosed-quote": BadInput(
        lambda _: _with_row2("PINK CHERRY LIGHTS", '"PINK CHERRY LIGHTS'),
        ["line 3: a double-quoted field is never closed"],
        1,
    ),
    "empty-file": BadInput(
        lambda _: b"",
        ["the file is empty (0 bytes)"],
        1,
    ),
    "header-only": BadInput(
        lambda _: _text(HEAD),
        ["has the header of an invoice file but no data rows"],
        1,
    ),
    "truncated-gzip": BadInput(
        lambda _: _gz_truncated(),
        ["the gzip stream ends before", "truncated"],
        1,
    ),
    "latin-1": BadInput(
        lambda _: (
            _text(HEAD, GOOD[0])
            + "489437,1,CAFÉ MUG,1,2009-12-01 09:00:00,1.0,,France\n".encode("latin-1")
        ),
        ["line 3: byte 0xc9 is not valid UTF-8; expected a UTF-8 file"],
        1,
    ),
    "utf-16": BadInput(
        lambda _: _text(HEAD, *GOOD).decode().encode("utf-16"),
        ["the file is UTF-16 encoded; expected UTF-8"],
        1,
    ),
    "png": BadInput(
        lambda _: png_bytes(),
        ["not a recognised invoice file (it holds binary data)"],
        1,
    ),
    "random-bytes": BadInput(
        lambda _: b"\x00\x01" + random.Random(5).randbytes(4096),
        ["not a recognised invoice file (it holds binary data)"],
        1,
    ),
    "text-file": BadInput(
        lambda _: b"Dear customer,\nyour order has shipped.\n",
        [
            "not a recognised invoice file: line 1 is not an invoice header (2 field(s), 0 of "
            "them an invoice column); expected a CSV"
        ],
        1,
    ),
    "xlsx-wrong-header": BadInput(
        _xlsx_wrong_header,
        [f"sheet '{SHEETS[1]}', row 1", "'Cost'", "is not an invoice header"],
        1,
    ),
    "sql-without-retail": BadInput(
        lambda _: SQL_WITHOUT_RETAIL,
        ["a SQL file without data for a table retail"],
        1,
    ),
}


@pytest.fixture(params=list(BAD_INPUTS))
def bad_input(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, BadInput]:
    """A bad file of its own for the case, named like any CSV (its content decides)."""
    case = BAD_INPUTS[request.param]
    path = tmp_path / "input.csv"
    path.write_bytes(case.content(tmp_path))
    return request.param, path, case


@pytest.fixture(scope="module", params=["dev", "duckdb"])
def refusing(
    request: pytest.FixtureRequest, base_dir: Path, small_data: GeneratedData
) -> tuple[Warehouse, Warehouse]:
    """Two warehouses shared by the refusal cases of one target: one with empty raw tables,
    one holding a good load. A refused file changes neither (each case checks it)."""
    target = targets.get(request.param)
    if target.managed:
        request.getfixturevalue("pg_server")
    empty = Warehouse.fresh(target, "refusals_empty", base_dir)
    ensure_raw(empty)
    loaded = Warehouse.fresh(target, "refusals_loaded", base_dir)
    assert loaded.load(small_data.path).rows_loaded == small_data.rows
    return empty, loaded


def test_bad_input_is_refused_and_changes_nothing(
    refusing: tuple[Warehouse, Warehouse],
    small_data: GeneratedData,
    bad_input: tuple[str, Path, BadInput],
) -> None:
    case, path, bad = bad_input
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
    assert_refused(result, f"lgs: error: {path}: ", *bad.fragments, lines=bad.lines)
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


# --- files that are not there ---------------------------------------------------------------


def test_missing_file_and_folder(warehouse: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        warehouse.load(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a folder; give a file"):
        warehouse.load(tmp_path)
    assert_refused(warehouse.lgs("load", str(tmp_path / "absent.csv")), "no such file")


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
        (1, 31, "invoice_date", "2010-02-30 10:00:00",
         f"a date and time as YYYY-MM-DD HH:MM:SS, from 2000-01-01 to {TOMORROW}",
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


def test_dates_at_the_edges_of_the_window_load(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first minute of 2000 and the last of tomorrow are plausible; the window moves
    with LGS_EARLIEST_INVOICE_DATE / LGS_LATEST_INVOICE_DATE."""
    path = tmp_path / "edges.csv"
    path.write_bytes(
        _text(
            HEAD,
            GOOD[0].replace("2009-12-01 07:45:00", "2000-01-01 00:00:00"),
            GOOD[1].replace("2009-12-01 07:46:00", f"{TOMORROW} 23:59:00"),
        )
    )
    loaded = warehouse.lgs("load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 of 2 rows loaded" in loaded.stdout
    narrow = tmp_path / "narrow.csv"
    narrow.write_bytes(_text(HEAD, GOOD[0]))
    monkeypatch.setenv("LGS_EARLIEST_INVOICE_DATE", "2010-01-01")
    refused = warehouse.lgs("load", str(narrow))
    assert_refused(
        refused,
        "line 2 (data row 1), column InvoiceDate: '2009-12-01 07:45:00'; expected a date and "
        f"time as YYYY-MM-DD HH:MM:SS, from 2010-01-01 to {TOMORROW}",
        lines=2,
    )
    monkeypatch.setenv("LGS_LATEST_INVOICE_DATE", "soon")
    wrong = warehouse.lgs("load", str(narrow))
    assert wrong.returncode != 0
    assert "LGS_LATEST_INVOICE_DATE='soon': expected a date as YYYY-MM-DD" in wrong.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "root:x:0:0:SECRET-7f3a:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/sh\n",
        "SECRET-7f3a\n",
        "token,SECRET-7f3a,Invoice\nmore,SECRET-7f3a\n",
    ],
)
def test_a_file_that_is_not_an_invoice_file_is_never_quoted(tmp_path: Path, secret: str) -> None:
    """A link to any readable file (say /etc/shadow) is refused without echoing a byte of
    it: the message describes the shape of line 1, not its text."""
    private = tmp_path / "private"
    private.write_text(secret, encoding="utf-8")
    link = tmp_path / "invoices.csv"
    link.symlink_to(private)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with pytest.raises(InputError) as refused:
        detect(link.resolve(), workdir)
    where, message = str(refused.value).split(": ", 1)
    assert where == str(private)
    assert message.startswith("not a recognised invoice file: line 1 is not an invoice header")
    assert "SECRET" not in message
    assert "root" not in message
