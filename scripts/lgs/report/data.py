"""The report's data: the marts it reads (`MARTS_READ`, the `lgs_report` exposure) and
the comparison windows its figures use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgs import charts
from lgs.charts import ChartData
from lgs.marts import MartReader

if TYPE_CHECKING:
    import pandas as pd

    from lgs.targets import Target

MARTS_READ = tuple(dict.fromkeys((*charts.MARTS_READ, "customers", "data_quality")))

# --- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Twelve calendar months ending with `last` (inclusive)."""

    first: pd.Timestamp
    last: pd.Timestamp

    @property
    def label(self) -> str:
        return f"{self.first:%b %Y} to {self.last:%b %Y}"

    def year_months(self) -> tuple[int, int]:
        return (
            self.first.year * 100 + self.first.month,
            self.last.year * 100 + self.last.month,
        )


@dataclass(frozen=True)
class ReportData:
    charts: ChartData
    customers: int  # rows of marts.customers (known customers)
    data_quality: pd.DataFrame  # marts.data_quality, indexed by metric
    last_12: Window | None  # the last 12 complete months
    previous_12: Window | None  # the 12 before, when the data covers them
    active_last_12: int | None  # distinct customers with an invoice in last_12
    active_previous_12: int | None
    first_invoice_at: pd.Timestamp


def _windows(months: pd.DataFrame) -> tuple[Window | None, Window | None]:
    import pandas as pd

    complete = months[months["has_data"] & ~months["is_partial"]]
    if complete.empty:
        return None, None
    last = complete["month_start"].max()
    last_12 = Window(last - pd.DateOffset(months=11), last)
    previous = Window(last - pd.DateOffset(months=23), last - pd.DateOffset(months=12))
    first_data = months.loc[months["has_data"], "month_start"].min()
    return last_12, previous if first_data <= previous.first else None


def read_report_data(reader: MartReader) -> ReportData:
    import pandas as pd

    chart_data = charts.read_chart_data(reader)
    last_12, previous_12 = _windows(chart_data.months)

    def active(window: Window | None) -> int | None:
        if window is None:
            return None
        start, end = window.year_months()
        count = reader.scalar(
            "select count(distinct customer_id) from marts.invoices "
            f"where year_month between {int(start)} and {int(end)}",
            ["invoices"],
        )
        return int(count or 0)

    first_invoice_at = reader.scalar("select min(invoiced_at) from marts.invoices", ["invoices"])
    return ReportData(
        charts=chart_data,
        customers=int(reader.scalar("select count(*) from marts.customers", ["customers"])),
        data_quality=reader.frame("data_quality").set_index("metric"),
        last_12=last_12,
        previous_12=previous_12,
        active_last_12=active(last_12),
        active_previous_12=active(previous_12),
        first_invoice_at=pd.Timestamp(first_invoice_at),
    )


def report_data(target: str | Target) -> ReportData:
    with MartReader(target) as reader:
        return read_report_data(reader)


def _in_window(months: pd.DataFrame, window: Window) -> pd.DataFrame:
    mask = (months["month_start"] >= window.first) & (months["month_start"] <= window.last)
    return months[mask & months["has_data"]]


def _window_sum(months: pd.DataFrame, window: Window | None, column: str) -> float | None:
    if window is None:
        return None
    return float(_in_window(months, window)[column].astype("float64").sum())


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / abs(before)


def _pct(value: float, decimals: int = 1) -> str:
    return f"{value:+,.{decimals}f}%"
