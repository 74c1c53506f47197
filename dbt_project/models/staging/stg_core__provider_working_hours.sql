with source as (
    select * from {{ source('core', 'provider_working_hours') }}
),

renamed as (
    select
        -- ids
        cast(working_hours_id as bigint) as working_hours_id,
        cast(provider_id as bigint) as provider_id,
        cast(clinic_id as bigint) as clinic_id,
        -- clinic-local wall clock, weekday Monday 0 .. Sunday 6
        cast(weekday as integer) as weekday,
        cast("start" as time) as start_time,
        cast("end" as time) as end_time,
        {{ minute_of_day('"start"') }} as start_minute,
        {{ minute_of_day('"end"') }} as end_minute,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
