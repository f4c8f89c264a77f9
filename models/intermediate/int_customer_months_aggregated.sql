{#
    One row per known customer per calendar month in which they have an
    invoice: the additive monthly facts of the customer lifecycle marts, and
    the first two purchases of the month. Incremental like
    int_customers_aggregated: a run deletes and recomputes, from their
    invoices (never lines), only the customers that invoices of new loads
    belong to, or belonged to before a re-delivery.
#}
{{ incremental_on_loads(recompute_key='customer_id') }}

with

invoices as (

    select * from {{ ref('invoices') }}
    where customer_id is not null

    {% if is_incremental() %}
        and customer_id in ({{ keys_touched_by_new_loads(
            'customer_id', ref('int_invoice_versions')
        ) }})
    {% endif %}

),

flagged as (

    select
        customer_id,
        year_month,
        invoice_no,
        invoiced_at,
        amount,
        positive_product_quantity,
        load_id,
        -- a purchase is neither a cancellation nor a bad-debt adjustment
        not is_cancellation and not is_adjustment as is_purchase

    from invoices

),

ordered as (

    select
        *,
        row_number() over (
            partition by customer_id, year_month, is_purchase
            order by invoiced_at, invoice_no
        ) as purchase_order

    from flagged

),

aggregated as (

    select
        customer_id,
        year_month,
        count(*) as invoices,
        count(case when is_purchase then 1 end) as purchases,
        sum(amount) as net_sales,
        cast(
            coalesce(
                sum(case when is_purchase then positive_product_quantity end),
                0
            ) as {{ dbt.type_bigint() }}
        ) as purchase_units,
        min(case when is_purchase then invoiced_at end) as first_purchase_at,
        min(
            case when is_purchase and purchase_order = 2 then invoiced_at end
        ) as second_purchase_at,
        max(load_id) as load_id

    from ordered
    group by customer_id, year_month

)

select * from aggregated
