{#
    Each invoice of the newest load equals the aggregate of its lines: line
    count, net amount and positive amount (macro newest_load_only).
#}
with

lines as (

    select
        invoice_no,
        count(*) as line_count,
        sum(line_amount) as amount,
        sum(
            case
                when quantity > 0 and unit_price > 0 then line_amount else 0
            end
        ) as positive_amount

    from {{ ref('int_invoice_lines_deduplicated') }}
    where {{ newest_load_only() }}
    group by invoice_no

),

invoices as (

    select * from {{ ref('invoices') }}
    where {{ newest_load_only() }}

)

select
    lines.amount as line_amount,
    invoices.amount as invoice_amount,
    coalesce(lines.invoice_no, invoices.invoice_no) as invoice_no

from lines
full outer join invoices
    on lines.invoice_no = invoices.invoice_no
where
    lines.invoice_no is null
    or invoices.invoice_no is null
    or lines.line_count <> invoices.line_count
    or lines.amount <> invoices.amount
    or lines.positive_amount <> invoices.positive_amount
