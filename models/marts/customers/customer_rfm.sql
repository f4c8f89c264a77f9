{#
    The scored customers (int_customers_scored) with their RFM score as text
    and the segment of their (R, F) cell in the analysts' grid.
#}
with

scored as (

    select * from {{ ref('int_customers_scored') }}

),

segment_grid as (

    select * from {{ ref('rfm_segment_grid') }}

),

final as (

    select
        scored.customer_id,
        scored.last_invoiced_at,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        {{ dbt.concat([
            'cast(scored.r_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.f_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.m_score as ' ~ dbt.type_string() ~ ')',
        ]) }} as rfm_score,
        segment_grid.segment,
        scored.as_of_at,
        scored.rfm_population

    from scored
    inner join segment_grid
        on
            scored.r_score = segment_grid.r_score
            and scored.f_score = segment_grid.f_score

)

select * from final
