with source as (
    select * from {{ source('core', 'charges') }}
),

clinics as (
    select clinic_id, timezone from {{ ref('stg_core__clinics') }}
),

renamed as (
    select
        -- ids
        cast(source.charge_id as bigint) as charge_id,
        cast(source.clinic_id as bigint) as clinic_id,
        cast(source.patient_key as varchar) as patient_key,
        cast(source.appointment_id as bigint) as appointment_id,
        cast(source.procedure_code as varchar) as procedure_code,
        -- amounts
        cast(source.amount_cents as bigint) as amount_cents,
        cast(source.currency as varchar) as currency,
        -- timestamps (UTC) and the clinic-local day
        cast(source.charged_at as timestamp) as charged_at,
        cast({{ utc_to_local('cast(source.charged_at as timestamp)', 'clinics.timezone') }} as date) as charged_date,
        cast(source.updated_at as timestamp) as updated_at
    from source
    inner join clinics on cast(source.clinic_id as bigint) = clinics.clinic_id
)

select * from renamed
