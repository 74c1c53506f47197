{#- One row per clinic-local day x chair with any appointment or available minutes: the
    additive components of chair utilization (booked or realised chair minutes over the
    clinic's opening minutes on open days). -#}
with appointment_days as (
    select
        appointment_date as date_day,
        clinic_id,
        chair_id,
        count(*) as appointments,
        sum(chair_booked_minutes) as chair_booked_minutes,
        sum(realised_minutes) as chair_realised_minutes
    from {{ ref('fct_appointments') }}
    group by appointment_date, clinic_id, chair_id
),

components as (
    select date_day, clinic_id, chair_id, appointments, chair_booked_minutes,
        chair_realised_minutes, 0 as chair_available_minutes
    from appointment_days
    union all
    select date_day, clinic_id, chair_id, 0, 0, 0, available_minutes
    from {{ ref('int_chair_days_available') }}
)

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
