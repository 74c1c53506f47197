"""The schedule as plain rows (SQLAlchemy Core, no ORM objects): the day list of the API, the
CLI and the dashboards reads many appointments with their patient's name and procedure codes,
and loading them as entities (with their procedure lines and events) cost most of its time.
Two statements: the appointments joined to their patients, then their procedure lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, select

from core_app.adapters import orm
from core_app.adapters.db import engine_cache, plain_rows
from core_app.domain.appointment import MAX_APPOINTMENT


class StoredScheduleRow(NamedTuple):
    """One appointment of the schedule as stored (a tuple: a day list makes a hundred of them,
    and a frozen dataclass took 5 us each to build, a tuple under 1)."""

    appointment_id: int
    clinic_id: int
    start_at: datetime
    end_at: datetime
    status: Any  # core_app.domain.appointment.AppointmentStatus
    patient_id: int
    first_name: str
    last_name: str
    provider_id: int
    chair_id: int
    currency: str
    overbook_of_appointment_id: int | None
    is_late_cancel: bool
    reschedule_count: int
    procedure_codes: list[str]
    fee_cents: int


def _schedule(where: Any) -> tuple[Select[Any], Select[Any]]:
    """The two statements for appointments matching `where` (built once: building and keying
    a statement costs more than running it)."""
    a = orm.appointments.c
    p = orm.patients.c
    line = orm.appointment_procedures.c
    rows = (
        select(
            a.appointment_id,
            a.clinic_id,
            a.start_at,
            a.end_at,
            a.status,
            a.patient_id,
            p.first_name,
            p.last_name,
            a.provider_id,
            a.chair_id,
            a.currency,
            a.overbook_of_appointment_id,
            a.is_late_cancel,
            a.reschedule_count,
        )
        .join_from(orm.appointments, orm.patients, p.patient_id == a.patient_id)
        .where(where)
        .order_by(a.start_at, a.chair_id, a.appointment_id)
    )
    lines = (
        select(line.appointment_id, line.code, line.fee_cents)
        .where(line.appointment_id.in_(select(a.appointment_id).where(where)))
        .order_by(line.appointment_id, line.line_id)
    )
    return rows, lines


_A = orm.appointments.c
_WINDOW = _schedule(
    (_A.clinic_id == bindparam("clinic_id"))
    & (_A.start_at < bindparam("end_at", type_=_A.start_at.type))
    # no appointment lasts longer than MAX_APPOINTMENT (a core rule on every path in), so only
    # those starting at most that long before the window can overlap it: the (clinic, start)
    # index then reads the window, not the clinic's whole past
    & (_A.start_at > bindparam("earliest_start", type_=_A.start_at.type))
    & (_A.end_at > bindparam("start_at", type_=_A.end_at.type))
)
_ONE = _schedule(_A.appointment_id == bindparam("appointment_id"))


def _rows(
    connection: Connection, statements: tuple[Select[Any], Select[Any]], values: dict[str, Any]
) -> list[StoredScheduleRow]:
    found = connection.execute(statements[0], values).all()
    if not found:
        return []
    codes: dict[int, list[str]] = {}
    fees: dict[int, int] = {}
    lines = connection.execute(statements[1], values).all()  # in one call, not row by row
    for appointment_id, code, fee_cents in plain_rows(lines):
        codes.setdefault(appointment_id, []).append(code)
        fees[appointment_id] = fees.get(appointment_id, 0) + fee_cents
    return [
        StoredScheduleRow(*(*row, codes.get(row[0], []), fees.get(row[0], 0)))
        for row in plain_rows(found)
    ]


def in_window(
    connection: Connection, *, clinic_id: int, start_at: datetime, end_at: datetime
) -> list[StoredScheduleRow]:
    """A clinic's appointments overlapping [start_at, end_at), by start and chair."""
    values = {
        "clinic_id": clinic_id,
        "start_at": start_at,
        "end_at": end_at,
        "earliest_start": start_at - MAX_APPOINTMENT,
    }
    return _rows(connection, _WINDOW, values)


def one(connection: Connection, appointment_id: int) -> StoredScheduleRow | None:
    found = _rows(connection, _ONE, {"appointment_id": appointment_id})
    return found[0] if found else None


_ZONE = select(orm.clinics.c.timezone).where(orm.clinics.c.clinic_id == bindparam("clinic_id"))


def clinic_zone(connection: Connection, clinic_id: int) -> str | None:
    """The clinic's timezone name, None if there is no such clinic. Kept per process once
    read: a clinic's timezone is fixed when it is created and clinics are never deleted (a
    clinic created by a transaction that rolls back afterwards is read again next time)."""
    known = engine_cache(connection, "clinic_zone")
    name = known.get(clinic_id)
    if name is None:
        name = connection.execute(_ZONE, {"clinic_id": clinic_id}).scalar()
    return name


def remember_zone(connection: Connection, clinic_id: int, name: str) -> None:
    engine_cache(connection, "clinic_zone")[clinic_id] = name
