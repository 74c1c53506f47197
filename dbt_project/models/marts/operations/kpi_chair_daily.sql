{#- One row per clinic-local day x chair with any appointment or available minutes: the
    additive components of chair utilization (booked or realised chair minutes over the
    clinic's opening minutes on open days).
    Incremental by clinic-day: the old and new days of the appointments whose row changed in
    fct_appointments (its change log) and the days whose chairs' available minutes changed, each
    recomputed whole. Everything when fct_appointments was rebuilt in full or a clinic changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['clinic_id', 'date_day'],
    post_hook="{{ record_incremental_state(producers=['fct_appointments']) }}",
) }}
{%- set recompute_all = incremental_reset(['fct_appointments'], ref('stg_core__clinics')) %}
{%- set partial = is_incremental() and not recompute_all %}
with
{%- if partial %}
affected_days as (
    select clinic_id, day_1 as date_day from {{ changes_from('fct_appointments') }} as changes
    union
    select clinic_id, date_day from (
        (select clinic_id, date_day, chair_id, available_minutes
         from {{ ref('int_chair_days_available') }}
         except
         select clinic_id, date_day, chair_id, chair_available_minutes from {{ this }}
         where chair_available_minutes <> 0)
        union all
        (select clinic_id, date_day, chair_id, chair_available_minutes from {{ this }}
         where chair_available_minutes <> 0
         except
         select clinic_id, date_day, chair_id, available_minutes
         from {{ ref('int_chair_days_available') }})
    ) as availability_changes
),
{%- endif %}

appointment_days as (
    select
        appointment_date as date_day,
        clinic_id,
        chair_id,
        count(*) as appointments,
        sum(chair_booked_minutes) as chair_booked_minutes,
        sum(realised_minutes) as chair_realised_minutes
    from {{ ref('fct_appointments') }} as appointments
    where {{ in_affected_days(partial, 'appointments.clinic_id', 'appointments.appointment_date') }}
    group by appointment_date, clinic_id, chair_id
),

components as (
    select date_day, clinic_id, chair_id, appointments, chair_booked_minutes,
        chair_realised_minutes, 0 as chair_available_minutes
    from appointment_days
    union all
    select date_day, clinic_id, chair_id, 0, 0, 0, available_minutes
    from {{ ref('int_chair_days_available') }} as available
    where {{ in_affected_days(partial, 'available.clinic_id', 'available.date_day') }}
),

chair_days as (
select
    date_day,
    clinic_id,
    chair_id,
    cast(sum(appointments) as {{ dbt.type_bigint() }}) as appointments,
    cast(sum(chair_available_minutes) as {{ dbt.type_bigint() }}) as chair_available_minutes,
    cast(sum(chair_booked_minutes) as {{ dbt.type_bigint() }}) as chair_booked_minutes,
    cast(sum(chair_realised_minutes) as {{ dbt.type_bigint() }}) as chair_realised_minutes
from components
group by date_day, clinic_id, chair_id
)

{{ rows_with_markers('chair_days', replaced_keys(partial, 'affected_days', ['clinic_id', 'date_day'])) }}
