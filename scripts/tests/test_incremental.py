"""Incremental refresh: after a sequence of loads, each followed by an incremental
`dbt build`, every mart equals a full refresh (and the pandas oracle).

The sequence covers what daily loads bring: new days of invoices; a late cancellation
of an old order; lines dated in an old month (late-arriving data), one of them moving a
customer's first month earlier; an invoice re-delivered identically (overlapping
extracts) and one re-delivered with a changed line; a file loaded twice (a no-op);
an invoice re-delivered with its date in another month and another customer, which
leaves its old month and its old customer without invoices; a file loaded again with
--replace after a later file corrected one of its invoices (the correction stays).
"""

from __future__ import annotations

import csv
from pathlib import Path

import oracle
import pandas as pd
from tests_support import MART_KEYS, MARTS, Warehouse, assert_marts_match_oracle

from lgs.generate import generate
from lgs.sources import HEADER_II


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return list(reader)


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER_II)
        writer.writerows(rows)
    return path


def _late_file(base: Path, day: Path, out: Path, next_invoice: int) -> Path:
    """Hand-made late data, built from what was loaded before."""
    base_rows = _rows(base)
    day_rows = _rows(day)
    customer_orders = [
        r for r in base_rows if r[6] and not r[0].startswith(("C", "A")) and int(r[3]) > 0
    ]
    old = customer_orders[len(customer_orders) // 3]  # an old order of a known customer
    old_lines = [r for r in base_rows if r[0] == old[0]][:2]
    # the customer whose first line is the latest in the base file: give them a line
    # dated long before (late-arriving data) so that their first month moves earlier
    first_seen: dict[str, str] = {}
    for r in base_rows:
        if r[6] and (r[6] not in first_seen or r[4] < first_seen[r[6]]):
            first_seen[r[6]] = r[4]
    newcomer = max(first_seen, key=lambda c: first_seen[c])
    redelivered = day_rows[0][0]
    redelivered_lines = [list(r) for r in day_rows if r[0] == redelivered]
    redelivered_lines[0][3] = str(int(redelivered_lines[0][3]) + 5)  # a corrected quantity
    identical = next(r[0] for r in day_rows if r[0] != redelivered)
    rows: list[list[str]] = []
    # a late cancellation of the old order, dated today
    for line in old_lines:
        rows.append(
            [
                f"C{next_invoice}",
                line[1],
                line[2],
                str(-abs(int(line[3]))),
                "2011-12-03 11:00:00",
                line[5],
                line[6],
                line[7],
            ]
        )
    # late-arriving lines dated in an old month, for the newcomer
    rows.append(
        [
            str(next_invoice + 1),
            "85123A",
            "WHITE HANGING HEART T-LIGHT HOLDER",
            "6",
            "2010-03-15 10:00:00",
            "2.55",
            first_seen and newcomer,
            "United Kingdom",
        ]
    )
    rows.append(
        [
            str(next_invoice + 1),
            "22423",
            "REGENCY CAKESTAND 3 TIER",
            "1",
            "2010-03-15 10:00:00",
            "12.75",
            newcomer,
            "United Kingdom",
        ]
    )
    rows += redelivered_lines
    rows += [r for r in day_rows if r[0] == identical]
    # the only invoice of customer 77777, in a month of its own (2009-11: the data
    # starts in 2009-12); the next file moves it
    rows += _lone_invoice(next_invoice + 2, "2009-11-20 09:00:00", "77777.0")
    return _write(out, rows)


def _lone_invoice(invoice_no: int, invoiced_at: str, customer_id: str) -> list[list[str]]:
    lines = [
        ("21232", "STRAWBERRY CERAMIC TRINKET BOX", "12", "1.25"),
        ("POST", "POSTAGE", "1", "18.00"),
    ]
    return [
        [str(invoice_no), code, text, quantity, invoiced_at, price, customer_id, "France"]
        for code, text, quantity, price in lines
    ]


def _moved_file(out: Path, next_invoice: int) -> Path:
    """The late file's lone invoice again, dated today and for another customer."""
    return _write(out, _lone_invoice(next_invoice + 2, "2011-12-04 12:00:00", "88888.0"))


def _year_month(invoiced_at: str) -> int:
    return int(invoiced_at[:4]) * 100 + int(invoiced_at[5:7])


def _untouched_invoice(wh: Warehouse, later: list[Path]) -> tuple[str, int, int]:
    """An invoice of a known customer that no later file touches: not its invoice, not
    its month, not its customer."""
    rows = [r for path in later for r in _rows(path)]
    invoices = {r[0] for r in rows}
    months = {_year_month(r[4]) for r in rows}
    customers = {int(float(r[6])) for r in rows if r[6]}
    candidates = wh.query(
        "select invoice_no, year_month, customer_id from marts.invoices"
        " where customer_id is not null order by invoice_no"
    )
    for invoice_no, year_month, customer_id in candidates.itertuples(index=False):
        if (
            invoice_no not in invoices
            and int(year_month) not in months
            and int(customer_id) not in customers
        ):
            return str(invoice_no), int(year_month), int(customer_id)
    raise AssertionError("no invoice untouched by the later files")


_TAMPERED = (
    ("marts.invoices", "line_count", "invoice_no = '{invoice}'"),
    ("intermediate.int_months_aggregated", "total_orders", "year_month = {month}"),
    ("intermediate.int_customers_aggregated", "lifetime_invoices", "customer_id = {customer}"),
    (
        "intermediate.int_customer_months_aggregated",
        "invoices",
        "customer_id = {customer} and year_month = {month}",
    ),
    (
        "marts.customer_months",
        "invoices_in_month",
        "customer_id = {customer} and year_month = {month}",
    ),
)


def _tamper(wh: Warehouse, untouched: tuple[str, int, int], delta: int) -> list[int]:
    """Add `delta` to a figure of the untouched invoice, month and customer in the stored
    incremental state; return the figures after the change."""
    invoice, month, customer = untouched
    values = []
    for table, column, where in _TAMPERED:
        condition = where.format(invoice=invoice, month=month, customer=customer)
        if delta:
            wh.execute(f"update {table} set {column} = {column} + {delta} where {condition}")
        values.append(int(wh.scalar(f"select {column} from {table} where {condition}")))
    return values


def _snapshot(wh: Warehouse) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in (*MARTS, "data_quality"):
        keys = MART_KEYS[name]
        frame = wh.mart(name)
        frames[name] = frame.sort_values(keys).reset_index(drop=True)
    return frames


# the last step's tests check every load; vars only tests read, so the full refresh at the
# end reuses dbt's parse of that step
_EVERY_LOAD = {"line_tests_scope": "all"}


def test_incremental_loads_equal_a_full_refresh(warehouse: Warehouse, tmp_path: Path) -> None:
    base = generate(3_000, 11, tmp_path / "base.csv", end="2011-11-30 18:00")
    # two new days of 300 lines each, invoice numbers following on
    days = []
    for seed, day in ((12, "2011-12-01"), (13, "2011-12-02")):
        after = days[-1] if days else base
        days.append(
            generate(
                300,
                seed,
                tmp_path / f"day{len(days) + 1}.csv",
                start=day,
                end=f"{day} 18:00",
                extracts=1,
                first_invoice_no=after.last_invoice_no + 1,
            )
        )
    day1, day2 = days
    late = _late_file(base.path, day1.path, tmp_path / "late.csv", day2.last_invoice_no + 1)
    moved = _moved_file(tmp_path / "moved.csv", day2.last_invoice_no + 1)
    files = [base.path, day1.path, day2.path, late, moved]

    counts = []
    for file in files:
        if file == late:
            assert warehouse.load(day2.path).status == "unchanged"
            before = warehouse.mart("monthly_orders").set_index("year_month")
        warehouse.load(file)
        # the last step runs the tests too, on the incremental state (they compare the
        # incremental aggregates with a fresh aggregation of the invoices), every load
        if file == moved:
            warehouse.dbt("build", vars=_EVERY_LOAD)
        elif file == base.path:  # the seeds too, in the same dbt call
            warehouse.dbt("build", "--exclude-resource-type", "test", "unit_test")
        else:
            warehouse.dbt("run")
        counts.append(int(warehouse.scalar("select count(*) from marts.invoices")))
        if file == base.path:
            # mark an invoice, month and customer that no later file touches in the
            # stored state: a run that recomputed them (a rescan of history) would
            # wipe the marks
            untouched = _untouched_invoice(warehouse, files[1:])
            marked = _tamper(warehouse, untouched, 1000)
        if file == day1.path:
            assert _tamper(warehouse, untouched, 0) == marked, (
                "the incremental run recomputed an invoice, month or customer it did not touch"
            )
            _tamper(warehouse, untouched, -1000)
        if file == late:
            after = warehouse.mart("monthly_orders").set_index("year_month")
            assert 200911 in after.index
            assert 77777 in set(warehouse.mart("customers")["customer_id"])
            lone = warehouse.query(
                "select cohort_year_month, is_active from marts.customer_months"
                " where customer_id = 77777 and year_month = 200911"
            )
            assert lone.values.tolist() == [[200911, True]], "a cohort of its own, 2009-11"
    assert counts == sorted(counts) and counts[0] < counts[-1], counts
    assert counts[-1] == counts[-2], "the moved invoice is replaced, not added"

    # what the late file changed, incrementally: its one invoice dated 2010-03 in that
    # month, its cancellation (of an old order, dated 2011-12-03) in 2011-12
    def orders(frame: pd.DataFrame, month: int, column: str) -> int:
        return int(frame.loc[month, column]) if month in frame.index else 0

    assert orders(after, 201003, "total_orders") == orders(before, 201003, "total_orders") + 1
    assert (
        orders(after, 201112, "cancelled_orders") == orders(before, 201112, "cancelled_orders") + 1
    ), "the late cancellation counts in 2011-12"
    months = warehouse.mart("monthly_orders").set_index("year_month")
    # what the moved invoice must have changed: its old month and its old customer are
    # gone, its new customer is there
    assert 200911 not in months.index, "the month the moved invoice left is empty"
    customers = set(warehouse.mart("customers")["customer_id"])
    assert 77777 not in customers and 88888 in customers
    lifecycle_customers = set(warehouse.mart("customer_months")["customer_id"])
    assert 77777 not in lifecycle_customers and 88888 in lifecycle_customers
    assert 200911 not in set(warehouse.mart("cohort_retention")["cohort_year_month"])

    # day1 loaded again (--replace) after the late file corrected one of its invoices:
    # the file keeps its place in the load order, so the correction still wins
    corrected = _rows(day1.path)[0][0]  # the late file re-delivers it, one line changed
    amount = f"select amount from marts.invoices where invoice_no = '{corrected}'"
    before_replace = warehouse.scalar(amount)
    assert warehouse.load(day1.path, replace=True).status == "replaced"
    warehouse.dbt("run")
    assert warehouse.scalar(amount) == before_replace, "the later correction still counts"

    incremental = _snapshot(warehouse)
    warehouse.dbt("run", "--full-refresh", vars=_EVERY_LOAD)  # the same vars: no new parse
    full = _snapshot(warehouse)
    for name, frame in incremental.items():
        pd.testing.assert_frame_equal(frame, full[name], check_dtype=False, obj=f"mart {name}")
    assert_marts_match_oracle(warehouse, oracle.compute_marts(files))
