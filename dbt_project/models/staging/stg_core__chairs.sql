with source as (
    select * from {{ source('core', 'chairs') }}
),

renamed as (
    select
        -- ids
        cast(chair_id as {{ dbt.type_bigint() }}) as chair_id,
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        -- attributes
        cast(name as {{ dbt.type_string() }}) as chair_name,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
