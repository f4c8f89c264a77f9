{#
    One row per calendar month of the data (a month without lines included):
    the active customers split into new, retained and reactivated, those lost
    since the previous calendar month, and the net sales of each group.
#}
with

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

active_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

monthly_sales as (

    select * from {{ ref('monthly_sales') }}

),

months as (

    {{ month_spine(ref('int_months_aggregated')) }}

),

numbered as (

    select
        active_months.customer_id,
        months.month_number,
        active_months.net_sales,
        active_months.year_month = customers.first_year_month as is_new

    from active_months
    inner join months
        on active_months.year_month = months.year_month
    inner join customers
        on active_months.customer_id = customers.customer_id

),

classified as (

    select
        this_month.month_number,
        this_month.net_sales,
        this_month.is_new,
        previous_month.customer_id is not null as was_active_previous_month

    from numbered as this_month
    left join numbered as previous_month
        on
            this_month.customer_id = previous_month.customer_id
            and this_month.month_number - 1 = previous_month.month_number

),

counted as (

    select
        month_number,
        count(*) as active_customers,
        count(case when is_new then 1 end) as new_customers,
        count(
            case when was_active_previous_month then 1 end
        ) as retained_customers,
        count(
            case when not is_new and not was_active_previous_month then 1 end
        ) as reactivated_customers,
        sum(case when is_new then net_sales else 0 end) as new_net_sales,
        sum(
            case when was_active_previous_month then net_sales else 0 end
        ) as retained_net_sales,
        sum(
            case
                when not is_new and not was_active_previous_month
                    then net_sales
                else 0
            end
        ) as reactivated_net_sales

    from classified
    group by month_number

),

churned as (

    -- active in a month, not in the next one: churned in the next one
    select
        previous_month.month_number + 1 as month_number,
        count(*) as churned_customers

    from numbered as previous_month
    left join numbered as this_month
        on
            previous_month.customer_id = this_month.customer_id
            and previous_month.month_number + 1 = this_month.month_number
    where this_month.customer_id is null
    group by previous_month.month_number + 1

),

final as (

    select
        months.year_month,
        months.month_start,
        coalesce(counted.active_customers, 0) as active_customers,
        coalesce(counted.new_customers, 0) as new_customers,
        coalesce(counted.retained_customers, 0) as retained_customers,
        coalesce(counted.reactivated_customers, 0) as reactivated_customers,
        coalesce(churned.churned_customers, 0) as churned_customers,
        coalesce(counted.new_net_sales, 0) as new_net_sales,
        coalesce(counted.retained_net_sales, 0) as retained_net_sales,
        coalesce(counted.reactivated_net_sales, 0) as reactivated_net_sales,
        coalesce(monthly_sales.is_complete_month, true) as is_complete_month

    from months
    left join counted
        on months.month_number = counted.month_number
    left join churned
        on months.month_number = churned.month_number
    left join monthly_sales
        on months.year_month = monthly_sales.year_month

)

select * from final
