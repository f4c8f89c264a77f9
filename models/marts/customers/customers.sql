with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

customers_classified as (

    select * from {{ ref('int_customers_classified') }}

),

final as (

    select
        customers.customer_id,
        customers.country,
        customers.first_invoiced_at,
        customers.last_invoiced_at,
        customers.first_year_month,
        customers.lifetime_invoices,
        customers.cancelled_invoices,
        customers.net_revenue,
        customer_rfm.segment,
        customer_rfm.rfm_score,
        customer_rfm.r_score,
        customer_rfm.f_score,
        customer_rfm.m_score,
        customers_classified.purchase_invoices,
        customers_classified.first_purchase_at,
        customers_classified.second_purchase_at,
        customers_classified.days_to_second_purchase,
        customers_classified.is_repeat_customer,
        customers_classified.customer_type,
        customers_classified.mean_units_per_purchase

    from customers
    left join customer_rfm
        on customers.customer_id = customer_rfm.customer_id
    left join customers_classified
        on customers.customer_id = customers_classified.customer_id

)

select * from final
