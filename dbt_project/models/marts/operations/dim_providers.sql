{#- One row per provider (dentist or hygienist) with their weekly working minutes over all
    clinics. -#}
with weekly as (
    select provider_id, sum(end_minute - start_minute) as weekly_working_minutes, count(distinct clinic_id) as clinics
    from {{ ref('stg_core__provider_working_hours') }}
    group by provider_id
)

select
    providers.provider_id,
    providers.provider_name,
    providers.provider_kind,
    providers.is_active,
    coalesce(weekly.clinics, 0) as clinics,
    coalesce(weekly.weekly_working_minutes, 0) as weekly_working_minutes
from {{ ref('stg_core__providers') }} as providers
left join weekly on providers.provider_id = weekly.provider_id
