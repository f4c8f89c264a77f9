{#
    The monthly marts, built from invoices, add up month by month to the
    line-level table: its lines and its total amount. (Distinct orders and
    customers per month are reconciled with the invoices in
    assert_incremental_aggregates_match_invoices, and the invoices with their
    lines in assert_invoices_reconcile_with_lines.)
#}
with

lines as (

    select
        year_month,
        count(*) as line_count,
        sum(line_amount) as net_sales

    from {{ ref('int_invoice_lines_deduplicated') }}
    group by year_month

),

months as (

    select
        monthly_sales.year_month,
        monthly_sales.net_sales,
        int_months_aggregated.line_count,
        monthly_sales.gross_sales
        + monthly_sales.cancelled_sales as gross_plus_cancelled_sales

    from {{ ref('monthly_sales') }} as monthly_sales
    inner join {{ ref('int_months_aggregated') }} as int_months_aggregated
        on monthly_sales.year_month = int_months_aggregated.year_month

)

select
    lines.line_count as line_level_lines,
    months.line_count as mart_lines,
    lines.net_sales as line_level_sales,
    months.net_sales as mart_sales,
    coalesce(lines.year_month, months.year_month) as year_month

from lines
full outer join months
    on lines.year_month = months.year_month
where
    lines.year_month is null
    or months.year_month is null
    or lines.line_count <> months.line_count
    or lines.net_sales <> months.net_sales
    or months.gross_plus_cancelled_sales <> months.net_sales
