"""The dispatcher's statements on the outbox: claim with a lease, hand over, record the outcome.

Every state change is a conditional UPDATE (on the status and on who holds the lease) whose row
count says whether this dispatcher still owns the reminder, so two dispatchers can never both
hand the same reminder to a channel.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from core_app.adapters import orm
from core_app.adapters.db import plain_rows
from core_app.domain.reminder import ReminderStatus

R = orm.reminders.c


def claim(
    connection: Connection, *, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    """Lease up to `limit` due pending reminders to `worker` (PostgreSQL: rows another
    dispatcher has locked are skipped; SQLite: the transaction holds the write lock)."""
    query = (
        select(R.reminder_id)
        .where(
            R.status == ReminderStatus.PENDING,
            R.next_attempt_at <= now,
            or_(R.lease_until.is_(None), R.lease_until < now),
        )
        .order_by(R.next_attempt_at, R.reminder_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [int(i) for (i,) in plain_rows(connection.execute(query))]
    if ids:
        connection.execute(
            update(orm.reminders)
            .where(R.reminder_id.in_(ids))
            .values(claimed_by=worker, lease_until=lease_until, updated_at=now)
        )
    return ids


def expired_sending(connection: Connection, now: datetime) -> list[tuple[int, str]]:
    """Reminders handed to a channel by a dispatcher whose lease ran out before it recorded
    the outcome (it crashed or hung): (id, channel)."""
    query = (
        select(R.reminder_id, R.channel)
        .where(R.status == ReminderStatus.SENDING, R.lease_until < now)
        .with_for_update(skip_locked=True)
    )
    return [(int(i), str(c)) for i, c in plain_rows(connection.execute(query))]


def requeue(connection: Connection, ids: Collection[int], now: datetime, note: str) -> None:
    if ids:
        connection.execute(
            update(orm.reminders)
            .where(R.reminder_id.in_(list(ids)), R.status == ReminderStatus.SENDING)
            .values(
                status=ReminderStatus.PENDING,
                next_attempt_at=now,
                claimed_by=None,
                lease_until=None,
                last_error=note,
                updated_at=now,
            )
        )


def give_up(connection: Connection, ids: Collection[int], now: datetime, note: str) -> None:
    if ids:
        connection.execute(
            update(orm.reminders)
            .where(R.reminder_id.in_(list(ids)), R.status == ReminderStatus.SENDING)
            .values(
                status=ReminderStatus.FAILED,
                claimed_by=None,
                lease_until=None,
                last_error=note,
                updated_at=now,
            )
        )


def message_facts(connection: Connection, reminder_id: int) -> Any:
    """The reminder with what its message needs: the appointment's state and start, the clinic,
    and the patient's first name and addresses (decrypted by the column types, in memory)."""
    a = orm.appointments.c
    p = orm.patients.c
    c = orm.clinics.c
    query = (
        select(
            R.reminder_id,
            R.status,
            R.claimed_by,
            R.lease_until,
            R.channel,
            R.attempts,
            a.status.label("appointment_status"),
            a.start_at,
            c.name.label("clinic_name"),
            c.timezone,
            p.first_name,
            p.email,
            p.phone,
        )
        .join(orm.appointments, a.appointment_id == R.appointment_id)
        .join(orm.clinics, c.clinic_id == a.clinic_id)
        .join(orm.patients, p.patient_id == a.patient_id)
        .where(R.reminder_id == reminder_id)
    )
    return connection.execute(query).first()


def _owned(reminder_id: int, worker: str, status: ReminderStatus) -> list[Any]:
    return [R.reminder_id == reminder_id, R.claimed_by == worker, R.status == status]


def start_sending(
    connection: Connection, reminder_id: int, *, worker: str, now: datetime, lease_until: datetime
) -> bool:
    """pending (leased to `worker`) -> sending; False if the lease was lost."""
    result = connection.execute(
        update(orm.reminders)
        .where(*_owned(reminder_id, worker, ReminderStatus.PENDING), R.lease_until > now)
        .values(
            status=ReminderStatus.SENDING,
            attempts=R.attempts + 1,
            lease_until=lease_until,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def skip(
    connection: Connection, reminder_id: int, *, worker: str, now: datetime, note: str
) -> bool:
    result = connection.execute(
        update(orm.reminders)
        .where(*_owned(reminder_id, worker, ReminderStatus.PENDING))
        .values(status=ReminderStatus.SKIPPED, lease_until=None, last_error=note, updated_at=now)
    )
    return result.rowcount == 1


def mark_sent(
    connection: Connection, reminder_id: int, *, worker: str, now: datetime, provider_ref: str
) -> bool:
    result = connection.execute(
        update(orm.reminders)
        .where(*_owned(reminder_id, worker, ReminderStatus.SENDING))
        .values(
            status=ReminderStatus.SENT,
            sent_at=now,
            provider_ref=provider_ref[:200],
            lease_until=None,
            last_error=None,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def mark_failed_attempt(
    connection: Connection,
    reminder_id: int,
    *,
    worker: str,
    now: datetime,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """sending -> pending again at `retry_at`, or -> failed when `retry_at` is None."""
    values: dict[str, Any] = {
        "claimed_by": None,
        "lease_until": None,
        "last_error": error[:300],
        "updated_at": now,
    }
    if retry_at is None:
        values["status"] = ReminderStatus.FAILED
    else:
        values |= {"status": ReminderStatus.PENDING, "next_attempt_at": retry_at}
    result = connection.execute(
        update(orm.reminders)
        .where(*_owned(reminder_id, worker, ReminderStatus.SENDING))
        .values(**values)
    )
    return result.rowcount == 1
