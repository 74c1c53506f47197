{#- The payment reference (free text typed by staff) is not extracted (raw contract). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='payment_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with source as (
    select * from {{ source('core', 'payments') }}
),

clinics as (
    select clinic_id, timezone from {{ ref('stg_core__clinics') }}
),

renamed as (
    select
        -- ids
        cast(source.payment_id as {{ dbt.type_bigint() }}) as payment_id,
        cast(source.clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        cast(source.patient_key as {{ dbt.type_string() }}) as patient_key,
        cast(source.appointment_id as {{ dbt.type_bigint() }}) as appointment_id,
        cast(source.recorded_by_user_id as {{ dbt.type_bigint() }}) as recorded_by_user_id,
        -- attributes
        cast(source.method as {{ dbt.type_string() }}) as payment_method,
        -- amounts
        cast(source.amount_cents as {{ dbt.type_bigint() }}) as amount_cents,
        cast(source.currency as {{ dbt.type_string() }}) as currency,
        -- timestamps (UTC) and the clinic-local day
        cast(source.received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast({{ utc_to_local('source.received_at', 'clinics.timezone') }} as date) as received_date,
        cast(source.updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
    inner join clinics on cast(source.clinic_id as {{ dbt.type_bigint() }}) = clinics.clinic_id
    {%- if is_incremental() %}
    -- the rows loaded since this model was last built (and a clinic whose timezone changed)
    where source.updated_at >= {{ changed_since('payments') }}
        or source.clinic_id in (
            select clinic_id from {{ source('core', 'clinics') }}
            where updated_at >= {{ changed_since('clinics') }}
        )
    {%- endif %}
)

select * from renamed
