{#
    The incrementally maintained int_customer_months_aggregated equals a
    fresh aggregation of the invoices (a stale customer fails here; `dbt build
    --full-refresh` mends it).
#}
with

invoices as (

    select * from {{ ref('invoices') }}

),

fresh as (

    select
        customer_id,
        year_month,
        count(*) as invoices,
        count(
            case when not is_cancellation and not is_adjustment then 1 end
        ) as purchases,
        sum(amount) as net_sales,
        sum(
            case
                when not is_cancellation and not is_adjustment
                    then positive_product_quantity
                else 0
            end
        ) as purchase_units

    from invoices
    where customer_id is not null
    group by customer_id, year_month

),

stored as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

customer_month_differences as (

    select
        coalesce(fresh.customer_id, stored.customer_id) as customer_id,
        coalesce(fresh.year_month, stored.year_month) as year_month

    from fresh
    full outer join stored
        on
            fresh.customer_id = stored.customer_id
            and fresh.year_month = stored.year_month
    where
        fresh.customer_id is null
        or stored.customer_id is null
        or fresh.invoices <> stored.invoices
        or fresh.purchases <> stored.purchases
        or fresh.net_sales <> stored.net_sales
        or fresh.purchase_units <> stored.purchase_units

)

select * from customer_month_differences
