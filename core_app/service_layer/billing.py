"""Payments, refunds and balances. Amounts are integer cents in the clinic's currency."""

from __future__ import annotations

from dataclasses import dataclass

from core_app.domain.billing import (
    Ageing,
    Balance,
    Payment,
    PaymentMethod,
    compute_ageing,
    compute_balance,
)
from core_app.domain.exceptions import ValidationError
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import idempotent, require, require_id, run_use_case


def record_payment(
    uow: UnitOfWork,
    actor: Actor,
    *,
    patient_id: int,
    amount_cents: int,
    currency: str,
    method: PaymentMethod,
    appointment_id: int | None = None,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> int:
    content: dict[str, object] = {
        "patient_id": patient_id,
        "amount_cents": amount_cents,
        "currency": currency,
        "method": str(method),
        "appointment_id": appointment_id,
        "reference": reference,
    }

    def work(uow: UnitOfWork) -> int:
        patient = require(uow.patients.get(patient_id), "patient", patient_id)
        actor.require(Action.RECORD_PAYMENT, clinic_id=patient.clinic_id)

        def create() -> int:
            clinic = require(uow.clinics.get(patient.clinic_id), "clinic", patient.clinic_id)
            if appointment_id is not None:
                appointment = require(
                    uow.appointments.get(appointment_id), "appointment", appointment_id
                )
                if appointment.patient_id != patient_id:
                    raise ValidationError(
                        f"appointment {appointment_id} is not patient {patient_id}'s"
                    )
            payment = Payment.receive(
                clinic_id=require_id(clinic.clinic_id),
                clinic_currency=clinic.currency,
                patient_id=patient_id,
                amount_cents=amount_cents,
                currency=currency,
                method=method,
                received_at=uow.now(),
                recorded_by_user_id=actor.user_id,
                appointment_id=appointment_id,
                reference=reference,
            )
            payment_id = require_id(uow.payments.add(payment).payment_id)
            uow.audit(
                actor, "payment.record", "payment", payment_id, detail=f"{amount_cents} {currency}"
            )
            return payment_id

        return idempotent(
            uow, key=idempotency_key, command="payment.record", content=content, create=create
        )

    return run_use_case(
        uow, actor, action="payment.record", entity_type="payment", entity_id=None, work=work
    )


def refund_payment(
    uow: UnitOfWork,
    actor: Actor,
    *,
    payment_id: int,
    amount_cents: int,
    reason: str,
    idempotency_key: str | None = None,
) -> int:
    """Refund part or all of a payment; never more than what remains unrefunded."""
    content: dict[str, object] = {
        "payment_id": payment_id,
        "amount_cents": amount_cents,
        "reason": reason,
    }

    def work(uow: UnitOfWork) -> int:
        uow.serialise_on_row_locks()  # every refund of this payment queues on its row lock
        payment = require(uow.payments.get(payment_id, for_update=True), "payment", payment_id)
        actor.require(Action.REFUND, clinic_id=payment.clinic_id)

        def create() -> int:
            refund = payment.refund(
                amount_cents=amount_cents,
                now=uow.now(),
                reason=reason,
                recorded_by_user_id=actor.user_id,
            )
            uow.session.flush()
            refund_id = require_id(refund.refund_id)
            uow.audit(
                actor,
                "payment.refund",
                "refund",
                refund_id,
                detail=f"payment {payment_id}: {amount_cents}",
            )
            return refund_id

        return idempotent(
            uow, key=idempotency_key, command="payment.refund", content=content, create=create
        )

    return run_use_case(
        uow, actor, action="payment.refund", entity_type="payment", entity_id=payment_id, work=work
    )


@dataclass(frozen=True)
class PatientAccount:
    patient_id: int
    balance: Balance
    ageing: Ageing


def patient_account(uow: UnitOfWork, actor: Actor, patient_id: int) -> PatientAccount:
    """Balance and ageing, derived from charges, payments and refunds (an audited read)."""

    def work(uow: UnitOfWork) -> PatientAccount:
        patient = require(uow.patients.get(patient_id), "patient", patient_id)
        actor.require(Action.READ_BALANCE, clinic_id=patient.clinic_id)
        clinic = require(uow.clinics.get(patient.clinic_id), "clinic", patient.clinic_id)
        charges = uow.charges.for_patient(patient_id)
        payments = uow.payments.for_patient(patient_id)
        uow.audit(actor, "patient.balance.read", "patient", patient_id)
        return PatientAccount(
            patient_id=patient_id,
            balance=compute_balance(clinic.currency, charges, payments),
            ageing=compute_ageing(clinic.currency, charges, payments, as_of=uow.now()),
        )

    return run_use_case(
        uow,
        actor,
        action="patient.balance.read",
        entity_type="patient",
        entity_id=patient_id,
        work=work,
    )
