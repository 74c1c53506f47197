-- depends_on: {{ ref('fct_appointments') }}
{#- One row per appointment that the no-show model scored (ml.no_show_scores, written by
    `dentops score` after a warehouse build) and whose attendance has since been decided
    (completed or no-show), with the score it last had before the visit. Empty until the first
    scores exist: the scores table is written by the pipeline, not by dbt, so it is looked up
    rather than declared as a source (a source that does not exist yet would fail the build).
    Model health for the dashboards (calibration, ROC AUC over time, high-risk flags followed
    by a no-show) is computed from this table only. -#}
{%- set scores = none -%}
{%- if execute -%}
    {%- set scores = adapter.get_relation(
        database=target.database, schema='ml', identifier='no_show_scores') -%}
{%- endif -%}

{% if scores is not none %}
select
    -- ids
    scores.appointment_id,
    appointments.clinic_id,
    -- dates
    appointments.appointment_date,
    cast({{ dbt.date_trunc('month', 'appointments.appointment_date') }} as date) as month_start,
    -- the score
    scores.probability,
    scores.risk_band,
    scores.model_version,
    -- the outcome
    appointments.is_no_show
from {{ scores }} as scores
inner join {{ ref('fct_appointments') }} as appointments
    on appointments.appointment_id = scores.appointment_id
where appointments.is_completed or appointments.is_no_show
{% else %}
select
    cast(null as bigint) as appointment_id,
    cast(null as bigint) as clinic_id,
    cast(null as date) as appointment_date,
    cast(null as date) as month_start,
    cast(null as double) as probability,
    cast(null as {{ dbt.type_string() }}) as risk_band,
    cast(null as {{ dbt.type_string() }}) as model_version,
    cast(null as boolean) as is_no_show
where 1 = 0
{% endif %}
