{#- One row per appointment. Times in raw are naive UTC; the clinic-local copies (`_local`) and
    local dates come from the clinic's timezone (utc_to_local, DuckDB-specific macro). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='appointment_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with source as (
    select * from {{ source('core', 'appointments') }}
),

clinics as (
    select clinic_id, timezone from {{ ref('stg_core__clinics') }}
),

renamed as (
    select
        -- ids
        cast(source.appointment_id as {{ dbt.type_bigint() }}) as appointment_id,
        cast(source.clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        cast(source.patient_key as {{ dbt.type_string() }}) as patient_key,
        cast(source.provider_id as {{ dbt.type_bigint() }}) as provider_id,
        cast(source.chair_id as {{ dbt.type_bigint() }}) as chair_id,
        cast(source.overbook_of_appointment_id as {{ dbt.type_bigint() }}) as overbook_of_appointment_id,
        cast(source.booked_by_user_id as {{ dbt.type_bigint() }}) as booked_by_user_id,
        cast(source.cancelled_by_user_id as {{ dbt.type_bigint() }}) as cancelled_by_user_id,
        -- attributes
        cast(source.status as {{ dbt.type_string() }}) as status,
        cast(source.source as {{ dbt.type_string() }}) as booking_source,
        cast(source.currency as {{ dbt.type_string() }}) as currency,
        source.overbook_of_appointment_id is not null as is_overbook,
        -- the flag as the core recorded it; fct_appointments re-derives it from the times
        cast(source.is_late_cancel as {{ dbt.type_boolean() }}) as recorded_is_late_cancel,
        cast(source.reschedule_count as {{ dbt.type_int() }}) as reschedule_count,
        -- timestamps (UTC)
        cast(source.start_at as {{ dbt.type_timestamp() }}) as start_at,
        cast(source.end_at as {{ dbt.type_timestamp() }}) as end_at,
        cast(source.booked_at as {{ dbt.type_timestamp() }}) as booked_at,
        cast(source.confirmed_at as {{ dbt.type_timestamp() }}) as confirmed_at,
        cast(source.checked_in_at as {{ dbt.type_timestamp() }}) as checked_in_at,
        cast(source.completed_at as {{ dbt.type_timestamp() }}) as completed_at,
        cast(source.no_show_at as {{ dbt.type_timestamp() }}) as no_show_at,
        cast(source.cancelled_at as {{ dbt.type_timestamp() }}) as cancelled_at,
        cast(source.updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        -- clinic-local
        clinics.timezone,
        {{ utc_to_local('source.start_at', 'clinics.timezone') }} as start_local,
        {{ utc_to_local('source.end_at', 'clinics.timezone') }} as end_local,
        {{ utc_to_local('source.booked_at', 'clinics.timezone') }} as booked_local,
        {{ utc_to_local('source.completed_at', 'clinics.timezone') }} as completed_local
    from source
    inner join clinics on cast(source.clinic_id as {{ dbt.type_bigint() }}) = clinics.clinic_id
    {%- if is_incremental() %}
    -- the rows loaded since this model was last built (and a clinic whose timezone changed)
    where source.updated_at >= {{ changed_since('appointments') }}
        or source.clinic_id in (
            select clinic_id from {{ source('core', 'clinics') }}
            where updated_at >= {{ changed_since('clinics') }}
        )
    {%- endif %}
)

select
    *,
    cast(start_local as date) as appointment_date,
    cast(booked_local as date) as booked_date
from renamed
