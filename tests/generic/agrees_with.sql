{#-
    Two relations agree on a key: for every value of `key`, the model's
    `columns` equal the aggregates of the rows of `to` with that key, and each
    side has every key of the other. Fails with one row per key that differs
    or is missing on one side (null-safe: a null differs from a value).

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

    select distinct {{ key }}
    from {{ to }}
    where {{ newest_load_only() }}

),
{% endif %}

expected as (

    select
        {{ key }},
        {%- for name, aggregate in columns.items() %}
        {{ aggregate }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}

    from to_rows
    {% if only_newest_load %}
    where {{ key }} in (select checked_keys.{{ key }} from checked_keys)
    {% endif %}
    group by {{ key }}

),

actual as (

    select
        {{ key }},
        {{ columns.keys() | join(', ') }}

    from {{ model }}
    {% if only_newest_load %}
    where {{ key }} in (select checked_keys.{{ key }} from checked_keys)
    {% endif %}

)

select
    coalesce(actual.{{ key }}, expected.{{ key }}) as {{ key }},
    {%- for name in columns %}
    actual.{{ name }},
    expected.{{ name }} as expected_{{ name }}{{ "," if not loop.last }}
    {%- endfor %}

from actual
full outer join expected
    on actual.{{ key }} = expected.{{ key }}
where
    actual.{{ key }} is null
    or expected.{{ key }} is null
    {%- for name in columns %}
    or actual.{{ name }} is distinct from expected.{{ name }}
    {%- endfor %}

{% endtest %}
