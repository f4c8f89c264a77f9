"""The numbers the charts draw: read from the marts only (`MARTS_READ`, declared as the
`lgs_charts` exposure), so tests can compare them with the marts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lgs.errors import LgsError
from lgs.marts import MartReader

if TYPE_CHECKING:
    import pandas as pd

    from lgs.targets import Target


MARTS_READ = (
    "invoices",
    "invoice_amount_summary",
    "monthly_orders",
    "monthly_sales",
    "monthly_users",
    "rfm_segments",
    "customers",
    "cohort_retention",
    "customer_movement",
    "repeat_purchase_summary",
    "monthly_sales_by_customer_type",
    "country_summary",
)
CHART_FILES = {
    "invoice_amounts": "1_invoice_amounts.png",
    "monthly_orders": "2_monthly_orders.png",
    "monthly_sales": "3_monthly_sales.png",
    "sales_growth": "4_sales_growth.png",
    "active_customers": "5_active_customers.png",
    "new_existing_customers": "6_new_existing_customers.png",
    "rfm_segments": "7_rfm_segments.png",
    "cohort_retention": "8_cohort_retention.png",
    "customer_movement": "9_customer_movement.png",
    "days_to_second_purchase": "10_days_to_second_purchase.png",
    "sales_by_customer_type": "11_sales_by_customer_type.png",
    "top_countries": "12_top_countries.png",
}
TOP_COUNTRIES = 10
CUSTOMER_TYPES = ("wholesale", "retail", "unknown")


# --- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartData:
    """Everything the charts draw, read from the marts."""

    amounts: pd.Series  # positive_amount of every invoice with positive_amount > 0
    amount_summary: pd.DataFrame  # invoice_amount_summary, indexed by population
    months: pd.DataFrame  # one row per calendar month from the first to the last
    segments: pd.DataFrame  # rfm_segments in segment_order
    data_end: pd.Timestamp  # the last invoice line
    cohorts: pd.DataFrame  # cohort_retention by cohort, then months since first
    second_purchase_days: pd.Series  # customers.days_to_second_purchase of repeat customers
    repeat_summary: pd.DataFrame  # repeat_purchase_summary, indexed by population
    countries: pd.DataFrame  # country_summary, most net sales first

    @property
    def partial_months(self) -> pd.DataFrame:
        return self.months[self.months["is_partial"]]


def read_chart_data(reader: MartReader) -> ChartData:
    """Read what the charts need (only the marts of `MARTS_READ`)."""
    import pandas as pd

    amounts = reader.query(
        "select cast(positive_amount as double precision) as positive_amount "
        "from marts.invoices where positive_amount > 0",
        ["invoices"],
    )
    data_end = reader.scalar("select max(last_line_at) from marts.invoices", ["invoices"])
    if amounts.empty or data_end is None or pd.isna(data_end):
        raise LgsError(
            f"the marts on target {reader.target} hold no invoice with a positive amount: "
            f"load data (`lgs load FILE --target {reader.target}`) and run `dbt build`"
        )
    summary = reader.frame("invoice_amount_summary").set_index("population")
    orders = reader.frame(
        "monthly_orders",
        ["year_month", "total_orders", "placed_orders", "cancelled_orders"],
    )
    sales = reader.frame(
        "monthly_sales",
        ["year_month", "net_sales", "gross_sales", "sales_growth_pct", "is_complete_month"],
    )
    users = reader.frame(
        "monthly_users", ["year_month", "active_users", "new_users", "existing_users"]
    )
    segments = reader.frame("rfm_segments", order_by="segment_order").reset_index(drop=True)
    movement = reader.frame(
        "customer_movement",
        [
            "year_month",
            "new_customers",
            "retained_customers",
            "reactivated_customers",
            "churned_customers",
        ],
    )
    by_type = reader.frame(
        "monthly_sales_by_customer_type", ["year_month", "customer_type", "net_sales"]
    )
    by_type = (
        by_type.pivot(index="year_month", columns="customer_type", values="net_sales")
        .reindex(columns=list(CUSTOMER_TYPES))
        .add_suffix("_net_sales")
        .reset_index()
    )
    by_type.columns.name = None
    months = (
        orders.merge(sales, on="year_month", how="outer")
        .merge(users, on="year_month", how="outer")
        .merge(movement, on="year_month", how="outer")
        .merge(by_type, on="year_month", how="outer")
    )
    cohorts = reader.frame(
        "cohort_retention",
        [
            "cohort_year_month",
            "months_since_first",
            "cohort_customers",
            "active_customers",
            "retention_pct",
            "is_complete_month",
            "is_left_censored",
        ],
        order_by="cohort_year_month, months_since_first",
    )
    days = reader.query(
        "select days_to_second_purchase from marts.customers "
        "where days_to_second_purchase is not null",
        ["customers"],
    )
    repeat = reader.frame("repeat_purchase_summary", order_by="population_order")
    countries = reader.frame("country_summary", order_by="net_sales desc, country")
    return ChartData(
        amounts=amounts["positive_amount"].astype("float64").reset_index(drop=True),
        amount_summary=summary,
        months=_calendar(months),
        segments=segments,
        data_end=pd.Timestamp(data_end),
        cohorts=cohorts.reset_index(drop=True),
        second_purchase_days=days["days_to_second_purchase"]
        .astype("int64")
        .sort_values()
        .reset_index(drop=True),
        repeat_summary=repeat.set_index("population"),
        countries=countries.reset_index(drop=True),
    )


def chart_data(target: str | Target) -> ChartData:
    with MartReader(target) as reader:
        return read_chart_data(reader)


def _calendar(months: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar month from the first to the last month with data (a month
    without any line has no row in the marts: it is kept, empty, so gaps show)."""
    import pandas as pd

    months = months.copy()
    months["month_start"] = pd.to_datetime(
        months["year_month"].astype("int64").astype(str) + "01", format="%Y%m%d"
    )
    months = months.sort_values("month_start").set_index("month_start")
    full = pd.date_range(months.index.min(), months.index.max(), freq="MS")
    months = months.reindex(full)
    months.index.name = "month_start"
    months = months.reset_index()
    months["year_month"] = months["month_start"].dt.year * 100 + months["month_start"].dt.month
    months["has_data"] = months["net_sales"].notna()
    complete = months["is_complete_month"].astype("boolean").fillna(True)
    months["is_partial"] = ~complete.astype(bool)
    return months


