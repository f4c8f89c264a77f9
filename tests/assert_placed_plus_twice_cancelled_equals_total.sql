{# The analysts' rule holds in every month: placed + 2 * cancelled = total. #}
select
    year_month,
    total_orders,
    cancelled_orders,
    placed_orders

from {{ ref('monthly_orders') }}
where
    placed_orders + 2 * cancelled_orders <> total_orders
    or cancelled_orders > total_orders
