{#- Integer YYYYMM of a timestamp or date, e.g. 201012 (same SQL on every adapter). -#}
{% macro year_month(column) -%}
    cast(
        extract(year from {{ column }}) * 100 + extract(month from {{ column }})
        as integer
    )
{%- endmacro %}

{#- First day of the month of a timestamp, as a date. -#}
{% macro month_start(column) -%}
    cast({{ dbt.date_trunc('month', column) }} as date)
{%- endmacro %}

{#- The YYYYMM before an integer YYYYMM (201001 -> 200912). -#}
{% macro previous_year_month(year_month_column) -%}
    case
        when {{ year_month_column }} % 100 = 1 then {{ year_month_column }} - 89
        else {{ year_month_column }} - 1
    end
{%- endmacro %}
