{#- One row per clinic-local day x clinic x provider with any activity or available minutes.
    Every column is an additive daily component: a period's KPI is the sum of its numerator over
    the days divided by the sum of its denominator (marts.kpi_definitions names the pairs).
    provider_id is null on the row that holds money not tied to an appointment (payments and
    refunds recorded without one, charges without an appointment).
    Attribution: appointment counts and minutes to the appointment's day and provider;
    production to the charge's day (the visit's completion) and the appointment's provider;
    payments to the day received and refunds to the day refunded, both to the provider of the
    appointment the payment was recorded against.
    Incremental by clinic-day: the days of the appointments whose row changed in
    fct_appointments (their old and their new day, from its change log), of the charges loaded
    since and of the charges of those appointments (their provider may have changed), of the
    payments whose row changed in fct_payments and of their refunds and the refunds loaded since,
    and the days whose available minutes changed; each such clinic-day is recomputed whole
    (a day left without any row is deleted). Everything when a producer was rebuilt in full or a
    clinic changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['clinic_id', 'date_day'],
    post_hook="{{ record_incremental_state(producers=['fct_appointments', 'fct_payments']) }}",
) }}
{%- set recompute_all = incremental_reset(['fct_appointments', 'fct_payments'], ref('stg_core__clinics')) %}
{%- set partial = is_incremental() and not recompute_all %}
with
{%- if partial %}
appointment_changes as (
    select row_id, clinic_id, day_1 from {{ changes_from('fct_appointments') }} as changes
),

payment_changes as (
    select row_id, clinic_id, day_1 from {{ changes_from('fct_payments') }} as changes
),

affected_days as (
    select clinic_id, day_1 as date_day from appointment_changes
    union
    select clinic_id, charged_date from {{ ref('stg_core__charges') }}
    where updated_at >= {{ changed_since('charges') }}
        or appointment_id in (select row_id from appointment_changes)
    union
    select clinic_id, day_1 from payment_changes
    union
    select payments.clinic_id, refunds.refunded_date
    from {{ ref('stg_core__refunds') }} as refunds
    inner join {{ ref('fct_payments') }} as payments on refunds.payment_id = payments.payment_id
    where refunds.updated_at >= {{ changed_since('refunds') }}
        or refunds.payment_id in (select row_id from payment_changes)
    union
    select clinic_id, date_day from (
        (select clinic_id, date_day, provider_id, available_minutes
         from {{ ref('int_provider_days_available') }}
         except
         select clinic_id, date_day, provider_id, available_minutes from {{ this }}
         where available_minutes <> 0)
        union all
        (select clinic_id, date_day, provider_id, available_minutes from {{ this }}
         where available_minutes <> 0
         except
         select clinic_id, date_day, provider_id, available_minutes
         from {{ ref('int_provider_days_available') }})
    ) as availability_changes
),
{%- endif %}

appointments as {{ inlined() }} (
    select * from {{ ref('fct_appointments') }}
),

appointment_days as (
    select
        appointment_date as date_day,
        clinic_id,
        provider_id,
        sum(case when is_scheduled then 1 else 0 end) as scheduled_appointments,
        sum(case when is_completed then 1 else 0 end) as completed_visits,
        sum(case when is_no_show then 1 else 0 end) as no_shows,
        sum(case when is_late_cancel then 1 else 0 end) as late_cancels,
        sum(case when is_broken then 1 else 0 end) as broken_appointments,
        sum(case when is_cancelled then 1 else 0 end) as cancellations,
        sum(booked_minutes) as booked_minutes,
        sum(realised_minutes) as realised_minutes,
        sum(case when is_new_patient_visit then 1 else 0 end) as new_patients,
        sum(case when is_completed and has_hygiene then 1 else 0 end) as hygiene_patients_seen,
        sum(case when is_completed and is_hygiene_reappointed then 1 else 0 end) as hygiene_patients_reappointed
    from appointments
    where {{ in_affected_days(partial, 'appointments.clinic_id', 'appointments.appointment_date') }}
    group by appointment_date, clinic_id, provider_id
),

charges as (
    select
        charges.charged_date as date_day,
        charges.clinic_id,
        appointments.provider_id,
        sum(charges.amount_cents) as production_cents
    from {{ ref('stg_core__charges') }} as charges
    left join appointments on charges.appointment_id = appointments.appointment_id
    where {{ in_affected_days(partial, 'charges.clinic_id', 'charges.charged_date') }}
    group by charges.charged_date, charges.clinic_id, appointments.provider_id
),

payments as {{ inlined() }} (
    select * from {{ ref('fct_payments') }}
),

payment_days as (
    select
        received_date as date_day,
        clinic_id,
        provider_id,
        sum(amount_cents) as payments_cents,
        sum(case when payment_method = 'insurance' then amount_cents else 0 end) as insurance_payments_cents
    from payments
    where {{ in_affected_days(partial, 'payments.clinic_id', 'payments.received_date') }}
    group by received_date, clinic_id, provider_id
),

