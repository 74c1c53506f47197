{#- One row per payment, with what has been refunded of it so far and the provider of the
    appointment it was recorded against (null when it was recorded without one).
    Incremental: the payments loaded since the last build, those with a refund loaded since, and
    those recorded against an appointment loaded since (its provider may have changed); the rows
    whose content changed are logged for kpi_daily. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='payment_id',
    pre_hook="{{ log_reset_unless_incremental() }}",
    post_hook="{{ record_incremental_state(is_producer=true) }}",
    meta={'change_log': {'row_id': 'payment_id', 'clinic_id': 'clinic_id', 'day_1': 'received_date'}},
) }}
with
{%- if is_incremental() %}
affected_payments as (
    select payment_id from {{ ref('stg_core__payments') }}
    where updated_at >= {{ changed_since('payments') }}
        or appointment_id in (
            select appointment_id from {{ ref('stg_core__appointments') }}
            where updated_at >= {{ changed_since('appointments') }}
        )
    union
    select payment_id from {{ ref('stg_core__refunds') }}
    where updated_at >= {{ changed_since('refunds') }}
),
{%- endif %}

payments as (
    select * from {{ ref('stg_core__payments') }}
    {{- when_incremental('where payment_id in (select payment_id from affected_payments)') }}
),

refunded as (
    select
        payment_id,
        count(*) as refund_count,
        sum(amount_cents) as refunded_cents,
        max(refunded_at) as last_refunded_at
    from {{ ref('stg_core__refunds') }}
    {{- when_incremental('where payment_id in (select payment_id from affected_payments)') }}
    group by payment_id
),

appointments as {{ inlined() }} (
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
