"""What the API needs besides the use cases: object-level scoping (a record of another clinic
is "not found", so ids cannot be probed) and single-record reads (audited like every read of
patient data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core_app.adapters import request_store
from core_app.domain.appointment import Appointment
from core_app.domain.billing import Payment
from core_app.domain.exceptions import NotFound
from core_app.domain.patient import Patient
from core_app.domain.practice import Chair
from core_app.domain.staff import Action, Actor
from core_app.service_layer.queries import ScheduleRow
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, require_id, run_use_case


def _clinics_of(uow: UnitOfWork, entity: str, entity_id: int) -> set[int] | None:
    """The clinic(s) a record belongs to; None if it does not exist."""
    connection = uow.session.connection()
    if entity == "clinic":
        return None if uow.clinics.get(entity_id) is None else {entity_id}
    if entity == "provider":
        provider = uow.providers.get(entity_id)
        return None if provider is None else {h.clinic_id for h in provider.working_hours}
    if entity == "request":
        request = request_store.get_request(connection, entity_id)
        return None if request is None else {request["clinic_id"]}
    if entity == "suggestion":
        suggestion = request_store.get_suggestion(connection, entity_id)
        return None if suggestion is None else {suggestion["clinic_id"]}
    found: Chair | Patient | Appointment | Payment | None
    if entity == "chair":
        found = uow.chairs.get(entity_id)
    elif entity == "patient":
        found = uow.patients.get(entity_id)
    elif entity == "appointment":
        found = uow.appointments.get(entity_id)
    elif entity == "payment":
        found = uow.payments.get(entity_id)
    else:
        raise ValueError(f"unknown entity {entity!r}")
    return None if found is None else {found.clinic_id}


def ensure_visible(uow: UnitOfWork, actor: Actor, records: Mapping[str, int | None]) -> None:
    """Refuse with NotFound any record that does not exist or belongs to another clinic than
    the actor's (the same answer for both)."""
    with uow:
        for entity, entity_id in records.items():
            if entity_id is None:
                continue
            clinics = _clinics_of(uow, entity, entity_id)
            if clinics is None or (actor.clinic_id is not None and actor.clinic_id not in clinics):
                raise NotFound(entity, entity_id)


def _row(uow: UnitOfWork, a: Appointment) -> ScheduleRow:
    clinic = require(uow.clinics.get(a.clinic_id), "clinic", a.clinic_id)
    patient = require(uow.patients.get(a.patient_id), "patient", a.patient_id)
    return ScheduleRow(
        appointment_id=require_id(a.appointment_id),
        start_at=a.start_at,
        end_at=a.end_at,
        local_start=f"{clinic.local(a.start_at):%Y-%m-%d %H:%M}",
        local_end=f"{clinic.local(a.end_at):%H:%M}",
        status=str(a.status),
        patient_id=a.patient_id,
        patient_name=f"{patient.first_name} {patient.last_name}",
        provider_id=a.provider_id,
        chair_id=a.chair_id,
        procedure_codes=[line.code for line in a.procedures],
        fee_cents=a.fee_cents,
        currency=a.currency,
        is_overbook=a.is_overbook,
        overbook_of_appointment_id=a.overbook_of_appointment_id,
        is_late_cancel=a.is_late_cancel,
        reschedule_count=a.reschedule_count,
    )


def get_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> ScheduleRow:
    def work(uow: UnitOfWork) -> ScheduleRow:
        found = require(uow.appointments.get(appointment_id), "appointment", appointment_id)
        if actor.clinic_id not in (None, found.clinic_id):
            raise NotFound("appointment", appointment_id)
        actor.require(Action.READ_SCHEDULE, clinic_id=found.clinic_id)
        row = _row(uow, found)
        uow.audit(actor, "patient.read", "patient", found.patient_id, detail="appointment")
        return row

    return run_use_case(
        uow,
        actor,
        action="appointment.read",
        entity_type="appointment",
        entity_id=appointment_id,
        work=work,
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
