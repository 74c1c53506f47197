{#- One row per provider, clinic and clinic-local day on which the provider has working minutes
    there: the overlap of the provider's weekly working hours at the clinic with the clinic's
    opening hours that weekday, on days the clinic is open (not a public holiday). Bookings must
    fit both, so this is the time a provider can be booked. A provider who is no longer active
    counts up to the last day they had an appointment at the clinic (the core does not record
    when someone left). -#}
with working as (
    select * from {{ ref('stg_core__provider_working_hours') }}
),

opening as (
    select * from {{ ref('stg_core__clinic_opening_hours') }}
),

weekly_overlap as (
    select
        working.provider_id,
        working.clinic_id,
        working.weekday,
        sum(
            case
                when least(working.end_minute, opening.end_minute)
                    > greatest(working.start_minute, opening.start_minute)
                then least(working.end_minute, opening.end_minute)
                    - greatest(working.start_minute, opening.start_minute)
                else 0
            end
        ) as available_minutes
    from working
    inner join opening
        on working.clinic_id = opening.clinic_id
        and working.weekday = opening.weekday
    group by working.provider_id, working.clinic_id, working.weekday
),

providers as (
    select provider_id, is_active from {{ ref('stg_core__providers') }}
),

last_days as (
    select provider_id, clinic_id, max(appointment_date) as last_appointment_date
    from {{ ref('stg_core__appointments') }}
    group by provider_id, clinic_id
)

select
    weekly_overlap.provider_id,
    weekly_overlap.clinic_id,
    days.date_day,
    weekly_overlap.available_minutes
from weekly_overlap
inner join {{ ref('int_clinic_days_spanned') }} as days
    on weekly_overlap.clinic_id = days.clinic_id
    and weekly_overlap.weekday = days.weekday
    and days.is_open
    and days.is_in_history
inner join providers on weekly_overlap.provider_id = providers.provider_id
left join last_days
    on weekly_overlap.provider_id = last_days.provider_id
    and weekly_overlap.clinic_id = last_days.clinic_id
where weekly_overlap.available_minutes > 0
    and (providers.is_active or days.date_day <= last_days.last_appointment_date)
