"""`lgs load`, accepted inputs: every format gives the rows the file holds, exactly, with
their provenance, extracts and load log; the same file again is a no-op, `--replace`
reloads it. Each test runs on both targets (`dev`, the embedded PostgreSQL, and
`duckdb`), in a fresh empty warehouse. The real UCI files are used when present
(`-m real`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from load_support import (
    AWKWARD_ROWS,
    HEADER_I,
    HEADER_II,
    SHEETS,
    assert_refused,
    expected_rows,
    extract_numbers,
    extract_of_rows,
    fetch,
    fingerprint,
    raw_rows,
    read_rows,
    write_csv,
    write_xlsx,
)
from tests_support import GeneratedData, Warehouse, environment

from lgs.errors import InputError
from lgs.load import LoadResult
from lgs.sources import COLUMNS

REAL_II_SHA256 = "447fff51885130f574a2346b1a6887c3b4eb433af0448e8470da998e11887786"
REAL_I_SHA256 = "c985c71915d76541fb070383e71354eacbfc07bede8d5de61d89873b9187a4eb"


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
    # the scratch folder moves; the server is still reached through its socket
    host = {"LGS_PG_HOST": warehouse.target.settings().host} if warehouse.target.managed else {}
    with environment({"LGS_STATE_DIR": str(state), **host}):
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
    if warehouse.target.kind == "postgres":  # the old load's partition is emptied, not
        # dropped (a drop would stop every reader of raw until the commit)
        parts = fetch(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name like 'invoice_lines_load_%' order by 1",
        )
        assert parts == [("invoice_lines_load_1",), ("invoice_lines_load_2",)]
        assert fetch(warehouse, "select count(*) from raw.invoice_lines_load_1") == [(0,)]
    # and the replacement is itself a no-op when loaded once more
    assert warehouse.load(path).status == "unchanged"


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


def _timed_load(wh: Warehouse, path: Path) -> LoadResult:
    """Load a real file, printing how long it took (measured by `make bench`, not here)."""
    started = time.perf_counter()
    result = wh.load(path)
    print(f"\nload of {path.name} into {wh.target}: {time.perf_counter() - started:.2f} s")
    return result


@pytest.mark.real
@pytest.mark.slow
def test_real_ii_file(warehouse: Warehouse, real_ii: Path) -> None:
    result = _timed_load(warehouse, real_ii)
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
    result = _timed_load(warehouse, real_i)
    assert (result.file_format, result.rows_loaded, result.extract_rows) == (
        "csv-i",
        541_909,
        [541_909],
    )
    assert fetch(warehouse, "select file_sha256 from raw.loads") == [(REAL_I_SHA256,)]
    _check_real_lines(warehouse, real_i, result.load_id, [1, 2, 270_000, 541_909])
