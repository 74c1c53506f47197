{#- One row per appointment: the features known at its cut-off (24 hours
    before the start, or the booking time when booked later than that - the moment the front
    desk can still act: an extra reminder, a confirmation call, an overbook), and for past
    appointments the label. Nothing here is taken from after the cut-off, except the label.
    The patient's age band is the one at extraction (raw keeps no birth date). Reminders are not
    recorded by the core yet (issue 7), so there is no reminder feature.
    Incremental: the appointments whose row changed in fct_appointments or
    int_appointments_prior_counted (their change logs), and the appointments of the patients
    and providers whose attributes differ from the stored ones (an age band moves on a
    birthday without the patient's row changing in the core); everything when a producer was
    rebuilt in full or a clinic changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='appointment_id',
    post_hook="{{ record_incremental_state(producers=['fct_appointments', 'int_appointments_prior_counted']) }}",
) }}
{%- set recompute_all = incremental_reset(['fct_appointments', 'int_appointments_prior_counted'], ref('stg_core__clinics')) %}
{%- set partial = is_incremental() and not recompute_all %}
with
{%- if partial %}
changed_patients as (
    select patient_key from (
        select patient_key, age_band, sex, distance_km, has_insurance, contact_preference
        from {{ ref('stg_core__patients') }}
        except
        select distinct patient_key, age_band, sex, distance_km, has_insurance, contact_preference
        from {{ this }}
    ) as patient_changes
),

changed_providers as (
    select provider_id from (
        select provider_id, provider_kind from {{ ref('stg_core__providers') }}
        except
        select distinct provider_id, provider_kind from {{ this }}
    ) as provider_changes
),

affected_appointments as (
    select row_id as appointment_id from {{ changes_from('fct_appointments') }} as changes
    union
    select row_id from {{ changes_from('int_appointments_prior_counted') }} as changes
    union
    select appointment_id from {{ ref('fct_appointments') }}
    where patient_key in (select patient_key from changed_patients)
        or provider_id in (select provider_id from changed_providers)
),
{%- endif %}

appointments as (
    select * from {{ ref('fct_appointments') }}
    {%- if partial %}
    where appointment_id in (select appointment_id from affected_appointments)
    {%- endif %}
),

prior as (
    select * from {{ ref('int_appointments_prior_counted') }}
    {%- if partial %}
    where appointment_id in (select appointment_id from affected_appointments)
    {%- endif %}
),

patients as (
    select * from {{ ref('stg_core__patients') }}
),

providers as (
    select provider_id, provider_kind from {{ ref('stg_core__providers') }}
)

select
    -- ids
    appointments.appointment_id,
    appointments.clinic_id,
    appointments.patient_key,
    appointments.provider_id,
    -- when
    appointments.start_at,
    prior.cut_off_at,
    appointments.appointment_date,
    -- the appointment (known at booking)
    appointments.lead_time_days,
    appointments.weekday,
    appointments.start_hour,
    cast(extract(month from appointments.appointment_date) as {{ dbt.type_int() }}) as month,
    appointments.primary_category,
    appointments.procedure_count,
    appointments.scheduled_minutes,
    appointments.scheduled_fee_cents,
    providers.provider_kind,
    appointments.booking_source,
    coalesce(appointments.confirmed_at < prior.cut_off_at, false) as is_confirmed_at_cut_off,
    -- the patient
    patients.age_band,
    patients.sex,
    patients.distance_km,
    patients.has_insurance,
    patients.contact_preference,
    -- the patient's history strictly before the cut-off
    prior.prior_appointments,
    prior.prior_visits,
    prior.prior_no_shows,
    prior.prior_cancellations,
    prior.prior_late_cancels,
    prior.balance_cents_at_cut_off,
    prior.balance_cents_at_cut_off > 0 as has_balance_owed,
    -- label: only appointments whose attendance was decided (completed or no-show)
    appointments.status in ('completed', 'no_show') as is_labelled,
    case
        when appointments.status = 'no_show' then true
        when appointments.status = 'completed' then false
    end as is_no_show
from appointments
inner join prior on appointments.appointment_id = prior.appointment_id
left join patients on appointments.patient_key = patients.patient_key
left join providers on appointments.provider_id = providers.provider_id
