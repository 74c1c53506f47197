"""The update path: rows that changed since the last import update their stored record through
the ORM (patient fields are encrypted by the column types), each change audited.

The plan has already checked every rule (legal status moves, overlaps, money); here the
changes are made as the core would make them: a move appends a `rescheduled` event, each
newly reached status its event, a newly completed visit its charges, a grown refund a refund.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core_app.domain.appointment import (
    LATE_CANCEL_NOTICE,
    Appointment,
    AppointmentEvent,
    AppointmentProcedure,
    AppointmentStatus,
)
from core_app.domain.billing import Charge, PaymentMethod
from core_app.domain.exceptions import NotFound
from core_app.domain.patient import ContactPreference
from core_app.domain.staff import Actor
from core_app.service_layer.importing import visit_rules as rules
from core_app.service_layer.importing.ids import Ids
from core_app.service_layer.importing.patients import PatientPlan, stored_form
from core_app.service_layer.importing.payments import PaymentPlan
from core_app.service_layer.importing.visits import VisitPlan
from core_app.service_layer.unit_of_work import UnitOfWork


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def update_patients(uow: UnitOfWork, actor: Actor, plans: list[PatientPlan]) -> int:
    count = 0
    for plan in plans:
        if plan.stored is None or not plan.changed:
            continue
        patient = uow.patients.get(plan.stored.patient_id)
        if patient is None:
            raise NotFound("patient", plan.stored.patient_id)
        s = plan.state
        form = stored_form(s, plan.clinic.local_today(uow.now()))
        patient.first_name, patient.last_name = form.first_name, form.last_name
        patient.birth_date, patient.notes = form.birth_date, form.notes
        patient.sex, patient.phone, patient.email = s.sex, s.phone, s.email
        patient.distance_km, patient.has_insurance = s.distance_km, s.has_insurance
        patient.contact_preference = ContactPreference(s.contact_preference)
        patient.created_at = at(s.created)
        uow.audit(
            actor, "patient.update", "patient", patient.patient_id, detail=_fields(plan.changed)
        )
        count += 1
    return count


def _fields(changed: tuple[str, ...]) -> str:
    return "import: " + ", ".join(changed)  # names of fields, never their values


def update_visits(
    uow: UnitOfWork, actor: Actor, plans: list[VisitPlan], ids: Ids
) -> tuple[int, int]:
    """Returns (appointments updated, charges created)."""
    changed = [p for p in plans if p.stored is not None and p.changed and p.state is not None]
    loaded: list[tuple[VisitPlan, Appointment]] = []
    for plan in changed:
        appointment_id = plan.stored.appointment_id if plan.stored else 0
        appointment = uow.appointments.get(appointment_id)
        if appointment is None:
            raise NotFound("appointment", appointment_id)
        loaded.append((plan, appointment))
    moves = [(p, a) for p, a in loaded if _moves(p)]
    if len(moves) > 1:
        # several appointments change slots at once (maybe swapping them): take them out of the
        # way first, so that no intermediate state trips PostgreSQL's exclusion constraints
        for _, appointment in moves:
            appointment.status = AppointmentStatus.CANCELLED
        uow.session.flush()
    charges = 0
    for plan, appointment in loaded:
        charges += _update_visit(uow, actor, plan, appointment, ids)
    return len(loaded), charges


def _moves(plan: VisitPlan) -> bool:
    s, before = plan.state, plan.stored
    if s is None or before is None:
        return False
    return (s.provider, s.chair, s.start, s.end) != (
        f"provider#{before.provider_id}",
        f"chair#{before.chair_id}",
        before.start,
        before.end,
    )


def _update_visit(uow: UnitOfWork, actor: Actor, plan: VisitPlan, a: Appointment, ids: Ids) -> int:
    s, before = plan.state, plan.stored
    if s is None or before is None:
        return 0
    now = uow.now()
    if _moves(plan):
        a.events.append(
            AppointmentEvent(
                event_type="rescheduled",
                occurred_at=now,
                actor_user_id=actor.user_id,
                reason="import",
                from_start_at=at(before.start),
                from_end_at=at(before.end),
                from_provider_id=before.provider_id,
                from_chair_id=before.chair_id,
            )
        )
        a.reschedule_count += 1
    a.provider_id, a.chair_id = ids[s.provider], ids[s.chair]
    a.start_at, a.end_at, a.booked_at = at(s.start), at(s.end), at(s.booked)
    if (s.codes, s.fees) != (before.codes, before.fees):
        catalog = {p.code: p for p in uow.procedures.by_codes(a.clinic_id, list(s.codes))}
        a.procedures = [
            AppointmentProcedure(
                procedure_id=catalog[code].procedure_id or 0,
                code=code,
                category=str(catalog[code].category),
                duration_min=catalog[code].default_duration_min,
                fee_cents=fee,
            )
            for code, fee in zip(s.codes, s.fees, strict=True)
        ]
    a.status = AppointmentStatus(s.status)
    for name in rules.TIME_FIELDS:
        value = getattr(s, name)
        if value is not None and getattr(before, name) is None:
            a.events.append(_event(name, value, s, actor))
        setattr(a, f"{name}_at", at(value) if value is not None else None)
    if s.status == "cancelled":
        a.cancel_reason = s.cancel_reason
        a.cancelled_by_user_id = actor.user_id
        a.is_late_cancel = a.start_at - (a.cancelled_at or a.start_at) < LATE_CANCEL_NOTICE
    uow.audit(
        actor, "appointment.update", "appointment", a.appointment_id, detail=_fields(plan.changed)
    )
    if s.status != "completed" or before.status == "completed" or s.completed is None:
        return 0
    for line in a.procedures:
        uow.charges.add(
            Charge(
                clinic_id=a.clinic_id,
                patient_id=a.patient_id,
                appointment_id=a.appointment_id,
                procedure_code=line.code,
                amount_cents=line.fee_cents,
                currency=a.currency,
                charged_at=at(s.completed),
            )
        )
    uow.audit(
        actor, "charge.create", "appointment", a.appointment_id, detail=f"{a.fee_cents} cents"
    )
    return len(a.procedures)


def _event(name: str, epoch: int, s: rules.VisitState, actor: Actor) -> AppointmentEvent:
    kind = name
    if name == "cancelled" and s.start - epoch < LATE_CANCEL_NOTICE.total_seconds():
        kind = "late_cancel"
    return AppointmentEvent(
        event_type=kind,
        occurred_at=at(epoch),
        actor_user_id=actor.user_id,
        reason=s.cancel_reason if name == "cancelled" else None,
    )


def update_payments(
    uow: UnitOfWork, actor: Actor, plans: list[PaymentPlan], ids: Ids
) -> tuple[int, int]:
    """Returns (payments updated, refunds created). Links to appointments created by this import
    are set later (they have no id yet)."""
    updated = refunds = 0
    for plan in plans:
        if plan.stored is None or not plan.changed:
            continue
        payment = uow.payments.get(plan.stored.payment_id, for_update=True)
        if payment is None:
            raise NotFound("payment", plan.stored.payment_id)
        s = plan.state
        payment.amount_cents, payment.currency = s.amount_cents, s.currency
        payment.method, payment.received_at = PaymentMethod(s.method), at(s.received)
        payment.reference = s.reference
        if s.appointment is None or s.appointment in ids:
            payment.appointment_id = ids[s.appointment] if s.appointment else None
        grown = s.refunded_cents - plan.stored.refunded_cents
        if grown > 0 and s.refunded is not None:
            refund = payment.refund(
                amount_cents=grown,
                now=at(s.refunded),
                reason=plan.refund_reason,
                recorded_by_user_id=actor.user_id,
            )
            uow.session.flush()
            uow.audit(actor, "payment.refund", "refund", refund.refund_id, detail="import")
            refunds += 1
        uow.audit(
            actor, "payment.update", "payment", payment.payment_id, detail=_fields(plan.changed)
        )
        updated += 1
    return updated, refunds
