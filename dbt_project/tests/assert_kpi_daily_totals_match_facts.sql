-- Nothing is lost or counted twice on the way into kpi_daily: per clinic, its production,
-- payments, refunds and appointment counts equal the totals of the facts they come from.
with kpi as (
    select
        clinic_id,
        sum(production_cents) as production_cents,
        sum(payments_cents) as payments_cents,
        sum(refunds_cents) as refunds_cents,
        sum(no_shows) as no_shows,
        sum(completed_visits) as completed_visits
    from {{ ref('kpi_daily') }}
    group by clinic_id
),

facts as (
    select
        clinics.clinic_id,
        (select coalesce(sum(amount_cents), 0) from {{ ref('stg_core__charges') }} as c where c.clinic_id = clinics.clinic_id) as production_cents,
        (select coalesce(sum(amount_cents), 0) from {{ ref('fct_payments') }} as p where p.clinic_id = clinics.clinic_id) as payments_cents,
        (select coalesce(sum(refunded_cents), 0) from {{ ref('fct_payments') }} as p where p.clinic_id = clinics.clinic_id) as refunds_cents,
        (select count(*) from {{ ref('fct_appointments') }} as a where a.clinic_id = clinics.clinic_id and a.is_no_show) as no_shows,
        (select count(*) from {{ ref('fct_appointments') }} as a where a.clinic_id = clinics.clinic_id and a.is_completed) as completed_visits
    from {{ ref('stg_core__clinics') }} as clinics
)

select facts.*, kpi.production_cents as kpi_production_cents
from facts
left join kpi on facts.clinic_id = kpi.clinic_id
where coalesce(kpi.production_cents, 0) <> facts.production_cents
    or coalesce(kpi.payments_cents, 0) <> facts.payments_cents
    or coalesce(kpi.refunds_cents, 0) <> facts.refunds_cents
    or coalesce(kpi.no_shows, 0) <> facts.no_shows
    or coalesce(kpi.completed_visits, 0) <> facts.completed_visits
