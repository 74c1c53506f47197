with source as (
    select * from {{ source('core', 'clinics') }}
),

renamed as (
    select
        -- ids
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        -- attributes
        cast(name as {{ dbt.type_string() }}) as clinic_name,
        cast(timezone as {{ dbt.type_string() }}) as timezone,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
