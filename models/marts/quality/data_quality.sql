{#
    One row per data-quality fact the report states: what the figures include
    and what was dropped. Read from invoices and the load log, never lines.
#}
with

invoices as (

    select * from {{ ref('invoices') }}

),

loads as (

    select * from {{ ref('stg_retail__loads') }}
    where is_current

),

months as (

    select * from {{ ref('int_months_aggregated') }}

),

totals as (

    select
        count(*) as invoice_count,
        sum(line_count) as line_count,
        sum(
            case when not has_customer then line_count else 0 end
        ) as lines_without_customer,
        count(case when not has_customer then 1 end)
            as invoices_without_customer,
        sum(
            case when is_cancellation then line_count else 0 end
        ) as cancellation_lines,
        count(case when is_cancellation then 1 end) as cancellation_invoices,
        sum(
            case when is_adjustment then line_count else 0 end
        ) as adjustment_lines,
        count(case when is_adjustment then 1 end) as adjustment_invoices,
        sum(line_count - product_line_count) as non_product_lines,
        sum(zero_price_line_count) as zero_price_lines,
        sum(
            case
                when is_cancellation then 0 else negative_quantity_line_count
            end
        ) as negative_quantity_lines

    from invoices

),

loaded as (

    select
        coalesce(sum(rows_loaded), 0) as line_count,
        coalesce(sum(rows_rejected), 0) as rejected_rows,
        count(*) as load_count

    from loads

),

final_month as (

    select
        year_month,
        line_count,
        total_orders,
        last_line_at,
        cast(last_line_at as date)
        < cast({{ dbt.last_day('month_start', 'month') }} as date)
            as is_partial

    from months
    where year_month = (select max(latest.year_month) from months as latest)

),

metrics as (

    select
        'loaded_lines' as metric,
        'Invoice lines in the raw layer (current loads)' as description,
        loaded.line_count,
        cast(null as {{ dbt.type_bigint() }}) as invoice_count,
        cast(loaded.load_count as {{ dbt.type_string() }})
        || ' load(s)' as note
    from loaded

    union all

    select
        'overlap_lines_dropped' as metric,
        'Lines dropped because their invoice is in a later extract too'
            as description,
        loaded.line_count - totals.line_count as line_count,
        null as invoice_count,
        case
            when {{ var('dedupe_overlapping_extracts') }}
                then 'each invoice counted once, from the latest extract'
            else 'deduplication switched off: overlapping days count twice'
        end as note
    from loaded cross join totals

    union all

    select
        'counted_lines' as metric,
        'Lines the marts count' as description,
        totals.line_count,
        totals.invoice_count,
        null as note
    from totals

    union all

    select
        'lines_without_customer' as metric,
        'Lines without a customer id: in sales, not in user or RFM figures'
            as description,
        totals.lines_without_customer as line_count,
        totals.invoices_without_customer as invoice_count,
        null as note
    from totals

    union all

    select
        'cancellation_lines' as metric,
        'Lines of cancellation (C) invoices: negative quantities'
            as description,
        totals.cancellation_lines as line_count,
        totals.cancellation_invoices as invoice_count,
        null as note
    from totals

    union all

    select
        'adjustment_lines' as metric,
        'Lines of bad-debt adjustment (A) invoices' as description,
        totals.adjustment_lines as line_count,
        totals.adjustment_invoices as invoice_count,
        null as note
    from totals

    union all

    select
        'non_product_lines' as metric,
        'Lines with a non-product stock code (postage, fees, manual...)'
            as description,
        totals.non_product_lines as line_count,
        null as invoice_count,
        null as note
    from totals

    union all

    select
        'zero_price_lines' as metric,
        'Lines with a zero unit price' as description,
        totals.zero_price_lines as line_count,
        null as invoice_count,
        null as note
    from totals

    union all

    select
        'negative_quantity_lines' as metric,
        'Lines outside cancellations with a negative quantity (write-offs)'
            as description,
        totals.negative_quantity_lines as line_count,
        null as invoice_count,
        null as note
    from totals

    union all

    select
        'rejected_rows' as metric,
        'Unreadable rows skipped at load time (lgs load --max-rejects)'
            as description,
        loaded.rejected_rows as line_count,
        null as invoice_count,
        null as note
    from loaded

    union all

    select
        'final_month' as metric,
        'The last month of data; partial when the data ends inside it'
            as description,
        final_month.line_count,
        final_month.total_orders as invoice_count,
        cast(final_month.year_month as {{ dbt.type_string() }})
        || case
            when final_month.is_partial then ' is partial: data ends '
            else ' is complete: data ends '
        end
        || cast(final_month.last_line_at as {{ dbt.type_string() }}) as note
    from final_month

),

final as (

    select
        metrics.metric,
        metrics.description,
        cast(metrics.line_count as {{ dbt.type_bigint() }}) as line_count,
        cast(metrics.invoice_count as {{ dbt.type_bigint() }}) as invoice_count,
        cast(
            case
                when totals.line_count > 0
                    then 100.0 * metrics.line_count / totals.line_count
            end as numeric(38, 6)
        ) as share_of_counted_lines_pct,
        metrics.note

    from metrics
    cross join totals

)

select * from final
