{#-
    A test filter for line-level tests: only the lines of the newest load.
    Loads never change once written (a reload is a new load), so checking each
    load when it arrives checks them all, and a daily `dbt build` costs what
    the day costs. `--vars '{line_tests_scope: all}'` checks every load again.
-#}
{% macro newest_load_only() -%}
    {%- if var('line_tests_scope') == 'all' -%}
        1 = 1
    {%- else -%}
        load_id = (
            select max(loads.load_id)
            from {{ source('retail', 'loads') }} as loads
        )
    {%- endif -%}
{%- endmacro %}
