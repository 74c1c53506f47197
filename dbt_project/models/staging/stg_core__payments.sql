{#- The payment reference (free text typed by staff) is not extracted (raw contract). -#}
with source as (
    select * from {{ source('core', 'payments') }}
),

clinics as (
    select clinic_id, timezone from {{ ref('stg_core__clinics') }}
),

renamed as (
    select
        -- ids
        cast(source.payment_id as bigint) as payment_id,
        cast(source.clinic_id as bigint) as clinic_id,
        cast(source.patient_key as varchar) as patient_key,
        cast(source.appointment_id as bigint) as appointment_id,
        cast(source.recorded_by_user_id as bigint) as recorded_by_user_id,
        -- attributes
        cast(source.method as varchar) as payment_method,
        -- amounts
        cast(source.amount_cents as bigint) as amount_cents,
        cast(source.currency as varchar) as currency,
        -- timestamps (UTC) and the clinic-local day
        cast(source.received_at as timestamp) as received_at,
        cast({{ utc_to_local('cast(source.received_at as timestamp)', 'clinics.timezone') }} as date) as received_date,
        cast(source.updated_at as timestamp) as updated_at
    from source
    inner join clinics on cast(source.clinic_id as bigint) = clinics.clinic_id
)

select * from renamed
