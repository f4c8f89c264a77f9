{#
    One row per known customer: lifetime figures over all their invoices, for
    both RFM populations. Incremental: a run deletes and recomputes, from
    their invoices (never lines), only the customers that invoices of new
    loads belong to, or belonged to before a re-delivery.
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

latest_invoice as (

    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by invoiced_at desc, invoice_no desc
        ) as recency_order

    from invoices

),

aggregated as (

    select
        customer_id,
        min(invoiced_at) as first_invoiced_at,
        max(last_line_at) as last_invoiced_at,
        min(year_month) as first_year_month,
        count(*) as lifetime_invoices,
        count(case when is_cancellation then 1 end) as cancelled_invoices,
        sum(amount) as net_revenue,
        count(
            case when positive_line_count > 0 then 1 end
        ) as positive_invoices,
        sum(positive_amount) as positive_revenue,
        max(last_positive_line_at) as last_positive_invoiced_at,
        max(load_id) as load_id

    from invoices
    group by customer_id

),

final as (

    select
        aggregated.*,
        latest_invoice.country

    from aggregated
    inner join latest_invoice
        on
            aggregated.customer_id = latest_invoice.customer_id
            and latest_invoice.recency_order = 1

)

select * from final
