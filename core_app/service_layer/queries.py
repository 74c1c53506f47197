"""Read-side queries for screens: the schedule of a clinic with patient names (audited)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core_app.adapters import schedule_store
from core_app.domain.hours import zone
from core_app.domain.patient import Patient
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case


@dataclass(slots=True)
class ScheduleRow:
    """One appointment as the schedule shows it. Not frozen: a frozen dataclass sets each field
    through `object.__setattr__`, 5 us per row of this size against 0.7; the day list makes a
    hundred per request. Treat it as a value all the same."""

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


def clinic_zone(uow: UnitOfWork, clinic_id: int) -> ZoneInfo:
    """The clinic's timezone (kept per process once its transaction commits: it is fixed when
    the clinic is created); NotFound for a clinic that does not exist."""
    connection = uow.session.connection()
    name = require(schedule_store.clinic_zone(connection, clinic_id), "clinic", clinic_id)
    uow.on_commit(lambda: schedule_store.remember_zone(connection, clinic_id, name))
    return zone(name)


def patients_read(patient_ids: Iterable[int], what: str) -> str:
    """The detail of the one audit entry of a read of several patients: what was read and
    which patients (their ids, ascending; never names)."""
    return f"{what}: patients {','.join(str(i) for i in sorted(set(patient_ids)))}"


def local_minutes(where: ZoneInfo) -> Callable[[datetime], str]:
    """A function from a UTC time to its clinic-local "YYYY-MM-DD HH:MM" text that formats
    each distinct time once: a day's appointments start and end on a few dozen slot
    boundaries, and converting and formatting one took about 1.2 us (two per appointment)."""
    known: dict[datetime, str] = {}

    def text(when: datetime) -> str:
        found = known.get(when)
        if found is None:
            # isoformat, sliced, is the same text as strftime("%Y-%m-%d %H:%M") at about
            # half its cost
            found = known[when] = when.astimezone(where).isoformat(" ", "minutes")[:16]
        return found

    return text


def schedule_row(
    found: schedule_store.StoredScheduleRow, local: Callable[[datetime], str]
) -> ScheduleRow:
    """`local`: see `local_minutes`."""
    return ScheduleRow(
        appointment_id=found.appointment_id,
        start_at=found.start_at,
        end_at=found.end_at,
        local_start=local(found.start_at),
        local_end=local(found.end_at)[11:],
        status=str(found.status),
        patient_id=found.patient_id,
        patient_name=f"{found.first_name} {found.last_name}",
        provider_id=found.provider_id,
        chair_id=found.chair_id,
        procedure_codes=found.procedure_codes,
        fee_cents=found.fee_cents,
        currency=found.currency,
        is_overbook=found.overbook_of_appointment_id is not None,
        overbook_of_appointment_id=found.overbook_of_appointment_id,
        is_late_cancel=found.is_late_cancel,
        reschedule_count=found.reschedule_count,
    )


def clinic_schedule(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, start_at: datetime, end_at: datetime
) -> list[ScheduleRow]:
    """A clinic's appointments overlapping [start_at, end_at) with patient names: a read-only
    use case (no write lock) with one audit entry naming the patients read."""

    def work(uow: UnitOfWork) -> list[ScheduleRow]:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        where = clinic_zone(uow, clinic_id)
        found = schedule_store.in_window(
            uow.session.connection(), clinic_id=clinic_id, start_at=start_at, end_at=end_at
        )
        local = local_minutes(where)
        rows = [schedule_row(r, local) for r in found]
        if rows:
            detail = patients_read((r.patient_id for r in rows), "schedule")
            uow.audit(actor, "patient.read", "patient", None, detail=detail)
        return rows

    return run_use_case(
        uow,
        actor,
        action="schedule.read",
        entity_type="clinic",
        entity_id=clinic_id,
        work=work,
        read_only=True,
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
            uow.audit(actor, "patient.read", "patient", None, detail=patients_read(names, "names"))
        return names

    return run_use_case(
        uow,
        actor,
        action="patient.read",
        entity_type="patient",
        entity_id=None,
        work=work,
        read_only=True,
    )
