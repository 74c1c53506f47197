with source as (
    select * from {{ source('core', 'appointment_procedures') }}
),

renamed as (
    select
        -- ids
        cast(line_id as bigint) as line_id,
        cast(appointment_id as bigint) as appointment_id,
        cast(procedure_id as bigint) as procedure_id,
        cast(code as varchar) as procedure_code,
        -- attributes (fixed when the appointment was booked)
        cast(category as varchar) as category,
        cast(duration_min as integer) as duration_min,
        -- amounts (the appointment's currency)
        cast(fee_cents as bigint) as fee_cents,
        -- timestamps (UTC)
        cast(updated_at as timestamp) as updated_at
    from source
)

select * from renamed
