{#
    The distribution of invoice amounts: `all` = every invoice with a positive
    amount (the sum of its lines with quantity > 0 and unit price > 0), and
    `below_p85` = those below the 85th percentile of `all`, which hides the few
    wholesale invoices that stretch the histogram. Percentiles interpolate
    linearly, like pandas `quantile`.
#}
with

invoices as (

    select positive_amount as amount
    from {{ ref('invoices') }}
    where positive_amount > 0

),

all_ordered as (

    select
        amount as quantile_value,
        row_number() over (order by amount) - 1 as value_position,
        count(*) over () as value_count

    from invoices

),

p85 as (

    select {{ interpolated_quantile(17, 20) }} as p85_amount
    from all_ordered

),

populations as (

    select
        'all' as population,
        invoices.amount

    from invoices

    union all

    select
        'below_p85' as population,
        invoices.amount

    from invoices
    cross join p85
    where invoices.amount < p85.p85_amount

),

ordered as (

    select
        population,
        amount as quantile_value,
        row_number() over (partition by population order by amount) - 1
            as value_position,
        count(*) over (partition by population) as value_count

    from populations

),

quantiles as (

    select
        population,
        min(value_count) as invoices,
        min(quantile_value) as min_amount,
        cast(avg(quantile_value) as numeric(38, 6)) as mean_amount,
        {{ interpolated_quantile(1, 2) }} as median_amount,
        max(quantile_value) as max_amount,
        {{ interpolated_quantile(17, 20) }} as p85_amount

    from ordered
    group by population

),

amount_counts as (

    select
        population,
        amount,
        count(*) as invoices

    from populations
    group by population, amount

),

modes as (

    -- the most frequent amount; the smallest one on ties
    select
        population,
        amount as mode_amount,
        row_number() over (
            partition by population order by invoices desc, amount asc
        ) as frequency_order

    from amount_counts

),

final as (

    select
        quantiles.population,
        quantiles.invoices,
        quantiles.min_amount,
        quantiles.mean_amount,
        quantiles.median_amount,
        modes.mode_amount,
        quantiles.max_amount,
        quantiles.p85_amount

    from quantiles
    inner join modes
        on
            quantiles.population = modes.population
            and modes.frequency_order = 1

)

select * from final
