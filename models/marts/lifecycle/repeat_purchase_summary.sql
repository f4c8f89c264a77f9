{#
    Repeat purchase, one row per population: all customers with a purchase,
    the wholesale ones and the retail ones. The median interpolates linearly,
    like pandas `median`, in exact arithmetic (macros/quantiles.sql).
#}
with

customers as (

    select * from {{ ref('customers') }}
    where purchase_invoices > 0

),

population_names as (

    select
        'all' as population,
        1 as population_order
    union all
    select
        'wholesale' as population,
        2 as population_order
    union all
    select
        'retail' as population,
        3 as population_order

),

populations as (

    select
        'all' as population,
        is_repeat_customer,
        days_to_second_purchase

    from customers

    union all

    select
        customer_type as population,
        is_repeat_customer,
        days_to_second_purchase

    from customers

),

counted as (

    select
        population,
        count(*) as customers,
        count(case when is_repeat_customer then 1 end) as repeat_customers,
        avg(days_to_second_purchase) as mean_days_to_second_purchase

    from populations
    group by population

),

repeat_days as (

    select
        population,
        days_to_second_purchase

    from populations
    where days_to_second_purchase is not null

),

days_counted as (

    {{ counted_values(
        'repeat_days', 'days_to_second_purchase', partition_by='population'
    ) }}

),

medians as (

    select
        population,
        {{ interpolated_quantile(1, 2) }} as median_days_to_second_purchase

    from days_counted
    group by population

),

joined as (

    select
        population_names.population,
        population_names.population_order,
        medians.median_days_to_second_purchase,
        counted.mean_days_to_second_purchase,
        coalesce(counted.customers, 0) as customers,
        coalesce(counted.repeat_customers, 0) as repeat_customers

    from population_names
    left join counted
        on population_names.population = counted.population
    left join medians
        on population_names.population = medians.population

),

final as (

    select
        population,
        population_order,
        customers,
        repeat_customers,
        cast(
            case
                when customers > 0 then 100.0 * repeat_customers / customers
            end as numeric(38, 6)
        ) as repeat_rate_pct,
        median_days_to_second_purchase,
        cast(
            mean_days_to_second_purchase as numeric(38, 6)
        ) as mean_days_to_second_purchase

    from joined

)

select * from final