refund_days as (
    select
        refunds.refunded_date as date_day,
        payments.clinic_id,
        payments.provider_id,
        sum(refunds.amount_cents) as refunds_cents
    from {{ ref('stg_core__refunds') }} as refunds
    inner join payments on refunds.payment_id = payments.payment_id
    where {{ in_affected_days(partial, 'payments.clinic_id', 'refunds.refunded_date') }}
    group by refunds.refunded_date, payments.clinic_id, payments.provider_id
),

available_days as (
    select date_day, clinic_id, provider_id, available_minutes
    from {{ ref('int_provider_days_available') }} as available
    where {{ in_affected_days(partial, 'available.clinic_id', 'available.date_day') }}
),

components as (
    select
        date_day, clinic_id, provider_id,
        scheduled_appointments, completed_visits, no_shows, late_cancels, broken_appointments,
        cancellations, booked_minutes, realised_minutes, new_patients, hygiene_patients_seen,
        hygiene_patients_reappointed,
        0 as production_cents, 0 as payments_cents, 0 as insurance_payments_cents,
        0 as refunds_cents, 0 as available_minutes
    from appointment_days
    union all
    select date_day, clinic_id, provider_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        production_cents, 0, 0, 0, 0
    from charges
    union all
    select date_day, clinic_id, provider_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, payments_cents, insurance_payments_cents, 0, 0
    from payment_days
    union all
    select date_day, clinic_id, provider_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, refunds_cents, 0
    from refund_days
    union all
    select date_day, clinic_id, provider_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, available_minutes
    from available_days
),

summed as (
    select
        date_day,
        clinic_id,
        provider_id,
        -- money (integer cents, the clinic's currency)
        sum(production_cents) as production_cents,
        sum(payments_cents) as payments_cents,
        sum(insurance_payments_cents) as insurance_payments_cents,
        sum(refunds_cents) as refunds_cents,
        -- appointments
        sum(scheduled_appointments) as scheduled_appointments,
        sum(completed_visits) as completed_visits,
        sum(no_shows) as no_shows,
        sum(late_cancels) as late_cancels,
        sum(broken_appointments) as broken_appointments,
        sum(cancellations) as cancellations,
        sum(new_patients) as new_patients,
        sum(hygiene_patients_seen) as hygiene_patients_seen,
        sum(hygiene_patients_reappointed) as hygiene_patients_reappointed,
        -- minutes
        sum(available_minutes) as available_minutes,
        sum(booked_minutes) as booked_minutes,
        sum(realised_minutes) as realised_minutes
    from components
    group by date_day, clinic_id, provider_id
),

daily as (
select
    summed.date_day,
    summed.clinic_id,
    summed.provider_id,
    clinics.currency,
    cast(summed.production_cents as {{ dbt.type_bigint() }}) as production_cents,
    -- the core records no insurance write-offs or adjustments yet, so net equals gross today;
    -- collection rate divides by net production so that it stays right once they exist
    cast(summed.production_cents as {{ dbt.type_bigint() }}) as net_production_cents,
    cast(summed.payments_cents as {{ dbt.type_bigint() }}) as payments_cents,
    cast(summed.insurance_payments_cents as {{ dbt.type_bigint() }}) as insurance_payments_cents,
    cast(summed.refunds_cents as {{ dbt.type_bigint() }}) as refunds_cents,
    cast(summed.payments_cents - summed.refunds_cents as {{ dbt.type_bigint() }}) as collections_cents,
    cast(summed.scheduled_appointments as {{ dbt.type_bigint() }}) as scheduled_appointments,
    cast(summed.completed_visits as {{ dbt.type_bigint() }}) as completed_visits,
    cast(summed.no_shows as {{ dbt.type_bigint() }}) as no_shows,
    cast(summed.late_cancels as {{ dbt.type_bigint() }}) as late_cancels,
    cast(summed.broken_appointments as {{ dbt.type_bigint() }}) as broken_appointments,
    cast(summed.cancellations as {{ dbt.type_bigint() }}) as cancellations,
    cast(summed.new_patients as {{ dbt.type_bigint() }}) as new_patients,
    cast(summed.hygiene_patients_seen as {{ dbt.type_bigint() }}) as hygiene_patients_seen,
    cast(summed.hygiene_patients_reappointed as {{ dbt.type_bigint() }}) as hygiene_patients_reappointed,
    cast(summed.available_minutes as {{ dbt.type_bigint() }}) as available_minutes,
    cast(summed.booked_minutes as {{ dbt.type_bigint() }}) as booked_minutes,
    cast(summed.realised_minutes as {{ dbt.type_bigint() }}) as realised_minutes,
    summed.available_minutes / 60.0 as available_hours
from summed
inner join {{ ref('stg_core__clinics') }} as clinics on summed.clinic_id = clinics.clinic_id
)

{{ rows_with_markers('daily', replaced_keys(partial, 'affected_days', ['clinic_id', 'date_day'])) }}
