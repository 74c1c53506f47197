with source as (
    select * from {{ source('core', 'provider_working_hours') }}
),

renamed as (
    select
        -- ids
        cast(working_hours_id as {{ dbt.type_bigint() }}) as working_hours_id,
        cast(provider_id as {{ dbt.type_bigint() }}) as provider_id,
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        -- clinic-local wall clock, weekday Monday 0 .. Sunday 6
        cast(weekday as {{ dbt.type_int() }}) as weekday,
        cast({{ adapter.quote('start') }} as time) as start_time,
        cast({{ adapter.quote('end') }} as time) as end_time,
        {{ minute_of_day(adapter.quote('start')) }} as start_minute,
        {{ minute_of_day(adapter.quote('end')) }} as end_minute,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
