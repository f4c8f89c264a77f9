{#
    monthly_users equals a fresh count from the invoices mart: for each month,
    the distinct known customers (active), those whose first month is this
    one (new) and those whose first month is earlier (existing), so that
    new + existing = active is checked against the invoices, not restated.
#}
with

customer_months as (

    select distinct
        customer_id,
        year_month

    from {{ ref('invoices') }}
    where customer_id is not null

),

first_months as (

    select
        customer_id,
        min(year_month) as first_year_month

    from customer_months
    group by customer_id

),

counted as (

    select
        customer_months.year_month,
        count(*) as active_users,
        count(
            case
                when customer_months.year_month = first_months.first_year_month
                    then 1
            end
        ) as new_users,
        count(
            case
                when customer_months.year_month > first_months.first_year_month
                    then 1
            end
        ) as existing_users

    from customer_months
    inner join first_months
        on customer_months.customer_id = first_months.customer_id
    group by customer_months.year_month

),

monthly_users as (

    select * from {{ ref('monthly_users') }}

)

select
    monthly_users.active_users,
    monthly_users.new_users,
    monthly_users.existing_users,
    counted.active_users as counted_active_users,
    counted.new_users as counted_new_users,
    counted.existing_users as counted_existing_users,
    coalesce(monthly_users.year_month, counted.year_month) as year_month

from monthly_users
full outer join counted
    on monthly_users.year_month = counted.year_month
where
    monthly_users.year_month is null
    or monthly_users.active_users <> coalesce(counted.active_users, 0)
    or monthly_users.new_users <> coalesce(counted.new_users, 0)
    or monthly_users.existing_users <> coalesce(counted.existing_users, 0)
    or monthly_users.new_users + monthly_users.existing_users
    <> monthly_users.active_users
