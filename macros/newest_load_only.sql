{#-
    A test filter for line-level tests: only the lines of the loads not yet
    checked. Loads never change once written (a reload is a new load), so
    checking each load when it arrives checks them all, and a daily
    `dbt build` costs what the day costs.

    - default: the newest load;
    - `--vars '{line_tests_from_load: N}'`: loads N and later (`lgs run` passes
      the first load it made, so several files loaded in one run are all
      checked);
    - `--vars '{line_tests_scope: all}'`: every load again.
-#}
{% macro newest_load_only() -%}
    {%- set from_load = var('line_tests_from_load', none) -%}
    {%- if var('line_tests_scope') == 'all' -%}
        1 = 1
    {%- elif from_load is not none -%}
        {%- if not (from_load | string).isdigit() -%}
            {{ exceptions.raise_compiler_error(
                "var line_tests_from_load must be a load id (a whole number), got '"
                ~ from_load ~ "'"
            ) }}
        {%- endif -%}
        load_id >= {{ from_load | int }}
    {%- else -%}
        load_id = (
            select max(loads.load_id)
            from {{ source('retail', 'loads') }} as loads
        )
    {%- endif -%}
{%- endmacro %}
