{#- One row per clinic and clinic-local day the warehouse spans, with the clinic's public
    holidays and whether it is open. -#}
select
    days.clinic_id,
    days.date_day,
    days.weekday,
    cast(extract(year from days.date_day) as {{ dbt.type_int() }}) as year,
    cast(extract(month from days.date_day) as {{ dbt.type_int() }}) as month,
    cast(extract(day from days.date_day) as {{ dbt.type_int() }}) as day_of_month,
    cast({{ dbt.date_trunc('month', 'days.date_day') }} as date) as month_start,
    days.weekday >= 5 as is_weekend,
    days.is_public_holiday,
    days.holiday_name,
    days.is_open,
    days.is_in_history,
    days.open_minutes
from {{ ref('int_clinic_days_spanned') }} as days
