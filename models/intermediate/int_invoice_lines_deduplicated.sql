{#
    The invoice lines the marts count: each invoice taken from one extract only,
    the latest that holds it (latest in the load order, where a file reloaded
    with --replace keeps its first load's place; then latest extract), all
    of its lines there, exact duplicate lines included. The UCI workbook's two
    sheets overlap on 2010-12-01..09; without this those days count twice.
    With var dedupe_overlapping_extracts = false every line is kept (the
    published notebook figures).

    Incremental, keyed on the load: a run reads only the loads that arrived
    since the last one and replaces, invoice by invoice, what they re-deliver.
#}
{{ incremental_on_loads(
    unique_key='invoice_no', indexes=['invoice_no', 'load_id']
) }}

{{ assert_dedupe_setting_unchanged() }}

with

invoice_lines as (

    select * from {{ ref('stg_retail__invoice_lines') }}
    {{ where_in_new_loads(ref('stg_retail__invoice_lines')) }}

),

ranked as (

    select
        *,
        dense_rank() over (
            partition by invoice_no
            order by load_order desc, load_id desc, extract_no desc
        ) as extract_rank

    from invoice_lines

),

deduplicated as (

    select
        load_id,
        extract_no,
        source_row,
        invoice_no,
        stock_code,
        description,
        quantity,
        unit_price,
        line_amount,
        invoiced_at,
        year_month,
        customer_id,
        country,
        is_cancellation,
        is_adjustment,
        is_product,
        stock_code_category,
        -- the setting this table was built with (see
        -- assert_dedupe_setting_unchanged)
        {{ 'true' if var('dedupe_overlapping_extracts') else 'false' }}
            as is_deduplicated

    from ranked
    {% if var('dedupe_overlapping_extracts') %}
        where extract_rank = 1
    {% endif %}

)

select * from deduplicated
