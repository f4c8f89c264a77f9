"""What the marketing team looks at: charts, report, notebook and dbt docs.

On warehouses of this module (one per target), loaded with the small generated file and
built by dbt: the mart readers give the same frames on PostgreSQL and DuckDB; the twelve
PNG charts exist and draw the marts' numbers; the report is self-contained, opens in the
system's headless Chromium (driven by Playwright) with every image loaded, no console error
and no request leaving the page, and its figures equal the marts; the notebook runs
headlessly and draws a figure; `lgs docs` documents every mart column and the exposures list
exactly the marts each reader reads.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markupsafe
import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Browser, Route, sync_playwright
from tests_support import MART_KEYS, PROJECT_DIR, Warehouse, environment

from lgs import charts, marts, report
from lgs.errors import WarehouseError

NOTEBOOK = PROJECT_DIR / "analyses" / "lgs_marts.ipynb"
PENNY = 0.005


# --- warehouses of this module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_duckdb(build_small: Callable[[str], Warehouse]) -> Warehouse:
    return build_small("duckdb")


@pytest.fixture(scope="module")
def built_dev(build_small: Callable[[str], Warehouse], pg_server: Any) -> Warehouse:
    return build_small("dev")


@pytest.fixture(params=["dev", "duckdb"])
def built(request: pytest.FixtureRequest) -> Warehouse:
    return request.getfixturevalue(f"built_{request.param}")  # type: ignore[no-any-return]


_OUTPUTS: dict[str, Path] = {}


@pytest.fixture
def outputs(built: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of the target's warehouse, shared by the tests of this module
    (the report reuses the charts drawn there from the same data)."""
    name = built.target.name
    if name not in _OUTPUTS:
        _OUTPUTS[name] = tmp_path_factory.mktemp(f"outputs-{name}")
    return _OUTPUTS[name]


def _with(wh: Warehouse, **env: str) -> Warehouse:
    """The same warehouse with more settings (an output folder of the test's own...)."""
    return Warehouse(wh.target, {**wh.env, **env})


def _floats(series: pd.Series) -> np.ndarray:
    return np.array([np.nan if pd.isna(v) else float(v) for v in series], dtype=float)


def _close(actual: Any, expected: Any, tolerance: float = PENNY) -> bool:
    a, b = _floats(pd.Series(actual)), _floats(pd.Series(expected))
    return a.shape == b.shape and bool(
        np.all((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= tolerance))
    )


# --- readers ------------------------------------------------------------------------------------


def test_mart_readers_give_the_same_frames_on_both_targets(
    built_dev: Warehouse, built_duckdb: Warehouse
) -> None:
    """The readers are target-agnostic: same columns, pandas types and values."""
    for mart, keys in MART_KEYS.items():
        frames = []
        for wh in (built_dev, built_duckdb):
            with wh.active():
                frame = marts.read_mart(wh.target, mart)
            frames.append(frame.sort_values(keys).reset_index(drop=True))
        dev, duck = frames
        assert not dev.empty, f"{mart} is empty"
        assert list(dev.columns) == list(duck.columns), mart
        assert dict(dev.dtypes.astype(str)) == dict(duck.dtypes.astype(str)), mart
        pd.testing.assert_frame_equal(dev, duck, check_exact=False, rtol=1e-12, obj=mart)


def test_reader_errors_name_the_fix(base_dir: Path) -> None:
    empty = Warehouse.fresh("duckdb", "outputs_empty", base_dir)
    empty.query("select 1")  # the file exists, the marts do not
    with (
        empty.active(),
        marts.MartReader("duckdb") as reader,
        pytest.raises(WarehouseError, match=r"marts.*\n.*dbt build --target duckdb"),
    ):
        reader.frame("monthly_sales")
    with pytest.raises(ValueError, match="not a mart"):
        marts.read_mart("duckdb", "raw_lines")


