{#- One row per charge: the charge with the running total of its patient's charges (per clinic
    and currency) in charge order, through this charge — what ar_ageing settles the oldest first
    against the patient's net payments. Kept as a table so that a new as-of day (which ages every
    balance, so ar_ageing recomputes every patient) does not sort a million charges again: the
    running totals depend only on the charges. Incremental by patient: every charge of a patient
    with a charge loaded since the last build; everything when a clinic changed (its timezone
    moves charge days). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key='charge_id',
    post_hook="{{ record_incremental_state() }}",
) }}
{%- set recompute_all = incremental_reset([], ref('stg_core__clinics')) %}
{%- set partial = is_incremental() and not recompute_all %}
with
{%- if partial %}
affected_patients as (
    select distinct clinic_id, patient_key from {{ ref('stg_core__charges') }}
    where updated_at >= {{ changed_since('charges') }}
),
{%- endif %}

charges as {{ inlined() }} (
    select
        charges.charge_id,
        charges.clinic_id,
        charges.patient_key,
        charges.currency,
        charges.charged_at,
        charges.charged_date,
        charges.amount_cents
    from {{ ref('stg_core__charges') }} as charges
    where true
    {{- patient_in_scope(partial, 'charges') }}
)

select
    charge_id,
    clinic_id,
    patient_key,
    currency,
    charged_at,
    charged_date,
    amount_cents,
    cast(sum(amount_cents) over (
        partition by clinic_id, patient_key, currency
        order by charged_at, charge_id
        rows between unbounded preceding and current row
    ) as {{ dbt.type_bigint() }}) as charged_through_cents
from charges
