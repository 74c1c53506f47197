"""What the API needs besides the use cases: object-level scoping (a record of another clinic
is "not found", so ids cannot be probed) and single-record reads (audited like every read of
patient data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core_app.adapters import request_store, schedule_store, scoping
from core_app.domain.billing import Payment
from core_app.domain.exceptions import NotFound
from core_app.domain.staff import Action, Actor
from core_app.service_layer.queries import ScheduleRow, clinic_zone, local_minutes, schedule_row
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, require_id, run_use_case


def _clinics_of(uow: UnitOfWork, entity: str, entity_id: int) -> set[int] | None:
    """The clinic(s) a record belongs to; None if it does not exist."""
    connection = uow.session.connection()
    if entity == "request":
        request = request_store.get_request(connection, entity_id)
        return None if request is None else {request["clinic_id"]}
    if entity == "suggestion":
        suggestion = request_store.get_suggestion(connection, entity_id)
        return None if suggestion is None else {suggestion["clinic_id"]}
    clinics, lasting = scoping.clinics_of(connection, entity, entity_id)
    if lasting and clinics:
        (clinic_id,) = clinics
        uow.on_commit(lambda: scoping.remember(connection, entity, entity_id, clinic_id))
    return clinics


def ensure_visible(uow: UnitOfWork, actor: Actor, records: Mapping[str, int | None]) -> None:
    """Refuse with NotFound any record that does not exist or belongs to another clinic than
    the actor's (the same answer for both). Joins the caller's unit of work if one is open
    (else reads in one of its own, without the write lock)."""

    def work(uow: UnitOfWork) -> None:
        for entity, entity_id in records.items():
            if entity_id is None:
                continue
            clinics = _clinics_of(uow, entity, entity_id)
            if clinics is None or (actor.clinic_id is not None and actor.clinic_id not in clinics):
                raise NotFound(entity, entity_id)

    if uow.active:
        work(uow)
        return
    uow.read_only = True
    with uow:
        work(uow)
        uow.commit()


def get_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> ScheduleRow:
    """One appointment as the schedule shows it: a read-only use case, audited as a read of
    its patient."""

    def work(uow: UnitOfWork) -> ScheduleRow:
        found = schedule_store.one(uow.session.connection(), appointment_id)
        if found is None or actor.clinic_id not in (None, found.clinic_id):
            raise NotFound("appointment", appointment_id)
        actor.require(Action.READ_SCHEDULE, clinic_id=found.clinic_id)
        row = schedule_row(found, local_minutes(clinic_zone(uow, found.clinic_id)))
        uow.audit(actor, "patient.read", "patient", found.patient_id, detail="appointment")
        return row

    return run_use_case(
        uow,
        actor,
        action="appointment.read",
        entity_type="appointment",
        entity_id=appointment_id,
        work=work,
        read_only=True,
    )


@dataclass(frozen=True)
class RefundView:
    refund_id: int
    payment_id: int
    amount_cents: int
    reason: str
    refunded_at: datetime


@dataclass(frozen=True)
class PaymentView:
    payment_id: int
    clinic_id: int
    patient_id: int
    appointment_id: int | None
    amount_cents: int
    currency: str
    method: str
    received_at: datetime
    reference: str | None
    refunded_cents: int
    refunds: list[RefundView]


def _payment_view(p: Payment) -> PaymentView:
    payment_id = require_id(p.payment_id)
    refunds = [
        RefundView(require_id(r.refund_id), payment_id, r.amount_cents, r.reason, r.refunded_at)
        for r in p.refunds
    ]
    return PaymentView(
        payment_id=payment_id,
        clinic_id=p.clinic_id,
        patient_id=p.patient_id,
        appointment_id=p.appointment_id,
        amount_cents=p.amount_cents,
        currency=p.currency,
        method=str(p.method),
        received_at=p.received_at,
        reference=p.reference,
        refunded_cents=sum(r.amount_cents for r in p.refunds),
        refunds=refunds,
    )


def get_payment(uow: UnitOfWork, actor: Actor, payment_id: int) -> PaymentView:
    def work(uow: UnitOfWork) -> PaymentView:
        found = require(uow.payments.get(payment_id), "payment", payment_id)
        if actor.clinic_id not in (None, found.clinic_id):
            raise NotFound("payment", payment_id)
        actor.require(Action.READ_BALANCE, clinic_id=found.clinic_id)
        uow.audit(actor, "payment.read", "payment", payment_id)
        return _payment_view(found)

    return run_use_case(
        uow, actor, action="payment.read", entity_type="payment", entity_id=payment_id, work=work
    )


def list_payments(uow: UnitOfWork, actor: Actor, patient_id: int) -> list[PaymentView]:
    def work(uow: UnitOfWork) -> list[PaymentView]:
        patient = require(uow.patients.get(patient_id), "patient", patient_id)
        if actor.clinic_id not in (None, patient.clinic_id):
            raise NotFound("patient", patient_id)
        actor.require(Action.READ_BALANCE, clinic_id=patient.clinic_id)
        found = [_payment_view(p) for p in uow.payments.for_patient(patient_id)]
        uow.audit(actor, "payment.read", "patient", patient_id, detail=f"{len(found)} payments")
        return found

    return run_use_case(
        uow, actor, action="payment.read", entity_type="patient", entity_id=patient_id, work=work
    )
