-- depends_on: {{ ref('stg_core__appointment_procedures') }}
{#- One row per appointment (every status; nothing is ever deleted in the core).
    Incremental: a row depends on its appointment, its procedure lines and charges, the
    patient's other appointments (first visit, hygiene reappointment), the patient's
    registration and the clinic's first recorded day, and the appointment it overbooks. An
    incremental build recomputes every appointment of each patient with an appointment, line,
    charge or patient row loaded since the last build (all the clinic's patients when the clinic
    changed or its first day moved), and the overbooks of the appointments loaded; the rows whose
    content changed are logged (old and new day) for the marts built from this one. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='appointment_id',
    pre_hook="{{ log_reset_unless_incremental() }}",
    post_hook="{{ record_incremental_state(is_producer=true, fingerprints='select state_key, watermark from (' ~ clinic_first_days() ~ ') as first_days') }}",
    meta={'change_log': {'row_id': 'appointment_id', 'clinic_id': 'clinic_id', 'day_1': 'appointment_date', 'day_2': 'booked_date'}},
) }}
with appointments as {{ inlined() }} (
    select * from {{ ref('stg_core__appointments') }}
),
{%- if is_incremental() %}

changed_appointments as (
    select appointment_id from appointments
    where updated_at >= {{ changed_since('appointments') }}
),

changed_clinics as (
    select clinic_id from {{ ref('stg_core__clinics') }}
    where updated_at >= {{ changed_since('clinics') }}
    union
    {{ clinics_with_moved_first_day() }}
),

affected_patients as (
    select patient_key from appointments
    where updated_at >= {{ changed_since('appointments') }}
    union
    select appointments.patient_key
    from {{ ref('stg_core__appointment_procedures') }} as lines
    inner join appointments on lines.appointment_id = appointments.appointment_id
    where lines.updated_at >= {{ changed_since('appointment_procedures') }}
    union
    select patient_key from {{ ref('stg_core__charges') }}
    where updated_at >= {{ changed_since('charges') }}
    union
    select patient_key from {{ ref('stg_core__patients') }}
    where updated_at >= {{ changed_since('patients') }}
        or clinic_id in (select clinic_id from changed_clinics)
),

affected_appointments as (
    select appointment_id, patient_key from appointments
    where patient_key in (select patient_key from affected_patients)
    union
    -- an overbook's minutes depend on the appointment it overbooks
    select appointment_id, patient_key from appointments
    where overbook_of_appointment_id in (select appointment_id from changed_appointments)
),

scope_patients as (
    select distinct patient_key from affected_appointments
),
{%- endif %}

lines as (
    select * from {{ ref('int_appointment_lines_aggregated') }}
    {{- when_incremental('where appointment_id in (select appointment_id from affected_appointments)') }}
),

charged as (
    select appointment_id, sum(amount_cents) as production_cents
    from {{ ref('stg_core__charges') }}
    where appointment_id is not null
    {{- when_incremental('and appointment_id in (select appointment_id from affected_appointments)') }}
    group by appointment_id
),

outcomes as (
    select
        appointments.*,
        {{ is_late_cancel('appointments.status', 'appointments.cancelled_at', 'appointments.start_at') }} as is_late_cancel,
        -- an overbook's minutes are already held on the provider or chair it shares with the
        -- appointment it overbooks, unless that one was cancelled
        coalesce(
            targets.status <> 'cancelled' and targets.provider_id = appointments.provider_id, false
        ) as shares_held_provider,
        coalesce(
            targets.status <> 'cancelled' and targets.chair_id = appointments.chair_id, false
        ) as shares_held_chair
    from appointments
    left join appointments as targets
        on appointments.overbook_of_appointment_id = targets.appointment_id
    {{- when_incremental('where appointments.appointment_id in (select appointment_id from affected_appointments)') }}
),

history_start as (
    -- a patient registered before the clinic's recorded history began is an established
    -- patient whose earlier visits the core does not hold: their first recorded visit is not new
    select clinic_id, min(date_day) as first_recorded_day
    from {{ ref('int_clinic_days_spanned') }}
    group by clinic_id
),

registered as (
    select
        patients.patient_key,
        cast({{ utc_to_local('patients.created_at', 'clinics.timezone') }} as date) >= history_start.first_recorded_day
            as is_registered_in_history
    from {{ ref('stg_core__patients') }} as patients
    inner join {{ ref('stg_core__clinics') }} as clinics on patients.clinic_id = clinics.clinic_id
    inner join history_start on patients.clinic_id = history_start.clinic_id
    {{- when_incremental('where patients.patient_key in (select patient_key from scope_patients)') }}
),

completed_rank as (
    select
        appointment_id,
        row_number() over (partition by patient_key order by start_at, appointment_id) as visit_number
    from appointments
    where status = 'completed'
    {{- when_incremental('and patient_key in (select patient_key from scope_patients)') }}
),

