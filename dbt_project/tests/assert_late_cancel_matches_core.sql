-- The warehouse re-derives the late-cancel rule from the times (macro is_late_cancel); it must
-- agree with the flag the core recorded when the cancellation happened.
select
    fct.appointment_id,
    fct.is_late_cancel,
    stg.recorded_is_late_cancel
from {{ ref('fct_appointments') }} as fct
inner join {{ ref('stg_core__appointments') }} as stg
    on fct.appointment_id = stg.appointment_id
where fct.is_late_cancel <> stg.recorded_is_late_cancel
