{#-
    Incremental models are keyed on the load: a run processes what the loads
    above the highest load id the model already holds brought.
-#}

{#-
    The highest load id the model (`this`) holds; 0 when it is empty. Read
    when the model runs and written into the SQL as a constant, so that the
    database prunes the older loads (PostgreSQL partitions, DuckDB row groups)
    instead of scanning them to compare with a subquery's result.
-#}
{% macro load_watermark() -%}
    {%- if execute -%}
        {%- set result = run_query(
            'select coalesce(max(load_id), 0) from ' ~ this
        ) -%}
        {{- result.columns[0].values()[0] | int -}}
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}

{#- Rows whose `key` occurs in the rows of `relation` from the new loads. -#}
{% macro touched_by_new_loads(key, relation) -%}
    {{ key }} in (
        select new_rows.{{ key }}
        from {{ relation }} as new_rows
        where new_rows.load_id > {{ load_watermark() }}
    )
{%- endmacro %}
