with

months as (

    select * from {{ ref('int_months_aggregated') }}

),

data_end as (

    select max(last_line_at) as last_line_at from months

),

compared as (

    select
        months.year_month,
        months.month_start,
        months.net_sales,
        months.gross_sales,
        months.cancelled_sales,
        previous_month.net_sales as previous_net_sales,
        -- the month the data ends inside is incomplete, unless the data
        -- ends on the month's last day
        not(
            {{ year_month('data_end.last_line_at') }} = months.year_month
            and cast(data_end.last_line_at as date)
            < cast({{ dbt.last_day('months.month_start', 'month') }} as date)
        ) as is_complete_month

    from months
    cross join data_end
    left join months as previous_month
        on {{ previous_year_month('months.year_month') }}
            = previous_month.year_month

),

final as (

    select
        year_month,
        month_start,
        net_sales,
        gross_sales,
        cancelled_sales,
        -- against the previous calendar month; null when it is missing or zero
        cast(
            case
                when previous_net_sales <> 0
                    then
                        100 * (net_sales - previous_net_sales)
                        / previous_net_sales
            end as numeric(38, 6)
        ) as sales_growth_pct,
        is_complete_month

    from compared

)

select * from final
