{#-
    Two relations agree on a key: for every value of `key`, the model's
    `columns` equal the aggregates of the rows of `to` with that key, and each
    side has every key of the other. Fails with one row per key that differs
    or is missing on one side (null-safe: a null differs from a value).

    - key: a column, or a list of columns (a compound key), with the same
      names on both sides;
    - columns: {model column: aggregate SQL over the rows of `to`};
    - to_where: keep only the rows of `to` that match this condition;
    - to_derived_columns: {name: SQL} added to each row of `to` before it is
      aggregated (window functions allowed, computed over all its rows);
    - only_newest_load: check only the keys `to` holds in its newest load
      (macro newest_load_only), every row of those keys on both sides.
-#}
{% test agrees_with(
    model,
    to,
    key,
    columns,
    to_where=none,
    to_derived_columns={},
    only_newest_load=false
) %}

{%- set keys = [key] if key is string else key -%}
{%- set key_list = keys | join(', ') -%}

with

to_rows as (

    select
        *
        {%- for name, expression in to_derived_columns.items() %},
        {{ expression }} as {{ name }}
        {%- endfor %}

    from {{ to }}
    {% if to_where %}
    where {{ to_where }}
    {% endif %}

),

{% if only_newest_load %}
checked_keys as (

    select distinct {{ key_list }}
    from {{ to }}
    where {{ newest_load_only() }}

),
{% endif %}

expected as (

    select
        {{ key_list }},
        {%- for name, aggregate in columns.items() %}
        {{ aggregate }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}

    from to_rows
    {% if only_newest_load %}
    where ({{ key_list }}) in (select {{ key_list }} from checked_keys)
    {% endif %}
    group by {{ key_list }}

),

actual as (

    select
        {{ key_list }},
        {{ columns.keys() | join(', ') }}

    from {{ model }}
    {% if only_newest_load %}
    where ({{ key_list }}) in (select {{ key_list }} from checked_keys)
    {% endif %}

)

select
    {%- for column in keys %}
    coalesce(actual.{{ column }}, expected.{{ column }}) as {{ column }},
    {%- endfor %}
    {%- for name in columns %}
    actual.{{ name }},
    expected.{{ name }} as expected_{{ name }}{{ "," if not loop.last }}
    {%- endfor %}

from actual
full outer join expected
    on
    {%- for column in keys %}
        {{ "and " if not loop.first }}actual.{{ column }} = expected.{{ column }}
    {%- endfor %}
where
    actual.{{ keys[0] }} is null
    or expected.{{ keys[0] }} is null
    {%- for name in columns %}
    or actual.{{ name }} is distinct from expected.{{ name }}
    {%- endfor %}

{% endtest %}