def test_readers_read_exactly_the_marts_they_declare(built_duckdb: Warehouse) -> None:
    with built_duckdb.active():
        with marts.MartReader("duckdb") as reader:
            charts.read_chart_data(reader)
        assert reader.marts_read == set(charts.MARTS_READ)
        with marts.MartReader("duckdb") as reader:
            report.read_report_data(reader)
        assert reader.marts_read == set(report.MARTS_READ)


# --- charts -------------------------------------------------------------------------------------


def test_charts_are_twelve_sensible_pngs(built: Warehouse, outputs: Path) -> None:
    result = _with(built, LGS_OUTPUT_DIR=str(outputs)).lgs("charts", check=True)
    folder = outputs / "charts"
    assert f"{folder}/ ({len(charts.CHART_FILES)} PNG)" in result.stdout
    assert len(charts.CHART_FILES) == 12
    files = sorted(folder.glob("*.png"))
    assert [f.name for f in files] == sorted(charts.CHART_FILES.values())
    for file in files:
        with Image.open(file) as image:
            image.verify()
        with Image.open(file) as image:
            width, height = image.size
            assert image.format == "PNG"
            assert 900 <= width <= 1600 and 450 <= height <= 1200, (file.name, image.size)
            # not blank: a real chart has many colours
            assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 50
    # a second run reuses the PNGs drawn from the same data, byte for byte
    before = {f.name: f.read_bytes() for f in files}
    _with(built, LGS_OUTPUT_DIR=str(outputs)).lgs("charts", check=True)
    assert before == {f.name: f.read_bytes() for f in sorted(folder.glob("*.png"))}


def _plotted(built: Warehouse) -> dict[str, Any]:
    """What each chart plots of the marts of `built`."""
    with built.active():
        return charts.plotted(charts.chart_data(built.target))


def test_charts_draw_the_marts_numbers(built: Warehouse) -> None:
    shown = _plotted(built)
    sales = built.query(
        "select year_month, net_sales, sales_growth_pct, is_complete_month "
        "from marts.monthly_sales order by year_month"
    )
    orders = built.query(
        "select year_month, placed_orders, cancelled_orders from marts.monthly_orders "
        "order by year_month"
    )
    users = built.query(
        "select year_month, active_users, new_users, existing_users from marts.monthly_users "
        "order by year_month"
    )
    segments = built.query("select * from marts.rfm_segments order by segment_order")
    summary = built.query("select * from marts.invoice_amount_summary").set_index("population")
    positive = int(built.scalar("select count(*) from marts.invoices where positive_amount > 0"))

    frame = shown["monthly_sales"]
    assert frame["year_month"].tolist() == [int(v) for v in sales["year_month"]]
    assert _close(frame["net_sales"], sales["net_sales"])
    assert frame["is_partial"].tolist() == [not bool(v) for v in sales["is_complete_month"]]
    assert frame["is_partial"].tolist()[-1], "the generated data ends inside its last month"
    assert _close(shown["sales_growth"]["sales_growth_pct"], sales["sales_growth_pct"], 1e-6)
    for column in ("placed_orders", "cancelled_orders"):
        assert _close(shown["monthly_orders"][column], orders[column], 0)
    assert _close(shown["active_customers"]["active_users"], users["active_users"], 0)
    for column in ("new_users", "existing_users"):
        assert _close(shown["new_existing_customers"][column], users[column], 0)
    drawn = shown["rfm_segments"]
    assert drawn["segment"].tolist() == segments["segment"].tolist()
    for column in ("customers", "share_pct", "mean_recency_days", "mean_frequency"):
        assert _close(drawn[column], segments[column], 1e-6), column
    assert _close(drawn["mean_monetary"], segments["mean_monetary"])

    markers = shown["invoice_amounts"].set_index(["population", "statistic"])
    for population in ("all", "below_p85"):
        for stat in ("min", "median", "mode", "mean", "max"):
            value = markers.loc[(population, stat), "value"]
            assert _close([value], [summary.loc[population, f"{stat}_amount"]]), (population, stat)
    # the histograms hold exactly the invoices the summary describes
    assert markers.loc[("all", "min"), "invoices_drawn"] == positive
    assert markers.loc[("all", "min"), "invoices_drawn"] == int(summary.loc["all", "invoices"])
    assert markers.loc[("below_p85", "min"), "invoices_drawn"] == int(
        summary.loc["below_p85", "invoices"]
    )


