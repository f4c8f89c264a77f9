"""`lgs report`: one self-contained HTML page for the marketing team, from the marts.

    lgs report [--target dev|postgres|duckdb] [--out FILE]

writes `<output>/report.html` (default `output/report.html`, `LGS_OUTPUT_DIR`): headline
figures, the twelve charts of `lgs charts` (embedded as `data:` URIs) each with a two-line
reading computed from the data, the RFM segment table with its recommended actions, and
the data-quality notes. It opens offline: no external URL, no script, CSS inline. Charts
already drawn by `lgs charts` from the same data are reused. Reads only the marts in
`MARTS_READ` (declared as the `lgs_report` exposure).

The package is the data: `data` reads the marts, `readings` computes every figure and
sentence (headline cards, each chart's reading, the quality notes), and this module says
which sections the page has (`parts()`) and renders it. The presentation is
`templates/report.html.j2` (Jinja2, autoescaped: every text is escaped there) with the
look in `templates/report.css`, inlined at render time by `lgs.page`, which also holds
the page's building blocks (`Section`, `Table`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lgs import charts, page, settings
from lgs.charts import day_name, money
from lgs.page import Cell, Chart, Column, Part, Row, Section, Table
from lgs.report.data import MARTS_READ, ReportData, read_report_data, report_data
from lgs.report.readings import _missing, headlines, quality_notes, readings

if TYPE_CHECKING:
    import pandas as pd

    from lgs.targets import Target

__all__ = [
    "MARTS_READ",
    "ReportData",
    "build_html",
    "headlines",
    "parts",
    "quality_notes",
    "read_report_data",
    "readings",
    "render",
    "report_data",
    "report_path",
]

# --- the page: what the template shows, as data -------------------------------------------------
#
# templates/report.html.j2 draws the headline cards, then every `Part` of `parts()` as a
# heading and its sections, each the same way (title, reading, chart, notes, table, when
# present). A new section is one `Section(...)` in `parts()` (with its chart in
# `lgs.charts` and its reading in `readings()`); the template does not change.


def parts(data: ReportData, images: dict[str, bytes]) -> list[Part]:
    """The page below the headline figures, in reading order."""
    reading = readings(data)

    def chart(name: str, title: str, table: Table | None = None) -> Section:
        lines = tuple(line for line in reading.get(name, ()) if line)
        alt = f"{title}: {' '.join(lines)}"
        return Section(name, title, lines, Chart.from_png(images[name], alt), table=table)

    return [
        Part(
            "sales",
            "Sales and orders",
            (
                chart("invoice_amounts", "How much is an invoice?"),
                chart("monthly_orders", "Orders placed and cancelled"),
                chart("monthly_sales", "Net sales"),
                chart("sales_growth", "Sales growth month on month"),
            ),
        ),
        Part(
            "customers",
            "Customers",
            (
                chart("active_customers", "Active customers"),
                chart("new_existing_customers", "New and existing customers"),
            ),
        ),
        Part(
            "lifecycle",
            "Customer lifecycle",
            (
                chart("cohort_retention", "Do new customers come back? Cohort retention"),
                chart("customer_movement", "Customers won, kept, won back and lost"),
                chart("days_to_second_purchase", "How long until a second purchase"),
                chart("sales_by_customer_type", "Wholesale and retail customers"),
                chart("top_countries", "Where the customers are"),
            ),
        ),
        Part(
            "segments",
            "Segments and recommended actions",
            (
                chart(
                    "rfm_segments", "Customer segments (RFM)", segment_table(data.charts.segments)
                ),
            ),
        ),
        Part(
            "quality",
            "Data quality",
            (
                Section(
                    "quality_notes",
                    "",
                    notes=tuple(quality_notes(data)),
                    table=quality_table(data.data_quality),
                ),
            ),
        ),
    ]


def segment_table(segments: pd.DataFrame) -> Table:
    """Every segment: who they are, size, mean R/F/M and the recommended action."""
    rows = []
    for _index, s in segments.iterrows():
        empty = int(s["customers"]) == 0

        def number(value: object, shown: Callable[[float], str], *, blank: bool = empty) -> Cell:
            if blank or _missing(value):
                return Cell("-", numeric=True)
            return Cell(shown(float(value)), float(value), numeric=True)  # type: ignore[arg-type]

        customers = int(s["customers"])
        rows.append(
            Row(
                (
                    Cell(str(s["segment"]), strong=True),
                    Cell(str(s["description"])),
                    Cell(f"{customers:,}", customers, numeric=True),
                    number(s["share_pct"], lambda v: f"{v:.1f}%", blank=False),
                    number(s["mean_recency_days"], lambda v: f"{v:,.0f} days"),
                    number(s["mean_frequency"], lambda v: f"{v:,.1f}"),
                    number(s["mean_monetary"], money),
                    Cell(str(s["recommended_action"])),
                ),
                {"segment": str(s["segment"])},
            )
        )
    columns = (
        Column("Segment"),
        Column("Who they are"),
        *(
            Column(title, numeric=True)
            for title in ("Customers", "Share", "Mean recency", "Mean frequency", "Mean monetary")
        ),
        Column("Recommended action"),
    )
    return Table(columns, tuple(rows))


def quality_table(quality: pd.DataFrame) -> Table:
    """marts.data_quality as it is: one row per fact."""

    def shown(value: object, format: Callable[[Any], str]) -> str:
        return "" if _missing(value) else format(value)

    rows = tuple(
        Row(
            (
                Cell(str(r["description"])),
                Cell(shown(r["line_count"], lambda v: f"{int(v):,}"), numeric=True),
                Cell(shown(r["invoice_count"], lambda v: f"{int(v):,}"), numeric=True),
                Cell(
                    shown(r["share_of_counted_lines_pct"], lambda v: f"{float(v):.2f}%"),
                    numeric=True,
                ),
                Cell(shown(r["note"], str)),
            ),
            {"metric": str(metric)},
        )
        for metric, r in quality.iterrows()
    )
    columns = (
        Column("Fact"),
        Column("Lines", numeric=True),
        Column("Invoices", numeric=True),
        Column("Share of lines counted", numeric=True),
        Column("Note"),
    )
    return Table(columns, rows)


# --- rendering ----------------------------------------------------------------------------------


def build_html(data: ReportData, images: dict[str, bytes], target: str | Target) -> str:
    """The page: `images` are the PNGs of `charts.pngs`, `target` the warehouse's name."""
    return page.render(
        "report.html.j2",
        style="report.css",
        first_day=day_name(data.first_invoice_at),
        last_day=day_name(data.charts.data_end),
        target=target,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        headlines=headlines(data),
        parts=parts(data, images),
        marts=MARTS_READ,
    )


# --- command ------------------------------------------------------------------------------------


def report_path() -> Path:
    return settings.output_dir() / "report.html"


def render(target: str | Target, out: Path | None = None) -> list[str]:
    """Write the report from `target`'s marts to `out` (default `<output>/report.html`)."""
    path = (out or report_path()).resolve()
    data = report_data(target)
    images = charts.pngs(data.charts, reuse_from=charts.charts_dir())
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(build_html(data, images, target), encoding="utf-8")
    partial.replace(path)
    return [f"report: {path}"]
