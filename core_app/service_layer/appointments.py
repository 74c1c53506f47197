"""Appointment use cases: book (or overbook), confirm, check in, complete, no-show, cancel,
reschedule. Each runs in one transaction and leaves an audit entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from core_app.adapters import booking_store
from core_app.domain import appointment as rules
from core_app.domain.appointment import Appointment, BookingSource, Slot
from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import ensure_utc
from core_app.domain.practice import Chair
from core_app.domain.staff import Action, Actor
from core_app.service_layer import reminders
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import idempotent, require, require_id, run_use_case

TransitionCall = Callable[[UnitOfWork, Actor, int], None]
#: after these the appointment's pending reminders and open call task are cancelled
_ENDS_REMINDERS = frozenset({Action.CANCEL, Action.MARK_NO_SHOW, Action.CHECK_IN, Action.COMPLETE})


def _slot(
    uow: UnitOfWork, *, provider_id: int, chair_id: int, start_at: datetime, end_at: datetime
) -> Slot:
    chair = require(uow.chairs.get(chair_id), "chair", chair_id)
    clinic = require(uow.clinics.get(chair.clinic_id), "clinic", chair.clinic_id)
    provider = require(uow.providers.get(provider_id), "provider", provider_id)
    return Slot(clinic=clinic, provider=provider, chair=chair, start_at=start_at, end_at=end_at)


def book_in_transaction(
    uow: UnitOfWork,
    actor: Actor,
    *,
    patient_id: int,
    provider_id: int,
    chair_id: int,
    clinic_id: int,
    start_at: datetime,
    end_at: datetime | None,
    codes: Sequence[str],
    overbook_of: int | None,
    source: BookingSource,
    allow_past: bool = False,
    chair: Chair | None = None,
) -> int:
    """The booking rules and the insert, inside the caller's open unit of work (whose use case
    checked the actor's permission for the chair's clinic; `chair`, when the caller read it
    for that check, is not read again). Reads and inserts are Core statements on the unit of
    work's connection (`booking_store`); the rules are the domain's."""
    if uow.session.new or uow.session.dirty or uow.session.deleted:
        uow.session.flush()  # the statements below read the connection, not the session
    connection = uow.session.connection()
    patient = require(booking_store.patient(connection, patient_id), "patient", patient_id)
    procedures = booking_store.procedures(connection, clinic_id, codes)
    unknown = sorted(set(codes) - {p.code for p in procedures})
    if unknown:
        raise ValidationError(f"unknown procedure code(s) {', '.join(unknown)}")
    ordered = sorted(procedures, key=lambda p: list(codes).index(p.code))
    minutes = sum(p.default_duration_min for p in ordered)
    stop = end_at or start_at + timedelta(minutes=minutes)
    if chair is None or chair.chair_id != chair_id:
        chair = require(booking_store.chair(connection, chair_id), "chair", chair_id)
    clinic = require(booking_store.clinic(connection, chair.clinic_id), "clinic", chair.clinic_id)
    provider = require(booking_store.provider(connection, provider_id), "provider", provider_id)
    slot = Slot(clinic=clinic, provider=provider, chair=chair, start_at=start_at, end_at=stop)
    target = None
    if overbook_of is not None:
        target = require(uow.appointments.get(overbook_of), "appointment", overbook_of)
    existing = booking_store.overlapping(
        connection,
        start_at=start_at,
        end_at=stop,
        provider_id=provider_id,
        chair_id=chair_id,
        patient_id=patient_id,
    )
    if target is not None:  # the rules recognise the overbooked appointment by identity
        existing = [target if e.appointment_id == target.appointment_id else e for e in existing]
    appointment = rules.book(
        slot=slot,
        patient=patient,
        procedures=ordered,
        now=uow.now(),
        actor_user_id=actor.user_id,
        existing=existing,
        overbook_of=target,
        overbook_taken=target is not None
        and uow.appointments.has_active_overbook(require_id(target.appointment_id)),
        allow_past=allow_past,
        source=source,
    )
    appointment_id = booking_store.add_appointment(connection, appointment)
    action = "appointment.overbook" if overbook_of else "appointment.book"
    if not allow_past or appointment.start_at > uow.now():  # no reminders for past history
        reminders.schedule_for(uow, actor, [appointment_id], replace=False)
    uow.audit(actor, action, "appointment", appointment_id, detail=f"patient {patient_id}")
    return appointment_id


def book_appointment(
    uow: UnitOfWork,
    actor: Actor,
    *,
    patient_id: int,
    provider_id: int,
    chair_id: int,
    start_at: datetime,
    procedure_codes: Sequence[str],
    end_at: datetime | None = None,
    overbook_of: int | None = None,
    idempotency_key: str | None = None,
    source: BookingSource = BookingSource.STAFF,
    allow_past: bool = False,
) -> int:
    """Book a patient; refused with the rule in the way (e.g. which appointment holds the chair)."""
    codes = [code.strip().upper() for code in procedure_codes]

    def work(uow: UnitOfWork) -> int:
        start = ensure_utc(start_at, name="start")
        end = ensure_utc(end_at, name="end") if end_at else None
        chair = require(booking_store.chair(uow.session.connection(), chair_id), "chair", chair_id)
        actor.require(Action.OVERBOOK if overbook_of else Action.BOOK, clinic_id=chair.clinic_id)
        if allow_past:
            actor.require(Action.IMPORT)
        content: dict[str, object] = {
            "patient_id": patient_id,
            "provider_id": provider_id,
            "chair_id": chair_id,
            "start_at": start.isoformat(),
            "end_at": end.isoformat() if end else None,
            "codes": codes,
            "overbook_of": overbook_of,
        }

        def create() -> int:
            return book_in_transaction(
                uow,
                actor,
                patient_id=patient_id,
                provider_id=provider_id,
                chair_id=chair_id,
                clinic_id=chair.clinic_id,
                start_at=start,
                end_at=end,
                codes=codes,
                overbook_of=overbook_of,
                source=source,
                allow_past=allow_past,
                chair=chair,
            )

        return idempotent(
            uow, key=idempotency_key, command="appointment.book", content=content, create=create
        )

    return run_use_case(
        uow, actor, action="appointment.book", entity_type="appointment", entity_id=None, work=work
    )


def _transition(
    uow: UnitOfWork,
    actor: Actor,
    appointment_id: int,
    *,
    action: Action,
    name: str,
    change: Callable[[UnitOfWork, Appointment], None],
) -> None:
    def work(uow: UnitOfWork) -> None:
        appointment = require(uow.appointments.get(appointment_id), "appointment", appointment_id)
        actor.require(action, clinic_id=appointment.clinic_id)
        change(uow, appointment)
        # the outbox follows the appointment in the same transaction
        if action == Action.RESCHEDULE:
            uow.session.flush()
            reminders.schedule_for(uow, actor, [appointment_id])
        elif action in _ENDS_REMINDERS:
            uow.session.flush()
            reminders.cancel_for(uow, actor, appointment_id)
        uow.audit(actor, name, "appointment", appointment_id, detail=str(appointment.status))

    run_use_case(
        uow, actor, action=name, entity_type="appointment", entity_id=appointment_id, work=work
    )


def confirm_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> None:
    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.CONFIRM,
        name="appointment.confirm",
        change=lambda u, a: a.confirm(now=u.now(), actor_user_id=actor.user_id),
    )


def check_in_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> None:
    def change(u: UnitOfWork, a: Appointment) -> None:
        clinic = require(u.clinics.get(a.clinic_id), "clinic", a.clinic_id)
        a.check_in(clinic=clinic, now=u.now(), actor_user_id=actor.user_id)

    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.CHECK_IN,
        name="appointment.check_in",
        change=change,
    )


def complete_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> None:
    """Complete the visit and charge its procedures at the fees fixed when it was booked."""

    def change(u: UnitOfWork, a: Appointment) -> None:
        for charge in a.complete(now=u.now(), actor_user_id=actor.user_id):
            u.charges.add(charge)
        u.audit(
            actor, "charge.create", "appointment", appointment_id, detail=f"{a.fee_cents} cents"
        )

    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.COMPLETE,
        name="appointment.complete",
        change=change,
    )


def mark_no_show(uow: UnitOfWork, actor: Actor, appointment_id: int) -> None:
    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.MARK_NO_SHOW,
        name="appointment.no_show",
        change=lambda u, a: a.mark_no_show(now=u.now(), actor_user_id=actor.user_id),
    )


def cancel_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int, *, reason: str) -> None:
    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.CANCEL,
        name="appointment.cancel",
        change=lambda u, a: a.cancel(now=u.now(), actor_user_id=actor.user_id, reason=reason),
    )


def reschedule_appointment(
    uow: UnitOfWork,
    actor: Actor,
    appointment_id: int,
    *,
    start_at: datetime,
    provider_id: int | None = None,
    chair_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Move to a new start (and optionally provider/chair), keeping the duration."""

    def change(u: UnitOfWork, a: Appointment) -> None:
        new_provider = provider_id or a.provider_id
        new_chair = chair_id or a.chair_id
        start = ensure_utc(start_at, name="start")
        end = start + (a.end_at - a.start_at)
        slot = _slot(u, provider_id=new_provider, chair_id=new_chair, start_at=start, end_at=end)
        for line in a.procedures:
            procedure = require(u.procedures.get(line.procedure_id), "procedure", line.procedure_id)
            slot.provider.ensure_can_perform(procedure)
        existing = u.appointments.overlapping(
            start_at=start,
            end_at=end,
            provider_id=new_provider,
            chair_id=new_chair,
            patient_id=a.patient_id,
        )
        a.reschedule(
            slot=slot,
            now=u.now(),
            actor_user_id=actor.user_id,
            existing=existing,
            has_overbook=u.appointments.has_active_overbook(appointment_id),
            reason=reason,
        )

    _transition(
        uow,
        actor,
        appointment_id,
        action=Action.RESCHEDULE,
        name="appointment.reschedule",
        change=change,
    )
