{#
    The distribution of invoice amounts: `all` = every invoice with a positive
    amount (the sum of its lines with quantity > 0 and unit price > 0), and
    `below_p85` = those below the 85th percentile of `all`, which hides the few
    wholesale invoices that stretch the histogram. Percentiles interpolate
    linearly, like pandas `quantile`; the amounts are counted first, so one
    sort of the distinct amounts serves every statistic.
#}
with

invoices as (

    select positive_amount as amount
    from {{ ref('invoices') }}
    where positive_amount > 0

),

all_counted as (

    {{ counted_values('invoices', 'amount') }}

),

p85 as (

    select {{ interpolated_quantile(17, 20) }} as p85_amount
    from all_counted

),

counted as (

    select
        'all' as population,
        quantile_value,
        value_frequency,
        rows_up_to,
        value_count

    from all_counted

    union all

    select
        'below_p85' as population,
        all_counted.quantile_value,
        all_counted.value_frequency,
        sum(all_counted.value_frequency) over (
            order by all_counted.quantile_value
            rows between unbounded preceding and current row
        ) as rows_up_to,
        sum(all_counted.value_frequency) over () as value_count

    from all_counted
    cross join p85
    where all_counted.quantile_value < p85.p85_amount

),

quantiles as (

    select
        population,
        cast(max(value_count) as {{ dbt.type_bigint() }}) as invoices,
        min(quantile_value) as min_amount,
        cast(
            sum(quantile_value * value_frequency) / max(value_count)
            as numeric(38, 6)
        ) as mean_amount,
        {{ interpolated_quantile(1, 2) }} as median_amount,
        max(quantile_value) as max_amount,
        {{ interpolated_quantile(17, 20) }} as p85_amount

    from counted
    group by population

),

modes as (

    -- the most frequent amount; the smallest one on ties
    select
        population,
        quantile_value as mode_amount,
        row_number() over (
            partition by population
            order by value_frequency desc, quantile_value asc
        ) as frequency_order

    from counted

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