def plotted(data: ChartData) -> dict[str, pd.DataFrame]:
    """The numbers each chart draws, one frame per chart (months without data dropped)."""
    import pandas as pd

    months = data.months[data.months["has_data"]]
    markers = []
    for population in ("all", "below_p85"):
        row = data.amount_summary.loc[population]
        for stat in ("min", "median", "mode", "mean", "max"):
            markers.append(
                {
                    "population": population,
                    "statistic": stat,
                    "value": float(row[f"{stat}_amount"]),
                    "invoices_drawn": len(_panel_amounts(data, population)),
                }
            )
    return {
        "invoice_amounts": pd.DataFrame(markers),
        "monthly_orders": months[
            ["year_month", "placed_orders", "cancelled_orders", "is_partial"]
        ].reset_index(drop=True),
        "monthly_sales": months[["year_month", "net_sales", "is_partial"]].reset_index(drop=True),
        "sales_growth": months[["year_month", "sales_growth_pct", "is_partial"]].reset_index(
            drop=True
        ),
        "active_customers": months[["year_month", "active_users", "is_partial"]].reset_index(
            drop=True
        ),
        "new_existing_customers": months[
            ["year_month", "new_users", "existing_users", "is_partial"]
        ].reset_index(drop=True),
        "rfm_segments": data.segments[
            [
                "segment",
                "customers",
                "share_pct",
                "mean_recency_days",
                "mean_frequency",
                "mean_monetary",
            ]
        ].reset_index(drop=True),
        "cohort_retention": data.cohorts[
            ["cohort_year_month", "months_since_first", "retention_pct", "is_left_censored"]
        ].reset_index(drop=True),
        "customer_movement": months[
            [
                "year_month",
                "new_customers",
                "retained_customers",
                "reactivated_customers",
                "churned_customers",
                "is_partial",
            ]
        ].reset_index(drop=True),
        "days_to_second_purchase": data.second_purchase_days.value_counts()
        .sort_index()
        .rename_axis("days_to_second_purchase")
        .rename("customers")
        .reset_index(),
        "sales_by_customer_type": months[
            ["year_month", *(f"{kind}_net_sales" for kind in CUSTOMER_TYPES), "is_partial"]
        ].reset_index(drop=True),
        "top_countries": top_countries(data)[
            ["country", "net_sales", "share_of_net_sales_pct", "customers"]
        ].reset_index(drop=True),
    }


def top_countries(data: ChartData) -> pd.DataFrame:
    """The `TOP_COUNTRIES` countries with the most net sales (country_summary's order)."""
    return data.countries.head(TOP_COUNTRIES)


def _panel_amounts(data: ChartData, population: str) -> pd.Series:
    if population == "all":
        return data.amounts
    p85 = float(data.amount_summary.loc["all", "p85_amount"])
    return data.amounts[data.amounts < p85]
