with source as (
    select * from {{ source('core', 'staff_users') }}
),

renamed as (
    select
        -- ids
        cast(user_id as bigint) as user_id,
        cast(clinic_id as bigint) as clinic_id,
        -- attributes
        cast(role as varchar) as role,
        cast(is_active as boolean) as is_active,
        -- timestamps (UTC)
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
