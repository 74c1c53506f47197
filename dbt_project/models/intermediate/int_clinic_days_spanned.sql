{#- One row per clinic and clinic-local day, from the clinic's first to its last recorded day (a booking,
    an appointment - future ones included -, a charge or a payment), with
    the clinic's public holidays (seed public_holidays, by country) and its opening minutes.
    A clinic is open on a day when it has opening hours that weekday and the day is not a public
    holiday of its country (the clinics close on public holidays, as the simulator's do; the core
    keeps no per-day closures yet). Opening hours are the current ones: the core keeps no history
    of changed hours. `is_in_history`: on or after the clinic's first appointment day (bookings
    made before it exist, but no schedule is recorded before it, so no available minutes). -#}
with recorded_days as (
    select clinic_id, booked_date as local_date, appointment_date from {{ ref('stg_core__appointments') }}
    union all
    select clinic_id, appointment_date, appointment_date from {{ ref('stg_core__appointments') }}
    union all
    select clinic_id, charged_date, cast(null as date) from {{ ref('stg_core__charges') }}
    union all
    select clinic_id, received_date, cast(null as date) from {{ ref('stg_core__payments') }}
),

bounds as (
    select
        clinics.clinic_id,
        clinics.country,
        min(recorded_days.local_date) as first_day,
        max(recorded_days.local_date) as last_day,
        min(recorded_days.appointment_date) as first_appointment_date
    from {{ ref('stg_core__clinics') }} as clinics
    inner join recorded_days on clinics.clinic_id = recorded_days.clinic_id
    group by clinics.clinic_id, clinics.country
),

days as (
    {{ days_between('bounds', ['clinic_id', 'country', 'first_appointment_date']) }}
),

opening as (
    select clinic_id, weekday, sum(end_minute - start_minute) as opening_minutes
    from {{ ref('stg_core__clinic_opening_hours') }}
    group by clinic_id, weekday
),

holidays as (
    select country, cast(holiday_date as date) as holiday_date, holiday_name
    from {{ ref('public_holidays') }}
),

calendar as (
    select
        days.clinic_id,
        days.date_day,
        days.date_day >= days.first_appointment_date as is_in_history,
        {{ weekday_monday0('days.date_day') }} as weekday,
        holidays.holiday_name,
        holidays.holiday_name is not null as is_public_holiday
    from days
    left join holidays
        on days.country = holidays.country
        and days.date_day = holidays.holiday_date
)

select
    calendar.clinic_id,
    calendar.date_day,
    calendar.weekday,
    calendar.is_in_history,
    calendar.is_public_holiday,
    calendar.holiday_name,
    coalesce(opening.opening_minutes, 0) > 0 and not calendar.is_public_holiday as is_open,
    case
        when calendar.is_public_holiday then 0 else coalesce(opening.opening_minutes, 0)
    end as open_minutes
from calendar
left join opening
    on calendar.clinic_id = opening.clinic_id
    and calendar.weekday = opening.weekday
