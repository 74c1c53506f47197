{#- One row per clinic x clinic-local day x procedure category, from the clinic's first day in
    the warehouse to the as-of day (int_as_of_date), zeros included: the appointments requested
    that day. The request day is the day the appointment was booked (booked_at, clinic-local):
    the core records no requests yet, so a booking is the request that got a slot. Every booking
    counts, whatever became of it (a later cancellation, a no-show, an overbook); the category
    is the appointment's primary category (the procedure line with the highest fee). -#}
with days as (
    select days.clinic_id, days.date_day, days.weekday, days.is_open, days.is_public_holiday
    from {{ ref('int_clinic_days_spanned') }} as days
    cross join {{ ref('int_as_of_date') }} as as_of
    where days.date_day <= as_of.as_of_date
),

categories as (
    select distinct clinic_id, category from {{ ref('stg_core__procedures') }}
),

requested as (
    select
        clinic_id,
        booked_date as date_day,
        primary_category as category,
        count(*) as requested_appointments,
        sum(case when is_cancelled then 1 else 0 end) as later_cancelled
    from {{ ref('fct_appointments') }}
    where primary_category is not null
    group by clinic_id, booked_date, primary_category
)

select
    days.clinic_id,
    days.date_day,
    categories.category,
    days.weekday,
    days.is_open,
    days.is_public_holiday,
    cast(coalesce(requested.requested_appointments, 0) as {{ dbt.type_bigint() }}) as requested_appointments,
    cast(coalesce(requested.later_cancelled, 0) as {{ dbt.type_bigint() }}) as later_cancelled
from days
inner join categories on days.clinic_id = categories.clinic_id
left join requested
    on days.clinic_id = requested.clinic_id
    and days.date_day = requested.date_day
    and categories.category = requested.category
