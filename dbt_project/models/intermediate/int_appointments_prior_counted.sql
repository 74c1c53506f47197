{#- One row per appointment: what was known about its patient at the appointment's cut-off
    (macro no_show_cut_off: 24 hours before the start, or the booking time when booked later).
    Counts are of the patient's other appointments whose outcome was recorded strictly before
    the cut-off (completed_at, no_show_at, cancelled_at); the balance is charges less payments
    plus refunds dated strictly before it. No appointment sees its own outcome or anything
    recorded at or after its cut-off: each cut-off is a marker row placed before every event of
    the same instant, and running sums are read at the marker.
    Incremental: a patient's rows depend on all of that patient's appointments, charges, payments
    and refunds (a change to one appointment changes the counts of the patient's later ones), so
    an incremental build recomputes every row of each patient with anything loaded since. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='appointment_id',
    pre_hook="{{ log_reset_unless_incremental() }}",
    post_hook="{{ record_incremental_state(is_producer=true) }}",
    meta={'change_log': {'row_id': 'appointment_id', 'clinic_id': 'null'}},
) }}
with
{%- if is_incremental() %}
affected_patients as (
    select patient_key from {{ ref('stg_core__appointments') }}
    where updated_at >= {{ changed_since('appointments') }}
    union
    select patient_key from {{ ref('stg_core__charges') }}
    where updated_at >= {{ changed_since('charges') }}
    union
    select patient_key from {{ ref('stg_core__payments') }}
    where updated_at >= {{ changed_since('payments') }}
    union
    select payments.patient_key
    from {{ ref('stg_core__refunds') }} as refunds
    inner join {{ ref('stg_core__payments') }} as payments on refunds.payment_id = payments.payment_id
    where refunds.updated_at >= {{ changed_since('refunds') }}
),
{%- endif %}

appointments as (
    select
        appointment_id,
        patient_key,
        status,
        start_at,
        completed_at,
        no_show_at,
        cancelled_at,
        {{ is_late_cancel('status', 'cancelled_at', 'start_at') }} as is_late_cancel,
        {{ no_show_cut_off('booked_at', 'start_at') }} as cut_off_at
    from {{ ref('stg_core__appointments') }}
    {%- if is_incremental() %}
    where patient_key in (select patient_key from affected_patients)
    {%- endif %}
),

patient_events as (
    -- markers (sort 0) and events (sort 1) on one time line per patient
    select patient_key, cut_off_at as event_at, 0 as sort_key, appointment_id,
        0 as visit, 0 as no_show, 0 as cancel, 0 as late_cancel, 0 as ledger_cents
    from appointments
    union all
    select patient_key, completed_at, 1, appointment_id, 1, 0, 0, 0, 0
    from appointments where status = 'completed' and completed_at is not null
    union all
    select patient_key, no_show_at, 1, appointment_id, 0, 1, 0, 0, 0
    from appointments where status = 'no_show' and no_show_at is not null
    union all
    select patient_key, cancelled_at, 1, appointment_id, 0, 0, 1,
        case when is_late_cancel then 1 else 0 end, 0
    from appointments where status = 'cancelled' and cancelled_at is not null
    union all
    select patient_key, charged_at, 1, null, 0, 0, 0, 0, amount_cents
    from {{ ref('stg_core__charges') }}
    {%- if is_incremental() %}
    where patient_key in (select patient_key from affected_patients)
    {%- endif %}
    union all
    select patient_key, received_at, 1, null, 0, 0, 0, 0, -amount_cents
    from {{ ref('stg_core__payments') }}
    {%- if is_incremental() %}
    where patient_key in (select patient_key from affected_patients)
    {%- endif %}
    union all
    select payments.patient_key, refunds.refunded_at, 1, null, 0, 0, 0, 0, refunds.amount_cents
    from {{ ref('stg_core__refunds') }} as refunds
    inner join {{ ref('stg_core__payments') }} as payments on refunds.payment_id = payments.payment_id
    {%- if is_incremental() %}
    where payments.patient_key in (select patient_key from affected_patients)
    {%- endif %}
),

running as (
    select
        patient_key,
        sort_key,
        appointment_id,
        {%- for column in ['visit', 'no_show', 'cancel', 'late_cancel', 'ledger_cents'] %}
        sum({{ column }}) over (
            partition by patient_key
            order by event_at, sort_key, appointment_id
            rows between unbounded preceding and current row
        ) as running_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from patient_events
),

own as (
    -- the appointment's own outcome when it was recorded before its cut-off (a cancellation
    -- days ahead): taken out again, so an appointment never counts itself
    select
        appointment_id,
        case when status = 'completed' and completed_at < cut_off_at then 1 else 0 end as visit,
        case when status = 'no_show' and no_show_at < cut_off_at then 1 else 0 end as no_show,
        case when status = 'cancelled' and cancelled_at < cut_off_at then 1 else 0 end as cancel,
        case when is_late_cancel and cancelled_at < cut_off_at then 1 else 0 end as late_cancel
    from appointments
),

counted as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        appointments.cut_off_at,
        running.running_visit - own.visit as prior_visits,
        running.running_no_show - own.no_show as prior_no_shows,
        running.running_cancel - own.cancel as prior_cancellations,
        running.running_late_cancel - own.late_cancel as prior_late_cancels,
        running.running_ledger_cents as balance_cents_at_cut_off
    from appointments
    inner join running
        on appointments.appointment_id = running.appointment_id
        and running.sort_key = 0
    inner join own on appointments.appointment_id = own.appointment_id
)

select
    appointment_id,
    patient_key,
    cut_off_at,
    cast(prior_visits as {{ dbt.type_bigint() }}) as prior_visits,
    cast(prior_no_shows as {{ dbt.type_bigint() }}) as prior_no_shows,
    cast(prior_cancellations as {{ dbt.type_bigint() }}) as prior_cancellations,
    cast(prior_late_cancels as {{ dbt.type_bigint() }}) as prior_late_cancels,
    cast(prior_visits + prior_no_shows + prior_cancellations as {{ dbt.type_bigint() }}) as prior_appointments,
    cast(balance_cents_at_cut_off as {{ dbt.type_bigint() }}) as balance_cents_at_cut_off
from counted
