"""Storage of reminder policies, the reminder outbox and call tasks (plain SQL on the tables)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, insert, or_, select, update

from core_app.adapters import orm
from core_app.adapters.db import plain_rows
from core_app.domain.appointment import AppointmentStatus
from core_app.domain.reminder import (
    CallTaskStatus,
    ReminderKind,
    ReminderPolicy,
    ReminderStatus,
)

#: ids per IN (...) list, within every database's bound-variable limit
IDS_PER_QUERY = 500
#: appointment statuses that still get reminders
REMINDABLE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
#: reminder statuses that count as "this reminder exists" (re-scoring must not add another)
LIVE = (ReminderStatus.PENDING, ReminderStatus.SENDING, ReminderStatus.SENT)

R = orm.reminders.c
T = orm.call_tasks.c
A = orm.appointments.c


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for lo in range(0, len(ids), IDS_PER_QUERY):
        yield ids[lo : lo + IDS_PER_QUERY]


def _offsets(text: str) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=int(m)) for m in text.split(",") if m)


def _minutes_text(offsets: Sequence[timedelta]) -> str:
    return ",".join(str(int(o.total_seconds() // 60)) for o in offsets)


# --- policies ---------------------------------------------------------------------------------


_POLICIES = select(orm.reminder_policies).where(
    orm.reminder_policies.c.clinic_id.in_(bindparam("clinic_ids", expanding=True))
)


def policies(connection: Connection, clinic_ids: Iterable[int]) -> dict[int, ReminderPolicy]:
    """Each clinic's policy (the defaults for a clinic that set none)."""
    wanted = sorted(set(clinic_ids))
    stored = {
        row.clinic_id: ReminderPolicy(
            standard=_offsets(row.standard_minutes),
            short_enabled=row.short_enabled,
            high_risk=_offsets(row.high_risk_minutes),
            high_risk_call_task=row.high_risk_call_task,
            day_start=row.day_start,
            day_end=row.day_end,
            min_lead=timedelta(minutes=row.min_lead_minutes),
        )
        for row in connection.execute(_POLICIES, {"clinic_ids": wanted})
    }
    return {clinic: stored.get(clinic, ReminderPolicy()) for clinic in wanted}


