{#
    One row per customer of the RFM population: recency, frequency, monetary
    and their R/F/M scores, exactly as the analysts' pandas computed them
    (doc block rfm_scores): R = qcut(recency, 5, labels 5..1), F =
    qcut(frequency ranked with ties broken by customer id, 5, labels 1..5),
    M = qcut(monetary, 5, labels 1..5), in exact arithmetic. ntile(5) would
    move boundary customers. Ephemeral: a step of customer_rfm only.
#}
{{ config(materialized='ephemeral') }}

{%- set population = var('rfm_population') -%}
{%- if population not in ['all_orders', 'positive_lines'] -%}
    {{ exceptions.raise_compiler_error(
        "var rfm_population must be 'all_orders' or 'positive_lines', got '"
        ~ population ~ "'"
    ) }}
{%- endif -%}
{%- set as_of = var('rfm_as_of') -%}
{%- if as_of is not none
    and not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', as_of | string) -%}
    {{ exceptions.raise_compiler_error(
        "var rfm_as_of must be a date YYYY-MM-DD (its midnight is the as-of "
        ~ "instant), got '" ~ as_of ~ "'"
    ) }}
{%- endif -%}

with

{% if as_of is none %}

    months as (

        select * from {{ ref('int_months_aggregated') }}

    ),

    as_of as (

    -- midnight after the day of the last invoice line
        select
        {{ dbt.dateadd(
            'day', 1, dbt.date_trunc('day', 'max(last_line_at)')
        ) }} as as_of_at

        from months

    ),

    customers as (

        select * from {{ ref('int_customers_aggregated') }}

    ),

    population as (

        {% if population == 'all_orders' %}
            select
                customer_id,
                last_invoiced_at,
                lifetime_invoices as frequency,
                net_revenue as monetary

            from customers
        {% else %}
        select
            customer_id,
            last_positive_invoiced_at as last_invoiced_at,
            positive_invoices as frequency,
            positive_revenue as monetary

        from customers
        where positive_invoices > 0
    {% endif %}

    ),

{% else %}

as_of as (

    select cast('{{ as_of }}' as timestamp) as as_of_at

),

invoices as (

    -- an explicit as-of date: only what was invoiced before it counts
    select invoices.*

    from {{ ref('invoices') }} as invoices
    cross join as_of
    where
        invoices.customer_id is not null
        and invoices.invoiced_at < as_of.as_of_at
        {% if population == 'positive_lines' %}
            and invoices.positive_line_count > 0
        {% endif %}

),

population as (

    select
        customer_id,
        {% if population == 'all_orders' %}
            max(last_line_at) as last_invoiced_at,
            count(*) as frequency,
            sum(amount) as monetary
        {% else %}
            max(last_positive_line_at) as last_invoiced_at,
            count(*) as frequency,
            sum(positive_amount) as monetary
        {% endif %}

    from invoices
    group by customer_id

),

{% endif %}

measured as (

    select
        population.customer_id,
        population.last_invoiced_at,
        {{ whole_days_between(
            'population.last_invoiced_at', 'as_of.as_of_at'
        ) }} as recency_days,
        population.frequency,
        population.monetary,
        -- frequency.rank(method="first"): ties keep customer id order
        row_number() over (
            order by population.frequency, population.customer_id
        ) as frequency_rank

    from population
    cross join as_of

),

recency_counted as (

    {{ counted_values('measured', 'recency_days') }}

),

frequency_counted as (

    {{ counted_values('measured', 'frequency_rank') }}

),

monetary_counted as (

    {{ counted_values('measured', 'monetary') }}

),

recency_edges as (

    select {{ quintile_edges_times_5() }}
    from recency_counted

),

frequency_edges as (

    select {{ quintile_edges_times_5() }}
    from frequency_counted

),

monetary_edges as (

    select {{ quintile_edges_times_5() }}
    from monetary_counted

),

scored as (

    select
        measured.customer_id,
        measured.last_invoiced_at,
        measured.recency_days,
        measured.frequency,
        measured.monetary,
        -- labels 5..1: the most recent customers get 5
        6 - {{ quintile_bin('measured.recency_days', 'recency_edges') }}
            as r_score,
        {{ quintile_bin('measured.frequency_rank', 'frequency_edges') }}
            as f_score,
        {{ quintile_bin('measured.monetary', 'monetary_edges') }} as m_score,
        as_of.as_of_at,
        '{{ population }}' as rfm_population

    from measured
    cross join recency_edges
    cross join frequency_edges
    cross join monetary_edges
    cross join as_of

)

select * from scored
