"""What a booking reads and writes, in SQLAlchemy Core on the unit of work's connection: the
chair with its clinic and opening hours, the provider with its working hours, the patient, the
procedures, the active appointments in the way, and the insert of the new appointment with its
procedure lines and its first event.

The booking path through the ORM cost about 4 ms of CPU per booking in loads, identity-map
bookkeeping and the flush; these statements are built once and return plain domain objects
(never attached to the session: nothing here is written back by a flush). The rules stay in
`core_app.domain.appointment`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, insert, or_, select
from sqlalchemy.orm.instrumentation import manager_of_class

from core_app.adapters import orm
from core_app.domain.appointment import (
    ACTIVE_STATUSES,
    MAX_APPOINTMENT,
    Appointment,
)
from core_app.domain.patient import Patient
from core_app.domain.practice import (
    Chair,
    Clinic,
    OpeningHours,
    Procedure,
    Provider,
    WorkingHours,
)

T = TypeVar("T")

_CH = orm.chairs.c
_CL = orm.clinics.c
_OH = orm.clinic_opening_hours.c
_PR = orm.providers.c
_WH = orm.provider_working_hours.c
_PA = orm.patients.c
_PC = orm.procedures.c
_A = orm.appointments.c

_HOURS = ("weekday", "start", "end")
_CHAIR_COLUMNS = ("chair_id", "clinic_id", "name", "is_active")
_CHAIR = select(*(_CH[name] for name in _CHAIR_COLUMNS)).where(
    _CH.chair_id == bindparam("chair_id")
)
#: a clinic with its opening hours, a provider with its working hours: one statement each
_CLINIC = (
    select(
        _CL.clinic_id,
        _CL.name,
        _CL.timezone,
        _CL.currency,
        _CL.country,
        _CL.is_active,
        _OH.weekday,
        _OH.start,
        _OH.end,
    )
    .outerjoin_from(orm.clinics, orm.clinic_opening_hours, _OH.clinic_id == _CL.clinic_id)
    .where(_CL.clinic_id == bindparam("clinic_id"))
    .order_by(_OH.weekday, _OH.start)
)
_PROVIDER = (
    select(
        _PR.provider_id,
        _PR.name,
        _PR.kind,
        _PR.is_active,
        _WH.clinic_id,
        _WH.weekday,
        _WH.start,
        _WH.end,
    )
    .outerjoin_from(orm.providers, orm.provider_working_hours, _WH.provider_id == _PR.provider_id)
    .where(_PR.provider_id == bindparam("provider_id"))
    .order_by(_WH.weekday, _WH.start)
)
_PATIENT_COLUMNS = (
    "clinic_id",
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "notes",
    "sex",
    "distance_km",
    "has_insurance",
    "contact_preference",
    "created_at",
    "patient_id",
    "is_active",
)
_PATIENT = select(*(_PA[name] for name in _PATIENT_COLUMNS)).where(
    _PA.patient_id == bindparam("patient_id")
)
_PROCEDURE_COLUMNS = (
    "clinic_id",
    "code",
    "name",
    "category",
    "default_duration_min",
    "fee_cents",
    "hygienist_allowed",
    "procedure_id",
    "is_active",
)
_PROCEDURES = select(*(_PC[name] for name in _PROCEDURE_COLUMNS)).where(
    _PC.clinic_id == bindparam("clinic_id"),
    _PC.code.in_(bindparam("codes", expanding=True)),
)
#: the fields of an appointment that the slot rules read (`check_slot`)
_OVERLAP_COLUMNS = (
    "appointment_id",
    "clinic_id",
    "patient_id",
    "provider_id",
    "chair_id",
    "start_at",
    "end_at",
    "currency",
    "booked_at",
    "booked_by_user_id",
    "status",
    "source",
    "overbook_of_appointment_id",
)
#: one statement for the provider, the chair and the patient (the three indexes by start)
_OVERLAPPING = select(*(_A[name] for name in _OVERLAP_COLUMNS)).where(
    _A.status.in_(sorted(ACTIVE_STATUSES)),
    _A.start_at < bindparam("end_at", type_=_A.start_at.type),
    _A.start_at > bindparam("earliest_start", type_=_A.start_at.type),
    _A.end_at > bindparam("start_at", type_=_A.end_at.type),
    or_(
        _A.provider_id == bindparam("provider_id"),
        _A.chair_id == bindparam("chair_id"),
        _A.patient_id == bindparam("patient_id"),
    ),
)
_INSERT_APPOINTMENT = insert(orm.appointments)
_INSERT_LINES = insert(orm.appointment_procedures)
_INSERT_EVENTS = insert(orm.appointment_events)


def _values(row: Any) -> tuple[Any, ...]:
    return tuple(row)


def _loaded(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a mapped domain class as the ORM's own loader builds one: its state
    object and the column values in its `__dict__`, without `__init__` and without an
    attribute event per field (those were a seventh of a booking's CPU: it builds about 24
    such objects, most of them opening and working hours). Like a loaded row it is not
    validated again; unlike one it belongs to no session and is never flushed."""
    instance: T = manager_of_class(cls).new_instance()
    instance.__dict__.update(values)
    return instance


