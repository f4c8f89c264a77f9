{#
    monthly_sales_by_customer_type: each month of monthly_sales has exactly
    its three rows (wholesale, retail, unknown), their net sales add up to the
    month's net_sales, and the wholesale and retail active customers add up
    to monthly_users.active_users.
#}
with

by_type as (

    select
        year_month,
        count(*) as type_rows,
        count(distinct customer_type) as customer_types,
        sum(net_sales) as net_sales,
        sum(active_customers) as active_customers

    from {{ ref('monthly_sales_by_customer_type') }}
    group by year_month

),

monthly_sales as (

    select * from {{ ref('monthly_sales') }}

),

monthly_users as (

    select * from {{ ref('monthly_users') }}

)

select
    by_type.type_rows,
    by_type.net_sales as type_net_sales,
    monthly_sales.net_sales,
    by_type.active_customers as type_active_customers,
    monthly_users.active_users,
    coalesce(by_type.year_month, monthly_sales.year_month) as year_month

from by_type
full outer join monthly_sales
    on by_type.year_month = monthly_sales.year_month
left join monthly_users
    on monthly_sales.year_month = monthly_users.year_month
where
    by_type.year_month is null
    or monthly_sales.year_month is null
    or by_type.type_rows <> 3
    or by_type.customer_types <> 3
    or by_type.net_sales <> monthly_sales.net_sales
    or by_type.active_customers <> monthly_users.active_users
