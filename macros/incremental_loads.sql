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

{#-
    Config of a model kept incrementally on the loads (the intermediate folder
    is incremental, appending, by default; `invoices` passes
    materialized='incremental' among the other keyword arguments, which go to
    config() unchanged).

    - unique_key: rows a new load re-delivers replace those of the same key
      (delete+insert); without it, rows are appended;
    - recompute_key: before the run, delete the rows of every key the new
      loads touch (delete_keys_touched_by_new_loads); the model then appends
      them recomputed;
    - indexes, unique_indexes: columns indexed one by one on PostgreSQL (the
      deletes look rows up by them); nothing on other adapters;
    - pre_hook: the model's own pre-hooks, run after the recompute delete.
-#}
{% macro incremental_on_loads(
    unique_key=none,
    recompute_key=none,
    indexes=[],
    unique_indexes=[],
    pre_hook=[]
) -%}
    {%- set index_configs = [] -%}
    {%- if target.type == 'postgres' -%}
        {%- for column in unique_indexes -%}
            {%- do index_configs.append({'columns': [column], 'unique': true}) -%}
        {%- endfor -%}
        {%- for column in indexes -%}
            {%- do index_configs.append({'columns': [column]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set hooks = [] -%}
    {%- if recompute_key is not none -%}
        {#- ref() here makes int_invoice_versions a parent of the model -#}
        {%- do ref('int_invoice_versions') -%}
        {%- do hooks.append(
            "{{ delete_keys_touched_by_new_loads('" ~ recompute_key
            ~ "', ref('int_invoice_versions')) }}"
        ) -%}
    {%- endif -%}
    {%- for hook in ([pre_hook] if pre_hook is string else pre_hook) -%}
        {%- do hooks.append(hook) -%}
    {%- endfor -%}
    {{ config(
        incremental_strategy='delete+insert' if unique_key else 'append',
        unique_key=unique_key,
        pre_hook=hooks,
        indexes=index_configs,
        **kwargs
    ) }}
{%- endmacro %}

{#-
    The "new loads" filter of the two models that read lines incrementally
    (the deduplicated lines from staging, invoices from the deduplicated
    lines), which must change together: on an incremental run, keep the rows
    of `relation` (the model's input) that make up the invoices new loads
    brought; nothing on a full run.

    With deduplication an invoice comes whole from the latest load that holds
    it, so the new loads' rows are all it takes (the watermark is a constant:
    the database prunes the older loads), unless a new load is a file
    reloaded with --replace: it keeps its old place in the load order, and a
    later load may still win its invoices. Then, and without deduplication,
    every line of an invoice a new load touches, older loads included.
-#}
{% macro where_in_new_loads(relation) -%}
    {%- if is_incremental() -%}
        {%- if var('dedupe_overlapping_extracts')
            and not new_loads_replace_files() %}
    where load_id > {{ load_watermark() }}
        {%- else %}
    where invoice_no in (
        select new_rows.invoice_no
        from {{ relation }} as new_rows
        where new_rows.load_id > {{ load_watermark() }}
    )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    Whether a load above the watermark is a file loaded before (a reload with
    --replace: same sha256, see stg_retail__invoice_lines.load_order).
-#}
{% macro new_loads_replace_files() -%}
    {%- if execute -%}
        {%- set result = run_query(
            'select count(*) from ' ~ source('retail', 'loads') ~ ' as new_load'
            ~ ' where new_load.load_id > ' ~ load_watermark()
            ~ ' and exists (select 1 from ' ~ source('retail', 'loads')
            ~ ' as earlier where earlier.file_sha256 = new_load.file_sha256'
            ~ ' and earlier.load_id < new_load.load_id)'
        ) -%}
        {{- return(result.columns[0].values()[0] | int > 0) -}}
    {%- else -%}
        {{- return(false) -}}
    {%- endif -%}
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
