"""Read-side queries for screens: the schedule of a clinic with patient names (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core_app.domain.patient import Patient
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, require_id, run_use_case


@dataclass(frozen=True)
class ScheduleRow:
    appointment_id: int
    start_at: datetime
    end_at: datetime
    local_start: str
    local_end: str
    status: str
    patient_id: int
    patient_name: str
    provider_id: int
    chair_id: int
    procedure_codes: list[str]
    fee_cents: int
    currency: str
    is_overbook: bool
    overbook_of_appointment_id: int | None
    is_late_cancel: bool
    reschedule_count: int


def _name(patient: Patient) -> str:
    return f"{patient.first_name} {patient.last_name}"


def clinic_schedule(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, start_at: datetime, end_at: datetime
) -> list[ScheduleRow]:
    def work(uow: UnitOfWork) -> list[ScheduleRow]:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        clinic = require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        found = uow.appointments.in_window(clinic_id=clinic_id, start_at=start_at, end_at=end_at)
        patients = uow.patients.by_ids([a.patient_id for a in found])
        rows = [
            ScheduleRow(
                appointment_id=require_id(a.appointment_id),
                start_at=a.start_at,
                end_at=a.end_at,
                local_start=f"{clinic.local(a.start_at):%Y-%m-%d %H:%M}",
                local_end=f"{clinic.local(a.end_at):%H:%M}",
                status=str(a.status),
                patient_id=a.patient_id,
                patient_name=_name(patients[a.patient_id]),
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
            for a in found
        ]
        read_ids: list[int | None] = list(dict.fromkeys(r.patient_id for r in rows))
        if read_ids:
            uow.audit(actor, "patient.read", "patient", read_ids, detail="schedule")
        return rows

    return run_use_case(
        uow, actor, action="schedule.read", entity_type="clinic", entity_id=clinic_id, work=work
    )


@dataclass(frozen=True)
class EventRow:
    """One step of an appointment's history (booked, confirmed, moved...), in clinic time."""

    event_type: str
    occurred_at: datetime
    local_time: str
    reason: str | None


def appointment_history(uow: UnitOfWork, actor: Actor, appointment_id: int) -> list[EventRow]:
    """An appointment's events, oldest first (the front desk's confirmation history)."""

    def work(uow: UnitOfWork) -> list[EventRow]:
        found = require(uow.appointments.get(appointment_id), "appointment", appointment_id)
        actor.require(Action.READ_SCHEDULE, clinic_id=found.clinic_id)
        clinic = require(uow.clinics.get(found.clinic_id), "clinic", found.clinic_id)
        uow.audit(actor, "appointment.history.read", "appointment", appointment_id)
        return [
            EventRow(
                event_type=e.event_type,
                occurred_at=e.occurred_at,
                local_time=f"{clinic.local(e.occurred_at):%Y-%m-%d %H:%M}",
                reason=e.reason,
            )
            for e in sorted(found.events, key=lambda e: e.occurred_at)
        ]

    return run_use_case(
        uow,
        actor,
        action="appointment.history.read",
        entity_type="appointment",
        entity_id=appointment_id,
        work=work,
    )


def patient_names(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, patient_ids: list[int]
) -> dict[int, str]:
    """Display names of these patients of one clinic (others are left out); an audited read."""

    def work(uow: UnitOfWork) -> dict[int, str]:
        actor.require(Action.READ_PATIENT, clinic_id=clinic_id)
        found = uow.patients.by_ids(list(dict.fromkeys(patient_ids)))
        names = {pid: _name(p) for pid, p in found.items() if p.clinic_id == clinic_id}
        if names:
            read: list[int | None] = [*names]
            uow.audit(actor, "patient.read", "patient", read, detail="names")
        return names

    return run_use_case(
        uow, actor, action="patient.read", entity_type="patient", entity_id=None, work=work
    )
