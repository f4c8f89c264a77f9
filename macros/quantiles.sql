{#-
    Exact quantiles with linear interpolation, as pandas `Series.quantile` and
    `pd.qcut` compute them (numpy's "linear" method), in exact arithmetic:

        h = (value_count - 1) * q,  q = numerator / denominator
        low = floor(h)
        quantile = x[low] + (x[low + 1] - x[low]) * (h - low)

    with x the values sorted ascending, 0-based. The macros are aggregate
    expressions over a relation with the columns `quantile_value`,
    `value_position` (0-based position in ascending order; equal values may
    come in any order) and `value_count` (the number of values).

    To stay exact without division, `quantile_times_denominator` returns
    denominator * quantile; comparisons multiply the other side instead.
-#}

{% macro _quantile_low(numerator, denominator) -%}
    cast(
        floor((value_count - 1) * {{ numerator }} / {{ denominator }}.0)
        as {{ dbt.type_bigint() }}
    )
{%- endmacro %}

{% macro _value_at(offset, numerator, denominator) -%}
    max(
        case
            when value_position
                = {{ _quantile_low(numerator, denominator) }} + {{ offset }}
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
