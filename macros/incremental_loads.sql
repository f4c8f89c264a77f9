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

{#-
    The `key` values (`year_month`, `customer_id`) of every version of the
    invoices that new loads brought: where they are now, and where a
    re-delivered invoice was before (its date moved to another month, its
    customer changed). `versions` is int_invoice_versions.
-#}
{% macro keys_touched_by_new_loads(key, versions) -%}
    select touched.{{ key }}
    from {{ versions }} as touched
    where touched.invoice_no in (
        select new_versions.invoice_no
        from {{ versions }} as new_versions
        where new_versions.load_id > {{ load_watermark() }}
    )
{%- endmacro %}

{#-
    Pre-hook of an incremental aggregate keyed on `key`: delete the rows of
    every key new loads touch; the model then appends them recomputed. A key
    left without invoices (a month or customer a re-delivered invoice moved
    away from) is deleted and not appended again, as a full refresh would
    have it.
-#}
{% macro delete_keys_touched_by_new_loads(key, versions) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key }} in ({{ keys_touched_by_new_loads(key, versions) }})
    {%- endif -%}
{%- endmacro %}

{#-
    An incremental run must use the dedupe_overlapping_extracts setting the
    incremental state was built with: with another setting it would mix the
    two definitions silently. Raises a clear error (nothing is changed) that
    says to rebuild with --full-refresh.
-#}
{% macro assert_dedupe_setting_unchanged() -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query(
            'select is_deduplicated from ' ~ this ~ ' limit 1'
        ) -%}
        {%- set built_with = result.columns[0].values() -%}
        {%- set wanted = true if var('dedupe_overlapping_extracts') else false -%}
        {%- if built_with | length > 0 and built_with[0] != wanted -%}
            {{ exceptions.raise_compiler_error(
                "var dedupe_overlapping_extracts is " ~ wanted
                ~ " but " ~ this ~ " was built with " ~ built_with[0]
                ~ ": run dbt build --full-refresh to rebuild with the new setting"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
