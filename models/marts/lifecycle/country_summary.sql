{#
    One row per invoice country: invoices, distinct known customers, net
    sales and their share of all net sales, first and last line. A customer
    who invoiced from two countries counts in both.
#}
with

invoices as (

    select * from {{ ref('invoices') }}

),

per_country as (

    select
        country,
        count(*) as invoices,
        count(distinct customer_id) as customers,
        sum(amount) as net_sales,
        min(invoiced_at) as first_invoiced_at,
        max(last_line_at) as last_invoiced_at

    from invoices
    group by country

),

all_countries as (

    select sum(net_sales) as net_sales from per_country

),

final as (

    select
        per_country.country,
        per_country.invoices,
        per_country.customers,
        per_country.net_sales,
        cast(
            case
                when all_countries.net_sales <> 0
                    then 100 * per_country.net_sales / all_countries.net_sales
            end as numeric(38, 6)
        ) as share_of_net_sales_pct,
        per_country.first_invoiced_at,
        per_country.last_invoiced_at

    from per_country
    cross join all_countries

)

select * from final
