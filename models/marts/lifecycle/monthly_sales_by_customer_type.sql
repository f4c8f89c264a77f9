{#
    Net sales of each month split by customer type: wholesale and retail
    known customers (their current type, see the doc block customer_type) and
    `unknown` for the lines without a customer. Three rows per month of
    monthly_sales, zeros included; they add up to its net_sales (a test).
#}
with

monthly_sales as (

    select * from {{ ref('monthly_sales') }}

),

customers as (

    select * from {{ ref('customers') }}

),

active_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

invoices_without_customer as (

    select * from {{ ref('invoices') }}
    where customer_id is null

),

customer_types as (

    select 'wholesale' as customer_type
    union all
    select 'retail' as customer_type
    union all
    select 'unknown' as customer_type

),

known_sales as (

    select
        active_months.year_month,
        customers.customer_type,
        sum(active_months.net_sales) as net_sales,
        count(*) as active_customers

    from active_months
    inner join customers
        on active_months.customer_id = customers.customer_id
    group by active_months.year_month, customers.customer_type

),

unknown_sales as (

    select
        year_month,
        'unknown' as customer_type,
        sum(amount) as net_sales,
        cast(0 as {{ dbt.type_bigint() }}) as active_customers

    from invoices_without_customer
    group by year_month

),

typed_sales as (

    select * from known_sales
    union all
    select * from unknown_sales

),

joined as (

    select
        monthly_sales.year_month,
        monthly_sales.month_start,
        customer_types.customer_type,
        monthly_sales.is_complete_month,
        monthly_sales.net_sales as month_net_sales,
        coalesce(typed_sales.net_sales, 0) as net_sales,
        coalesce(typed_sales.active_customers, 0) as active_customers

    from monthly_sales
    cross join customer_types
    left join typed_sales
        on
            monthly_sales.year_month = typed_sales.year_month
            and customer_types.customer_type = typed_sales.customer_type

),

final as (

    select
        year_month,
        month_start,
        customer_type,
        net_sales,
        active_customers,
        cast(
            case
                when month_net_sales <> 0
                    then 100 * net_sales / month_net_sales
            end as numeric(38, 6)
        ) as share_of_net_sales_pct,
        is_complete_month

    from joined

)

select * from final
