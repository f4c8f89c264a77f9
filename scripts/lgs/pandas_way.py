"""The notebooks' way, which `lgs bench` measures dbt against: every mart computed in
pandas, in memory, straight from one invoice file (`read_csv`, `groupby`, `qcut`), as the
LGS analysts' notebooks did.

Like the notebooks it keeps every line of the file (the two overlapping UCI sheets count
twice, as with `dedupe_overlapping_extracts: false`) and computes money in floats; a test
checks its figures against the test suite's exact oracle. The bench uses its time and
memory, never its numbers.

    python -m lgs.pandas_way FILE     # prints the seconds it took and its peak RSS in kB
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import pandas as pd

from lgs import settings

# both UCI layouts, renamed to one set of names
RENAME = {
    "Invoice": "invoice_no",
    "InvoiceNo": "invoice_no",
    "Quantity": "quantity",
    "InvoiceDate": "invoiced_at",
    "Price": "unit_price",
    "UnitPrice": "unit_price",
    "Customer ID": "customer_id",
    "CustomerID": "customer_id",
    "Country": "country",
}


def read_lines(path: Path | str) -> pd.DataFrame:
    lines = pd.read_csv(
        path,
        usecols=lambda column: column in RENAME,
        dtype={"Invoice": str, "InvoiceNo": str, "Country": str},
        encoding="utf-8-sig",
    ).rename(columns=RENAME)
    lines["invoiced_at"] = pd.to_datetime(lines["invoiced_at"], format="%Y-%m-%d %H:%M:%S")
    lines["amount"] = lines["quantity"] * lines["unit_price"]
    lines["year_month"] = lines["invoiced_at"].dt.year * 100 + lines["invoiced_at"].dt.month
    lines["is_cancellation"] = lines["invoice_no"].str.startswith("C")
    return lines


def _summary(population: str, amounts: pd.Series) -> dict[str, object]:
    return {
        "population": population,
        "invoices": len(amounts),
        "min_amount": amounts.min(),
        "mean_amount": amounts.mean(),
        "median_amount": amounts.median(),
        "mode_amount": amounts.mode().min(),
        "max_amount": amounts.max(),
        "p85_amount": amounts.quantile(0.85),
    }


def _monthly(lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    by_month = lines.groupby("year_month")
    cancelled = lines[lines["is_cancellation"]].groupby("year_month")
    orders = pd.DataFrame({"total_orders": by_month["invoice_no"].nunique()})
    orders["cancelled_orders"] = cancelled["invoice_no"].nunique()
    orders = orders.fillna({"cancelled_orders": 0}).astype("int64")
    orders["placed_orders"] = orders["total_orders"] - 2 * orders["cancelled_orders"]

    sales = pd.DataFrame({"net_sales": by_month["amount"].sum()})
    sales["cancelled_sales"] = cancelled["amount"].sum()
    sales = sales.fillna({"cancelled_sales": 0.0})
    sales["gross_sales"] = sales["net_sales"] - sales["cancelled_sales"]
    calendar = pd.period_range(
        pd.Period(str(sales.index.min()), "M"), pd.Period(str(sales.index.max()), "M"), freq="M"
    )
    net = sales["net_sales"].reindex(calendar.year * 100 + calendar.month)
    previous = net.shift(1)
    growth = (100 * (net - previous) / previous.where(previous != 0)).reindex(sales.index)
    sales["sales_growth_pct"] = growth
    last = lines["invoiced_at"].max()
    partial = (last.normalize() + pd.Timedelta(days=1)).month == last.month
    sales["is_complete_month"] = ~((sales.index == last.year * 100 + last.month) & partial)

    known = lines.dropna(subset=["customer_id"])
    first_month = known.groupby("customer_id")["year_month"].transform("min")
    users = pd.DataFrame({"active_users": known.groupby("year_month")["customer_id"].nunique()})
    new = known[known["year_month"] == first_month].groupby("year_month")["customer_id"]
    users["new_users"] = new.nunique()
    users = users.reindex(sales.index).fillna(0).astype("int64")
    users["existing_users"] = users["active_users"] - users["new_users"]
    return {"monthly_orders": orders, "monthly_sales": sales, "monthly_users": users}


def _scores(values: pd.Series, labels: list[int]) -> pd.Series:
    """Quintile scores; on tied edges (qcut refuses them) the scores of the ranks."""
    try:
        return pd.qcut(values, 5, labels=labels).astype("int64")
    except ValueError:
        return pd.qcut(values.rank(method="first"), 5, labels=labels).astype("int64")


def _rfm(lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    known = lines.dropna(subset=["customer_id"])
    as_of = lines["invoiced_at"].max().normalize() + pd.Timedelta(days=1)
    rfm = known.groupby("customer_id").agg(
        last_invoiced_at=("invoiced_at", "max"),
        frequency=("invoice_no", "nunique"),
        monetary=("amount", "sum"),
    )
    rfm["recency_days"] = (as_of - rfm["last_invoiced_at"]).dt.days
    rfm["r_score"] = _scores(rfm["recency_days"], [5, 4, 3, 2, 1])
    rfm["f_score"] = _scores(rfm["frequency"].rank(method="first"), [1, 2, 3, 4, 5])
    rfm["m_score"] = _scores(rfm["monetary"], [1, 2, 3, 4, 5])
    rfm["rfm_score"] = (
        rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
    )
    grid = pd.read_csv(settings.project_dir() / "seeds" / "rfm_segment_grid.csv")
    rfm = (
        rfm.reset_index()
        .merge(grid, on=["r_score", "f_score"], how="left")
        .set_index("customer_id")
    )
    segments = rfm.groupby("segment").agg(
        customers=("segment", "size"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
        total_monetary=("monetary", "sum"),
    )
    segments["share_pct"] = 100 * segments["customers"] / len(rfm)
    customers = known.groupby("customer_id").agg(
        first_invoiced_at=("invoiced_at", "min"),
        last_invoiced_at=("invoiced_at", "max"),
        lifetime_invoices=("invoice_no", "nunique"),
        net_revenue=("amount", "sum"),
    )
    latest = known.sort_values(["invoiced_at", "invoice_no"]).groupby("customer_id").last()
    customers["country"] = latest["country"]
    customers["segment"] = rfm["segment"]
    return {"customer_rfm": rfm, "rfm_segments": segments, "customers": customers}


def compute_marts(path: Path | str) -> dict[str, pd.DataFrame]:
    """Every mart of the file, the notebooks' way (frames indexed by their grain)."""
    lines = read_lines(path)
    positive = lines["amount"].where((lines["quantity"] > 0) & (lines["unit_price"] > 0), 0.0)
    invoices = (
        lines.assign(positive_amount=positive)
        .groupby("invoice_no")
        .agg(
            invoiced_at=("invoiced_at", "min"),
            customer_id=("customer_id", "first"),
            country=("country", "first"),
            line_count=("amount", "size"),
            amount=("amount", "sum"),
            positive_amount=("positive_amount", "sum"),
        )
    )
    amounts = invoices.loc[invoices["positive_amount"] > 0, "positive_amount"]
    below = amounts[amounts < amounts.quantile(0.85)]
    summary = pd.DataFrame([_summary("all", amounts), _summary("below_p85", below)])
    return {
        "invoices": invoices,
        "invoice_amount_summary": summary.set_index("population"),
        **_monthly(lines),
        **_rfm(lines),
    }


def main(argv: list[str]) -> int:
    started = time.monotonic()
    compute_marts(argv[0])
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(time.monotonic() - started, peak_kb)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
