{#- One row per appointment that has procedure lines: its procedures summed up. The primary
    category is the category of the line with the highest fee (lowest line id on a tie). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='appointment_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with lines as (
    select * from {{ ref('stg_core__appointment_procedures') }}
    {%- if is_incremental() %}
    -- every line of the appointments with a line loaded since the last build
    where appointment_id in (
        select appointment_id from {{ ref('stg_core__appointment_procedures') }}
        where updated_at >= {{ changed_since('appointment_procedures') }}
    )
    {%- endif %}
),

ranked as (
    select
        appointment_id,
        category,
        row_number() over (partition by appointment_id order by fee_cents desc, line_id) as fee_rank
    from lines
),

summed as (
    select
        appointment_id,
        count(*) as procedure_count,
        {{ dbt.listagg('procedure_code', "','", 'order by line_id') }} as procedure_codes,
        sum(duration_min) as procedure_minutes,
        sum(fee_cents) as scheduled_fee_cents,
        max(case when category = 'hygiene' then 1 else 0 end) = 1 as has_hygiene
    from lines
    group by appointment_id
)

select
    summed.appointment_id,
    summed.procedure_count,
    summed.procedure_codes,
    ranked.category as primary_category,
    summed.has_hygiene,
    summed.procedure_minutes,
    summed.scheduled_fee_cents
from summed
inner join ranked
    on summed.appointment_id = ranked.appointment_id
    and ranked.fee_rank = 1
