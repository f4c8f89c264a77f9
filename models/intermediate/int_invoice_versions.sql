{#
    Every version of every invoice the invoices mart has held: its month and
    customer, and the load that brought it. Append-only: when a later load
    re-delivers an invoice (the invoices mart then replaces it), the earlier
    version stays here, so that the incremental aggregates can also recompute
    the month and the customer the invoice has left.
#}
{{ incremental_on_loads(indexes=['invoice_no', 'load_id']) }}

with

invoices as (

    select * from {{ ref('invoices') }}

    {% if is_incremental() %}
        where load_id > {{ load_watermark() }}
    {% endif %}

),

final as (

    select
        invoice_no,
        load_id,
        year_month,
        customer_id

    from invoices

)

select * from final
