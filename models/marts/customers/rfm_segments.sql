with

segments as (

    select * from {{ ref('rfm_segment_definitions') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

per_segment as (

    select
        segment,
        count(*) as customers,
        avg(recency_days) as mean_recency_days,
        avg(frequency) as mean_frequency,
        avg(monetary) as mean_monetary,
        sum(monetary) as total_monetary

    from customer_rfm
    group by segment

),

all_customers as (

    select count(*) as customers from customer_rfm

),

final as (

    select
        segments.segment,
        segments.segment_order,
        cast(
            case
                when all_customers.customers > 0
                    then
                        100.0 * coalesce(per_segment.customers, 0)
                        / all_customers.customers
            end as numeric(38, 6)
        ) as share_pct,
        cast(per_segment.mean_recency_days as numeric(38, 6))
            as mean_recency_days,
        cast(per_segment.mean_frequency as numeric(38, 6)) as mean_frequency,
        cast(per_segment.mean_monetary as numeric(38, 6)) as mean_monetary,
        segments.description,
        segments.recommended_action,
        coalesce(per_segment.customers, 0) as customers,
        coalesce(per_segment.total_monetary, 0) as total_monetary

    from segments
    cross join all_customers
    left join per_segment
        on segments.segment = per_segment.segment

)

select * from final
