{#
    What the invoice-level marts rely on: the lines of one invoice share one
    customer (or all have none), one country and one calendar day. Checked on
    the invoices of the newest load (macro newest_load_only).
#}
select
    invoice_no,
    count(distinct customer_id) as customers,
    count(*) - count(customer_id) as lines_without_customer,
    count(customer_id) as lines_with_customer,
    count(distinct country) as countries,
    min(invoiced_at) as first_line_at,
    max(invoiced_at) as last_line_at

from {{ ref('int_invoice_lines_deduplicated') }}
where {{ newest_load_only() }}
group by invoice_no
having
    count(distinct customer_id) > 1
    or (count(customer_id) > 0 and count(customer_id) < count(*))
    or count(distinct country) > 1
    or cast(min(invoiced_at) as date) <> cast(max(invoiced_at) as date)
