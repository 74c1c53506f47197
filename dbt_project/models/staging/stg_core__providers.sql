with source as (
    select * from {{ source('core', 'providers') }}
),

renamed as (
    select
        -- ids
        cast(provider_id as {{ dbt.type_bigint() }}) as provider_id,
        -- attributes
        cast(name as {{ dbt.type_string() }}) as provider_name,
        cast(kind as {{ dbt.type_string() }}) as provider_kind,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
