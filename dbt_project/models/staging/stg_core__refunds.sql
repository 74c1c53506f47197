{#- The refund reason (free text typed by staff) is not extracted (raw contract). A refund has no
    clinic of its own: it belongs to its payment's clinic, whose timezone gives the local day. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='refund_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with source as (
    select * from {{ source('core', 'refunds') }}
),

payment_clinics as (
    select
        cast(payments.payment_id as {{ dbt.type_bigint() }}) as payment_id,
        clinics.clinic_id,
        clinics.timezone
    from {{ source('core', 'payments') }} as payments
    inner join {{ ref('stg_core__clinics') }} as clinics
        on cast(payments.clinic_id as {{ dbt.type_bigint() }}) = clinics.clinic_id
),

renamed as (
    select
        -- ids
        cast(source.refund_id as {{ dbt.type_bigint() }}) as refund_id,
        cast(source.payment_id as {{ dbt.type_bigint() }}) as payment_id,
        cast(source.recorded_by_user_id as {{ dbt.type_bigint() }}) as recorded_by_user_id,
        -- amounts (the payment's currency)
        cast(source.amount_cents as {{ dbt.type_bigint() }}) as amount_cents,
        -- timestamps (UTC) and the clinic-local day
        cast(source.refunded_at as {{ dbt.type_timestamp() }}) as refunded_at,
        cast({{ utc_to_local('source.refunded_at', 'payment_clinics.timezone') }} as date) as refunded_date,
        cast(source.updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
    inner join payment_clinics on cast(source.payment_id as {{ dbt.type_bigint() }}) = payment_clinics.payment_id
    {%- if is_incremental() %}
    -- the rows loaded since this model was last built (and a clinic whose timezone changed)
    where source.updated_at >= {{ changed_since('refunds') }}
        or payment_clinics.clinic_id in (
            select clinic_id from {{ source('core', 'clinics') }}
            where updated_at >= {{ changed_since('clinics') }}
        )
    {%- endif %}
)

select * from renamed
