{#-
    Fails for every non-null value outside [min_value, max_value] (either bound
    optional; inclusive=false makes both bounds strict). only_newest_load: check
    the rows of the newest load only (line-level models; see macro
    newest_load_only).
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, only_newest_load=false) %}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    {%- if only_newest_load %}
    and {{ newest_load_only() }}
    {%- endif %}
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
    )

{% endtest %}
