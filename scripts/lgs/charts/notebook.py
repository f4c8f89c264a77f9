"""The seven charts of the analysts' notebooks (1 to 7)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


from lgs.charts.data import (
    ChartData,
    _panel_amounts,
)
from lgs.charts.style import (
    AMBER,
    GREEN,
    GREY,
    LEGEND_ABOVE,
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
    _partial_handle,
    money,
    money_short,
    month_name,
    partial_note,
)

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
