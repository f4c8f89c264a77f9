{#-
    Incremental models are keyed on the load: a run processes what the loads
    above the highest load id the model already holds brought.
-#}

{#- The highest load id the model (`this`) holds; 0 when it is empty. -#}
{% macro load_watermark() -%}
    (select coalesce(max(watermark.load_id), 0) from {{ this }} as watermark)
{%- endmacro %}

{#- Rows whose `key` occurs in the rows of `relation` from the new loads. -#}
{% macro touched_by_new_loads(key, relation) -%}
    {{ key }} in (
        select new_rows.{{ key }}
        from {{ relation }} as new_rows
        where new_rows.load_id > {{ load_watermark() }}
    )
{%- endmacro %}
