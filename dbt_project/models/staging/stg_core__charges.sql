{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='charge_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with source as (
    select * from {{ source('core', 'charges') }}
),

clinics as (
    select clinic_id, timezone from {{ ref('stg_core__clinics') }}
),

renamed as (
    select
        -- ids
        cast(source.charge_id as {{ dbt.type_bigint() }}) as charge_id,
        cast(source.clinic_id as {{ dbt.type_bigint() }}) as clinic_id,
        cast(source.patient_key as {{ dbt.type_string() }}) as patient_key,
        cast(source.appointment_id as {{ dbt.type_bigint() }}) as appointment_id,
        cast(source.procedure_code as {{ dbt.type_string() }}) as procedure_code,
        -- amounts
        cast(source.amount_cents as {{ dbt.type_bigint() }}) as amount_cents,
        cast(source.currency as {{ dbt.type_string() }}) as currency,
        -- timestamps (UTC) and the clinic-local day
        cast(source.charged_at as {{ dbt.type_timestamp() }}) as charged_at,
        cast({{ utc_to_local('source.charged_at', 'clinics.timezone') }} as date) as charged_date,
        cast(source.updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
    inner join clinics on cast(source.clinic_id as {{ dbt.type_bigint() }}) = clinics.clinic_id
    {%- if is_incremental() %}
    -- the rows loaded since this model was last built (and a clinic whose timezone changed)
    where source.updated_at >= {{ changed_since('charges') }}
        or source.clinic_id in (
            select clinic_id from {{ source('core', 'clinics') }}
            where updated_at >= {{ changed_since('clinics') }}
        )
    {%- endif %}
)

select * from renamed
