with source as (
    select * from {{ source('core', 'clinics') }}
),

renamed as (
    select
        -- ids
        cast(clinic_id as bigint) as clinic_id,
        -- attributes
        cast(name as varchar) as clinic_name,
        cast(timezone as varchar) as timezone,
        cast(currency as varchar) as currency,
        cast(country as varchar) as country,
        cast(is_active as boolean) as is_active,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
