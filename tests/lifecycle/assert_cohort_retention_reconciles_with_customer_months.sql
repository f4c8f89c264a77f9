{#
    cohort_retention (built from the sparse per-customer-month aggregate)
    equals an aggregation of customer_months (the dense grid), cell by cell,
    and each cohort's size is monthly_users.new_users of its month.
#}
with

from_customer_months as (

    select
        cohort_year_month,
        months_since_first,
        count(*) as cohort_customers,
        count(case when is_active then 1 end) as active_customers,
        sum(net_sales_in_month) as net_sales

    from {{ ref('customer_months') }}
    group by cohort_year_month, months_since_first

),

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

monthly_users as (

    select * from {{ ref('monthly_users') }}

)

select
    cohort_retention.cohort_customers,
    from_customer_months.cohort_customers as counted_cohort_customers,
    cohort_retention.active_customers,
    from_customer_months.active_customers as counted_active_customers,
    monthly_users.new_users,
    coalesce(
        cohort_retention.cohort_year_month,
        from_customer_months.cohort_year_month
    ) as cohort_year_month,
    coalesce(
        cohort_retention.months_since_first,
        from_customer_months.months_since_first
    ) as months_since_first

from cohort_retention
full outer join from_customer_months
    on
        cohort_retention.cohort_year_month
        = from_customer_months.cohort_year_month
        and cohort_retention.months_since_first
        = from_customer_months.months_since_first
left join monthly_users
    on cohort_retention.cohort_year_month = monthly_users.year_month
where
    cohort_retention.cohort_year_month is null
    or from_customer_months.cohort_year_month is null
    or cohort_retention.cohort_customers
    <> from_customer_months.cohort_customers
    or cohort_retention.active_customers
    <> from_customer_months.active_customers
    or cohort_retention.net_sales <> from_customer_months.net_sales
    or cohort_retention.cohort_customers <> monthly_users.new_users
