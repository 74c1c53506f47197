{#- Staff-typed reasons are not extracted (raw contract). -#}
with source as (
    select * from {{ source('core', 'appointment_events') }}
),

renamed as (
    select
        -- ids
        cast(event_id as bigint) as event_id,
        cast(appointment_id as bigint) as appointment_id,
        cast(actor_user_id as bigint) as actor_user_id,
        cast(from_provider_id as bigint) as from_provider_id,
        cast(from_chair_id as bigint) as from_chair_id,
        -- attributes
        cast(event_type as varchar) as event_type,
        -- timestamps (UTC)
        cast(occurred_at as timestamp) as occurred_at,
        cast(from_start_at as timestamp) as from_start_at,
        cast(from_end_at as timestamp) as from_end_at,
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
