with

months as (

    select * from {{ ref('int_months_aggregated') }}

),

customers as (

    select * from {{ ref('int_customers_aggregated') }}

),

new_per_month as (

    -- a customer is new in the first month of any of their lines
    select
        first_year_month as year_month,
        count(*) as new_users

    from customers
    group by first_year_month

),

final as (

    select
        months.year_month,
        months.month_start,
        months.active_users,
        coalesce(new_per_month.new_users, 0) as new_users,
        months.active_users - coalesce(new_per_month.new_users, 0)
            as existing_users

    from months
    left join new_per_month
        on months.year_month = new_per_month.year_month

)

select * from final
