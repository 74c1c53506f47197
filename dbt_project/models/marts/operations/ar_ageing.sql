{#- One row per clinic and patient with charges or payments up to the as-of day: the open
    balance by age, as of int_as_of_date (the latest day with recorded activity, or the
    `as_of_date` var). The core's rule (core_app.domain.billing.compute_ageing): the patient's
    net payments (payments less refunds) settle the oldest charges first; what stays open is
    bucketed by days since the charge (as-of day minus the charge's clinic-local day):
    0-30, 31-60, 61-90, over 90. A surplus of payments is the patient's credit.
    Incremental by patient: the patients with a charge, payment or refund loaded since the last
    build; everything when the as-of day moved (every age changes) or a clinic changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['clinic_id', 'patient_key'],
    post_hook="{{ record_incremental_state() }}",
) }}
{%- set recompute_all = incremental_reset([], ref('stg_core__clinics')) %}
{%- if is_incremental() and execute and not recompute_all %}
    {%- set moved -%}
        select (select max(as_of_date) from {{ ref('int_as_of_date') }})
            is distinct from (select max(as_of_date) from {{ this }})
    {%- endset -%}
    {%- set recompute_all = run_query(moved).columns[0].values()[0] %}
{%- endif %}
{%- set partial = is_incremental() and not recompute_all %}
with
{%- if partial %}
affected_patients as (
    select clinic_id, patient_key from {{ ref('stg_core__charges') }}
    where updated_at >= {{ changed_since('charges') }}
    union
    select clinic_id, patient_key from {{ ref('stg_core__payments') }}
    where updated_at >= {{ changed_since('payments') }}
    union
    select payments.clinic_id, payments.patient_key
    from {{ ref('stg_core__refunds') }} as refunds
    inner join {{ ref('stg_core__payments') }} as payments on refunds.payment_id = payments.payment_id
    where refunds.updated_at >= {{ changed_since('refunds') }}
),
{%- endif %}

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

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
    cross join as_of
    where charges.charged_date <= as_of.as_of_date
    {{- patient_in_scope(partial, 'charges') }}
),

paid as (
    select
        payments.clinic_id,
        payments.patient_key,
        payments.currency,
        sum(payments.amount_cents) as paid_cents
    from {{ ref('stg_core__payments') }} as payments
    cross join as_of
    where payments.received_date <= as_of.as_of_date
    {{- patient_in_scope(partial, 'payments') }}
    group by payments.clinic_id, payments.patient_key, payments.currency
),

refunded as (
    select
        payments.clinic_id,
        payments.patient_key,
        payments.currency,
        sum(refunds.amount_cents) as refunded_cents
    from {{ ref('stg_core__refunds') }} as refunds
    inner join {{ ref('stg_core__payments') }} as payments on refunds.payment_id = payments.payment_id
    cross join as_of
    where refunds.refunded_date <= as_of.as_of_date
    {{- patient_in_scope(partial, 'payments') }}
    group by payments.clinic_id, payments.patient_key, payments.currency
),

patients as (
    select clinic_id, patient_key, currency from charges
    union
    select clinic_id, patient_key, currency from paid
),

credit as (
    select
        patients.clinic_id,
        patients.patient_key,
        patients.currency,
        coalesce(paid.paid_cents, 0) - coalesce(refunded.refunded_cents, 0) as net_paid_cents
    from patients
    left join paid
        on patients.clinic_id = paid.clinic_id
        and patients.patient_key = paid.patient_key
        and patients.currency = paid.currency
    left join refunded
        on patients.clinic_id = refunded.clinic_id
        and patients.patient_key = refunded.patient_key
        and patients.currency = refunded.currency
),

charges_in_order as (
    select
        clinic_id,
        patient_key,
        currency,
        charged_date,
        amount_cents,
        sum(amount_cents) over (
            partition by clinic_id, patient_key, currency
            order by charged_at, charge_id
            rows between unbounded preceding and current row
        ) as charged_through_cents
    from charges
),

open_charges as (
    -- what of each charge the net payments do not cover, settling the oldest first
    select
        charges_in_order.clinic_id,
        charges_in_order.patient_key,
        charges_in_order.currency,
        {{ dbt.datediff('charges_in_order.charged_date', 'as_of.as_of_date', 'day') }} as age_days,
        greatest(
            0,
            least(
                charges_in_order.amount_cents,
                charges_in_order.charged_through_cents - greatest(credit.net_paid_cents, 0)
            )
        ) as open_cents
    from charges_in_order
    inner join credit
        on charges_in_order.clinic_id = credit.clinic_id
        and charges_in_order.patient_key = credit.patient_key
        and charges_in_order.currency = credit.currency
    cross join as_of
),

buckets as (
    select
        clinic_id,
        patient_key,
        currency,
        sum(case when age_days <= 30 then open_cents else 0 end) as open_0_30_cents,
        sum(case when age_days between 31 and 60 then open_cents else 0 end) as open_31_60_cents,
        sum(case when age_days between 61 and 90 then open_cents else 0 end) as open_61_90_cents,
        sum(case when age_days > 90 then open_cents else 0 end) as open_over_90_cents
    from open_charges
    group by clinic_id, patient_key, currency
),

charged as (
    select clinic_id, patient_key, currency, sum(amount_cents) as charged_cents
    from charges
    group by clinic_id, patient_key, currency
),

ageing as (
select
    as_of.as_of_date,
    credit.clinic_id,
    credit.patient_key,
    credit.currency,
    cast(coalesce(charged.charged_cents, 0) as {{ dbt.type_bigint() }}) as charged_cents,
    cast(credit.net_paid_cents as {{ dbt.type_bigint() }}) as net_paid_cents,
    cast(coalesce(charged.charged_cents, 0) - credit.net_paid_cents as {{ dbt.type_bigint() }}) as balance_cents,
    cast(coalesce(buckets.open_0_30_cents, 0) as {{ dbt.type_bigint() }}) as open_0_30_cents,
    cast(coalesce(buckets.open_31_60_cents, 0) as {{ dbt.type_bigint() }}) as open_31_60_cents,
    cast(coalesce(buckets.open_61_90_cents, 0) as {{ dbt.type_bigint() }}) as open_61_90_cents,
    cast(coalesce(buckets.open_over_90_cents, 0) as {{ dbt.type_bigint() }}) as open_over_90_cents,
    cast(
        coalesce(buckets.open_0_30_cents, 0) + coalesce(buckets.open_31_60_cents, 0)
        + coalesce(buckets.open_61_90_cents, 0) + coalesce(buckets.open_over_90_cents, 0)
        as bigint
    ) as open_cents,
    cast(greatest(credit.net_paid_cents - coalesce(charged.charged_cents, 0), 0) as {{ dbt.type_bigint() }}) as credit_cents
from credit
cross join as_of
left join charged
    on credit.clinic_id = charged.clinic_id
    and credit.patient_key = charged.patient_key
    and credit.currency = charged.currency
left join buckets
    on credit.clinic_id = buckets.clinic_id
    and credit.patient_key = buckets.patient_key
    and credit.currency = buckets.currency
)

{{ rows_with_markers('ageing', replaced_keys(partial, 'affected_patients', ['clinic_id', 'patient_key'])) }}
