{#- Pseudonymised at extraction: no name, birth date, phone, email or notes ever reach raw. -#}
with source as (
    select * from {{ source('core', 'patients') }}
),

renamed as (
    select
        -- ids
        cast(patient_key as varchar) as patient_key,
        cast(clinic_id as bigint) as clinic_id,
        -- attributes
        cast(age_band as varchar) as age_band,
        cast(sex as varchar) as sex,
        cast(distance_km as {{ dbt.type_float() }}) as distance_km,
        cast(has_insurance as boolean) as has_insurance,
        cast(contact_preference as varchar) as contact_preference,
        cast(is_active as boolean) as is_active,
        -- timestamps (UTC)
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
