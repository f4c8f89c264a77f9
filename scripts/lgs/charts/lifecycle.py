"""The customer lifecycle charts (8 to 12): cohorts, movement, second purchases,
wholesale and retail, countries."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


from lgs.charts.data import (
    ChartData,
    top_countries,
)
from lgs.charts.style import (
    AMBER,
    GREEN,
    GREY,
    LEGEND_ABOVE,
    LIGHT_GREY,
    NAVY,
    ORANGE,
    PARTIAL_HATCH,
    _bars,
    _count_axis,
    _figure,
    _floor,
    _footer,
    _headroom,
    _legend,
    _lighter,
    _money_axis,
    _month_axis,
    _nan,
    _partial_handle,
    _stacked_bars,
    money_short,
    partial_note,
)

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
    _stacked_bars(
        ax,
        months,
        [
            (retained, NAVY, "Retained"),
            (reactivated, GREEN, "Reactivated"),
            (months["new_customers"], AMBER, "New"),
        ],
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


def draw_sales_by_customer_type(data: ChartData) -> Figure:
    months = data.months
    fig = _figure(5.8, "Net sales per month: wholesale and retail customers")
    ax = fig.subplots()
    _stacked_bars(
        ax,
        months,
        [
            (months["wholesale_net_sales"], NAVY, "Wholesale customers"),
            (months["retail_net_sales"], AMBER, "Retail customers"),
            (months["unknown_net_sales"], LIGHT_GREY, "No customer id"),
        ],
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
