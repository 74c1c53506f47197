-- Accounting: what was refunded of a payment never exceeds the payment (per payment, from the
-- refunds themselves rather than from fct_payments' own sum).
select
    payments.payment_id,
    payments.amount_cents,
    sum(refunds.amount_cents) as refunded_cents
from {{ ref('stg_core__payments') }} as payments
inner join {{ ref('stg_core__refunds') }} as refunds on payments.payment_id = refunds.payment_id
group by payments.payment_id, payments.amount_cents
having sum(refunds.amount_cents) > payments.amount_cents
