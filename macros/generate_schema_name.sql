{#
    Schemas are named by layer, exactly: staging, intermediate, marts, reference
    (seeds). dbt's default would prefix them with the target schema
    (analytics_marts); BI users query `marts.monthly_sales`, so the plain name
    is the contract. Models without a layer fall back to the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
