{#- Pseudonymised at extraction: no name, birth date, phone, email or notes ever reach raw. -#}
with source as (
    select * from {{ source('core', 'patients') }}
),

renamed as (
    select
        -- ids
        cast(patient_key as {{ dbt.type_string() }}) as patient_key,
        cast(clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        -- attributes
        cast(age_band as {{ dbt.type_string() }}) as age_band,
        cast(sex as {{ dbt.type_string() }}) as sex,
        cast(distance_km as {{ dbt.type_float() }}) as distance_km,
        cast(has_insurance as {{ dbt.type_boolean() }}) as has_insurance,
        cast(contact_preference as {{ dbt.type_string() }}) as contact_preference,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        -- timestamps (UTC)
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
)

select * from renamed
