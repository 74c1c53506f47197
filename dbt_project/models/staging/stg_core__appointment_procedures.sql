{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='line_id',
    post_hook="{{ record_incremental_state() }}",
) }}
with source as (
    select * from {{ source('core', 'appointment_procedures') }}
),

renamed as (
    select
        -- ids
        cast(line_id as {{ dbt.type_bigint() }}) as line_id,
        cast(appointment_id as {{ dbt.type_bigint() }}) as appointment_id,
        cast(procedure_id as {{ dbt.type_bigint() }}) as procedure_id,
        cast(code as {{ dbt.type_string() }}) as procedure_code,
        -- attributes (fixed when the appointment was booked)
        cast(category as {{ dbt.type_string() }}) as category,
        cast(duration_min as {{ dbt.type_int() }}) as duration_min,
        -- amounts (the appointment's currency)
        cast(fee_cents as {{ dbt.type_bigint() }}) as fee_cents,
        -- timestamps (UTC)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at
    from source
    {%- if is_incremental() %}
    -- the rows loaded since this model was last built
    where updated_at >= {{ changed_since('appointment_procedures') }}
    {%- endif %}
)

select * from renamed
