with source as (
    select * from {{ source('core', 'chairs') }}
),

renamed as (
    select
        -- ids
        cast(chair_id as bigint) as chair_id,
        cast(clinic_id as bigint) as clinic_id,
        -- attributes
        cast(name as varchar) as chair_name,
        cast(is_active as boolean) as is_active,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
