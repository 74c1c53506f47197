"""Reads and small writes for the import/export of the interchange format.

Whole tables are read with Core selects (the column types still decrypt patient fields and
return aware UTC times), which is several times cheaper than loading ORM objects; times come
back as UTC epoch seconds, the unit of `core_app.domain.history`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, bindparam, select, true, update

from core_app.adapters import orm
from core_app.adapters.db import plain_rows

ACTIVE = ("booked", "confirmed", "checked_in", "completed")


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _under(column: Any, prefix: str | None) -> ColumnElement[bool]:
    """Rows whose source_ref starts with `prefix` (None: every row)."""
    if prefix is None:
        return true()
    return column.startswith(prefix, autoescape=True)  # type: ignore[no-any-return]


class StoredPatient(NamedTuple):
    patient_id: int
    clinic_id: int
    source_ref: str | None
    first_name: str
    last_name: str
    birth_date: date
    phone: str | None
    email: str | None
    notes: str | None
    sex: str | None
    distance_km: float | None
    has_insurance: bool
    contact_preference: str
    created_epoch: int


def stored_patients(connection: Connection, prefix: str | None) -> list[StoredPatient]:
    t = orm.patients.c
    query = (
        select(
            t.patient_id,
            t.clinic_id,
            t.source_ref,
            t.first_name,
            t.last_name,
            t.birth_date,
            t.phone,
            t.email,
            t.notes,
            t.sex,
            t.distance_km,
            t.has_insurance,
            t.contact_preference,
            t.created_at,
        )
        .where(_under(t.source_ref, prefix))
        .order_by(t.patient_id)
    )
    return [
        StoredPatient(
            row.patient_id,
            row.clinic_id,
            row.source_ref,
            row.first_name,
            row.last_name,
            row.birth_date,
            row.phone,
            row.email,
            row.notes,
            row.sex,
            row.distance_km,
            bool(row.has_insurance),
            str(row.contact_preference),
            int(row.created_at.timestamp()),
        )
        for row in connection.execute(query)
    ]


class StoredAppointment(NamedTuple):
    appointment_id: int
    clinic_id: int
    patient_id: int
    provider_id: int
    chair_id: int
    start: int
    end: int
    booked: int
    status: str
    confirmed: int | None
    checked_in: int | None
    completed: int | None
    no_show: int | None
    cancelled: int | None
    cancel_reason: str | None
    is_overbook: bool
    source_ref: str | None
    codes: tuple[str, ...]
    fees: tuple[int, ...]


def stored_appointments(connection: Connection, prefix: str | None) -> list[StoredAppointment]:
    t = orm.appointments.c
    where = _under(t.source_ref, prefix)
    lines: dict[int, list[tuple[str, int]]] = defaultdict(list)
    p = orm.appointment_procedures.c
    query_lines = (
        select(p.appointment_id, p.code, p.fee_cents)
        .join_from(orm.appointment_procedures, orm.appointments)
        .where(where)
        .order_by(p.appointment_id, p.line_id)
    )
    for appointment_id, code, fee in plain_rows(connection.execute(query_lines)):
        lines[appointment_id].append((code, fee))
    query = (
        select(
            t.appointment_id,
            t.clinic_id,
            t.patient_id,
            t.provider_id,
            t.chair_id,
            t.start_at,
            t.end_at,
            t.booked_at,
            t.status,
            t.confirmed_at,
            t.checked_in_at,
            t.completed_at,
            t.no_show_at,
            t.cancelled_at,
            t.cancel_reason,
            t.overbook_of_appointment_id,
            t.source_ref,
        )
        .where(where)
        .order_by(t.appointment_id)
    )
    found = []
    for row in connection.execute(query):
        planned = lines.get(row[0], [])
        found.append(
            StoredAppointment(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                int(row[5].timestamp()),
                int(row[6].timestamp()),
                int(row[7].timestamp()),
                str(row[8]),
                _epoch(row[9]),
                _epoch(row[10]),
                _epoch(row[11]),
                _epoch(row[12]),
                _epoch(row[13]),
                row[14],
                row[15] is not None,
                row[16],
                tuple(code for code, _ in planned),
                tuple(fee for _, fee in planned),
            )
        )
    return found


class StoredPayment(NamedTuple):
    payment_id: int
    clinic_id: int
    patient_id: int
    appointment_id: int | None
    amount_cents: int
    currency: str
    method: str
    received: int
    reference: str | None
    source_ref: str | None
    refunded_cents: int
    refunded: int | None  # the latest refund's time
    refund_reasons: tuple[str, ...]


def stored_payments(connection: Connection, prefix: str | None) -> list[StoredPayment]:
    t = orm.payments.c
    r = orm.refunds.c
    where = _under(t.source_ref, prefix)
    refunds: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    query_refunds = (
        select(r.payment_id, r.amount_cents, r.refunded_at, r.reason)
        .join_from(orm.refunds, orm.payments)
        .where(where)
        .order_by(r.payment_id, r.refund_id)
    )
    for payment_id, amount, refunded_at, reason in plain_rows(connection.execute(query_refunds)):
        refunds[payment_id].append((amount, int(refunded_at.timestamp()), reason))
    query = (
        select(
            t.payment_id,
            t.clinic_id,
            t.patient_id,
            t.appointment_id,
            t.amount_cents,
            t.currency,
            t.method,
            t.received_at,
            t.reference,
            t.source_ref,
        )
        .where(where)
        .order_by(t.payment_id)
    )
    found = []
    for row in connection.execute(query):
        made = refunds.get(row[0], [])
        found.append(
            StoredPayment(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                str(row[6]),
                int(row[7].timestamp()),
                row[8],
                row[9],
                sum(amount for amount, _, _ in made),
                max((at for _, at, _ in made), default=None),
                tuple(reason for _, _, reason in made),
            )
        )
    return found


class ActiveAppointment(NamedTuple):
    appointment_id: int
    provider_id: int
    chair_id: int
    patient_id: int
    start: int
    end: int
    source_ref: str | None
    overbook_of: int | None


def active_between(connection: Connection, start: int, end: int) -> list[ActiveAppointment]:
    """Active appointments that overlap [start, end)."""
    t = orm.appointments.c
    query = select(
        t.appointment_id,
        t.provider_id,
        t.chair_id,
        t.patient_id,
        t.start_at,
        t.end_at,
        t.source_ref,
        t.overbook_of_appointment_id,
    ).where(t.status.in_(ACTIVE), t.start_at < _moment(end), t.end_at > _moment(start))
    return [
        ActiveAppointment(a, p, c, pt, int(s.timestamp()), int(e.timestamp()), ref, over)
        for a, p, c, pt, s, e, ref, over in plain_rows(connection.execute(query))
    ]


def link_payments(connection: Connection, links: Sequence[tuple[int, int | None]]) -> None:
    """Set (payment_id, appointment_id) links of payments written in this transaction."""
    if not links:
        return
    t = orm.payments
    statement = (
        update(t)
        .where(t.c.payment_id == bindparam("pid"))
        .values(appointment_id=bindparam("aid"), updated_at=bindparam("now"))
    )
    now = datetime.now(UTC)
    connection.execute(statement, [{"pid": p, "aid": a, "now": now} for p, a in links])
