{#-
    Whole days elapsed from `start_at` to `end_at` (start before end),
    truncated (23 hours -> 0). Unlike dbt.datediff(..., 'day'), which counts
    midnights crossed.
-#}
{% macro whole_days_between(start_at, end_at) -%}
    cast(
        {{ integer_divide(dbt.datediff(start_at, end_at, 'second'), 86400) }}
        as integer
    )
{%- endmacro %}
