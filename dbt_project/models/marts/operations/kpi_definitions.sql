{#- The one place a KPI is defined. For a period (clinic-local days, one clinic or all), a KPI
    is sum(numerator_column) / sum(denominator_column) over the rows of source_model whose
    date_day falls in the period; a KPI without a denominator is the sum of its numerator.
    `dentops kpi` reads this table (dashboards are to do the same); no KPI formula lives in Python.
    Accounts-receivable ageing is a balance at one moment, not a sum over days: it is in
    marts.ar_ageing (as of its as_of_date), not here. -#}
{%- set kpis = [
    ('production_cents', 'production_cents', none, 'kpi_daily', 'cents',
     'Gross production: the fees of completed procedures (the clinic''s fee schedule at booking), on the day the visit was completed.'),
    ('net_production_cents', 'net_production_cents', none, 'kpi_daily', 'cents',
     'Net production: gross production less insurance write-offs and adjustments (the core records none yet, so it equals gross production).'),
    ('collections_cents', 'collections_cents', none, 'kpi_daily', 'cents',
     'Collections: payments received less refunds paid out, on the day each happened.'),
    ('collection_rate', 'collections_cents', 'net_production_cents', 'kpi_daily', 'ratio',
     'Collection rate: collections divided by net production over the same period (can exceed 1 when older balances or prepayments are collected).'),
    ('production_per_hour_cents', 'production_cents', 'available_hours', 'kpi_daily', 'cents_per_hour',
     'Production per hour: gross production divided by the providers'' available (scheduled working) hours.'),
    ('production_per_visit_cents', 'production_cents', 'completed_visits', 'kpi_daily', 'cents_per_visit',
     'Production per visit: gross production divided by completed visits.'),
    ('no_show_rate', 'no_shows', 'scheduled_appointments', 'kpi_daily', 'ratio',
     'No-show rate: no-shows divided by scheduled appointments (past appointments that were completed, checked in, no-shows or cancelled less than 24 hours ahead).'),
    ('late_cancel_rate', 'late_cancels', 'scheduled_appointments', 'kpi_daily', 'ratio',
     'Late-cancel rate: cancellations less than 24 hours before the start divided by scheduled appointments.'),
    ('broken_appointment_rate', 'broken_appointments', 'scheduled_appointments', 'kpi_daily', 'ratio',
     'Broken-appointment rate: no-shows plus late cancels divided by scheduled appointments.'),
    ('provider_utilization', 'booked_minutes', 'available_minutes', 'kpi_daily', 'ratio',
     'Provider utilization (booked): minutes of appointments holding the provider (not cancelled; overbooks not counted twice) divided by available working minutes.'),
    ('provider_realised_utilization', 'realised_minutes', 'available_minutes', 'kpi_daily', 'ratio',
     'Provider utilization (realised): chair minutes actually spent on completed visits divided by available working minutes (can exceed 1 with overtime).'),
    ('chair_utilization', 'chair_booked_minutes', 'chair_available_minutes', 'kpi_chair_daily', 'ratio',
     'Chair utilization (booked): minutes of appointments holding the chair (not cancelled; overbooks not counted twice) divided by the clinic''s opening minutes per chair.'),
    ('chair_realised_utilization', 'chair_realised_minutes', 'chair_available_minutes', 'kpi_chair_daily', 'ratio',
     'Chair utilization (realised): chair minutes actually spent on completed visits divided by opening minutes per chair (can exceed 1 with overtime).'),
    ('completed_visits', 'completed_visits', none, 'kpi_daily', 'count',
     'Completed visits: appointments completed, on the appointment''s day.'),
    ('new_patients', 'new_patients', none, 'kpi_daily', 'count',
     'New patients: patients whose first completed visit falls in the period (patients registered before the clinic''s recorded history began are established, not new).'),
    ('hygiene_reappointment_rate', 'hygiene_patients_reappointed', 'hygiene_patients_seen', 'kpi_daily', 'ratio',
     'Hygiene reappointment rate: completed hygiene visits after which the patient left with a later hygiene appointment booked (by the end of the visit''s day) divided by completed hygiene visits.'),
] -%}

{%- for kpi, numerator, denominator, source_model, unit, description in kpis %}
select
    cast('{{ kpi }}' as {{ dbt.type_string() }}) as kpi,
    cast('{{ numerator }}' as {{ dbt.type_string() }}) as numerator_column,
    cast({% if denominator %}'{{ denominator }}'{% else %}null{% endif %} as {{ dbt.type_string() }}) as denominator_column,
    cast('{{ source_model }}' as {{ dbt.type_string() }}) as source_model,
    cast('{{ description }}' as {{ dbt.type_string() }}) as description,
    cast('{{ unit }}' as {{ dbt.type_string() }}) as unit,
    {{ loop.index }} as display_order
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
