{#
    One row per raw invoice line, typed and flagged. The joins are to the
    small seed that says which stock codes are not products, and to the load
    log for each load's place in the load order.
#}
with

invoice_lines as (

    select * from {{ source('retail', 'invoice_lines') }}

),

non_product_stock_codes as (

    select * from {{ ref('non_product_stock_codes') }}

),

load_order as (

    -- a file's place in the load order is its first load's: a file loaded
    -- again with --replace (same sha256) keeps it
    select
        load_id,
        min(load_id) over (partition by file_sha256) as load_order

    from {{ source('retail', 'loads') }}

),

renamed as (

    select
        invoice_lines.load_id,
        load_order.load_order,
        invoice_lines.extract_no,
        invoice_lines.source_file,
        invoice_lines.source_row,
        invoice_lines.invoice_no,
        trim(invoice_lines.stock_code) as stock_code,
        nullif(trim(invoice_lines.description), '') as description,
        invoice_lines.quantity,
        invoice_lines.unit_price,
        invoice_lines.invoice_date as invoiced_at,
        -- the file writes customer ids as floats (13085.0)
        cast(
            cast(invoice_lines.customer_id as {{ dbt.type_numeric() }})
            as {{ dbt.type_bigint() }}
        ) as customer_id,
        nullif(trim(invoice_lines.country), '') as country,
        invoice_lines.invoice_no like 'C%' as is_cancellation,
        invoice_lines.invoice_no like 'A%' as is_adjustment,
        non_product_stock_codes.stock_code_pattern is null as is_product,
        coalesce(
            non_product_stock_codes.category, 'product'
        ) as stock_code_category,
        invoice_lines.quantity * invoice_lines.unit_price as line_amount,
        {{ year_month('invoice_lines.invoice_date') }} as year_month

    from invoice_lines
    left join load_order
        on invoice_lines.load_id = load_order.load_id
    left join non_product_stock_codes
        on trim(invoice_lines.stock_code)
            like non_product_stock_codes.stock_code_pattern

)

select * from renamed