def save_policy(
    connection: Connection, clinic_id: int, policy: ReminderPolicy, now: datetime
) -> None:
    table = orm.reminder_policies
    connection.execute(delete(table).where(table.c.clinic_id == clinic_id))
    connection.execute(
        insert(table).values(
            clinic_id=clinic_id,
            standard_minutes=_minutes_text(policy.standard),
            short_enabled=policy.short_enabled,
            high_risk_minutes=_minutes_text(policy.high_risk),
            high_risk_call_task=policy.high_risk_call_task,
            day_start=policy.day_start,
            day_end=policy.day_end,
            min_lead_minutes=int(policy.min_lead.total_seconds() // 60),
            updated_at=now,
        )
    )


# --- what scheduling needs to know about appointments --------------------------------------


_P = orm.patients.c
_FACTS = (
    select(
        A.appointment_id,
        A.clinic_id,
        A.start_at,
        A.status,
        orm.clinics.c.timezone,
        _P.contact_preference,
        _P.email.is_not(None).label("has_email"),
        _P.phone.is_not(None).label("has_phone"),
        orm.no_show_scores.c.risk_band,
    )
    .join(orm.patients, _P.patient_id == A.patient_id)
    .join(orm.clinics, orm.clinics.c.clinic_id == A.clinic_id)
    .outerjoin(orm.no_show_scores, orm.no_show_scores.c.appointment_id == A.appointment_id)
    .where(A.appointment_id.in_(bindparam("appointment_ids", expanding=True)))
)  # built once: building a select of three joins costs more than running it for one booking


def appointment_facts(connection: Connection, appointment_ids: Sequence[int]) -> list[Any]:
    """Start, status, clinic (with its zone) and the patient's contact facts (not the
    addresses' contents: only whether they exist) of each appointment."""
    found: list[Any] = []
    for chunk in _chunks(appointment_ids):
        found += list(connection.execute(_FACTS, {"appointment_ids": list(chunk)}))
    return found


def upcoming_without_reminders(
    connection: Connection, *, now: datetime, until: datetime
) -> list[int]:
    """Bookable appointments starting in (now, until] that have no reminder row at all (booked
    by a bulk load, e.g. the simulator's future diary or an import)."""
    query = (
        select(A.appointment_id)
        .where(
            A.start_at > now,
            A.start_at <= until,
            A.status.in_(REMINDABLE),
            ~exists().where(R.appointment_id == A.appointment_id),
        )
        .order_by(A.start_at)
    )
    return [i for (i,) in plain_rows(connection.execute(query))]


# --- the outbox -------------------------------------------------------------------------------


def _key(key: Any) -> int:
    return int(key[0])


_INSERT_REMINDER = insert(orm.reminders)


def add_reminders(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for row in rows:  # one by one for the ids (a handful per appointment)
        result = connection.execute(_INSERT_REMINDER, row)
        ids.append(_key(result.inserted_primary_key))
    return ids


def cancel_pending(
    connection: Connection,
    appointment_ids: Sequence[int],
    now: datetime,
    *,
    kinds: Sequence[ReminderKind] | None = None,
) -> int:
    """Cancel the pending reminders of these appointments (of `kinds`, default all); a reminder
    already handed to a channel (`sending`) is left to its dispatcher, whose send-time check
    sees the appointment's new state."""
    cancelled = 0
    for chunk in _chunks(appointment_ids):
        conditions = [R.appointment_id.in_(chunk), R.status == ReminderStatus.PENDING]
        if kinds is not None:
            conditions.append(R.kind.in_(kinds))
        result = connection.execute(
            update(orm.reminders)
            .where(*conditions)
            .values(
                status=ReminderStatus.CANCELLED,
                claimed_by=None,
                lease_until=None,
                updated_at=now,
            )
        )
        cancelled += result.rowcount
    return cancelled


def live_kinds(connection: Connection, appointment_ids: Sequence[int]) -> dict[int, set[str]]:
    """The kinds of reminder each appointment has pending, in flight or sent."""
    found: dict[int, set[str]] = {}
    for chunk in _chunks(appointment_ids):
        query = select(R.appointment_id, R.kind).where(
            R.appointment_id.in_(chunk), R.status.in_(LIVE)
        )
        for appointment_id, kind in plain_rows(connection.execute(query)):
            found.setdefault(appointment_id, set()).add(str(kind))
    return found


def history(connection: Connection, appointment_id: int) -> list[Any]:
    query = (
        select(orm.reminders)
        .where(R.appointment_id == appointment_id)
        .order_by(R.due_at, R.reminder_id)
    )
    return list(connection.execute(query))


def due(connection: Connection, *, now: datetime, clinic_id: int | None, limit: int) -> list[Any]:
    query = select(orm.reminders).where(
        R.status == ReminderStatus.PENDING, R.next_attempt_at <= now
    )
    if clinic_id is not None:
        query = query.where(R.clinic_id == clinic_id)
    return list(connection.execute(query.order_by(R.next_attempt_at).limit(limit)))


# --- call tasks -------------------------------------------------------------------------------


def open_call_task(
    connection: Connection, *, appointment_id: int, clinic_id: int, due_date: date, now: datetime
) -> bool:
    """One task per appointment: created, or re-opened with a new date; True if it changed."""
    row = connection.execute(
        select(T.task_id, T.status, T.due_date).where(T.appointment_id == appointment_id)
    ).first()
    if row is None:
        connection.execute(
            insert(orm.call_tasks).values(
                appointment_id=appointment_id,
                clinic_id=clinic_id,
                due_date=due_date,
                status=CallTaskStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
        )
        return True
    if row.status == CallTaskStatus.DONE or (
        row.status == CallTaskStatus.OPEN and row.due_date == due_date
    ):
        return False
    connection.execute(
        update(orm.call_tasks)
        .where(T.task_id == row.task_id)
        .values(status=CallTaskStatus.OPEN, due_date=due_date, updated_at=now)
    )
    return True


def cancel_call_tasks(connection: Connection, appointment_ids: Sequence[int], now: datetime) -> int:
    cancelled = 0
    for chunk in _chunks(appointment_ids):
        result = connection.execute(
            update(orm.call_tasks)
            .where(T.appointment_id.in_(chunk), T.status == CallTaskStatus.OPEN)
            .values(status=CallTaskStatus.CANCELLED, updated_at=now)
        )
        cancelled += result.rowcount
    return cancelled


def call_tasks_for_day(connection: Connection, clinic_id: int, day: date) -> list[Any]:
    """The day's tasks (any status) and open ones left over from earlier days, with the
    appointment's start and the patient (names decrypted by the column type)."""
    p = orm.patients.c
    query = (
        select(
            T.task_id,
            T.appointment_id,
            T.due_date,
            T.status,
            T.outcome,
            T.completed_at,
            A.start_at,
            A.patient_id,
            p.first_name,
            p.last_name,
            p.phone,
        )
        .join(orm.appointments, A.appointment_id == T.appointment_id)
        .join(orm.patients, p.patient_id == A.patient_id)
        .where(
            T.clinic_id == clinic_id,
            or_(
                T.due_date == day,
                and_(T.due_date < day, T.status == CallTaskStatus.OPEN),
            ),
        )
        .order_by(A.start_at, T.task_id)
    )
    return list(connection.execute(query))


def call_task(connection: Connection, task_id: int) -> Any:
    return connection.execute(select(orm.call_tasks).where(T.task_id == task_id)).first()


def complete_call_task(
    connection: Connection, task_id: int, *, outcome: str, user_id: int | None, now: datetime
) -> None:
    connection.execute(
        update(orm.call_tasks)
        .where(T.task_id == task_id)
        .values(
            status=CallTaskStatus.DONE,
            outcome=outcome,
            completed_at=now,
            completed_by_user_id=user_id,
            updated_at=now,
        )
    )
