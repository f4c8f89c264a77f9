{#-
    Exact quantiles with linear interpolation, as pandas `Series.quantile` and
    `pd.qcut` compute them (numpy's "linear" method), in exact arithmetic:

        h = (value_count - 1) * q,  q = numerator / denominator
        low = floor(h)
        quantile = x[low] + (x[low + 1] - x[low]) * (h - low)

    with x the values sorted ascending, 0-based.

    Exact on every adapter: no step divides (DuckDB's `/` always returns a
    double). `low` is an integer division of integers, the interpolation is
    kept multiplied by the denominator, and the quantile itself multiplies by
    1 / denominator, an exact decimal for the denominators used (2, 5, 20).

    The values are first counted (`counted_values`: one row per distinct value
    with `rows_up_to`, how many values are at most it), so a quantile needs one
    sort of the distinct values, and x[k] is the smallest value with
    rows_up_to > k. The other macros are aggregate expressions over that
    relation. To stay exact without division, `quantile_times_denominator`
    returns denominator * quantile; comparisons multiply the other side instead.
-#}

{#-
    One row per distinct value of `column` in `relation` (per group of
    `partition_by`): quantile_value, value_frequency, rows_up_to, value_count.
-#}
{% macro counted_values(relation, column, partition_by=none) -%}
    {%- set group = partition_by ~ ', ' if partition_by else '' -%}
    {%- set over = 'partition by ' ~ partition_by if partition_by else '' -%}
    select
        {{ group }}quantile_value,
        value_frequency,
        cast(sum(value_frequency) over (
            {{ over }} order by quantile_value
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as rows_up_to,
        cast(
            sum(value_frequency) over ({{ over }}) as {{ dbt.type_bigint() }}
        ) as value_count

    from (
        select
            {{ group }}{{ column }} as quantile_value,
            count(*) as value_frequency

        from {{ relation }}
        group by {{ group }}{{ column }}
    ) as distinct_values
{%- endmacro %}

{% macro _quantile_low(numerator, denominator) -%}
    {{ integer_divide('(value_count - 1) * ' ~ numerator, denominator) }}
{%- endmacro %}

{#- x[low + offset]; null past the last value. -#}
{% macro _value_at(offset, numerator, denominator) -%}
    min(
        case
            when rows_up_to
                > {{ _quantile_low(numerator, denominator) }} + {{ offset }}
                then quantile_value
        end
    )
{%- endmacro %}

{% macro quantile_times_denominator(numerator, denominator) -%}
    (
        {{ denominator }} * {{ _value_at(0, numerator, denominator) }}
        + max(
            (value_count - 1) * {{ numerator }}
            - {{ denominator }} * {{ _quantile_low(numerator, denominator) }}
        )
        * (
            coalesce(
                {{ _value_at(1, numerator, denominator) }},
                {{ _value_at(0, numerator, denominator) }}
            )
            - {{ _value_at(0, numerator, denominator) }}
        )
    )
{%- endmacro %}

{#-
    The quantile itself, as numeric(38, 6). The denominator must divide
    1,000,000, so that 1 / denominator is an exact decimal (1/20 = 0.05); for
    the 2, 5 and 20 used here and 4-decimal money the result is exact.
-#}
{% macro interpolated_quantile(numerator, denominator) -%}
    {%- if denominator < 2 or 1000000 % denominator != 0 -%}
        {{ exceptions.raise_compiler_error(
            "interpolated_quantile: 1/" ~ denominator
            ~ " is not an exact decimal of at most 6 places"
        ) }}
    {%- endif -%}
    cast(
        {{ quantile_times_denominator(numerator, denominator) }}
        * {{ '0.%06d' % (1000000 // denominator) }}
        as numeric(38, 6)
    )
{%- endmacro %}

{#-
    Quintile edges of pd.qcut(x, 5): the 20/40/60/80th percentiles, each times
    5, as the columns edge_1_times_5 .. edge_4_times_5 of one row.
-#}
{% macro quintile_edges_times_5() -%}
    {%- for k in range(1, 5) %}
    {{ quantile_times_denominator(k, 5) }} as edge_{{ k }}_times_5
    {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    The qcut bin (1..5) of `value` given the edges row `edges`: bins are
    right-closed and the lowest includes the minimum, so the bin is one plus
    the number of inner edges strictly below the value.
-#}
{% macro quintile_bin(value, edges) -%}
    (
        1
        {%- for k in range(1, 5) %}
        + case when 5 * {{ value }} > {{ edges }}.edge_{{ k }}_times_5 then 1 else 0 end
        {%- endfor %}
    )
{%- endmacro %}
