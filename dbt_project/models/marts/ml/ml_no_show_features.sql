{#- One row per appointment: the features known at its cut-off (24 hours
    before the start, or the booking time when booked later than that - the moment the front
    desk can still act: an extra reminder, a confirmation call, an overbook), and for past
    appointments the label. Nothing here is taken from after the cut-off, except the label.
    The patient's age band is the one at extraction (raw keeps no birth date). Reminders are not
    recorded by the core yet (issue 7), so there is no reminder feature. -#}
with appointments as (
    select * from {{ ref('fct_appointments') }}
),

prior as (
    select * from {{ ref('int_appointments_prior_counted') }}
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
