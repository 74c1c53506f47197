{#- The refund reason (free text typed by staff) is not extracted (raw contract). A refund has no
    clinic of its own: it belongs to its payment's clinic, whose timezone gives the local day. -#}
with source as (
    select * from {{ source('core', 'refunds') }}
),

payment_clinics as (
    select
        cast(payments.payment_id as {{ dbt.type_bigint() }}) as payment_id,
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
)

select * from renamed