def test_chart_figures_show_the_plotted_series_and_mark_partial_months(
    built_duckdb: Warehouse,
) -> None:
    with built_duckdb.active():
        data = charts.chart_data("duckdb")
    figures = charts.figures(data)
    assert list(figures) == list(charts.CHART_FILES)
    sales = charts.plotted(data)["monthly_sales"]
    (ax,) = figures["monthly_sales"].axes
    heights = np.asarray(ax.containers[0].datavalues, dtype=float)
    assert _close(heights[~np.isnan(heights)], sales["net_sales"])
    partial = [bar.get_hatch() == charts.PARTIAL_HATCH for bar in ax.containers[0]]
    assert partial == data.months["is_partial"].tolist()
    for name, figure in figures.items():
        footer = figure._supxlabel.get_text() if figure._supxlabel else ""  # type: ignore[attr-defined]
        assert "Source: marts." in footer, name
        if name not in (
            "invoice_amounts",
            "rfm_segments",
            "days_to_second_purchase",
            "top_countries",
        ):
            assert "partial month" in footer, name
    histogram = figures["invoice_amounts"].axes[0]
    assert sum(p.get_height() for p in histogram.patches) == len(data.amounts)


def test_lifecycle_charts_draw_the_marts_numbers(built: Warehouse) -> None:
    shown = _plotted(built)

    retention = built.query(
        "select cohort_year_month, months_since_first, retention_pct, is_left_censored "
        "from marts.cohort_retention order by cohort_year_month, months_since_first"
    )
    drawn = shown["cohort_retention"]
    assert drawn["cohort_year_month"].tolist() == [int(v) for v in retention["cohort_year_month"]]
    assert drawn["months_since_first"].tolist() == [int(v) for v in retention["months_since_first"]]
    assert _close(drawn["retention_pct"], retention["retention_pct"], 1e-6)
    censored = drawn.loc[drawn["is_left_censored"].astype(bool), "cohort_year_month"]
    assert set(censored) == {int(retention["cohort_year_month"].min())}

    movement = built.query("select * from marts.customer_movement order by year_month")
    drawn = shown["customer_movement"]
    assert drawn["year_month"].tolist() == [int(v) for v in movement["year_month"]]
    for column in ("new", "retained", "reactivated", "churned"):
        assert _close(drawn[f"{column}_customers"], movement[f"{column}_customers"], 0), column
    assert drawn["is_partial"].tolist() == [not bool(v) for v in movement["is_complete_month"]]

    days = built.query(
        "select days_to_second_purchase, count(*) as customers from marts.customers "
        "where days_to_second_purchase is not null "
        "group by days_to_second_purchase order by days_to_second_purchase"
    )
    drawn = shown["days_to_second_purchase"]
    assert drawn["days_to_second_purchase"].tolist() == [
        int(v) for v in days["days_to_second_purchase"]
    ]
    assert drawn["customers"].tolist() == [int(v) for v in days["customers"]]
    repeat = int(
        built.scalar(
            "select repeat_customers from marts.repeat_purchase_summary where population = 'all'"
        )
    )
    assert int(drawn["customers"].sum()) == repeat > 0

    by_type = built.query(
        "select year_month, customer_type, net_sales from marts.monthly_sales_by_customer_type"
    ).pivot(index="year_month", columns="customer_type", values="net_sales")
    drawn = shown["sales_by_customer_type"].set_index("year_month")
    assert sorted(drawn.index) == sorted(int(v) for v in by_type.index)
    for kind in ("wholesale", "retail", "unknown"):
        expected = by_type[kind].rename(index=int).reindex(drawn.index)
        assert _close(drawn[f"{kind}_net_sales"], expected), kind
    assert (drawn["wholesale_net_sales"] != 0).any() and (drawn["retail_net_sales"] != 0).any()

    countries = built.query(
        "select country, net_sales, share_of_net_sales_pct, customers from marts.country_summary "
        f"order by net_sales desc, country limit {charts.TOP_COUNTRIES}"
    )
    drawn = shown["top_countries"]
    assert drawn["country"].tolist() == countries["country"].tolist()
    assert _close(drawn["net_sales"], countries["net_sales"])
    assert _close(drawn["share_of_net_sales_pct"], countries["share_of_net_sales_pct"], 1e-6)
    assert _close(drawn["customers"], countries["customers"], 0)


