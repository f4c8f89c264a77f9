"""Every figure and sentence of the report: the headline cards, the two-line reading of
each chart (computed from the marts), and the data-quality notes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lgs import charts
from lgs.charts import ChartData, day_name, money, money_short, month_name
from lgs.report.data import (
    ReportData,
    _change,
    _in_window,
    _pct,
    _window_sum,
)

if TYPE_CHECKING:
    import pandas as pd


# --- headline figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    metric: str  # stable key (data-metric attribute)
    label: str
    value: float  # the exact number (data-value attribute)
    text: str  # how it is shown
    detail: str


def headlines(data: ReportData) -> list[Headline]:
    months = data.charts.months
    result: list[Headline] = []
    if data.last_12 is not None:
        sales = _window_sum(months, data.last_12, "net_sales") or 0.0
        sales_before = _window_sum(months, data.previous_12, "net_sales")
        change = _change(sales, sales_before)
        detail = f"{data.last_12.label}"
        if change is not None and sales_before is not None:
            detail += f"; {_pct(change)} vs the 12 months before ({money(sales_before)})"
        else:
            detail += "; the data does not cover the 12 months before"
        result.append(
            Headline(
                "net_sales_12m", "Net sales, last 12 complete months", sales, money(sales), detail
            )
        )
        orders = _window_sum(months, data.last_12, "placed_orders") or 0.0
        orders_before = _window_sum(months, data.previous_12, "placed_orders")
        change = _change(orders, orders_before)
        detail = f"{data.last_12.label}"
        if change is not None:
            detail += f"; {_pct(change)} vs the 12 months before ({orders_before:,.0f})"
        result.append(
            Headline(
                "placed_orders_12m",
                "Orders placed, last 12 complete months",
                orders,
                f"{orders:,.0f}",
                detail,
            )
        )
    if data.active_last_12 is not None and data.last_12 is not None:
        change = _change(data.active_last_12, data.active_previous_12)
        detail = f"customers with an invoice, {data.last_12.label}"
        if change is not None:
            detail += f"; {_pct(change)} vs the 12 months before ({data.active_previous_12:,})"
        result.append(
            Headline(
                "active_customers_12m",
                "Active customers, last 12 complete months",
                data.active_last_12,
                f"{data.active_last_12:,}",
                detail,
            )
        )
    result.append(
        Headline(
            "customers",
            "Customers",
            data.customers,
            f"{data.customers:,}",
            f"known customers since {day_name(data.first_invoice_at)}",
        )
    )
    summary = data.charts.amount_summary.loc["all"]
    result.append(
        Headline(
            "median_invoice",
            "Median invoice",
            float(summary["median_amount"]),
            money(float(summary["median_amount"]), 2),
            f"mean {money(float(summary['mean_amount']), 2)}, over "
            f"{int(summary['invoices']):,} invoices",
        )
    )
    quality = data.data_quality
    if "lines_without_customer" in quality.index:
        row = quality.loc["lines_without_customer"]
        share = float(row["share_of_counted_lines_pct"])
        result.append(
            Headline(
                "lines_without_customer_pct",
                "Lines without a customer",
                share,
                f"{share:.1f}%",
                f"{int(row['line_count']):,} invoice lines: in sales, not in customer figures",
            )
        )
    return result


# --- the readings: two lines per chart --------------------------------------------------------


def _complete(months: pd.DataFrame) -> pd.DataFrame:
    return months[months["has_data"] & ~months["is_partial"]]


def _extremes(months: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series] | None:
    complete = _complete(months)
    complete = complete[complete[column].notna()]
    if complete.empty:
        return None
    values = complete[column].astype("float64")
    return complete.loc[values.idxmax()], complete.loc[values.idxmin()]


def readings(data: ReportData) -> dict[str, tuple[str, str]]:
    """Two plain-English lines per chart, computed from the data."""
    c = data.charts
    months = c.months
    result: dict[str, tuple[str, str]] = {}

    every = c.amount_summary.loc["all"]
    below = c.amount_summary.loc["below_p85"]
    result["invoice_amounts"] = (
        f"Half of the {int(every['invoices']):,} invoices are below "
        f"{money(float(every['median_amount']), 2)} (the median); the mean, "
        f"{money(float(every['mean_amount']), 2)}, is pulled up by a few large invoices of up "
        f"to {money(float(every['max_amount']), 2)}.",
        f"The most common amount is {money(float(every['mode_amount']), 2)}; 85% of invoices "
        f"are below {money(float(every['p85_amount']), 2)}, and among those the median is "
        f"{money(float(below['median_amount']), 2)}.",
    )

    extremes = _extremes(months, "placed_orders")
    total = float(months["total_orders"].sum())
    cancelled = float(months["cancelled_orders"].sum())
    share = 100.0 * cancelled / total if total else 0.0
    worst = months.loc[months["cancelled_orders"].astype("float64").idxmax()]
    result["monthly_orders"] = (
        (
            f"Placed orders peaked in {month_name(extremes[0]['month_start'])} at "
            f"{int(extremes[0]['placed_orders']):,}; the quietest complete month was "
            f"{month_name(extremes[1]['month_start'])} with {int(extremes[1]['placed_orders']):,}."
        )
        if extremes
        else "No complete month yet to compare.",
        f"{share:.1f}% of all invoices ({cancelled:,.0f} of {total:,.0f}) are cancellations; "
        f"the most were in {month_name(worst['month_start'])} "
        f"({int(worst['cancelled_orders']):,}).",
    )

    extremes = _extremes(months, "net_sales")
    sales = _window_sum(months, data.last_12, "net_sales")
    sales_before = _window_sum(months, data.previous_12, "net_sales")
    change = _change(sales, sales_before)
    if data.last_12 is None or sales is None:
        second = "There is no complete month yet."
    elif change is None:
        second = (
            f"The last 12 complete months ({data.last_12.label}) total {money_short(sales)}; the "
            "data does not cover the 12 months before."
        )
    else:
        second = (
            f"The last 12 complete months ({data.last_12.label}) total {money_short(sales)}, "
            f"{_pct(change)} on the 12 months before ({money_short(sales_before or 0.0)})."
        )
    result["monthly_sales"] = (
        (
            f"Sales peaked in {month_name(extremes[0]['month_start'])} at "
            f"{money_short(float(extremes[0]['net_sales']))}; the lowest complete month was "
            f"{month_name(extremes[1]['month_start'])} at "
            f"{money_short(float(extremes[1]['net_sales']))}."
        )
        if extremes
        else "No complete month yet to compare.",
        second,
    )

    complete = _complete(months)
    growth = complete[complete["sales_growth_pct"].notna()]
    if growth.empty:
        first = "No two consecutive complete months to compare yet."
    else:
        values = growth["sales_growth_pct"].astype("float64")
        rise, drop = growth.loc[values.idxmax()], growth.loc[values.idxmin()]
        first = (
            f"Sales grew in {int((values > 0).sum())} of {len(values)} complete months; the "
            f"largest rise was {_pct(float(rise['sales_growth_pct']))} in "
            f"{month_name(rise['month_start'])}, the largest drop "
            f"{_pct(float(drop['sales_growth_pct']))} in {month_name(drop['month_start'])}."
        )
    result["sales_growth"] = (first, _growth_second_line(data))

    extremes = _extremes(months, "active_users")
    first = (
        (
            f"Active customers peaked at {int(extremes[0]['active_users']):,} in "
            f"{month_name(extremes[0]['month_start'])}; the quietest complete month was "
            f"{month_name(extremes[1]['month_start'])} with {int(extremes[1]['active_users']):,}."
        )
        if extremes
        else "No complete month yet to compare."
    )
    if data.active_last_12 is None or data.last_12 is None:
        second = "There is no complete month yet."
    else:
        change = _change(data.active_last_12, data.active_previous_12)
        second = f"{data.active_last_12:,} customers bought in the last 12 complete months" + (
            f", {_pct(change)} on the 12 months before ({data.active_previous_12:,})."
            if change is not None
            else "."
        )
    result["active_customers"] = (first, second)

    result["new_existing_customers"] = _new_customer_lines(data)

    segments = c.segments
    total_customers = float(segments["customers"].sum())
    total_value = float(segments["total_monetary"].sum())
    if total_customers == 0:
        result["rfm_segments"] = ("No customer has been scored yet.", "")
        return result
    largest = segments.loc[segments["customers"].astype("float64").idxmax()]
    by_name = segments.set_index(segments["segment"].astype(str))
    first = f"The largest segment is {largest['segment']} ({float(largest['share_pct']):.1f}%)."
    if str(largest["segment"]) == "Champions":
        first = "Champions are also the largest segment."
    if "Champions" in by_name.index and total_value > 0:
        champions = by_name.loc["Champions"]
        first = (
            f"Champions are {float(champions['share_pct']):.1f}% of customers but bring "
            f"{100.0 * float(champions['total_monetary']) / total_value:.0f}% of net spend; "
            + first[0].lower()
            + first[1:]
        )
    lapsing = by_name.loc[[s for s in ("At Risk", "Can't Lose") if s in by_name.index]]
    lapsing_customers = int(lapsing["customers"].sum())
    second = (
        f"At Risk and Can't Lose: {lapsing_customers:,} customers who used to buy often but "
        f"not lately, worth {money_short(float(lapsing['total_monetary'].sum()))} so far: "
        "the first target for win-back."
        if lapsing_customers
        else "No customer is At Risk or in Can't Lose."
    )
    result["rfm_segments"] = (first, second)
    result.update(lifecycle_readings(data))
    return result


def lifecycle_readings(data: ReportData) -> dict[str, tuple[str, str]]:
    """The readings of the customer lifecycle charts."""
    c = data.charts
    return {
        "cohort_retention": _retention_lines(c.cohorts),
        "customer_movement": _movement_lines(c.months),
        "days_to_second_purchase": _second_purchase_lines(c),
        "sales_by_customer_type": _customer_type_lines(c),
        "top_countries": _country_lines(c.countries),
    }


def _cohort_name(year_month: Any) -> str:
    import pandas as pd

    return month_name(pd.Timestamp(year=int(year_month) // 100, month=int(year_month) % 100, day=1))


def _retention_lines(cohorts: pd.DataFrame) -> tuple[str, str]:
    """Mean retention of the true (not left-censored) cohorts one and twelve months on,
    over the cohorts whose month is complete; then the left-censored cohort apart."""
    complete = cohorts[cohorts["is_complete_month"].astype(bool)]
    true = complete[~complete["is_left_censored"].astype(bool)]
    parts: list[str] = []
    for months, label in ((1, "the month after their first"), (12, "twelve months on")):
        cells = true[true["months_since_first"] == months]
        if not cells.empty:
            mean = float(cells["retention_pct"].astype("float64").mean())
            parts.append(f"{mean:.1f}% {label} (mean of {len(cells)} cohorts)")
    first = (
        "Of each month's new customers, " + " and ".join(parts) + " are active again."
        if parts
        else "No cohort is old enough yet to measure its retention."
    )
    censored = cohorts[cohorts["is_left_censored"].astype(bool)]
    if censored.empty:
        return (first, "")
    cohort = censored.iloc[0]
    month_1 = censored[censored["months_since_first"] == 1]
    shown = (
        f"; {float(month_1['retention_pct'].iloc[0]):.1f}% of them are back the next month"
        if not month_1.empty
        else ""
    )
    second = (
        f"{_cohort_name(cohort['cohort_year_month'])} is left-censored: the data starts then, so "
        f"its {int(cohort['cohort_customers']):,} 'new' customers include everyone who bought "
        f"before{shown}, the retention of established customers, not of new ones."
    )
    return (first, second)


def _movement_lines(months: pd.DataFrame) -> tuple[str, str]:
    complete = _complete(months)
    if complete.empty:
        return ("There is no complete month yet.", "")
    last = complete.iloc[-1]
    active = int(last["active_users"])
    first = (
        f"In {month_name(last['month_start'])}, {active:,} customers bought: "
        f"{int(last['new_customers']):,} new, {int(last['retained_customers']):,} retained "
        f"from the month before and {int(last['reactivated_customers']):,} back after a "
        f"break; {int(last['churned_customers']):,} of the previous month's did not return."
    )
    later = complete[complete["month_start"] != months.loc[months["has_data"], "month_start"].min()]
    active_sum = float(later["active_users"].sum())
    if active_sum == 0:
        return (first, "The first month has no previous month: everyone in it is new.")
    share = {
        column: 100.0 * float(later[f"{column}_customers"].sum()) / active_sum
        for column in ("new", "retained", "reactivated")
    }
    second = (
        f"Over the {len(later)} complete months after the first, {share['retained']:.0f}% of "
        f"active customers were retained, {share['reactivated']:.0f}% reactivated and "
        f"{share['new']:.0f}% new."
    )
    return (first, second)


def _second_purchase_lines(c: ChartData) -> tuple[str, str]:
    summary = c.repeat_summary
    if "all" not in summary.index or int(summary.loc["all", "customers"]) == 0:
        return ("No customer has made a purchase yet.", "")
    row = summary.loc["all"]
    repeat = int(row["repeat_customers"])
    first = (
        f"{repeat:,} of the {int(row['customers']):,} customers with a purchase "
        f"({float(row['repeat_rate_pct']):.1f}%) bought a second time"
    )
    if repeat:
        first += (
            f"; the median wait was {float(row['median_days_to_second_purchase']):,.1f} days "
            f"(mean {float(row['mean_days_to_second_purchase']):,.1f})."
        )
    else:
        first += "."
    days = c.second_purchase_days
    if days.empty:
        return (first, "")
    within = 100.0 * float((days <= 30).sum()) / len(days)
    same_day = int((days == 0).sum())
    second = (
        f"{within:.0f}% of second purchases came within 30 days of the first, "
        f"{same_day:,} on the same day."
    )
    rates = {
        p: float(summary.loc[p, "repeat_rate_pct"])
        for p in ("wholesale", "retail")
        if p in summary.index and not _missing(summary.loc[p, "repeat_rate_pct"])
    }
    if len(rates) == 2:
        second += (
            f" Wholesale customers repeat at {rates['wholesale']:.1f}%, retail at "
            f"{rates['retail']:.1f}%."
        )
    return (first, second)


def _customer_type_lines(c: ChartData) -> tuple[str, str]:
    months = c.months[c.months["has_data"]]
    totals = {
        kind: float(months[f"{kind}_net_sales"].astype("float64").sum())
        for kind in charts.CUSTOMER_TYPES
    }
    total = float(months["net_sales"].astype("float64").sum())
    if total == 0:
        return ("There are no sales yet.", "")
    summary = c.repeat_summary
    count = (
        f" ({int(summary.loc['wholesale', 'customers']):,} customers)"
        if "wholesale" in summary.index
        else ""
    )
    first = (
        f"Wholesale customers{count} brought {100.0 * totals['wholesale'] / total:.1f}% of "
        f"net sales ({money_short(totals['wholesale'])}), retail customers "
        f"{100.0 * totals['retail'] / total:.1f}% and lines without a customer id "
        f"{100.0 * totals['unknown'] / total:.1f}%."
    )
    complete = _complete(c.months)
    if complete.empty or not float(complete.iloc[-1]["net_sales"]):
        return (first, "")
    last = complete.iloc[-1]
    share = 100.0 * float(last["wholesale_net_sales"]) / float(last["net_sales"])
    second = f"In {month_name(last['month_start'])}, wholesale was {share:.1f}% of net sales."
    return (first, second)


def _country_lines(countries: pd.DataFrame) -> tuple[str, str]:
    if countries.empty:
        return ("There are no invoices yet.", "")
    lead = countries.iloc[0]
    others = countries.iloc[1:4]
    first = (
        f"{lead['country']} brought {float(lead['share_of_net_sales_pct']):.1f}% of net sales "
        f"({money_short(float(lead['net_sales']))}, {int(lead['customers']):,} customers)"
    )
    if not others.empty:
        first += "; then " + ", ".join(
            f"{r['country']} ({float(r['share_of_net_sales_pct']):.1f}%)"
            for _index, r in others.iterrows()
        )
    first += "."
    top = countries.head(charts.TOP_COUNTRIES)
    second = (
        f"Customers in {len(countries):,} countries; the top {len(top)} bring "
        f"{float(top['share_of_net_sales_pct'].astype('float64').sum()):.1f}% of net sales."
    )
    return (first, second)


def _growth_second_line(data: ReportData) -> str:
    import pandas as pd

    months = data.charts.months
    parts: list[str] = []
    complete = _complete(months)
    if not complete.empty:
        last = complete.iloc[-1]
        year_before = months[months["month_start"] == last["month_start"] - pd.DateOffset(years=1)]
        if not year_before.empty and year_before["has_data"].iloc[0]:
            before = float(year_before["net_sales"].iloc[0])
            change = _change(float(last["net_sales"]), before)
            if change is not None:
                parts.append(
                    f"Sales are seasonal: {month_name(last['month_start'])} was "
                    f"{_pct(change)} on {month_name(year_before['month_start'].iloc[0])}."
                )
    for _index, month in data.charts.partial_months.iterrows():
        value = month["sales_growth_pct"]
        shown = f" ({_pct(float(value))})" if not pd.isna(value) else ""
        parts.append(
            f"{month_name(month['month_start'])}{shown} is partial: the data ends "
            f"{day_name(data.charts.data_end)}."
        )
    return " ".join(parts) or "Each month is compared with the one before it."


def _new_customer_lines(data: ReportData) -> tuple[str, str]:
    months = data.charts.months
    with_data = months[months["has_data"]]
    first_month = with_data["month_start"].min()
    if data.last_12 is None:
        return ("There is no complete month yet.", "")
    recent = _in_window(months, data.last_12)
    recent_mean = float(recent["new_users"].mean()) if not recent.empty else 0.0
    first = f"New customers averaged {recent_mean:,.0f} a month in the last 12 complete months"
    if data.previous_12 is not None:
        before = _in_window(months, data.previous_12)
        before = before[before["month_start"] != first_month]
        if not before.empty:
            before_mean = float(before["new_users"].mean())
            first += (
                f", against {before_mean:,.0f} in the 12 before (leaving out "
                f"{month_name(first_month)}, the first month of data, when everyone is new)."
            )
        else:
            first += "."
    else:
        first += "."
    last = recent.iloc[-1] if not recent.empty else None
    if last is None or not last["active_users"]:
        return (first, "")
    share = 100.0 * float(last["existing_users"]) / float(last["active_users"])
    second = (
        f"Returning customers made up {share:.0f}% of the {int(last['active_users']):,} "
        f"active in {month_name(last['month_start'])}."
    )
    return (first, second)


def quality_notes(data: ReportData) -> list[str]:
    """Plain sentences from marts.data_quality (only for the facts present)."""
    quality = data.data_quality
    notes: list[str] = []

    def row(metric: str) -> pd.Series | None:
        return quality.loc[metric] if metric in quality.index else None

    def lines(r: pd.Series) -> str:
        share = r["share_of_counted_lines_pct"]
        shown = f" ({float(share):.1f}% of the lines counted)" if not _missing(share) else ""
        return f"{int(r['line_count']):,} invoice lines{shown}"

    if (r := row("lines_without_customer")) is not None:
        notes.append(
            f"{lines(r)} have no customer id: they count in sales and orders, not in the "
            "customer, new/existing or RFM figures."
        )
    if (r := row("cancellation_lines")) is not None:
        invoices = "" if _missing(r["invoice_count"]) else f" {int(r['invoice_count']):,}"
        notes.append(
            f"{lines(r)} are on{invoices} cancellation invoices (numbers starting with C): "
            "net sales subtract them."
        )
    if (r := row("overlap_lines_dropped")) is not None:
        note = "" if _missing(r["note"]) else f" ({r['note']})"
        notes.append(
            f"{int(r['line_count']):,} loaded lines were dropped because the extracts overlap"
            f"{note}."
        )
    if (r := row("rejected_rows")) is not None and int(r["line_count"]) > 0:
        notes.append(f"{int(r['line_count']):,} unreadable rows were skipped when loading.")
    for partial in data.charts.partial_months["month_start"]:
        notes.append(
            f"{month_name(partial)} is a partial month: the data ends "
            f"{day_name(data.charts.data_end)}. Charts show it hatched; headline figures use "
            "complete months only."
        )
    if (
        data.charts.partial_months.empty
        and (r := row("final_month")) is not None
        and not _missing(r["note"])
    ):
        notes.append(f"Final month: {r['note']}.")
    return notes


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
