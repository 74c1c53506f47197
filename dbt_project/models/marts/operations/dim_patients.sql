{#- One row per patient, pseudonymised: patient_key is the core key ring's keyed pseudonym; no
    name, birth date (only the age band as of the extraction day), phone, email or notes. -#}
with patients as (
    select * from {{ ref('stg_core__patients') }}
),

visits as (
    select
        patient_key,
        count(*) as appointments,
        sum(case when is_completed then 1 else 0 end) as completed_visits,
        sum(case when is_no_show then 1 else 0 end) as no_shows,
        sum(case when is_late_cancel then 1 else 0 end) as late_cancels,
        min(case when is_completed then appointment_date end) as first_visit_date,
        max(case when is_completed then appointment_date end) as last_visit_date
    from {{ ref('fct_appointments') }}
    group by patient_key
)

select
    -- ids
    patients.patient_key,
    patients.clinic_id,
    -- attributes
    patients.age_band,
    patients.sex,
    patients.distance_km,
    patients.has_insurance,
    patients.contact_preference,
    patients.is_active,
    -- timestamps (UTC)
    patients.created_at,
    -- history (clinic-local days)
    visits.first_visit_date,
    visits.last_visit_date,
    coalesce(visits.appointments, 0) as appointments,
    coalesce(visits.completed_visits, 0) as completed_visits,
    coalesce(visits.no_shows, 0) as no_shows,
    coalesce(visits.late_cancels, 0) as late_cancels
from patients
left join visits on patients.patient_key = visits.patient_key
