{#- One row per clinic x clinic-local day x procedure category, from the clinic's first day in
    the warehouse to the as-of day (int_as_of_date), zeros included: the appointments requested
    that day. The request day is the day the appointment was booked (booked_at, clinic-local):
    the core records no requests yet, so a booking is the request that got a slot. Every booking
    counts, whatever became of it (a later cancellation, a no-show, an overbook); the category
    is the appointment's primary category (the procedure line with the highest fee).
    Incremental by clinic-day: the old and new booking days of the appointments whose row changed
    in fct_appointments (its change log), the days that appeared, went or changed in the
    calendar (the as-of day moved, a holiday), and every day of a clinic whose categories
    changed; each recomputed whole. Everything when fct_appointments was rebuilt in full or a
    clinic changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['clinic_id', 'date_day'],
    post_hook="{{ record_incremental_state(producers=['fct_appointments']) }}",
) }}
{%- set recompute_all = incremental_reset(['fct_appointments'], ref('stg_core__clinics')) %}
{%- set partial = is_incremental() and not recompute_all %}
with all_days as (
    select days.clinic_id, days.date_day, days.weekday, days.is_open, days.is_public_holiday
    from {{ ref('int_clinic_days_spanned') }} as days
    cross join {{ ref('int_as_of_date') }} as as_of
    where days.date_day <= as_of.as_of_date
),

all_categories as (
    select distinct clinic_id, category from {{ ref('stg_core__procedures') }}
),
{%- if partial %}

affected_days as (
    select clinic_id, day_2 as date_day from {{ changes_from('fct_appointments') }} as changes
    union
    select clinic_id, date_day from (
        (select clinic_id, date_day, weekday, is_open, is_public_holiday from all_days
         except
         select distinct clinic_id, date_day, weekday, is_open, is_public_holiday from {{ this }})
        union all
        (select distinct clinic_id, date_day, weekday, is_open, is_public_holiday from {{ this }}
         except
         select clinic_id, date_day, weekday, is_open, is_public_holiday from all_days)
    ) as calendar_changes
    union
    select stored.clinic_id, stored.date_day
    from (select distinct clinic_id, date_day from {{ this }}) as stored
    where stored.clinic_id in (
        select clinic_id from (
            (select clinic_id, category from all_categories
             except
             select distinct clinic_id, category from {{ this }})
            union all
            (select distinct clinic_id, category from {{ this }}
             except
             select clinic_id, category from all_categories)
        ) as category_changes
    )
    union
    select all_days.clinic_id, all_days.date_day from all_days
    where all_days.clinic_id not in (select distinct clinic_id from {{ this }})
),
{%- endif %}

days as (
    select * from all_days
    where {{ in_affected_days(partial, 'all_days.clinic_id', 'all_days.date_day') }}
),

categories as (
    select * from all_categories
),

requested as (
    select
        clinic_id,
        booked_date as date_day,
        primary_category as category,
        count(*) as requested_appointments,
        sum(case when is_cancelled then 1 else 0 end) as later_cancelled
    from {{ ref('fct_appointments') }} as appointments
    where primary_category is not null
        and {{ in_affected_days(partial, 'appointments.clinic_id', 'appointments.booked_date') }}
    group by clinic_id, booked_date, primary_category
),

demand as (
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
)

{{ rows_with_markers('demand', replaced_keys(partial, 'affected_days', ['clinic_id', 'date_day'])) }}
