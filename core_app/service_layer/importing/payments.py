"""Payments of an import: the patient and appointment they belong to, the core's money rules,
and what may change on a stored payment (refunds only grow; the payer never changes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from core_app.adapters.interchange import StoredPayment
from core_app.domain.history import HistoricPayment, HistoricRefund, check_payment
from core_app.service_layer.importing.context import Context
from core_app.service_layer.importing.csv_format import PAYMENTS
from core_app.service_layer.importing.parse import PaymentRow
from core_app.service_layer.importing.patients import PatientPlan
from core_app.service_layer.importing.visit_rules import iso
from core_app.service_layer.importing.visits import VisitPlan, patient_key
from core_app.service_layer.importing.world import ClinicPlan

FILE = PAYMENTS.name
DEFAULT_REFUND_REASON = "imported refund"
_COLUMNS = (
    ("refunded before", "refunded_at"),
    ("refund", "refunded_cents"),
    ("amount", "amount_cents"),
    ("takes", "currency"),
    ("method", "method"),
    ("patient", "patient_id"),
)


class PaymentState(NamedTuple):
    clinic: str
    patient: str
    appointment: str | None  # appointment#<id> or appointment+<source key>
    amount_cents: int
    currency: str
    method: str
    received: int
    reference: str | None
    refunded_cents: int
    refunded: int | None


def state_of(stored: StoredPayment, clinic: str) -> PaymentState:
    return PaymentState(
        clinic=clinic,
        patient=f"patient#{stored.patient_id}",
        appointment=f"appointment#{stored.appointment_id}" if stored.appointment_id else None,
        amount_cents=stored.amount_cents,
        currency=stored.currency,
        method=stored.method,
        received=stored.received,
        reference=stored.reference,
        refunded_cents=stored.refunded_cents,
        refunded=stored.refunded,
    )


@dataclass
class PaymentPlan:
    row: PaymentRow
    ref: str
    clinic: ClinicPlan
    state: PaymentState
    stored: StoredPayment | None
    visit: VisitPlan | None  # the appointment of the files it pays for
    refund_reason: str
    changed: tuple[str, ...] = ()


def settle_payments(
    ctx: Context, patients: dict[str, PatientPlan], visits: list[VisitPlan]
) -> list[PaymentPlan]:
    by_key = {plan.row.appointment_id: plan for plan in visits}
    return [plan for row in ctx.parsed.payments if (plan := _settle(ctx, row, patients, by_key))]


class Link(NamedTuple):
    """The appointment a payment is for: its key, its patient's key, its plan (if in the files)."""

    key: str
    patient: str
    plan: VisitPlan | None


def _appointment(
    ctx: Context, row: PaymentRow, visits: dict[str, VisitPlan]
) -> tuple[bool, Link | None]:
    """(usable, the link or None); not usable: the appointment_id is unknown."""
    source_key = row.appointment_id
    if source_key is None:
        return True, None
    plan = visits.get(source_key)
    if plan is not None:
        return True, Link(plan.key, plan.patient, plan)
    stored = ctx.stored.appointments.get(source_key)
    if stored is not None and source_key not in ctx.parsed.seen["appointments.csv"]:
        key = f"appointment#{stored.appointment_id}"
        return True, Link(key, f"patient#{stored.patient_id}", None)
    if source_key in ctx.parsed.seen["appointments.csv"]:
        ctx.problems.bad.add((FILE, row.line))
    else:
        ctx.fail(
            FILE,
            row.line,
            "appointment_id",
            f"appointment_id {source_key!r} is not in appointments.csv "
            f"(nor imported before under namespace {ctx.options.namespace!r})",
        )
    return False, None


def _settle(
    ctx: Context, row: PaymentRow, patients: dict[str, PatientPlan], visits: dict[str, VisitPlan]
) -> PaymentPlan | None:
    present = ctx.parsed.columns[FILE]
    payer = patient_key(ctx, patients, row.patient_id, FILE, row.line)
    stored = ctx.stored.payments.get(row.payment_id)
    usable, link = True, None
    if "appointment_id" in present or stored is None:
        usable, link = _appointment(ctx, row, visits)
    elif stored.appointment_id is not None:
        link = Link(f"appointment#{stored.appointment_id}", payer[0] if payer else "", None)
    if payer is None or not usable:
        return None
    clinic = ctx.world.clinics[payer[1]]
    before = state_of(stored, ctx.world.clinic_names[stored.clinic_id]) if stored else None
    if link is not None and link.patient != payer[0]:
        ctx.fail(FILE, row.line, "appointment_id", f"the appointment is not {row.patient_id}'s")
        return None
    if row.currency:
        currency = row.currency.upper()
    elif before is not None and "currency" not in present:
        currency = before.currency
    else:
        currency = clinic.currency
    if "refunded_cents" in present or before is None:
        refunded_cents = row.refunded_cents or 0
        refunded = row.refunded_at.epoch(clinic.zone) if row.refunded_at else None
    else:
        refunded_cents, refunded = before.refunded_cents, before.refunded
    keep_reference = before is not None and "reference" not in present
    state = PaymentState(
        clinic=clinic.name,
        patient=payer[0],
        appointment=link.key if link else None,
        amount_cents=row.amount_cents,
        currency=currency,
        method=row.method,
        received=row.received_at.epoch(clinic.zone),
        reference=before.reference if before is not None and keep_reference else row.reference,
        refunded_cents=refunded_cents,
        refunded=refunded,
    )
    reason = row.refund_reason or DEFAULT_REFUND_REASON
    ref = ctx.options.source_ref("payments", row.payment_id)
    plan = PaymentPlan(row, ref, clinic, state, stored, link.plan if link else None, reason)
    problems = _rules(ctx, state, reason)
    if before is not None and state != before:
        plan.changed = tuple(
            f for f in PaymentState._fields if getattr(state, f) != getattr(before, f)
        )
        problems += _update_problems(before, state)
    for column, text in problems:
        ctx.fail(FILE, row.line, column, text)
    return None if problems else plan


def _rules(ctx: Context, state: PaymentState, reason: str) -> list[tuple[str, str]]:
    refunds = (
        (HistoricRefund(state.refunded_cents, state.refunded or 0, reason),)
        if state.refunded_cents
        else ()
    )
    historic = HistoricPayment(
        clinic_id=0,
        amount_cents=state.amount_cents,
        currency=state.currency,
        method=state.method,
        received_epoch=state.received,
        patient_id=0,
        refunds=refunds,
    )
    found = [
        (_column(text), text.replace("clinic 0", "the clinic"))
        for text in check_payment(0, historic, ctx.world.clinics[state.clinic].currency)
    ]
    if state.received > ctx.now:
        found.append(("received_at", "lies in the future"))
    if state.refunded is not None and state.refunded > ctx.now:
        found.append(("refunded_at", "lies in the future"))
    return found


def _column(reason: str) -> str:
    return next((column for words, column in _COLUMNS if words in reason), "")


def _update_problems(before: PaymentState, after: PaymentState) -> list[tuple[str, str]]:
    found = []
    if after.patient != before.patient:
        found.append(("patient_id", "the payment was made by another patient in dentops"))
    if after.refunded_cents < before.refunded_cents:
        found.append(
            (
                "refunded_cents",
                f"{before.refunded_cents} cents were refunded already; refunds are not undone",
            )
        )
    elif after.refunded_cents == before.refunded_cents and after.refunded != before.refunded:
        recorded = iso(before.refunded) if before.refunded else "none"
        found.append(("refunded_at", f"was recorded as {recorded}; an import does not rewrite it"))
    return found
