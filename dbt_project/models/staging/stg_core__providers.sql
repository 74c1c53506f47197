with source as (
    select * from {{ source('core', 'providers') }}
),

renamed as (
    select
        -- ids
        cast(provider_id as bigint) as provider_id,
        -- attributes
        cast(name as varchar) as provider_name,
        cast(kind as varchar) as provider_kind,
        cast(is_active as boolean) as is_active,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
