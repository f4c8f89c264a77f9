{# Each of the 25 (R, F) cells maps to exactly one segment. #}
with

scores as (

    select 1 as score
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5

),

cells as (

    select
        r.score as r_score,
        f.score as f_score

    from scores as r
    cross join scores as f

),

grid as (

    select * from {{ ref('rfm_segment_grid') }}

),

matches as (

    select
        cells.r_score,
        cells.f_score,
        count(grid.segment) as segments

    from cells
    left join grid
        on
            cells.r_score = grid.r_score
            and cells.f_score = grid.f_score
    group by cells.r_score, cells.f_score

)

select * from matches
where segments <> 1

union all

select
    grid.r_score,
    grid.f_score,
    -1 as segments

from grid
where grid.r_score not between 1 and 5 or grid.f_score not between 1 and 5
