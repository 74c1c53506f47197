{#- One row per chair (operatory). -#}
select
    chairs.chair_id,
    chairs.clinic_id,
    chairs.chair_name,
    chairs.is_active
from {{ ref('stg_core__chairs') }} as chairs
