{#
    The monthly marts, built from invoices, add up month by month to the
    line-level table: its lines, its net amount, and the amounts of its
    cancellation and other lines. Checked on the months the newest load's
    lines fall in (every line of those months, all loads), so a daily build
    checks the months it changed; `line_tests_scope: all` checks every month.
    (Distinct orders and customers per month are reconciled with the invoices
    in assert_incremental_aggregates_match_invoices and
    assert_monthly_users_reconcile_with_invoices.)
#}
with

checked_months as (

    select distinct year_month
    from {{ ref('int_invoice_lines_deduplicated') }}
    where {{ newest_load_only() }}

),

lines as (

    select
        year_month,
        count(*) as line_count,
        sum(line_amount) as net_sales,
        sum(
            case when is_cancellation then 0 else line_amount end
        ) as gross_sales,
        sum(
            case when is_cancellation then line_amount else 0 end
        ) as cancelled_sales

    from {{ ref('int_invoice_lines_deduplicated') }}
    where year_month in (select checked_months.year_month from checked_months)
    group by year_month

),

months as (

    select
        monthly_sales.year_month,
        monthly_sales.net_sales,
        monthly_sales.gross_sales,
        monthly_sales.cancelled_sales,
        int_months_aggregated.line_count

    from {{ ref('monthly_sales') }} as monthly_sales
    inner join {{ ref('int_months_aggregated') }} as int_months_aggregated
        on monthly_sales.year_month = int_months_aggregated.year_month
    where
        monthly_sales.year_month in (
            select checked_months.year_month from checked_months
        )

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
    or lines.gross_sales <> months.gross_sales
    or lines.cancelled_sales <> months.cancelled_sales
