"""`lgs charts`: the twelve PNG charts the marketing team reads, drawn from the marts.

    lgs charts [--target dev|postgres|duckdb] [--out DIR]

writes `<output>/charts/` (default `output/charts/`, `LGS_OUTPUT_DIR`):

1. `1_invoice_amounts.png`: histogram of invoice amounts, all invoices (log scale) and
   those below the 85th percentile, with min, median, mode, mean and max marked;
2. `2_monthly_orders.png`: orders placed and cancelled per month;
3. `3_monthly_sales.png`: net sales per month;
4. `4_sales_growth.png`: month-on-month sales growth (%), rises and drops in two colours;
5. `5_active_customers.png`: active customers (monthly active users) per month;
6. `6_new_existing_customers.png`: new and existing customers per month (stacked);
7. `7_rfm_segments.png`: RFM segment sizes and their mean recency, frequency, monetary;
8. `8_cohort_retention.png`: cohort retention heatmap (% of each cohort active N months
   after its first), the left-censored first cohort marked;
9. `9_customer_movement.png`: new, retained and reactivated customers per month (up),
   churned customers (down);
10. `10_days_to_second_purchase.png`: distribution of the days from a customer's first
    purchase to their second, median and mean marked;
11. `11_sales_by_customer_type.png`: wholesale, retail and unknown net sales per month;
12. `12_top_countries.png`: the countries with the most net sales, and their customers.

A month the data ends inside (`monthly_sales.is_complete_month` false) is drawn hatched
and lighter, with a note. Reads only the marts in `MARTS_READ` (declared as the
`lgs_charts` exposure). `chart_data` and `plotted` return the numbers drawn, so tests
can compare them with the marts.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgs import settings
from lgs.errors import LgsError
from lgs.marts import MartReader

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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

# one palette for every chart
NAVY = "#1f4e79"
ORANGE = "#d95f02"
AMBER = "#f0a04b"
GREEN = "#1b7837"
GREY = "#6b6b6b"
LIGHT_GREY = "#d9d9d9"
PARTIAL_HATCH = "///"
FINGERPRINT_KEY = "LGS-Data"
# legends sit above the plot, under the title: they never hide a bar
LEGEND_ABOVE: dict[str, Any] = {
    "loc": "lower left",
    "bbox_to_anchor": (0.0, 1.0),
    "ncols": 4,
    "borderaxespad": 0.2,
}
DPI = 100
WIDTH_IN = 11.0
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titlelocation": "left",
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 10,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "hatch.linewidth": 1.0,
}


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


# --- formatting -------------------------------------------------------------------------------


def money(value: float, decimals: int = 0) -> str:
    """`£1,234` (or `-£1,234`)."""
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.{decimals}f}"


def money_short(value: float) -> str:
    """`£1.46M`, `£493k`, `£312`."""
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount >= 999_500:
        return f"{sign}£{amount / 1e6:,.2f}M"
    if amount >= 10_000:
        return f"{sign}£{amount / 1e3:,.0f}k"
    return f"{sign}£{amount:,.0f}"


def month_name(timestamp: pd.Timestamp) -> str:
    return f"{timestamp:%B %Y}"


def day_name(timestamp: pd.Timestamp) -> str:
    return f"{timestamp.day} {timestamp:%B %Y}"


def partial_note(data: ChartData) -> str | None:
    """`Hatched: December 2011 is a partial month (the data ends 9 December 2011).`"""
    partial = data.partial_months
    if partial.empty:
        return None
    names = " and ".join(month_name(m) for m in partial["month_start"])
    verb = "is a partial month" if len(partial) == 1 else "are partial months"
    return f"Hatched: {names} {verb} (the data ends {day_name(data.data_end)})."


def _lighter(colour: str, amount: float = 0.55) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


# --- drawing helpers --------------------------------------------------------------------------


def _figure(height: float, title: str) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.12, w_pad=0.15)  # type: ignore[call-arg]
    fig.suptitle(title, x=0.01, ha="left", fontsize=15, fontweight="bold", color="#1a1a1a")
    return fig


def _footer(fig: Figure, *lines: str | None) -> None:
    """Notes under the chart (a figure-level x label, so the layout makes room for it)."""
    text = "\n".join(line for line in lines if line)
    fig.supxlabel(text, x=0.01, ha="left", fontsize=9.5, color=GREY, linespacing=1.5)


def _money_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    formatter = FuncFormatter(lambda value, _pos: money(value, 2 if 0 < abs(value) < 1 else 0))
    (ax.yaxis if axis == "y" else ax.xaxis).set_minor_formatter(NullFormatter())
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _count_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=7, integer=True))
    target.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))


def _month_axis(ax: Axes, months: pd.DataFrame) -> None:
    """Month labels (`Jan` with the year below on January and on the first label), thinned
    so that they never overlap."""
    count = len(months)
    step = next((s for s in (1, 2, 3, 4, 6, 12) if count / s <= 26), 12 * math.ceil(count / 312))
    positions: list[int] = []
    labels: list[str] = []
    for position, start in enumerate(months["month_start"]):
        if (start.month - 1) % step:
            continue
        first = not positions
        positions.append(position)
        labels.append(f"{start:%b}\n{start.year}" if start.month == 1 or first else f"{start:%b}")
    ax.set_xticks(positions, labels)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.7, count - 0.3)


def _bars(
    ax: Axes,
    months: pd.DataFrame,
    values: pd.Series,
    colour: str,
    *,
    label: str | None = None,
    offset: float = 0.0,
    width: float = 0.8,
    bottom: pd.Series | None = None,
) -> Any:
    """One bar per month; partial months hatched and lighter."""
    import numpy as np

    x = np.arange(len(months)) + offset
    heights = values.astype("float64").to_numpy()
    base = None if bottom is None else bottom.astype("float64").fillna(0).to_numpy()
    bars = ax.bar(x, heights, width, bottom=base, color=colour, label=label, linewidth=0)
    for bar, partial in zip(bars, months["is_partial"], strict=True):
        if partial:
            bar.set_facecolor(_lighter(colour))
            bar.set_edgecolor(colour)
            bar.set_hatch(PARTIAL_HATCH)
    return bars


def _partial_handle(colour: str = GREY) -> Any:
    from matplotlib.patches import Patch

    return Patch(
        facecolor=_lighter(colour), edgecolor=colour, hatch=PARTIAL_HATCH, label="Partial month"
    )


def _legend(ax: Axes, data: ChartData, **kwargs: Any) -> None:
    handles, _labels = ax.get_legend_handles_labels()
    if not data.partial_months.empty:
        handles.append(_partial_handle())
    if handles:
        ax.legend(handles=handles, **kwargs)


# --- the seven charts ---------------------------------------------------------------------------


def draw_invoice_amounts(data: ChartData) -> Figure:
    import numpy as np

    fig = _figure(8.6, "Invoice amounts: most invoices are small, a few are very large")
    axes = fig.subplots(2, 1)
    styles = {
        "min": ("Min", GREY, ":"),
        "median": ("Median", NAVY, "-"),
        "mode": ("Mode", GREEN, "-."),
        "mean": ("Mean", ORANGE, "--"),
        "max": ("Max", "#7b3294", ":"),
    }
    p85 = float(data.amount_summary.loc["all", "p85_amount"])
    for ax, population in zip(axes, ("all", "below_p85"), strict=True):
        values = _panel_amounts(data, population).to_numpy()
        row = data.amount_summary.loc[population]
        low, high = float(values.min()), float(values.max())
        if population == "all":
            log = high > low * 20 and low > 0
            bins: Any = min(60, len(values))
            if log:
                bins = np.logspace(math.log10(low), math.log10(high), 61)
                bins[0], bins[-1] = low, high  # exact ends: no invoice falls outside
            title = f"All {len(values):,} invoices with a positive amount"
            if log:
                from matplotlib.ticker import LogLocator

                ax.set_xscale("log")
                ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
                title += " (logarithmic scale)"
        else:
            bins = np.linspace(0, p85, 51) if p85 > 0 else 10
            title = f"The {len(values):,} invoices below the 85th percentile ({money(p85, 2)})"
        ax.hist(values, bins=bins, color=_lighter(NAVY, 0.35), edgecolor="white", linewidth=0.4)
        for stat, (name, colour, linestyle) in styles.items():
            value = float(row[f"{stat}_amount"])
            ax.axvline(
                value,
                color=colour,
                linestyle=linestyle,
                linewidth=2,
                label=f"{name}: {money(value, 2)}",
            )
        ax.set_title(title)
        ax.set_xlabel("Invoice amount (£, the invoice's lines with positive quantity and price)")
        ax.set_ylabel("Invoices")
        _money_axis(ax, "x")
        _count_axis(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=None, handlelength=2.6)
    _footer(
        fig,
        "Source: marts.invoices (histograms) and marts.invoice_amount_summary (marked "
        "statistics). Mode: the most frequent amount.",
    )
    return fig


def draw_monthly_orders(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.6, "Orders placed and cancelled per month")
    ax = fig.subplots()
    _bars(ax, months, months["placed_orders"], NAVY, label="Placed orders", offset=-0.2, width=0.4)
    _bars(
        ax,
        months,
        months["cancelled_orders"],
        ORANGE,
        label="Cancelled orders",
        offset=0.2,
        width=0.4,
    )
    ax.set_ylabel("Orders (invoices)")
    _count_axis(ax)
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    # the analysts' rule can make placed_orders negative in a month with many late
    # cancellations of earlier orders: show it rather than clip it
    ax.set_ylim(
        min(0, _floor(months["placed_orders"])),
        _headroom(months[["placed_orders", "cancelled_orders"]].max().max(), 1.15),
    )
    _footer(
        fig,
        "Placed = all invoices - 2 x cancellations (a cancellation and the order it cancels "
        "both leave the count). Source: marts.monthly_orders.",
        partial_note(data),
    )
    return fig


def draw_monthly_sales(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.6, "Net sales per month")
    ax = fig.subplots()
    _bars(ax, months, months["net_sales"], NAVY, label="Net sales")
    complete = months[months["has_data"] & ~months["is_partial"]]
    if not complete.empty:
        peak = complete.loc[complete["net_sales"].idxmax()]
        ax.annotate(
            f"Peak: {money_short(float(peak['net_sales']))}",
            xy=(int(peak.name), float(peak["net_sales"])),  # type: ignore[arg-type]
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=10,
            color=NAVY,
            fontweight="bold",
        )
    ax.set_ylabel("Net sales (£)")
    _money_axis(ax)
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    ax.set_ylim(min(0, _floor(months["net_sales"])), _headroom(months["net_sales"].max(), 1.15))
    _footer(
        fig,
        "Net sales: every invoice line, cancellations and adjustments included. "
        "Source: marts.monthly_sales.",
        partial_note(data),
    )
    return fig


def growth_limit(growth: pd.Series) -> tuple[float, bool]:
    """The y-axis half-range of the growth chart and whether outliers are clipped: a month
    after a near-zero one can grow by thousands of percent and flatten every other bar."""
    import numpy as np

    values = np.abs(growth.dropna().astype("float64").to_numpy())
    if values.size == 0:
        return 10.0, False
    largest = float(values.max())
    typical = max(float(np.quantile(values, 0.85)) * 1.5, 10.0)
    if largest <= typical * 1.5:
        return max(largest * 1.2, 5.0), False
    return typical, True


def draw_sales_growth(data: ChartData) -> Figure:
    import numpy as np
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    months = data.months
    growth = months["sales_growth_pct"].astype("float64")
    limit, clipped = growth_limit(growth)
    fig = _figure(5.6, "Monthly sales growth: change in net sales vs the previous month")
    ax = fig.subplots()
    colours = [NAVY if (not np.isnan(g) and g >= 0) else ORANGE for g in growth]
    x = np.arange(len(months))
    bars = ax.bar(x, growth.clip(-limit, limit).to_numpy(), 0.8, color=colours, linewidth=0)
    for bar, partial, colour in zip(bars, months["is_partial"], colours, strict=True):
        if partial:
            bar.set_facecolor(_lighter(colour))
            bar.set_edgecolor(colour)
            bar.set_hatch(PARTIAL_HATCH)
    labelled = len(months) <= 30
    for position, value, has_data in zip(x, growth, months["has_data"], strict=True):
        if np.isnan(value):
            if has_data:
                ax.text(position, limit * 0.03, "n/a", ha="center", va="bottom", fontsize=8.5,
                        color=GREY)  # fmt: skip
            continue
        beyond = abs(value) > limit
        if not (labelled or beyond):
            continue
        text = f"{value:+,.0f}%" if abs(value) >= 9.5 else f"{value:+.1f}%"
        shown = float(np.clip(value, -limit, limit))
        ax.annotate(
            text + (" (off scale)" if beyond else ""),
            xy=(position, shown),
            xytext=(0, 3 if value >= 0 else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if value >= 0 else "top",
            fontsize=8.5,
            color="#333333" if not beyond else "#000000",
            fontweight="bold" if beyond else "normal",
        )
    ax.axhline(0, color="#555555", linewidth=0.9)
    ax.set_ylim(-limit * 1.2, limit * 1.2)
    ax.set_ylabel("Change vs previous month (%)")
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: f"{value:+,.0f}%" if round(value) else "0%")
    )
    _month_axis(ax, months)
    handles: list[Any] = [Patch(color=NAVY, label="Rise"), Patch(color=ORANGE, label="Drop")]
    if not data.partial_months.empty:
        handles.append(_partial_handle())
    ax.legend(handles=handles, **LEGEND_ABOVE)
    _footer(
        fig,
        "Growth = 100 x (net sales - previous month's) / previous month's; n/a where there "
        "is no previous month. Source: marts.monthly_sales.",
        "Bars beyond the scale are cut at its edge and labelled with their value."
        if clipped
        else None,
        _partial_growth_note(data),
    )
    return fig


def _partial_growth_note(data: ChartData) -> str | None:
    note = partial_note(data)
    if note is None:
        return None
    return note[:-1] + ": its growth compares a few days with a whole month."


def draw_active_customers(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.6, "Active customers per month (monthly active users)")
    ax = fig.subplots()
    _bars(ax, months, months["active_users"], NAVY, label="Active customers")
    ax.set_ylabel("Customers with an invoice")
    _count_axis(ax)
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    ax.set_ylim(0, _headroom(months["active_users"].max(), 1.15))
    _footer(
        fig,
        "Known customers with any invoice line in the month (cancellations included; lines "
        "without a customer id are not counted). Source: marts.monthly_users.",
        partial_note(data),
    )
    return fig


def draw_new_existing_customers(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.6, "New and existing customers per month")
    ax = fig.subplots()
    _bars(ax, months, months["existing_users"], NAVY, label="Existing customers")
    _bars(
        ax,
        months,
        months["new_users"],
        AMBER,
        label="New customers",
        bottom=months["existing_users"],
    )
    ax.set_ylabel("Active customers")
    _count_axis(ax)
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    ax.set_ylim(0, _headroom(months["active_users"].max(), 1.15))
    first = months[months["has_data"]]["month_start"].min()
    _footer(
        fig,
        f"New: first invoice in that month. {month_name(first)} is the first month of data, so "
        "every customer active in it counts as new. Source: marts.monthly_users.",
        partial_note(data),
    )
    return fig


def draw_rfm_segments(data: ChartData) -> Figure:
    import numpy as np

    segments = data.segments
    fig = _figure(6.4, "RFM segments: how many customers, and how they buy")
    axes = fig.subplots(1, 4, sharey=True, gridspec_kw={"width_ratios": [1.3, 1.05, 1.0, 1.05]})
    y = np.arange(len(segments))
    panels: list[tuple[str, str, Callable[[float, pd.Series], str], str]] = [
        (
            "customers",
            "Customers\n(share of all scored)",
            lambda v, row: (
                f"{v:,.0f} ({float(row['share_pct']):.1f}%)"
                if not math.isnan(float(row["share_pct"]))
                else f"{v:,.0f}"
            ),
            NAVY,
        ),
        (
            "mean_recency_days",
            "Mean recency\n(days since last invoice)",
            lambda v, _row: f"{v:,.0f} days",
            GREY,
        ),
        (
            "mean_frequency",
            "Mean frequency\n(invoices per customer)",
            lambda v, _row: f"{v:,.1f}",
            GREY,
        ),
        (
            "mean_monetary",
            "Mean monetary\n(net spend per customer)",
            lambda v, _row: money(v),
            GREY,
        ),
    ]
    for ax, (column, title, label, colour) in zip(axes, panels, strict=True):
        values = segments[column].astype("float64")
        ax.barh(y, values.fillna(0).to_numpy(), 0.7, color=colour)
        finite = values.dropna()
        high = max(float(finite.max()) if not finite.empty else 0.0, 0.0)
        low = min(float(finite.min()) if not finite.empty else 0.0, 0.0)
        width = (high - low) or 1.0
        for position, (value, (_index, row)) in enumerate(
            zip(values, segments.iterrows(), strict=True)
        ):
            text = "no customers" if math.isnan(value) else label(value, row)
            ax.text(
                max(value, 0) if not math.isnan(value) else 0,
                position,
                " " + text,
                va="center",
                ha="left",
                fontsize=9.5,
                color="#333333",
            )
        ax.set_xlim(low - (0.05 * width if low < 0 else 0), high + width * 0.75)
        ax.set_title(title, fontsize=10.5)
        ax.grid(False)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(y, segments["segment"].astype(str).tolist())
    axes[0].invert_yaxis()
    total = int(segments["customers"].sum())
    _footer(
        fig,
        f"{total:,} customers scored 1-5 on recency (days since their last invoice), frequency "
        "(invoices) and monetary value (net spend, £);",
        "segments from the recency and frequency scores, best customers first. "
        "Source: marts.rfm_segments.",
    )
    return fig


# --- the customer lifecycle charts --------------------------------------------------------------


def _cohort_label(year_month: int, censored: bool) -> str:
    name = f"{int(year_month) // 100}-{int(year_month) % 100:02d}"
    return f"{name} *" if censored else name


def retention_scale(cohorts: pd.DataFrame) -> float:
    """The top of the heatmap's colour scale: the highest retention after month 0 (month 0
    is 100% by definition and would wash every other cell out), rounded up to 10%."""
    later = cohorts.loc[cohorts["months_since_first"] > 0, "retention_pct"].astype("float64")
    later = later.dropna()
    if later.empty:
        return 100.0
    return float(min(100.0, max(10.0, math.ceil(float(later.max()) / 10.0) * 10.0)))


def draw_cohort_retention(data: ChartData) -> Figure:
    import numpy as np
    from matplotlib.patches import Patch, Rectangle

    cohorts = data.cohorts
    matrix = cohorts.pivot(
        index="cohort_year_month", columns="months_since_first", values="retention_pct"
    ).astype("float64")
    rows, columns = matrix.shape
    fig = _figure(
        min(11.5, max(5.6, 2.4 + 0.27 * rows)),
        "Cohort retention: % of each month's new customers active N months later",
    )
    ax = fig.subplots()
    ax.grid(False)
    top = retention_scale(cohorts)
    values = matrix.to_numpy()
    image = ax.imshow(
        np.ma.masked_invalid(values),
        aspect="auto",
        cmap="Blues",
        vmin=0,
        vmax=top,
        interpolation="nearest",
    )
    if rows <= 40 and columns <= 40:
        for (row, column), value in np.ndenumerate(values):
            if np.isnan(value):
                continue
            ax.text(
                column,
                row,
                f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=7 if columns > 16 else 8.5,
                color="white" if value > top * 0.6 else "#1a1a1a",
            )
    censored = cohorts.groupby("cohort_year_month")["is_left_censored"].any()
    partial = cohorts[~cohorts["is_complete_month"].astype(bool)]
    positions = {cohort: index for index, cohort in enumerate(matrix.index)}
    for _index, cell in partial.iterrows():
        ax.add_patch(
            Rectangle(
                (int(cell["months_since_first"]) - 0.5, positions[cell["cohort_year_month"]] - 0.5),
                1,
                1,
                fill=False,
                hatch=PARTIAL_HATCH,
                edgecolor=GREY,
                linewidth=0,
            )
        )
    handles: list[Any] = []
    for cohort, is_censored in censored.items():
        if is_censored:
            ax.add_patch(
                Rectangle(
                    (-0.5, positions[cohort] - 0.5),
                    columns,
                    1,
                    fill=False,
                    edgecolor=ORANGE,
                    linewidth=2,
                )
            )
            handles.append(
                Patch(facecolor="none", edgecolor=ORANGE, linewidth=2, label="Left-censored (*)")
            )
    if not partial.empty:
        handles.append(_partial_handle())
    step = 1 if columns <= 26 else math.ceil(columns / 26)
    ax.set_xticks(range(0, columns, step), [str(int(c)) for c in matrix.columns[::step]])
    ystep = 1 if rows <= 40 else math.ceil(rows / 40)
    ax.set_yticks(
        range(0, rows, ystep),
        [_cohort_label(c, bool(censored[c])) for c in matrix.index[::ystep]],
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("Months since the cohort's first month")
    ax.set_ylabel("Cohort (month of the first invoice)")
    colourbar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.01)
    colourbar.set_label("Active (% of the cohort)")
    if handles:
        ax.legend(handles=handles, **LEGEND_ABOVE)
    first = censored[censored]
    _footer(
        fig,
        "Retention = 100 x customers of the cohort with any invoice in the month / the cohort's "
        f"customers; month 0 is 100% (the colour scale stops at {top:.0f}%).",
        (
            f"* {_cohort_label(first.index[0], False)} is left-censored: the data starts then, "
            "so its 'new' customers include everyone who bought before. Source: "
            "marts.cohort_retention."
        )
        if not first.empty
        else "Source: marts.cohort_retention.",
        partial_note(data),
    )
    return fig


def draw_customer_movement(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.8, "Customer movement: won, kept, won back and lost each month")
    ax = fig.subplots()
    retained = months["retained_customers"]
    reactivated = months["reactivated_customers"]
    _bars(ax, months, retained, NAVY, label="Retained")
    _bars(ax, months, reactivated, GREEN, label="Reactivated", bottom=retained)
    _bars(
        ax,
        months,
        months["new_customers"],
        AMBER,
        label="New",
        bottom=retained.fillna(0) + reactivated.fillna(0),
    )
    _bars(ax, months, -months["churned_customers"], ORANGE, label="Churned (down)")
    ax.axhline(0, color="#555555", linewidth=0.9)
    ax.set_ylabel("Customers")
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{abs(value):,.0f}"))
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    up = (months["new_customers"] + retained + reactivated).astype("float64")
    ax.set_ylim(
        -_headroom(months["churned_customers"].astype("float64").max(), 1.15),
        _headroom(up.max(), 1.15),
    )
    _footer(
        fig,
        "New: first invoice this month. Retained: active this month and the previous one. "
        "Reactivated: back after a month or more away.",
        "Churned: active the previous month, not this one. The first month has no previous "
        "month: everyone is new. Source: marts.customer_movement.",
        partial_note(data),
    )
    return fig


def draw_days_to_second_purchase(data: ChartData) -> Figure:
    import numpy as np

    days = data.second_purchase_days.to_numpy()
    summary = data.repeat_summary
    fig = _figure(5.8, "How long until a customer buys a second time")
    ax = fig.subplots()
    width = 7 if days.size == 0 or days.max() <= 210 else 14
    high = int(days.max()) if days.size else width
    bins = np.arange(0, high + width + 1, width)
    ax.hist(days, bins=bins, color=_lighter(NAVY, 0.35), edgecolor="white", linewidth=0.4)
    if "all" in summary.index:
        row = summary.loc["all"]
        for column, name, colour, style in (
            ("median_days_to_second_purchase", "Median", NAVY, "-"),
            ("mean_days_to_second_purchase", "Mean", ORANGE, "--"),
        ):
            value = row[column]
            if value is None or math.isnan(float(value)):
                continue
            ax.axvline(
                float(value),
                color=colour,
                linestyle=style,
                linewidth=2,
                label=f"{name}: {float(value):,.1f} days",
            )
    ax.set_xlabel(f"Days from the first purchase to the second ({width}-day bins)")
    ax.set_ylabel("Repeat customers")
    _count_axis(ax)
    ax.grid(True, axis="y")
    handles, _labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(**LEGEND_ABOVE)
    rates = [
        f"{population}: {float(summary.loc[population, 'repeat_rate_pct']):.1f}%"
        for population in ("all", "wholesale", "retail")
        if population in summary.index and not _nan(summary.loc[population, "repeat_rate_pct"])
    ]
    _footer(
        fig,
        f"{days.size:,} customers with two purchases or more (invoices neither cancelled nor "
        "adjustments); whole days, truncated: 0 = the same day.",
        ("Repeat rate, " + ", ".join(rates) + ". " if rates else "")
        + "Source: marts.customers and marts.repeat_purchase_summary.",
    )
    return fig


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def draw_sales_by_customer_type(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.8, "Net sales per month: wholesale and retail customers")
    ax = fig.subplots()
    wholesale = months["wholesale_net_sales"]
    retail = months["retail_net_sales"]
    _bars(ax, months, wholesale, NAVY, label="Wholesale customers")
    _bars(ax, months, retail, AMBER, label="Retail customers", bottom=wholesale)
    _bars(
        ax,
        months,
        months["unknown_net_sales"],
        LIGHT_GREY,
        label="No customer id",
        bottom=wholesale.fillna(0) + retail.fillna(0),
    )
    ax.set_ylabel("Net sales (£)")
    _money_axis(ax)
    _month_axis(ax, months)
    _legend(ax, data, **LEGEND_ABOVE)
    ax.set_ylim(min(0, _floor(months["net_sales"])), _headroom(months["net_sales"].max(), 1.15))
    _footer(
        fig,
        "Wholesale: a customer whose purchases average at least the threshold of units on "
        "product lines (var wholesale_min_units_per_purchase, 400 by default);",
        "retail: the others. The three parts add up to the month's net sales. Source: "
        "marts.monthly_sales_by_customer_type.",
        partial_note(data),
    )
    return fig


def draw_top_countries(data: ChartData) -> Figure:
    import numpy as np

    top = top_countries(data)
    fig = _figure(
        max(4.6, 1.8 + 0.42 * len(top)),
        f"Top {len(top)} countries by net sales",
    )
    axes = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.5, 1.0]})
    y = np.arange(len(top))
    panels: list[tuple[str, str, Callable[[float, pd.Series], str], str]] = [
        (
            "net_sales",
            "Net sales (share of all)",
            lambda v, row: f"{money_short(v)} ({float(row['share_of_net_sales_pct']):.1f}%)",
            NAVY,
        ),
        ("customers", "Customers", lambda v, _row: f"{v:,.0f}", GREY),
    ]
    for ax, (column, title, label, colour) in zip(axes, panels, strict=True):
        values = top[column].astype("float64")
        ax.barh(y, values.to_numpy(), 0.7, color=colour)
        high = max(float(values.max()) if not values.empty else 0.0, 0.0)
        low = min(float(values.min()) if not values.empty else 0.0, 0.0)
        span = (high - low) or 1.0
        for position, (value, (_index, row)) in enumerate(zip(values, top.iterrows(), strict=True)):
            ax.text(max(value, 0), position, " " + label(value, row), va="center", ha="left",
                    fontsize=9.5, color="#333333")  # fmt: skip
        ax.set_xlim(low - (0.05 * span if low < 0 else 0), high + span * 0.6)
        ax.set_title(title, fontsize=10.5)
        ax.grid(False)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(y, top["country"].astype(str).tolist())
    axes[0].invert_yaxis()
    _footer(
        fig,
        f"{len(data.countries):,} countries in all. The country is the invoice's; customers: "
        "distinct known customers with an invoice from it.",
        "Source: marts.country_summary.",
    )
    return fig


def _headroom(value: Any, factor: float) -> float:
    number = float(value) if value is not None else 0.0
    if math.isnan(number) or number <= 0:
        return 1.0
    return number * factor


def _floor(values: pd.Series) -> float:
    low = float(values.min()) if values.notna().any() else 0.0
    return low * 1.15 if low < 0 else 0.0


DRAWERS: dict[str, Callable[[ChartData], Figure]] = {
    "invoice_amounts": draw_invoice_amounts,
    "monthly_orders": draw_monthly_orders,
    "monthly_sales": draw_monthly_sales,
    "sales_growth": draw_sales_growth,
    "active_customers": draw_active_customers,
    "new_existing_customers": draw_new_existing_customers,
    "rfm_segments": draw_rfm_segments,
    "cohort_retention": draw_cohort_retention,
    "customer_movement": draw_customer_movement,
    "days_to_second_purchase": draw_days_to_second_purchase,
    "sales_by_customer_type": draw_sales_by_customer_type,
    "top_countries": draw_top_countries,
}


def figures(data: ChartData) -> dict[str, Figure]:
    """The figures of `CHART_FILES` (matplotlib `Figure` objects, no pyplot state)."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        return {name: draw(data) for name, draw in DRAWERS.items()}


