{#-
    Fails for every combination of the columns that occurs more than once.
    only_newest_load: check the rows of the newest load only (line-level
    models; see macro newest_load_only).
-#}
{% test unique_combination_of_columns(model, combination_of_columns, only_newest_load=false) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences

from {{ model }}
{% if only_newest_load %}
where {{ newest_load_only() }}
{% endif %}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
