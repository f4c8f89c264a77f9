{#
    The identities of customer_movement, month by month: active = new +
    retained + reactivated; the previous calendar month's active = retained +
    churned (0 before the first month); active and new equal monthly_users
    (a month without lines has no monthly_users row and no active customer).
#}
with

movement as (

    select * from {{ ref('customer_movement') }}

),

monthly_users as (

    select * from {{ ref('monthly_users') }}

),

compared as (

    select
        movement.year_month,
        movement.active_customers,
        movement.new_customers,
        movement.retained_customers,
        movement.reactivated_customers,
        movement.churned_customers,
        coalesce(previous_month.active_customers, 0)
            as previous_active_customers,
        monthly_users.active_users,
        monthly_users.new_users

    from movement
    left join movement as previous_month
        on {{ previous_year_month('movement.year_month') }}
            = previous_month.year_month
    left join monthly_users
        on movement.year_month = monthly_users.year_month

)

select * from compared
where
    active_customers
    <> new_customers + retained_customers + reactivated_customers
    or previous_active_customers <> retained_customers + churned_customers
    or active_customers <> coalesce(active_users, 0)
    or new_customers <> coalesce(new_users, 0)

union all

-- a month of monthly_users missing from customer_movement
select
    monthly_users.year_month,
    null as active_customers,
    null as new_customers,
    null as retained_customers,
    null as reactivated_customers,
    null as churned_customers,
    null as previous_active_customers,
    monthly_users.active_users,
    monthly_users.new_users

from monthly_users
left join movement
    on monthly_users.year_month = movement.year_month
where movement.year_month is null