def png_bytes(fig: Figure, metadata: dict[str, str] | None = None) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        # lay the figure out once, then draw it once (savefig would draw it twice)
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.execute(fig)
            fig.set_layout_engine("none")
        fig.savefig(buffer, format="png", dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def fingerprint(data: ChartData) -> str:
    """A digest of the data drawn and of the code and matplotlib drawing it: a PNG carrying
    the same digest (PNG text chunk `LGS-Data`) shows exactly what would be drawn now."""
    from importlib.metadata import version

    import pandas as pd

    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(version("matplotlib").encode())
    frames = (
        data.amounts.to_frame(),
        data.amount_summary,
        data.months,
        data.segments,
        data.cohorts,
        data.second_purchase_days.to_frame(),
        data.repeat_summary,
        data.countries,
    )
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(str(data.data_end).encode())
    return digest.hexdigest()[:32]


def _png_fingerprint(path: Path) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            text = getattr(image, "text", {})
            return str(text.get(FINGERPRINT_KEY)) if FINGERPRINT_KEY in text else None
    except (OSError, ValueError):
        return None


def pngs(data: ChartData, reuse_from: Path | None = None) -> dict[str, bytes]:
    """Each chart as PNG bytes, keyed like `CHART_FILES`. A PNG in `reuse_from` drawn from
    the same data by the same code is reused instead of drawn again."""
    digest = fingerprint(data)
    images: dict[str, bytes] = {}
    for name in DRAWERS:
        if reuse_from is not None:
            existing = reuse_from / CHART_FILES[name]
            if existing.is_file() and _png_fingerprint(existing) == digest:
                images[name] = existing.read_bytes()
    missing = [name for name in DRAWERS if name not in images]
    if missing:
        import matplotlib

        metadata = {"Software": "lgs charts (matplotlib)", FINGERPRINT_KEY: digest}
        with matplotlib.rc_context(STYLE):
            for name in missing:
                images[name] = png_bytes(DRAWERS[name](data), metadata)
    return {name: images[name] for name in DRAWERS}


# --- command ------------------------------------------------------------------------------------


def charts_dir() -> Path:
    return settings.output_dir() / "charts"


def write_pngs(images: dict[str, bytes], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in images.items():
        path = out / CHART_FILES[name]
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(image)
        partial.replace(path)
        written.append(path)
    return written


def render(target: str | Target, out: Path | None = None) -> list[str]:
    """Draw the charts from `target`'s marts into `out` (default `<output>/charts`)."""
    folder = (out or charts_dir()).resolve()
    written = write_pngs(pngs(chart_data(target), reuse_from=folder), folder)
    return [f"charts: {folder}/ ({len(written)} PNG)"]
