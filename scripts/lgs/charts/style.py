"""The look every chart shares: the palette, matplotlib's settings, number and date
formats, and the drawing helpers (figure, footer, axes, bars, legend)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from lgs.charts.data import ChartData

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


def _stacked_bars(ax: Axes, months: pd.DataFrame, layers: list[tuple[pd.Series, str, str]]) -> None:
    """Bars stacked per month, from the bottom: each layer is (values, colour, label)."""
    bottom: pd.Series | None = None
    for values, colour, label in layers:
        _bars(ax, months, values, colour, label=label, bottom=bottom)
        bottom = values.fillna(0) if bottom is None else bottom + values.fillna(0)


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


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _headroom(value: Any, factor: float) -> float:
    number = float(value) if value is not None else 0.0
    if math.isnan(number) or number <= 0:
        return 1.0
    return number * factor


def _floor(values: pd.Series) -> float:
    low = float(values.min()) if values.notna().any() else 0.0
    return low * 1.15 if low < 0 else 0.0
