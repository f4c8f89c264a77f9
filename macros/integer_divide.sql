{#-
    Integer division of two non-negative whole numbers, truncated: 7, 5 -> 1.
    Both sides are cast to bigint first (dbt.datediff returns a double on
    PostgreSQL). PostgreSQL's `/` on integers truncates; DuckDB's `/` always
    returns a double, its integer division is `//`.
-#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'lgs')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    (
        cast({{ numerator }} as {{ dbt.type_bigint() }})
        / cast({{ denominator }} as {{ dbt.type_bigint() }})
    )
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    (
        cast({{ numerator }} as {{ dbt.type_bigint() }})
        // cast({{ denominator }} as {{ dbt.type_bigint() }})
    )
{%- endmacro %}
