with source as (
    select * from {{ source('core', 'staff_users') }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        -- attributes
        cast(role as {{ dbt.type_string() }}) as role,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- timestamps (UTC)
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
