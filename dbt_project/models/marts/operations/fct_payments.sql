{#- One row per payment, with what has been refunded of it so far and the provider of the
    appointment it was recorded against (null when it was recorded without one). -#}
with payments as (
    select * from {{ ref('stg_core__payments') }}
),

refunded as (
    select
        payment_id,
        count(*) as refund_count,
        sum(amount_cents) as refunded_cents,
        max(refunded_at) as last_refunded_at
    from {{ ref('stg_core__refunds') }}
    group by payment_id
),

appointments as (
    select appointment_id, provider_id from {{ ref('stg_core__appointments') }}
)

select
    -- ids
    payments.payment_id,
    payments.clinic_id,
    payments.patient_key,
    payments.appointment_id,
    appointments.provider_id,
    -- attributes
    payments.payment_method,
    payments.payment_method = 'insurance' as is_insurance,
    coalesce(refunded.refund_count, 0) as refund_count,
    -- timestamps (UTC) and the clinic-local day
    payments.received_at,
    payments.received_date,
    refunded.last_refunded_at,
    -- amounts
    payments.currency,
    payments.amount_cents,
    cast(coalesce(refunded.refunded_cents, 0) as {{ dbt.type_bigint() }}) as refunded_cents,
    cast(payments.amount_cents - coalesce(refunded.refunded_cents, 0) as {{ dbt.type_bigint() }}) as net_amount_cents
from payments
left join refunded on payments.payment_id = refunded.payment_id
left join appointments on payments.appointment_id = appointments.appointment_id
