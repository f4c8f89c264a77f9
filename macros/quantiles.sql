{#-
    Exact quantiles with linear interpolation, as pandas `Series.quantile` and
    `pd.qcut` compute them (numpy's "linear" method), in exact arithmetic:

        h = (value_count - 1) * q,  q = numerator / denominator
        low = floor(h)
        quantile = x[low] + (x[low + 1] - x[low]) * (h - low)

    with x the values sorted ascending, 0-based.

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
        sum(value_frequency) over (
            {{ over }} order by quantile_value
            rows between unbounded preceding and current row
        ) as rows_up_to,
        sum(value_frequency) over ({{ over }}) as value_count

    from (
        select
            {{ group }}{{ column }} as quantile_value,
            count(*) as value_frequency

        from {{ relation }}
        group by {{ group }}{{ column }}
    ) as distinct_values
{%- endmacro %}

{% macro _quantile_low(numerator, denominator) -%}
    floor((value_count - 1) * {{ numerator }} / {{ denominator }}.0)
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

{#- The quantile itself, as numeric(38, 6) (exact for these denominators). -#}
{% macro interpolated_quantile(numerator, denominator) -%}
    cast(
        {{ quantile_times_denominator(numerator, denominator) }}
        / {{ denominator }}.0
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
