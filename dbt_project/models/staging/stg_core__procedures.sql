with source as (
    select * from {{ source('core', 'procedures') }}
),

renamed as (
    select
        -- ids
        cast(procedure_id as {{ dbt.type_bigint() }}) as procedure_id,
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        cast(code as {{ dbt.type_string() }}) as procedure_code,
        -- attributes
        cast(name as {{ dbt.type_string() }}) as procedure_name,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(default_duration_min as {{ dbt.type_int() }}) as default_duration_min,
        cast(hygienist_allowed as {{ dbt.type_boolean() }}) as is_hygienist_allowed,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- amounts (the clinic's currency)
        cast(fee_cents as {{ dbt.type_bigint() }}) as fee_cents,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
