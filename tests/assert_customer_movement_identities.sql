{#
    The identity of customer_movement that spans two rows: the previous
    calendar month's active customers = this month's retained + churned
    (0 before the first month). The others are tests in the model's YAML:
    active = new + retained + reactivated, and active and new equal
    monthly_users.
#}
with

movement as (

    select * from {{ ref('customer_movement') }}

),

compared as (

    select
        movement.year_month,
        movement.retained_customers,
        movement.churned_customers,
        coalesce(previous_month.active_customers, 0)
            as previous_active_customers

    from movement
    left join movement as previous_month
        on {{ previous_year_month('movement.year_month') }}
            = previous_month.year_month

)

select * from compared
where
    previous_active_customers <> retained_customers + churned_customers
