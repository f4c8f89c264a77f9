{#
    The monthly marts, built from invoices, agree month by month with the
    line-level table: orders, cancellations, sales and active customers.
#}
with

lines as (

    select * from {{ ref('int_invoice_lines_deduplicated') }}

),

from_lines as (

    select
        year_month,
        count(distinct invoice_no) as total_orders,
        count(
            distinct case when is_cancellation then invoice_no end
        ) as cancelled_orders,
        sum(line_amount) as net_sales,
        count(distinct customer_id) as active_users

    from lines
    group by year_month

),

from_marts as (

    select
        monthly_orders.year_month,
        monthly_orders.total_orders,
        monthly_orders.cancelled_orders,
        monthly_sales.net_sales,
        monthly_users.active_users

    from {{ ref('monthly_orders') }} as monthly_orders
    inner join {{ ref('monthly_sales') }} as monthly_sales
        on monthly_orders.year_month = monthly_sales.year_month
    inner join {{ ref('monthly_users') }} as monthly_users
        on monthly_orders.year_month = monthly_users.year_month

)

select
    from_lines.total_orders as line_orders,
    from_marts.total_orders as mart_orders,
    from_lines.net_sales as line_sales,
    from_marts.net_sales as mart_sales,
    coalesce(from_lines.year_month, from_marts.year_month) as year_month

from from_lines
full outer join from_marts
    on from_lines.year_month = from_marts.year_month
where
    from_lines.year_month is null
    or from_marts.year_month is null
    or from_lines.total_orders <> from_marts.total_orders
    or from_lines.cancelled_orders <> from_marts.cancelled_orders
    or from_lines.net_sales <> from_marts.net_sales
    or from_lines.active_users <> from_marts.active_users
