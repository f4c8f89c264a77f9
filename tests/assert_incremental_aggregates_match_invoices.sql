{#
    The incrementally maintained monthly and per-customer aggregates equal a
    fresh aggregation of the invoices (a stale month or customer fails here;
    `dbt build --full-refresh` mends it).
#}
with

invoices as (

    select * from {{ ref('invoices') }}

),

months_fresh as (

    select
        year_month,
        count(*) as total_orders,
        sum(amount) as net_sales,
        count(distinct customer_id) as active_users

    from invoices
    group by year_month

),

customers_fresh as (

    select
        customer_id,
        count(*) as lifetime_invoices,
        sum(amount) as net_revenue,
        min(year_month) as first_year_month

    from invoices
    where customer_id is not null
    group by customer_id

),

months_stored as (

    select * from {{ ref('int_months_aggregated') }}

),

customers_stored as (

    select * from {{ ref('int_customers_aggregated') }}

),

month_differences as (

    select
        'month' as kind,
        coalesce(months_fresh.year_month, months_stored.year_month) as key_value

    from months_fresh
    full outer join months_stored
        on months_fresh.year_month = months_stored.year_month
    where
        months_fresh.year_month is null
        or months_stored.year_month is null
        or months_fresh.total_orders <> months_stored.total_orders
        or months_fresh.net_sales <> months_stored.net_sales
        or months_fresh.active_users <> months_stored.active_users

),

customer_differences as (

    select
        'customer' as kind,
        coalesce(
            customers_fresh.customer_id, customers_stored.customer_id
        ) as key_value

    from customers_fresh
    full outer join customers_stored
        on customers_fresh.customer_id = customers_stored.customer_id
    where
        customers_fresh.customer_id is null
        or customers_stored.customer_id is null
        or customers_fresh.lifetime_invoices
        <> customers_stored.lifetime_invoices
        or customers_fresh.net_revenue <> customers_stored.net_revenue
        or customers_fresh.first_year_month <> customers_stored.first_year_month

)

select * from month_differences
union all
select * from customer_differences
