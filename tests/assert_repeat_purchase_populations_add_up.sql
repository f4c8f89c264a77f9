{#
    repeat_purchase_summary: the wholesale and retail populations add up to
    `all`, and `all` equals what customer_months says at each customer's
    last month (customers with a purchase, with two or more).
#}
with

summary as (

    select * from {{ ref('repeat_purchase_summary') }}

),

split as (

    select
        sum(customers) as customers,
        sum(repeat_customers) as repeat_customers

    from summary
    where population in ('wholesale', 'retail')

),

customer_months as (

    select * from {{ ref('customer_months') }}

),

last_month as (

    select max(year_month) as year_month from customer_months

),

last_months as (

    select
        count(
            case when customer_months.lifetime_purchases > 0 then 1 end
        ) as customers,
        count(
            case when customer_months.lifetime_purchases >= 2 then 1 end
        ) as repeat_customers

    from customer_months
    inner join last_month
        on customer_months.year_month = last_month.year_month

)

select
    summary.customers,
    summary.repeat_customers,
    split.customers as split_customers,
    split.repeat_customers as split_repeat_customers,
    last_months.customers as customer_months_customers,
    last_months.repeat_customers as customer_months_repeat_customers

from summary
cross join split
cross join last_months
where
    summary.population = 'all'
    and (
        summary.customers <> split.customers
        or summary.repeat_customers <> split.repeat_customers
        or summary.customers <> last_months.customers
        or summary.repeat_customers <> last_months.repeat_customers
    )
