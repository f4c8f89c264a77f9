{#-
    Months as numbers, for arithmetic across years: the months since year 0
    (2010-01 -> 2010 * 12 + 0 = 24120), so that the previous month is
    `month_number - 1` and months between two months a subtraction.
-#}
{% macro month_number(year_month) -%}
    (
        {{ integer_divide(year_month, 100) }} * 12
        + ({{ year_month }}) % 100 - 1
    )
{%- endmacro %}

{#- The YYYYMM integer of a month number (24120 -> 201001). -#}
{% macro year_month_of_number(month_number) -%}
    cast(
        {{ integer_divide(month_number, 12) }} * 100
        + ({{ month_number }}) % 12 + 1
        as integer
    )
{%- endmacro %}

{#-
    Every calendar month from the first to the last month of `months` (a
    relation with `year_month` and `month_start`, e.g. int_months_aggregated),
    gap months included: year_month, month_start, month_number. At most 10,000
    months (the offsets are four digits).
-#}
{% macro month_spine(months) -%}
    {%- set digits -%}
        (
            select 0 as digit
            {%- for digit in range(1, 10) %}
            union all select {{ digit }}
            {%- endfor %}
        )
    {%- endset -%}
    select
        {{ year_month_of_number(
            'bounds.first_month_number + offsets.month_offset'
        ) }} as year_month,
        cast({{ dbt.dateadd(
            'month', 'offsets.month_offset', 'bounds.first_month_start'
        ) }} as date) as month_start,
        bounds.first_month_number + offsets.month_offset as month_number

    from (
        select
            min({{ month_number('year_month') }}) as first_month_number,
            max({{ month_number('year_month') }}) as last_month_number,
            min(month_start) as first_month_start

        from {{ months }}
    ) as bounds
    cross join (
        select
            units.digit
            + 10 * tens.digit
            + 100 * hundreds.digit
            + 1000 * thousands.digit as month_offset

        from {{ digits }} as units
        cross join {{ digits }} as tens
        cross join {{ digits }} as hundreds
        cross join {{ digits }} as thousands
    ) as offsets
    where
        offsets.month_offset
        <= bounds.last_month_number - bounds.first_month_number
{%- endmacro %}

{#-
    Pre-hook of an incremental model with one row per month: delete the rows
    past the last month of `months` (int_months_aggregated), which a
    re-delivered invoice moved out of the data's last month can leave.
-#}
{% macro delete_months_after(months) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where year_month > (
            select max(data_months.year_month) from {{ months }} as data_months
        )
    {%- endif -%}
{%- endmacro %}