def test_lifecycle_figures_show_the_plotted_numbers(built_duckdb: Warehouse) -> None:
    with built_duckdb.active():
        data = charts.chart_data("duckdb")
    figures = charts.figures(data)
    shown = charts.plotted(data)

    # the heatmap: one cell per (cohort, month since first), the left-censored row outlined
    heatmap = figures["cohort_retention"].axes[0]
    cells = heatmap.images[0].get_array()
    retention = shown["cohort_retention"]
    assert cells.count() == len(retention)
    assert _close(
        sorted(cells.compressed()), sorted(retention["retention_pct"].astype(float)), 1e-6
    )
    labels = [label.get_text() for label in heatmap.get_yticklabels()]
    assert labels[0].endswith("*") and not any(label.endswith("*") for label in labels[1:])
    assert "left-censored" in figures["cohort_retention"]._supxlabel.get_text()  # type: ignore[attr-defined]

    # movement: churned drawn downwards, the other three stacked upwards
    (ax,) = figures["customer_movement"].axes
    retained, reactivated, new, churned = (
        np.asarray(container.datavalues, dtype=float) for container in ax.containers
    )
    movement = shown["customer_movement"]
    with_data = data.months["has_data"].to_numpy()
    assert _close(retained[with_data], movement["retained_customers"], 0)
    assert _close(reactivated[with_data], movement["reactivated_customers"], 0)
    assert _close(new[with_data], movement["new_customers"], 0)
    assert _close(churned[with_data], -movement["churned_customers"].astype(float), 0)

    # the histogram counts every repeat customer once
    histogram = figures["days_to_second_purchase"].axes[0]
    assert sum(p.get_height() for p in histogram.patches) == len(data.second_purchase_days)

    # customer types: the three stacked parts are the month's net sales
    (ax,) = figures["sales_by_customer_type"].axes
    parts = [np.asarray(c.datavalues, dtype=float) for c in ax.containers]
    months = data.months[data.months["has_data"]]
    assert _close(sum(np.nan_to_num(p) for p in parts)[with_data], months["net_sales"])

    # top countries: the bars are the countries' net sales, most first
    bars = figures["top_countries"].axes[0].containers[0]
    assert _close(bars.datavalues, shown["top_countries"]["net_sales"])


def test_growth_scale_clips_outliers_only() -> None:
    limit, clipped = charts.growth_limit(pd.Series([10.0, -20.0, 30.0, np.nan, -45.0]))
    assert not clipped and limit == pytest.approx(54.0)
    limit, clipped = charts.growth_limit(pd.Series([10.0, -20.0, 30.0, 3425.0, -45.0, 12.0]))
    assert clipped and 45 <= limit < 3425


# --- report -------------------------------------------------------------------------------------