def _fields(names: Sequence[str], row: Any) -> dict[str, Any]:
    return dict(zip(names, _values(row), strict=True))


def chair(connection: Connection, chair_id: int) -> Chair | None:
    row = connection.execute(_CHAIR, {"chair_id": chair_id}).first()
    return None if row is None else _loaded(Chair, _fields(_CHAIR_COLUMNS, row))


def clinic(connection: Connection, clinic_id: int) -> Clinic | None:
    rows = [_values(r) for r in connection.execute(_CLINIC, {"clinic_id": clinic_id})]
    if not rows:
        return None
    found_id, name, timezone, currency, country, is_active = rows[0][:6]
    hours = [_loaded(OpeningHours, dict(zip(_HOURS, r[6:], strict=True))) for r in rows]
    return _loaded(
        Clinic,
        {
            "name": name,
            "timezone": timezone,
            "currency": currency,
            "country": country,
            "clinic_id": found_id,
            "is_active": is_active,
            "opening_hours": [h for h in hours if h.weekday is not None],
        },
    )


def provider(connection: Connection, provider_id: int) -> Provider | None:
    rows = [_values(r) for r in connection.execute(_PROVIDER, {"provider_id": provider_id})]
    if not rows:
        return None
    found_id, name, kind, is_active = rows[0][:4]
    hours = [
        _loaded(WorkingHours, dict(zip(("clinic_id", *_HOURS), r[4:], strict=True)))
        for r in rows
        if r[4] is not None
    ]
    return _loaded(
        Provider,
        {
            "name": name,
            "kind": kind,
            "provider_id": found_id,
            "is_active": is_active,
            "working_hours": hours,
        },
    )


def patient(connection: Connection, patient_id: int) -> Patient | None:
    row = connection.execute(_PATIENT, {"patient_id": patient_id}).first()
    if row is None:
        return None
    return _loaded(Patient, _fields(_PATIENT_COLUMNS, row))


def procedures(connection: Connection, clinic_id: int, codes: Sequence[str]) -> list[Procedure]:
    if not codes:
        return []
    rows = connection.execute(_PROCEDURES, {"clinic_id": clinic_id, "codes": list(codes)})
    return [_loaded(Procedure, _fields(_PROCEDURE_COLUMNS, r)) for r in rows]


def overlapping(
    connection: Connection,
    *,
    start_at: datetime,
    end_at: datetime,
    provider_id: int,
    chair_id: int,
    patient_id: int,
) -> list[Appointment]:
    """Active appointments on the provider, chair or patient that overlap [start_at, end_at),
    with the fields the slot rules read (no procedure lines, no events)."""
    values = {
        "start_at": start_at,
        "end_at": end_at,
        # no appointment lasts longer than MAX_APPOINTMENT: lets the indexes bound both ends
        "earliest_start": start_at - MAX_APPOINTMENT,
        "provider_id": provider_id,
        "chair_id": chair_id,
        "patient_id": patient_id,
    }
    return [
        _loaded(Appointment, _fields(_OVERLAP_COLUMNS, row))
        for row in connection.execute(_OVERLAPPING, values)
    ]


def add_appointment(connection: Connection, appointment: Appointment) -> int:
    """Insert a new appointment with its procedure lines and events; returns its id (also set
    on the object)."""
    values: dict[str, Any] = {
        name: getattr(appointment, name)
        for name in (
            "clinic_id",
            "patient_id",
            "provider_id",
            "chair_id",
            "start_at",
            "end_at",
            "status",
            "source",
            "currency",
            "overbook_of_appointment_id",
            "booked_at",
            "booked_by_user_id",
            "is_late_cancel",
            "reschedule_count",
        )
    }
    key = connection.execute(_INSERT_APPOINTMENT, values).inserted_primary_key
    if key is None:  # pragma: no cover - the table has an integer primary key
        raise RuntimeError("the database returned no primary key")
    appointment_id = int(key[0])
    appointment.appointment_id = appointment_id
    if appointment.procedures:
        connection.execute(
            _INSERT_LINES,
            [
                {
                    "appointment_id": appointment_id,
                    "procedure_id": line.procedure_id,
                    "code": line.code,
                    "category": line.category,
                    "duration_min": line.duration_min,
                    "fee_cents": line.fee_cents,
                }
                for line in appointment.procedures
            ],
        )
    if appointment.events:
        connection.execute(
            _INSERT_EVENTS,
            [
                {
                    "appointment_id": appointment_id,
                    "event_type": event.event_type,
                    "occurred_at": event.occurred_at,
                    "actor_user_id": event.actor_user_id,
                    "reason": event.reason,
                    "from_start_at": event.from_start_at,
                    "from_end_at": event.from_end_at,
                    "from_provider_id": event.from_provider_id,
                    "from_chair_id": event.from_chair_id,
                }
                for event in appointment.events
            ],
        )
    return appointment_id
