{#
    One row per invoice. The only model that reads the line-level table: every
    other mart aggregates invoices (an invoice never spans two days, never
    mixes customers or countries: see tests/assert_invoice_lines_agree.sql).
#}
{{ incremental_on_loads(
    unique_key='invoice_no',
    unique_indexes=['invoice_no'],
    indexes=['load_id', 'customer_id', 'year_month'],
    materialized='incremental',
    on_schema_change='append_new_columns',
) }}

with

invoice_lines as (

    select * from {{ ref('int_invoice_lines_deduplicated') }}
    {{ where_in_new_loads(ref('int_invoice_lines_deduplicated')) }}

),

flagged as (

    select
        *,
        quantity > 0 and unit_price > 0 as is_positive_line

    from invoice_lines

),

aggregated as (

    select
        invoice_no,
        min(invoiced_at) as invoiced_at,
        max(invoiced_at) as last_line_at,
        max(
            case when is_positive_line then invoiced_at end
        ) as last_positive_line_at,
        max(customer_id) as customer_id,
        max(country) as country,
        {{ dbt.bool_or('is_cancellation') }} as is_cancellation,
        {{ dbt.bool_or('is_adjustment') }} as is_adjustment,
        count(*) as line_count,
        count(case when is_positive_line then 1 end) as positive_line_count,
        count(case when is_product then 1 end) as product_line_count,
        count(case when unit_price = 0 then 1 end) as zero_price_line_count,
        count(
            case when quantity < 0 then 1 end
        ) as negative_quantity_line_count,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as quantity,
        -- units ordered: positive quantities on product lines
        cast(
            coalesce(
                sum(case when is_product and quantity > 0 then quantity end), 0
            ) as {{ dbt.type_bigint() }}
        ) as positive_product_quantity,
        sum(line_amount) as amount,
        coalesce(
            sum(case when is_positive_line then line_amount end), 0
        ) as positive_amount,
        max(load_id) as load_id

    from flagged
    group by invoice_no

),

final as (

    select
        invoice_no,
        invoiced_at,
        last_line_at,
        last_positive_line_at,
        {{ year_month('invoiced_at') }} as year_month,
        {{ month_start('invoiced_at') }} as month_start,
        customer_id,
        country,
        is_cancellation,
        is_adjustment,
        customer_id is not null as has_customer,
        line_count,
        positive_line_count,
        product_line_count,
        zero_price_line_count,
        negative_quantity_line_count,
        quantity,
        amount,
        positive_amount,
        load_id,
        positive_product_quantity

    from aggregated

)

select * from final