class _ReportParser(HTMLParser):
    """The parts of the report the tests read."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.cards: dict[str, float] = {}
        self.card_text: dict[str, list[str]] = {}
        self.segments: dict[str, list[tuple[str, str]]] = {}
        self.resources: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self._card: str | None = None
        self._segment: str | None = None
        self._cell_value: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        for attribute in ("src", "href", "data", "poster", "srcset", "action"):
            if attribute in a:
                self.resources.append((tag, attribute, a[attribute]))
        if tag == "img":
            self.images.append(a)
        if tag == "div" and "card" in a.get("class", "").split():
            self._card = a["data-metric"]
            self.cards[self._card] = float(a["data-value"])
            self.card_text[self._card] = []
            self._depth = 0
        elif tag == "div" and self._card is not None:
            self._depth += 1
        if tag == "tr" and "data-segment" in a:
            self._segment = a["data-segment"]
            self.segments[self._segment] = []
        if tag == "td" and self._segment is not None and "data-value" in a:
            self._cell_value = a["data-value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._card is not None:
            if self._depth == 0:
                self._card = None
            else:
                self._depth -= 1
        if tag == "tr":
            self._segment = None

    def handle_data(self, data: str) -> None:
        if self._card is not None and data.strip():
            self.card_text[self._card].append(data.strip())
        if self._segment is not None and self._cell_value is not None:
            self.segments[self._segment].append((self._cell_value, data.strip()))
            self._cell_value = None


def _render_report(wh: Warehouse, folder: Path) -> tuple[Path, str]:
    result = _with(wh, LGS_OUTPUT_DIR=str(folder)).lgs("report", check=True)
    path = folder / "report.html"
    assert f"report: {path}" in result.stdout
    return path, path.read_text(encoding="utf-8")


_REPORTS: dict[str, tuple[Path, str]] = {}


@pytest.fixture
def report_page(built: Warehouse, outputs: Path) -> tuple[Path, str]:
    """The report of the target's warehouse (written once, read by several tests)."""
    name = built.target.name
    if name not in _REPORTS:
        _REPORTS[name] = _render_report(built, outputs)
    return _REPORTS[name]


def _last_12_complete(sales: pd.DataFrame) -> tuple[int, int]:
    complete = sales[sales["is_complete_month"].astype(bool)]
    last = pd.Timestamp(str(int(complete["year_month"].max())) + "01")
    first = last - pd.DateOffset(months=11)
    return first.year * 100 + first.month, last.year * 100 + last.month


def test_report_is_self_contained(built: Warehouse, report_page: tuple[Path, str]) -> None:
    _path, page = report_page
    assert not re.search(r"https?://", page, re.IGNORECASE), "the report names an external URL"
    assert not re.search(r"<(script|link|iframe|object|embed)\b", page, re.IGNORECASE)
    assert not re.search(r"url\(|@import", page, re.IGNORECASE)
    parser = _ReportParser()
    parser.feed(page)
    for tag, attribute, value in parser.resources:
        if tag == "a" and attribute == "href":
            assert value.startswith("#"), value  # in-page links only
        else:
            assert value.startswith("data:image/png;base64,"), (tag, attribute, value[:60])
    assert len(parser.images) == len(charts.CHART_FILES)
    for image in parser.images:
        raw = base64.b64decode(image["src"].split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(raw)) as png:
            png.verify()
        assert image["alt"].strip()


