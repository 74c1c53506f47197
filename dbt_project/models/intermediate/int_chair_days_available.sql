{#- One row per chair and clinic-local day the chair's clinic is open: the clinic's opening
    minutes that day. A chair that is no longer active counts up to the last day it held an
    appointment (the core does not record when a chair was retired). -#}
with chairs as (
    select chair_id, clinic_id, is_active from {{ ref('stg_core__chairs') }}
),

last_days as (
    select chair_id, max(appointment_date) as last_appointment_date
    from {{ ref('stg_core__appointments') }}
    group by chair_id
)

select
    chairs.chair_id,
    chairs.clinic_id,
    days.date_day,
    days.open_minutes as available_minutes
from chairs
inner join {{ ref('int_clinic_days_spanned') }} as days
    on chairs.clinic_id = days.clinic_id
    and days.is_open
    and days.is_in_history
left join last_days on chairs.chair_id = last_days.chair_id
where chairs.is_active or days.date_day <= last_days.last_appointment_date
