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

The package: `data` reads the numbers, `style` is the look every chart shares (palette,
formats, drawing helpers), `notebook` draws charts 1 to 7 and `lifecycle` 8 to 12; this
module puts them in order (`DRAWERS`), renders PNGs and writes them. A new chart: its
drawing function in the module of its subject, its entry in `DRAWERS` and `CHART_FILES`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lgs import settings
from lgs.charts.data import (
    CHART_FILES,
    CUSTOMER_TYPES,
    MARTS_READ,
    TOP_COUNTRIES,
    ChartData,
    chart_data,
    plotted,
    read_chart_data,
    top_countries,
)
from lgs.charts.lifecycle import (
    draw_cohort_retention,
    draw_customer_movement,
    draw_days_to_second_purchase,
    draw_sales_by_customer_type,
    draw_top_countries,
    retention_scale,
)
from lgs.charts.notebook import (
    draw_active_customers,
    draw_invoice_amounts,
    draw_monthly_orders,
    draw_monthly_sales,
    draw_new_existing_customers,
    draw_rfm_segments,
    draw_sales_growth,
    growth_limit,
)
from lgs.charts.style import (
    AMBER,
    DPI,
    FINGERPRINT_KEY,
    GREEN,
    GREY,
    LEGEND_ABOVE,
    LIGHT_GREY,
    NAVY,
    ORANGE,
    PARTIAL_HATCH,
    STYLE,
    WIDTH_IN,
    day_name,
    money,
    money_short,
    month_name,
    partial_note,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lgs.targets import Target

__all__ = [
    "AMBER",
    "CHART_FILES",
    "CUSTOMER_TYPES",
    "DPI",
    "DRAWERS",
    "FINGERPRINT_KEY",
    "GREEN",
    "GREY",
    "LEGEND_ABOVE",
    "LIGHT_GREY",
    "MARTS_READ",
    "NAVY",
    "ORANGE",
    "PARTIAL_HATCH",
    "STYLE",
    "TOP_COUNTRIES",
    "WIDTH_IN",
    "ChartData",
    "chart_data",
    "charts_dir",
    "day_name",
    "draw_active_customers",
    "draw_cohort_retention",
    "draw_customer_movement",
    "draw_days_to_second_purchase",
    "draw_invoice_amounts",
    "draw_monthly_orders",
    "draw_monthly_sales",
    "draw_new_existing_customers",
    "draw_rfm_segments",
    "draw_sales_by_customer_type",
    "draw_sales_growth",
    "draw_top_countries",
    "figures",
    "fingerprint",
    "growth_limit",
    "money",
    "money_short",
    "month_name",
    "partial_note",
    "plotted",
    "png_bytes",
    "pngs",
    "read_chart_data",
    "render",
    "retention_scale",
    "top_countries",
    "write_pngs",
]


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
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
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