def test_report_figures_equal_the_marts(built: Warehouse, report_page: tuple[Path, str]) -> None:
    _path, page = report_page
    parser = _ReportParser()
    parser.feed(page)
    cards = parser.cards

    sales = built.query("select * from marts.monthly_sales order by year_month")
    orders = built.query("select * from marts.monthly_orders order by year_month")
    start, end = _last_12_complete(sales)
    in_window = sales["year_month"].between(start, end)
    assert _close([cards["net_sales_12m"]], [_floats(sales.loc[in_window, "net_sales"]).sum()])
    assert charts.money(cards["net_sales_12m"]) in parser.card_text["net_sales_12m"]
    placed = orders.loc[orders["year_month"].between(start, end), "placed_orders"]
    assert cards["placed_orders_12m"] == float(placed.astype(int).sum())
    active = built.scalar(
        "select count(distinct customer_id) from marts.invoices "
        f"where year_month between {start} and {end}"
    )
    assert cards["active_customers_12m"] == int(active)
    customers = int(built.scalar("select count(*) from marts.customers"))
    assert cards["customers"] == customers
    assert f"{customers:,}" in parser.card_text["customers"]
    median = built.scalar(
        "select median_amount from marts.invoice_amount_summary where population = 'all'"
    )
    assert _close([cards["median_invoice"]], [median])
    share = built.scalar(
        "select share_of_counted_lines_pct from marts.data_quality "
        "where metric = 'lines_without_customer'"
    )
    assert _close([cards["lines_without_customer_pct"]], [share], 1e-6)
    assert f"{float(share):.1f}%" in parser.card_text["lines_without_customer_pct"]

    # the segment table: every segment, its size and its recommended action
    segments = built.query("select * from marts.rfm_segments order by segment_order")
    assert list(parser.segments) == segments["segment"].tolist()
    for _index, row in segments.iterrows():
        cells = parser.segments[row["segment"]]
        assert cells[0] == (str(int(row["customers"])), f"{int(row['customers']):,}")
        assert markupsafe.escape(str(row["recommended_action"])) in page

    # a reading: the peak complete month of sales, by name
    complete = sales[sales["is_complete_month"].astype(bool)]
    peak = complete.loc[_floats(complete["net_sales"]).argmax()]
    month = pd.Timestamp(str(int(peak["year_month"])) + "01")
    assert f"Sales peaked in {month:%B %Y} at {charts.money_short(float(peak['net_sales']))}" in (
        html.unescape(page)
    )
    # the lifecycle readings: the repeat rate and the leading country, from their marts
    repeat = built.query("select * from marts.repeat_purchase_summary where population = 'all'")
    row = repeat.iloc[0]
    assert (
        f"{int(row['repeat_customers']):,} of the {int(row['customers']):,} customers with a "
        f"purchase ({float(row['repeat_rate_pct']):.1f}%) bought a second time; the median wait "
        f"was {float(row['median_days_to_second_purchase']):,.1f} days"
    ) in html.unescape(page)
    lead = built.query(
        "select * from marts.country_summary order by net_sales desc, country limit 1"
    ).iloc[0]
    assert (
        f"{lead['country']} brought {float(lead['share_of_net_sales_pct']):.1f}% of net sales"
    ) in html.unescape(page)
    sections = re.findall(r'<section[^>]*id="([a-z_]+)"', page)
    for name in charts.CHART_FILES:
        assert name in sections, (name, sections)
    # the data-quality notes
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    without = int(
        built.scalar(
            "select line_count from marts.data_quality where metric = 'lines_without_customer'"
        )
    )
    assert f"{without:,} invoice lines" in text
    assert "is a partial month" in text
    dropped = int(
        built.scalar(
            "select line_count from marts.data_quality where metric = 'overlap_lines_dropped'"
        )
    )
    assert f"{dropped:,} loaded lines were dropped" in text


def test_report_escapes_every_text(built_duckdb: Warehouse) -> None:
    with built_duckdb.active():
        data = report.report_data("duckdb")
    images = charts.pngs(data.charts, reuse_from=_OUTPUTS.get("duckdb", Path()) / "charts")
    nasty = '<script>alert("x")</script> & <b>bold</b>'
    segments = data.charts.segments.copy()
    segments["description"] = segments["description"].astype(str) + nasty
    segments["segment"] = segments["segment"].astype(str) + "<i>"
    data = dataclasses.replace(data, charts=dataclasses.replace(data.charts, segments=segments))
    page = report.build_html(data, images, "duck<db>")
    assert "<script>" not in page and "<i>" not in page and "<db>" not in page
    assert markupsafe.escape(nasty) in page and "duck&lt;db&gt;" in page
    # read back, the texts are exactly what the data said, and no element came from them
    parser = _ReportParser()
    parser.feed(page)
    assert not {"script", "i", "b", "db"} & parser.tags
    assert list(parser.segments) == segments["segment"].tolist()
    assert nasty in html.unescape(page)


