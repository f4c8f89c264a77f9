{#
    One row per cohort (the month of the customers' first line) and month
    since it, through the last month of the data: how many of the cohort's
    customers are active, and what the cohort has spent so far.
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

cohorts as (

    select
        first_year_month as cohort_year_month,
        count(*) as cohort_customers

    from customers
    group by first_year_month

),

cohort_activity as (

    select
        customers.first_year_month as cohort_year_month,
        active_months.year_month,
        count(*) as active_customers,
        sum(active_months.net_sales) as net_sales

    from active_months
    inner join customers
        on active_months.customer_id = customers.customer_id
    group by customers.first_year_month, active_months.year_month

),

grid as (

    select
        cohorts.cohort_year_month,
        cohorts.cohort_customers,
        months.year_month,
        months.month_start,
        months.month_number - cohort_months.month_number as months_since_first

    from cohorts
    inner join months as cohort_months
        on cohorts.cohort_year_month = cohort_months.year_month
    inner join months
        on cohort_months.month_number <= months.month_number

),

joined as (

    select
        grid.cohort_year_month,
        grid.months_since_first,
        grid.year_month,
        grid.month_start,
        grid.cohort_customers,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.net_sales, 0) as net_sales

    from grid
    left join cohort_activity
        on
            grid.cohort_year_month = cohort_activity.cohort_year_month
            and grid.year_month = cohort_activity.year_month

),

cumulated as (

    select
        *,
        sum(net_sales) over (
            partition by cohort_year_month order by months_since_first
            rows between unbounded preceding and current row
        ) as cumulative_net_sales

    from joined

),

final as (

    select
        cumulated.cohort_year_month,
        cast(cumulated.months_since_first as integer) as months_since_first,
        cumulated.year_month,
        cumulated.month_start,
        cumulated.cohort_customers,
        cumulated.active_customers,
        cast(
            100.0 * cumulated.active_customers / cumulated.cohort_customers
            as numeric(38, 6)
        ) as retention_pct,
        cumulated.net_sales,
        cumulated.cumulative_net_sales,
        cast(
            cumulated.cumulative_net_sales / cumulated.cohort_customers
            as numeric(38, 6)
        ) as net_sales_per_cohort_customer,
        -- a month without lines (a gap in the data) is complete
        coalesce(monthly_sales.is_complete_month, true) as is_complete_month,
        -- the first month of the data: its "new" customers include everyone
        -- who bought before the data starts
        cumulated.cohort_year_month
        = (select min(months.year_month) from months) as is_left_censored

    from cumulated
    left join monthly_sales
        on cumulated.year_month = monthly_sales.year_month

)

select * from final
