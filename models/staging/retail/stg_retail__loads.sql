with

loads as (

    select * from {{ source('retail', 'loads') }}

),

renamed as (

    select
        load_id,
        file_name,
        file_sha256,
        file_format,
        extracts,
        rows_read,
        rows_loaded,
        rows_rejected,
        started_at,
        finished_at,
        status as load_status,
        replaced_by_load_id,
        status = 'loaded' as is_current

    from loads

)

select * from renamed
