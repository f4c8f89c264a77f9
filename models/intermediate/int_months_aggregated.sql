{#
    One row per calendar month with any invoice line: the additive monthly
    figures, from which the monthly marts are derived. Incremental: a run
    deletes and recomputes only the months that invoices of new loads fall in
    (a late cancellation of an old order lands in its own invoice's month),
    and those a re-delivered invoice fell in before.
#}
{{ incremental_on_loads(recompute_key='year_month') }}

with

invoices as (

    select * from {{ ref('invoices') }}

    {% if is_incremental() %}
        where year_month in ({{ keys_touched_by_new_loads(
            'year_month', ref('int_invoice_versions')
        ) }})
    {% endif %}

),

aggregated as (

    select
        year_month,
        min(month_start) as month_start,
        count(*) as total_orders,
        count(case when is_cancellation then 1 end) as cancelled_orders,
        sum(amount) as net_sales,
        sum(case when is_cancellation then 0 else amount end) as gross_sales,
        sum(case when is_cancellation then amount else 0 end)
            as cancelled_sales,
        count(distinct customer_id) as active_users,
        cast(sum(line_count) as {{ dbt.type_bigint() }}) as line_count,
        min(invoiced_at) as first_line_at,
        max(last_line_at) as last_line_at,
        max(load_id) as load_id

    from invoices
    group by year_month

)

select * from aggregated
