with

months as (

    select * from {{ ref('int_months_aggregated') }}

),

final as (

    select
        year_month,
        month_start,
        total_orders,
        cancelled_orders,
        -- the notebooks' rule: every cancellation has its original invoice in
        -- the same month, so both leave the count of orders actually placed
        total_orders - 2 * cancelled_orders as placed_orders

    from months

)

select * from final
