{#
    The analysts' rule, checked against the invoices themselves: in every
    month, placed + 2 * cancelled = total, where total and cancelled are
    counted afresh from the invoices mart (not from the incremental monthly
    aggregate monthly_orders is built on).
#}
with

invoices_per_month as (

    select
        year_month,
        count(*) as invoices,
        count(case when is_cancellation then 1 end) as cancellations

    from {{ ref('invoices') }}
    group by year_month

),

monthly_orders as (

    select * from {{ ref('monthly_orders') }}

)

select
    invoices_per_month.invoices,
    invoices_per_month.cancellations,
    monthly_orders.total_orders,
    monthly_orders.cancelled_orders,
    monthly_orders.placed_orders,
    coalesce(
        invoices_per_month.year_month, monthly_orders.year_month
    ) as year_month

from invoices_per_month
full outer join monthly_orders
    on invoices_per_month.year_month = monthly_orders.year_month
where
    invoices_per_month.year_month is null
    or monthly_orders.year_month is null
    or monthly_orders.placed_orders + 2 * invoices_per_month.cancellations
    <> invoices_per_month.invoices
    or monthly_orders.cancelled_orders <> invoices_per_month.cancellations
