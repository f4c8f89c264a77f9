{#
    One row per known customer per calendar month, from their cohort month
    through the last month of the data, inactive months included (like
    dbt_shopify's customer_cohorts), with cumulative lifetime figures. Built
    from the per-customer-month aggregate, never from lines.

    Incremental, so that a daily run does not rewrite customers x months: it
    deletes and rebuilds the rows of the customers that invoices of new loads
    touch (int_invoice_versions, as int_customers_aggregated), and when the
    data reaches a new month it adds that month's row for every other
    customer: inactive, lifetime figures carried from their previous last
    month. Rows past the last month of the data (a re-delivered invoice moved
    out of it) are deleted.
#}
{{ incremental_on_loads(
    recompute_key='customer_id',
    pre_hook="{{ delete_months_after(ref('int_months_aggregated')) }}",
    materialized='incremental',
    on_schema_change='fail',
) }}

{#- the last month this table reached, read before the pre-hooks run -#}
{%- set stored_last_month = none -%}
{%- if execute and is_incremental() -%}
    {%- set stored = run_query(
        'select max(year_month) from ' ~ this
    ).columns[0].values()[0] -%}
    {%- set stored_last_month = none if stored is none else stored | int -%}
{%- endif %}

with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

    {% if is_incremental() %}
        where customer_id in ({{ keys_touched_by_new_loads(
            'customer_id', ref('int_invoice_versions')
        ) }})
    {% endif %}

),

active_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

    {% if is_incremental() %}
        where customer_id in ({{ keys_touched_by_new_loads(
            'customer_id', ref('int_invoice_versions')
        ) }})
    {% endif %}

),

months as (

    {{ month_spine(ref('int_months_aggregated')) }}

),

spanned as (

    -- every month from the customer's cohort month (their first line's) on
    select
        customers.customer_id,
        customers.first_year_month as cohort_year_month,
        months.year_month,
        months.month_start,
        months.month_number - cohort_months.month_number as months_since_first

    from customers
    inner join months as cohort_months
        on customers.first_year_month = cohort_months.year_month
    inner join months
        on cohort_months.month_number <= months.month_number

),

joined as (

    select
        spanned.customer_id,
        spanned.year_month,
        spanned.month_start,
        spanned.cohort_year_month,
        spanned.months_since_first,
        active_months.load_id,
        active_months.customer_id is not null as is_active,
        coalesce(active_months.invoices, 0) as invoices_in_month,
        coalesce(active_months.purchases, 0) as purchases_in_month,
        coalesce(active_months.net_sales, 0) as net_sales_in_month

    from spanned
    left join active_months
        on
            spanned.customer_id = active_months.customer_id
            and spanned.year_month = active_months.year_month

),

rebuilt as (

    select
        customer_id,
        year_month,
        month_start,
        cohort_year_month,
        cast(months_since_first as integer) as months_since_first,
        is_active,
        invoices_in_month,
        purchases_in_month,
        -- numeric(38, 4) as the table holds it (on_schema_change: fail)
        cast(net_sales_in_month as numeric(38, 4)) as net_sales_in_month,
        cast(sum(invoices_in_month) over (
            partition by customer_id order by year_month
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as lifetime_invoices,
        cast(sum(purchases_in_month) over (
            partition by customer_id order by year_month
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as lifetime_purchases,
        cast(sum(net_sales_in_month) over (
            partition by customer_id order by year_month
            rows between unbounded preceding and current row
        ) as numeric(38, 4)) as lifetime_net_sales,
        -- the watermark of the incremental runs (macro load_watermark)
        max(load_id) over (partition by customer_id) as load_id

    from joined

)

{% if stored_last_month is not none %}

    ,

    carried as (

        -- the other customers in the months the data reached since the last
        -- run (the touched ones were deleted by the pre-hook): inactive
        select
            stored.customer_id,
            months.year_month,
            months.month_start,
            stored.cohort_year_month,
            cast(
                stored.months_since_first
                + months.month_number
                - {{ month_number(stored_last_month) }}
                as integer
            ) as months_since_first,
            false as is_active,
            cast(0 as {{ dbt.type_bigint() }}) as invoices_in_month,
            cast(0 as {{ dbt.type_bigint() }}) as purchases_in_month,
            cast(0 as numeric(38, 4)) as net_sales_in_month,
            stored.lifetime_invoices,
            stored.lifetime_purchases,
            stored.lifetime_net_sales,
            stored.load_id

        from {{ this }} as stored
        cross join months
        where
            stored.year_month = {{ stored_last_month }}
            and months.year_month > {{ stored_last_month }}

    )

    select * from rebuilt
    union all
    select * from carried

{% else %}

    select * from rebuilt

{% endif %}
