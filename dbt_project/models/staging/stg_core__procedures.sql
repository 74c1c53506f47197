with source as (
    select * from {{ source('core', 'procedures') }}
),

renamed as (
    select
        -- ids
        cast(procedure_id as bigint) as procedure_id,
        cast(clinic_id as bigint) as clinic_id,
        cast(code as varchar) as procedure_code,
        -- attributes
        cast(name as varchar) as procedure_name,
        cast(category as varchar) as category,
        cast(default_duration_min as integer) as default_duration_min,
        cast(hygienist_allowed as boolean) as is_hygienist_allowed,
        cast(is_active as boolean) as is_active,
        -- amounts (the clinic's currency)
        cast(fee_cents as bigint) as fee_cents,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
