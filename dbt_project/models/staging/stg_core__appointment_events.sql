{#- Staff-typed reasons are not extracted (raw contract). A view: no model reads the events yet
    (fct_appointments has the status times), only the tests, so a table would be written for
    nothing. -#}
{{ config(materialized='view') }}
with source as (
    select * from {{ source('core', 'appointment_events') }}
),

renamed as (
    select
        -- ids
        cast(event_id as {{ dbt.type_bigint() }}) as event_id,
        cast(appointment_id as {{ dbt.type_bigint() }}) as appointment_id,
        cast(actor_user_id as {{ dbt.type_bigint() }}) as actor_user_id,
        cast(from_provider_id as {{ dbt.type_bigint() }}) as from_provider_id,
        cast(from_chair_id as {{ dbt.type_bigint() }}) as from_chair_id,
        -- attributes
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        -- timestamps (UTC)
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(from_start_at as {{ dbt.type_timestamp() }}) as from_start_at,
        cast(from_end_at as {{ dbt.type_timestamp() }}) as from_end_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
