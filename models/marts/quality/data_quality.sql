{#
    One row per data-quality fact the report states: what the figures include
    and what was dropped. Read from invoices and the load log, never lines.
    `figures` holds every fact's figures in one row (<fact>__line_count,
    <fact>__invoice_count, <fact>__note); the loop turns it into a row per
    fact, and the seed data_quality_facts says what each fact counts. A new
    fact: its three columns in `figures`, its name in `facts`, its row in the
    seed.
#}
{%- set facts = [
    'loaded_lines',
    'overlap_lines_dropped',
    'counted_lines',
    'lines_without_customer',
    'cancellation_lines',
    'adjustment_lines',
    'non_product_lines',
    'zero_price_lines',
    'negative_quantity_lines',
    'rejected_rows',
    'final_month',
] %}
{#- a figure a fact does not have, typed for the union of the facts -#}
{%- set no_count = 'cast(null as ' ~ dbt.type_bigint() ~ ')' %}
{%- set no_note = 'cast(null as ' ~ dbt.type_string() ~ ')' %}

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

fact_descriptions as (

    select * from {{ ref('data_quality_facts') }}

),

figures as (

    select
        loaded.line_count as loaded_lines__line_count,
        {{ no_count }} as loaded_lines__invoice_count,
        cast(loaded.load_count as {{ dbt.type_string() }})
        || ' load(s)' as loaded_lines__note,

        loaded.line_count - totals.line_count
            as overlap_lines_dropped__line_count,
        {{ no_count }} as overlap_lines_dropped__invoice_count,
        case
            when {{ var('dedupe_overlapping_extracts') }}
                then 'each invoice counted once, from the latest extract'
            else 'deduplication switched off: overlapping days count twice'
        end as overlap_lines_dropped__note,

        totals.line_count as counted_lines__line_count,
        totals.invoice_count as counted_lines__invoice_count,
        {{ no_note }} as counted_lines__note,

        totals.lines_without_customer as lines_without_customer__line_count,
        totals.invoices_without_customer
            as lines_without_customer__invoice_count,
        {{ no_note }} as lines_without_customer__note,

        totals.cancellation_lines as cancellation_lines__line_count,
        totals.cancellation_invoices as cancellation_lines__invoice_count,
        {{ no_note }} as cancellation_lines__note,

        totals.adjustment_lines as adjustment_lines__line_count,
        totals.adjustment_invoices as adjustment_lines__invoice_count,
        {{ no_note }} as adjustment_lines__note,

        totals.non_product_lines as non_product_lines__line_count,
        {{ no_count }} as non_product_lines__invoice_count,
        {{ no_note }} as non_product_lines__note,

        totals.zero_price_lines as zero_price_lines__line_count,
        {{ no_count }} as zero_price_lines__invoice_count,
        {{ no_note }} as zero_price_lines__note,

        totals.negative_quantity_lines as negative_quantity_lines__line_count,
        {{ no_count }} as negative_quantity_lines__invoice_count,
        {{ no_note }} as negative_quantity_lines__note,

        loaded.rejected_rows as rejected_rows__line_count,
        {{ no_count }} as rejected_rows__invoice_count,
        {{ no_note }} as rejected_rows__note,

        final_month.line_count as final_month__line_count,
        final_month.total_orders as final_month__invoice_count,
        cast(final_month.year_month as {{ dbt.type_string() }})
        || case
            when final_month.is_partial then ' is partial: data ends '
            else ' is complete: data ends '
        end
        || cast(final_month.last_line_at as {{ dbt.type_string() }})
            as final_month__note,
        -- without data there is no final month, and no row for it
        final_month.year_month is not null as has_final_month

    from loaded
    cross join totals
    left join final_month on 1 = 1

),

metrics as (

    {% for fact in facts %}
        select
            '{{ fact }}' as metric,
            {{ fact }}__line_count as line_count,
            {{ fact }}__invoice_count as invoice_count,
            {{ fact }}__note as note
        from figures
        {% if fact == 'final_month' %}where has_final_month{% endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        metrics.metric,
        fact_descriptions.description,
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
    left join fact_descriptions
        on metrics.metric = fact_descriptions.metric

)

select * from final
