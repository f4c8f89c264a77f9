{#
    One row per known customer: purchases, the first and second purchase and
    the customer type (see the doc blocks purchase and customer_type). A
    view over the incremental int_customer_months_aggregated: the second
    purchase is the second of the first purchase month when it has two, else
    the first of the next month with a purchase.
#}
{%- set min_units = var('wholesale_min_units_per_purchase') -%}
{%- if min_units is not number or min_units is boolean or min_units < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var wholesale_min_units_per_purchase must be a number of units, "
        ~ "0 or more, got '" ~ min_units ~ "'"
    ) }}
{%- endif -%}
{{ config(materialized='view') }}

with

customer_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

purchase_months as (

    select
        customer_id,
        first_purchase_at,
        second_purchase_at,
        row_number() over (
            partition by customer_id order by year_month
        ) as purchase_month_order

    from customer_months
    where purchases > 0

),

first_purchases as (

    select
        customer_id,
        max(
            case when purchase_month_order = 1 then first_purchase_at end
        ) as first_purchase_at,
        coalesce(
            max(case when purchase_month_order = 1 then second_purchase_at end),
            max(case when purchase_month_order = 2 then first_purchase_at end)
        ) as second_purchase_at

    from purchase_months
    where purchase_month_order <= 2
    group by customer_id

),

totals as (

    select
        customer_id,
        cast(sum(purchases) as {{ dbt.type_bigint() }}) as purchase_invoices,
        cast(sum(purchase_units) as {{ dbt.type_bigint() }}) as purchase_units

    from customer_months
    group by customer_id

),

classified as (

    select
        totals.customer_id,
        totals.purchase_invoices,
        totals.purchase_units,
        first_purchases.first_purchase_at,
        first_purchases.second_purchase_at,
        {{ whole_days_between(
            'first_purchases.first_purchase_at',
            'first_purchases.second_purchase_at'
        ) }} as days_to_second_purchase,
        totals.purchase_invoices >= 2 as is_repeat_customer,
        -- mean units per purchase >= the threshold, without dividing
        case
            when
                totals.purchase_invoices > 0
                and totals.purchase_units
                >= {{ min_units }} * totals.purchase_invoices
                then 'wholesale'
            else 'retail'
        end as customer_type,
        cast(
            case
                when totals.purchase_invoices > 0
                    then
                        cast(totals.purchase_units as numeric(38, 6))
                        / totals.purchase_invoices
            end as numeric(38, 6)
        ) as mean_units_per_purchase

    from totals
    left join first_purchases
        on totals.customer_id = first_purchases.customer_id

)

select * from classified