# --- the report in a real browser ---------------------------------------------------------------

# Flags for the system Chromium in a container: no sandbox (root, no user namespaces), no GPU,
# and none of the browser's own traffic (updates, sync, first-run pages).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    message = (
        "headless Chromium is needed to open the report: install it "
        "(Debian: `apt-get install -y chromium`)"
    )
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: not skipping)")
    pytest.skip(message)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclasses.dataclass
class PageCheck:
    images: list[dict[str, Any]]
    console_errors: list[str]
    failed_loads: list[str]
    external_requests: list[str]

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not (i["complete"] and i["naturalWidth"] > 0)]


IMAGES_SCRIPT = """
async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  return images.map((img) => ({
    src: img.getAttribute("src").slice(0, 40),
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight,
  }));
}
"""


def open_in_chromium(browser: Browser, path: Path) -> PageCheck:
    """Open `path` in a fresh browser context; report its images, console errors and
    requests. A request for anything but the file itself or a `data:` URI is recorded as
    external and aborted: nothing leaves the machine."""
    external: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    context = browser.new_context()
    try:
        context.set_default_timeout(60_000)
        context.route("**/*", offline)
        page = context.new_page()
        errors: list[str] = []
        failed: list[str] = []
        page.on(
            "console", lambda m: errors.append(m.text) if m.type in ("error", "assert") else None
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("requestfailed", lambda r: failed.append(f"{r.url[:60]}: {r.failure}"))
        response = page.goto(path.resolve().as_uri(), wait_until="load")
        assert response is not None and response.ok, response
        images = page.evaluate(IMAGES_SCRIPT)
        page.wait_for_timeout(500)  # late console messages and requests
        return PageCheck(images, errors, failed, external)
    finally:
        context.close()


def test_report_opens_in_chromium(
    built_duckdb: Warehouse, chromium: Browser, tmp_path: Path
) -> None:
    path, page = _REPORTS.get("duckdb") or _render_report(built_duckdb, tmp_path / "output")
    check = open_in_chromium(chromium, path)
    assert len(check.images) == len(charts.CHART_FILES)
    assert not check.broken_images, check.images
    assert all(i["naturalWidth"] >= 900 for i in check.images), check.images
    assert not check.console_errors, check.console_errors
    assert not check.failed_loads, check.failed_loads
    assert not check.external_requests, check.external_requests

    # the check itself: in a scratch copy, a broken image, a console error and a request
    # for an external image (to a documentation address, aborted anyway) are all caught
    scratch = tmp_path / "broken.html"
    first = page.index("data:image/png;base64,") + len("data:image/png;base64,")
    broken = page[:first] + "AAAA" + page[first + 4 :]  # the PNG signature destroyed
    outside = "http://192.0.2.1/pixel.png"
    broken = broken.replace(
        "</body>",
        f'<img src="{outside}" alt=""><script>console.error("on purpose")</script></body>',
    )
    scratch.write_text(broken, encoding="utf-8")
    caught = open_in_chromium(chromium, scratch)
    assert len(caught.images) == len(charts.CHART_FILES) + 1
    broken_sources = [i["src"] for i in caught.broken_images]
    assert len(broken_sources) == 2, caught.images
    assert broken_sources[0].startswith("data:image/png;base64,AAAA"), caught.images
    assert broken_sources[1] == outside, caught.images
    assert any("on purpose" in e for e in caught.console_errors), caught.console_errors
    assert caught.external_requests == [outside]
    assert any(outside in f for f in caught.failed_loads), caught.failed_loads


# --- notebook -----------------------------------------------------------------------------------


def test_notebook_is_saved_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "clear the outputs"


@pytest.mark.slow
def test_notebook_runs_headlessly_and_draws_a_figure(
    built_duckdb: Warehouse, tmp_path: Path
) -> None:
    from ipykernel.kernelspec import write_kernel_spec
    from nbclient import NotebookClient

    # a kernel spec of our own, on this interpreter: no dependence on what kernels the
    # machine or the user has installed
    write_kernel_spec(tmp_path / "jupyter" / "kernels" / "lgs-tests")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    settings = {
        **built_duckdb.env,
        "LGS_TARGET": "duckdb",
        "JUPYTER_PATH": str(tmp_path / "jupyter"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    with environment(settings):
        client = NotebookClient(
            notebook,
            kernel_name="lgs-tests",
            timeout=300,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    months = len(built_duckdb.query("select year_month from marts.monthly_sales"))
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"{months} months of sales from the duckdb warehouse" in text
    images = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    with Image.open(io.BytesIO(base64.b64decode(images[0]))) as image:
        assert image.size[0] >= 500 and image.size[1] >= 250


# --- dbt docs and exposures ---------------------------------------------------------------------


def _notebook_marts() -> set[str]:
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    return set(re.findall(r"read_mart\(\s*\w+\s*,\s*\"(\w+)\"", source))


@pytest.mark.slow
def test_docs_describe_every_mart_column_and_the_exposures(
    built_duckdb: Warehouse, tmp_path: Path
) -> None:
    target = tmp_path / "dbt-target"
    wh = _with(
        built_duckdb,
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
        LGS_OUTPUT_DIR=str(tmp_path / "output"),
    )
    result = wh.lgs("docs", "--no-serve", check=True)
    assert "dbt-docs.html" in result.stdout
    assert (tmp_path / "output" / "dbt-docs.html").stat().st_size > 100_000
    target = target / "duckdb"  # dbt's folder of the target
    assert (target / "static_index.html").is_file() and (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())

    problems = []
    for mart in marts.MART_NAMES:
        node_id = f"model.lgs.{mart}"
        if node_id not in catalog["nodes"]:
            problems.append(f"{mart}: not in the catalog")
            continue
        columns = catalog["nodes"][node_id]["columns"]
        assert catalog["nodes"][node_id]["metadata"]["schema"] == "marts"
        documented = {k.lower(): v for k, v in manifest["nodes"][node_id]["columns"].items()}
        if not manifest["nodes"][node_id]["description"].strip():
            problems.append(f"{mart}: no description")
        for column in columns:
            description = documented.get(column.lower(), {}).get("description", "")
            if not description.strip():
                problems.append(f"{mart}.{column}: no description")
    assert not problems, "\n".join(problems)

    expected = {
        "lgs_charts": set(charts.MARTS_READ),
        "lgs_report": set(report.MARTS_READ),
        "lgs_marts_notebook": _notebook_marts(),
    }
    assert expected["lgs_marts_notebook"], "the notebook reads no mart through read_mart"
    for name, reads in expected.items():
        exposure = manifest["exposures"].get(f"exposure.lgs.{name}")
        assert exposure is not None, f"exposure {name} missing from the manifest"
        assert exposure["owner"]["name"] and exposure["description"].strip()
        assert set(exposure["depends_on"]["nodes"]) == {f"model.lgs.{m}" for m in reads}, name


# --- the real data --------------------------------------------------------------------------------


@pytest.mark.real
@pytest.mark.slow
def test_charts_and_report_on_the_real_data(base_dir: Path, real_ii: Path, tmp_path: Path) -> None:
    """The readings on the real data (their time is measured by `make bench`, not here)."""
    wh = Warehouse.fresh("duckdb", "outputs_real", base_dir)
    wh.load(real_ii)
    wh.dbt("build")
    wh = _with(wh, LGS_OUTPUT_DIR=str(tmp_path))
    wh.lgs("charts", check=True)
    wh.lgs("report", check=True)
    assert len(list((tmp_path / "charts").glob("*.png"))) == len(charts.CHART_FILES)
    text = html.unescape((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "Sales peaked in November 2011 at £1.46M" in text
    assert "December 2011 is a partial month" in text
    assert "2009-12 *" not in text and "December 2009 is left-censored" in text
