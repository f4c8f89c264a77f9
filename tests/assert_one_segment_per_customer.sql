{#
    Every scored customer has exactly one segment, and with the default
    population (all orders) every known customer is scored.
#}
with

customers as (

    select * from {{ ref('customers') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

segments_per_customer as (

    select
        customer_id,
        count(distinct segment) as segments,
        count(*) as rows_per_customer

    from customer_rfm
    group by customer_id

)

select
    customers.customer_id,
    segments_per_customer.segments,
    segments_per_customer.rows_per_customer

from customers
left join segments_per_customer
    on customers.customer_id = segments_per_customer.customer_id
where
    segments_per_customer.rows_per_customer > 1
    or segments_per_customer.segments <> 1
    {% if var('rfm_population') == 'all_orders' and var('rfm_as_of') is none %}
        or segments_per_customer.customer_id is null
    {% endif %}
