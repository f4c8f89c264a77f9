{#
    country_summary counts every invoice once: its invoices and net sales
    add up to the invoices mart's.
#}
with

country_totals as (

    select
        sum(invoices) as invoices,
        sum(net_sales) as net_sales

    from {{ ref('country_summary') }}

),

invoice_totals as (

    select
        count(*) as invoices,
        sum(amount) as net_sales

    from {{ ref('invoices') }}

)

select
    country_totals.invoices as country_invoices,
    invoice_totals.invoices,
    country_totals.net_sales as country_net_sales,
    invoice_totals.net_sales

from country_totals
cross join invoice_totals
where
    country_totals.invoices <> invoice_totals.invoices
    or country_totals.net_sales <> invoice_totals.net_sales
