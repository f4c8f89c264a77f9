{#-
    The GRANT dbt runs for a model's `grants` config on PostgreSQL (dbt_project.yml
    grants SELECT on the marts to the BI role): only to the grantees that exist,
    so that a warehouse without the BI role builds as before instead of failing
    on GRANT to a missing role. The published copies BI tools read are granted
    by `lgs publish` (scripts/lgs/publish.py); the BI role has no USAGE on
    schema marts itself.
-#}
{% macro postgres__get_grant_sql(relation, privilege, grantees) -%}
    {%- set wanted = grantees | reject('equalto', '') | list -%}
    {%- set existing = [] -%}
    {%- if execute and wanted -%}
        {%- set quoted = [] -%}
        {%- for grantee in wanted -%}
            {%- do quoted.append("'" ~ grantee | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {%- set found = run_query(
            'select rolname from pg_roles where rolname in ('
            ~ quoted | join(', ') ~ ') order by rolname'
        ) -%}
        {%- for name in found.columns[0].values() -%}
            {%- do existing.append(adapter.quote(name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if existing -%}
        grant {{ privilege }} on {{ relation.render() }}
        to {{ existing | join(', ') }}
    {%- else -%}
        select 1 as no_grantee_exists
    {%- endif -%}
{%- endmacro %}