hygiene as (
    select
        appointments.appointment_id,
        appointments.patient_key,
        appointments.start_at,
        appointments.status,
        appointments.booked_date,
        appointments.completed_local
    from appointments
    inner join {{ ref('int_appointment_lines_aggregated') }} as lines
        on appointments.appointment_id = lines.appointment_id
    where lines.has_hygiene
    {{- when_incremental('and appointments.patient_key in (select patient_key from scope_patients)') }}
),

reappointed as (
    -- a completed hygiene visit after which the patient left with a later hygiene appointment:
    -- one starting after this visit, booked no later than the visit's day (whatever became of it)
    select distinct seen.appointment_id
    from hygiene as seen
    inner join hygiene as next_visit
        on seen.patient_key = next_visit.patient_key
        and next_visit.start_at > seen.start_at
        and next_visit.booked_date <= cast(seen.completed_local as date)
    where seen.status = 'completed'
)

select
    -- ids
    outcomes.appointment_id,
    outcomes.clinic_id,
    outcomes.patient_key,
    outcomes.provider_id,
    outcomes.chair_id,
    outcomes.overbook_of_appointment_id,
    -- status
    outcomes.status,
    outcomes.booking_source,
    outcomes.is_overbook,
    outcomes.reschedule_count,
    outcomes.status = 'completed' as is_completed,
    outcomes.status = 'no_show' as is_no_show,
    outcomes.status = 'cancelled' as is_cancelled,
    outcomes.is_late_cancel,
    outcomes.status = 'no_show' or outcomes.is_late_cancel as is_broken,
    -- counted in no-show and broken-appointment rates: past and not cancelled in good time
    outcomes.status in ('completed', 'checked_in', 'no_show') or outcomes.is_late_cancel as is_scheduled,
    coalesce(completed_rank.visit_number = 1, false) as is_first_visit,
    coalesce(completed_rank.visit_number = 1 and registered.is_registered_in_history, false) as is_new_patient_visit,
    coalesce(lines.has_hygiene, false) as has_hygiene,
    reappointed.appointment_id is not null as is_hygiene_reappointed,
    -- procedures
    coalesce(lines.procedure_count, 0) as procedure_count,
    lines.procedure_codes,
    lines.primary_category,
    -- timestamps (UTC)
    outcomes.start_at,
    outcomes.end_at,
    outcomes.booked_at,
    outcomes.confirmed_at,
    outcomes.checked_in_at,
    outcomes.completed_at,
    outcomes.no_show_at,
    outcomes.cancelled_at,
    -- clinic-local
    outcomes.start_local,
    outcomes.appointment_date,
    outcomes.booked_date,
    cast(outcomes.completed_local as date) as completed_date,
    {{ weekday_monday0('outcomes.appointment_date') }} as weekday,
    cast(extract(hour from outcomes.start_local) as {{ dbt.type_int() }}) as start_hour,
    -- durations
    {{ dbt.datediff('outcomes.booked_at', 'outcomes.start_at', 'minute') }} as lead_time_minutes,
    {{ dbt.datediff('outcomes.booked_at', 'outcomes.start_at', 'minute') }} / 1440.0 as lead_time_days,
    case
        when outcomes.status = 'cancelled'
        then {{ dbt.datediff('outcomes.cancelled_at', 'outcomes.start_at', 'minute') }}
    end as cancel_notice_minutes,
    {{ dbt.datediff('outcomes.start_at', 'outcomes.end_at', 'minute') }} as scheduled_minutes,
    case
        when outcomes.status = 'cancelled' or outcomes.shares_held_provider then 0
        else {{ dbt.datediff('outcomes.start_at', 'outcomes.end_at', 'minute') }}
    end as booked_minutes,
    case
        when outcomes.status = 'cancelled' or outcomes.shares_held_chair then 0
        else {{ dbt.datediff('outcomes.start_at', 'outcomes.end_at', 'minute') }}
    end as chair_booked_minutes,
    case
        when outcomes.status = 'completed'
        then greatest(
            0,
            {{ dbt.datediff('greatest(outcomes.start_at, coalesce(outcomes.checked_in_at, outcomes.start_at))', 'outcomes.completed_at', 'minute') }}
        )
        else 0
    end as realised_minutes,
    -- amounts (currency of the appointment)
    outcomes.currency,
    coalesce(lines.scheduled_fee_cents, 0) as scheduled_fee_cents,
    coalesce(charged.production_cents, 0) as production_cents
from outcomes
left join lines on outcomes.appointment_id = lines.appointment_id
left join charged on outcomes.appointment_id = charged.appointment_id
left join completed_rank on outcomes.appointment_id = completed_rank.appointment_id
left join registered on outcomes.patient_key = registered.patient_key
left join reappointed on outcomes.appointment_id = reappointed.appointment_id
