{#- The core's late-cancel rule (core_app.domain.appointment): a cancellation less than 24 hours
    before the start is late, i.e. a broken appointment. Exactly 24 hours ahead is not late. -#}
{% macro is_late_cancel(status, cancelled_at, start_at) -%}
    ({{ status }} = 'cancelled' and {{ cancelled_at }} > {{ dbt.dateadd('hour', -24, start_at) }})
{%- endmacro %}

{#- The moment the no-show features are taken at: 24 hours before the start, or the booking time
    when the appointment was booked later than that (same-day and next-day bookings). -#}
{% macro no_show_cut_off(booked_at, start_at) -%}
    greatest({{ booked_at }}, {{ dbt.dateadd('hour', -24, start_at) }})
{%- endmacro %}
