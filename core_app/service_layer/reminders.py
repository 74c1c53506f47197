"""Reminders in the core: each clinic's policy, the outbox kept in step with its appointments,
and what the front desk does with reminders and call tasks.

The outbox is written inside the transaction that changes the appointment (`schedule_for`,
`cancel_for` are called by the appointment and scoring use cases), so a booking and its
reminders commit or roll back together. Sending is the dispatcher's job (`dispatch.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from core_app.adapters import reminder_store as store
from core_app.domain.exceptions import NotFound, ValidationError
from core_app.domain.hours import zone
from core_app.domain.no_show import RiskBand
from core_app.domain.reminder import (
    CallTaskStatus,
    PlannedReminder,
    ReminderKind,
    ReminderPolicy,
    ReminderStatus,
    choose_channel,
)
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case

#: how far ahead the catch-up looks for appointments without reminders (the longest offset a
#: policy may hold is 14 days)
CATCH_UP_HORIZON = timedelta(days=15)


@dataclass(frozen=True)
class ReminderView:
    reminder_id: int
    kind: str
    channel: str
    due_at: datetime  # UTC, aware
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class CallTaskView:
    task_id: int
    appointment_id: int
    patient_id: int
    patient_name: str
    phone: str | None
    start_at: datetime  # UTC, aware
    due_date: date
    status: str
    outcome: str | None
    completed_at: datetime | None


# --- keeping the outbox in step with appointments (inside the caller's transaction) ---------


def _rows_for(
    fact: Any, planned: Sequence[PlannedReminder], now: datetime, user_id: int | None = None
) -> list[dict[str, Any]]:
    channel = choose_channel(
        str(fact.contact_preference), has_email=fact.has_email, has_phone=fact.has_phone
    )
    if channel is None:
        return []
    return [
        {
            "appointment_id": fact.appointment_id,
            "clinic_id": fact.clinic_id,
            "kind": p.kind,
            "offset_minutes": p.offset_minutes,
            "channel": channel,
            "due_at": p.due_at,
            "status": ReminderStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": p.due_at,
            "created_at": now,
            "requested_by_user_id": user_id,
            "updated_at": now,
        }
        for p in planned
    ]


def schedule_for(uow: UnitOfWork, actor: Actor, appointment_ids: Sequence[int]) -> int:
    """(Re)plan the reminders of these appointments from their current start, status, risk
    band and clinic policy: pending ones are cancelled first. Returns how many were scheduled.
    Called by booking, rescheduling and the catch-up; audited as one entry per call."""
    if not appointment_ids:
        return 0
    connection = uow.session.connection()
    now = uow.now()
    store.cancel_pending(connection, appointment_ids, now)
    facts = store.appointment_facts(connection, appointment_ids)
    policy_of = store.policies(connection, {f.clinic_id for f in facts})
    rows: list[dict[str, Any]] = []
    for fact in facts:
        if fact.status not in store.REMINDABLE:
            continue
        planned = policy_of[fact.clinic_id].plan(
            start_at=fact.start_at,
            now=now,
            zone=zone(fact.timezone),
            high_risk=fact.risk_band == RiskBand.HIGH,
        )
        rows += _rows_for(fact, planned, now)
    store.add_reminders(connection, rows)
    ids = list(appointment_ids)
    uow.audit(
        actor,
        "reminder.schedule",
        "appointment",
        ids[0] if len(ids) == 1 else None,
        detail=f"{len(rows)} reminders for {len(ids)} appointment(s)",
    )
    return len(rows)


def cancel_for(uow: UnitOfWork, actor: Actor, appointment_id: int) -> None:
    """The appointment was cancelled, missed or completed: its pending reminders and its open
    call task are cancelled."""
    connection = uow.session.connection()
    now = uow.now()
    reminders = store.cancel_pending(connection, [appointment_id], now)
    tasks = store.cancel_call_tasks(connection, [appointment_id], now)
    if reminders or tasks:
        uow.audit(
            actor,
            "reminder.cancel",
            "appointment",
            appointment_id,
            detail=f"{reminders} reminders, {tasks} call tasks",
        )


def apply_risk(uow: UnitOfWork, actor: Actor, bands: dict[int, RiskBand]) -> int:
    """Newly recorded risk bands: a high-risk upcoming appointment gets the policy's extra
    reminders (unless it has them already) and a call task; one that is no longer high loses
    its pending extra reminders and open call task. Idempotent: re-scoring adds nothing."""
    connection = uow.session.connection()
    now = uow.now()
    high = sorted(i for i, band in bands.items() if band == RiskBand.HIGH)
    not_high = sorted(i for i, band in bands.items() if band != RiskBand.HIGH)
    store.cancel_pending(connection, not_high, now, kinds=[ReminderKind.HIGH_RISK])
    store.cancel_call_tasks(connection, not_high, now)
    facts = [
        f
        for f in store.appointment_facts(connection, high)
        if f.status in store.REMINDABLE and f.start_at > now
    ]
    have = store.live_kinds(connection, [f.appointment_id for f in facts])
    policy_of = store.policies(connection, {f.clinic_id for f in facts})
    rows: list[dict[str, Any]] = []
    tasks = 0
    for fact in facts:
        policy = policy_of[fact.clinic_id]
        tz = zone(fact.timezone)
        if ReminderKind.HIGH_RISK not in have.get(fact.appointment_id, set()):
            planned = [
                p
                for p in policy.plan(start_at=fact.start_at, now=now, zone=tz, high_risk=True)
                if p.kind == ReminderKind.HIGH_RISK
            ]
            rows += _rows_for(fact, planned, now)
        if policy.high_risk_call_task:
            day = policy.call_task_date(start_at=fact.start_at, now=now, zone=tz)
            tasks += store.open_call_task(
                connection,
                appointment_id=fact.appointment_id,
                clinic_id=fact.clinic_id,
                due_date=day,
                now=now,
            )
    store.add_reminders(connection, rows)
    if rows or tasks:
        uow.audit(
            actor,
            "reminder.high_risk",
            "appointment",
            None,
            detail=f"{len(rows)} extra reminders, {tasks} call tasks",
        )
    return len(rows)


def schedule_upcoming(uow: UnitOfWork, actor: Actor) -> int:
    """Catch-up: schedule reminders for upcoming appointments that have none (those written by
    a bulk load: an import or the simulator's future diary). Returns how many were scheduled."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.DISPATCH_REMINDERS)
        now = uow.now()
        ids = store.upcoming_without_reminders(
            uow.session.connection(), now=now, until=now + CATCH_UP_HORIZON
        )
        return schedule_for(uow, actor, ids) if ids else 0

    return run_use_case(
        uow, actor, action="reminder.catch_up", entity_type="reminder", entity_id=None, work=work
    )


# --- policy -----------------------------------------------------------------------------------


def reminder_policy(uow: UnitOfWork, actor: Actor, clinic_id: int) -> ReminderPolicy:
    actor.require(Action.READ_PRACTICE, clinic_id=clinic_id)
    with uow:
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        return store.policies(uow.session.connection(), [clinic_id])[clinic_id]


def set_reminder_policy(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, policy: ReminderPolicy
) -> None:
    """Store a clinic's policy (audited). Reminders already scheduled keep their times; new
    bookings and moves use the new policy."""

    def work(uow: UnitOfWork) -> None:
        actor.require(Action.MANAGE_REMINDER_POLICY, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        store.save_policy(uow.session.connection(), clinic_id, policy, uow.now())
        detail = ", ".join(f"{k} {v}" for k, v in policy.describe().items())
        uow.audit(actor, "reminder.policy", "clinic", clinic_id, detail=detail)

    run_use_case(
        uow, actor, action="reminder.policy", entity_type="clinic", entity_id=clinic_id, work=work
    )


# --- the front desk ---------------------------------------------------------------------------


def send_extra_reminder(uow: UnitOfWork, actor: Actor, appointment_id: int) -> int:
    """Schedule an extra reminder due now (the dispatcher sends it on its next run); refused in
    the quiet hours, within the minimum lead, for an appointment that is not upcoming, or for a
    patient without email or phone. Returns the reminder's id."""

    def work(uow: UnitOfWork) -> int:
        appointment = require(uow.appointments.get(appointment_id), "appointment", appointment_id)
        actor.require(Action.SEND_REMINDER, clinic_id=appointment.clinic_id)
        connection = uow.session.connection()
        facts = store.appointment_facts(connection, [appointment_id])[0]
        if facts.status not in store.REMINDABLE:
            raise ValidationError(f"appointment {appointment_id} is {facts.status}: no reminder")
        now = uow.now()
        policy = store.policies(connection, [facts.clinic_id])[facts.clinic_id]
        due = policy.extra_due(start_at=facts.start_at, now=now, zone=zone(facts.timezone))
        rows = _rows_for(
            facts, [PlannedReminder(ReminderKind.EXTRA, None, due)], now, actor.user_id
        )
        if not rows:
            raise ValidationError("the patient has no email or phone on file")
        (reminder_id,) = store.add_reminders(connection, rows)
        uow.audit(
            actor, "reminder.extra", "appointment", appointment_id, detail=f"reminder {reminder_id}"
        )
        return reminder_id

    return run_use_case(
        uow,
        actor,
        action="reminder.extra",
        entity_type="appointment",
        entity_id=appointment_id,
        work=work,
    )


def _view(row: Any) -> ReminderView:
    return ReminderView(
        reminder_id=row.reminder_id,
        kind=str(row.kind),
        channel=str(row.channel),
        due_at=row.due_at,
        status=str(row.status),
        attempts=row.attempts,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def reminder_history(uow: UnitOfWork, actor: Actor, appointment_id: int) -> list[ReminderView]:
    """Every reminder of an appointment, earliest first (audited: it tells how a patient is
    contacted)."""

    def work(uow: UnitOfWork) -> list[ReminderView]:
        appointment = require(uow.appointments.get(appointment_id), "appointment", appointment_id)
        actor.require(Action.READ_REMINDERS, clinic_id=appointment.clinic_id)
        rows = store.history(uow.session.connection(), appointment_id)
        uow.audit(actor, "reminder.read", "appointment", appointment_id)
        return [_view(r) for r in rows]

    return run_use_case(
        uow,
        actor,
        action="reminder.read",
        entity_type="appointment",
        entity_id=appointment_id,
        work=work,
    )


def due_reminders(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int | None = None, limit: int = 200
) -> list[ReminderView]:
    """Pending reminders whose time has come (what the next dispatch will send)."""

    def work(uow: UnitOfWork) -> list[ReminderView]:
        actor.require(Action.READ_REMINDERS, clinic_id=clinic_id)
        scope = clinic_id if clinic_id is not None else actor.clinic_id
        rows = store.due(uow.session.connection(), now=uow.now(), clinic_id=scope, limit=limit)
        uow.audit(actor, "reminder.read", "reminder", None, detail=f"{len(rows)} due")
        return [_view(r) for r in rows]

    return run_use_case(
        uow, actor, action="reminder.read", entity_type="reminder", entity_id=None, work=work
    )


def list_call_tasks(uow: UnitOfWork, actor: Actor, clinic_id: int, day: date) -> list[CallTaskView]:
    """The front desk's calls for `day` (clinic local date) and open ones left from earlier days,
    by appointment time; names and phone numbers are read (audited per patient)."""

    def work(uow: UnitOfWork) -> list[CallTaskView]:
        actor.require(Action.READ_REMINDERS, clinic_id=clinic_id)
        actor.require(Action.READ_PATIENT, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        rows = store.call_tasks_for_day(uow.session.connection(), clinic_id, day)
        if rows:
            read: list[int | None] = [*sorted({r.patient_id for r in rows})]
            uow.audit(actor, "call_task.read", "patient", read, detail=f"call tasks of {day}")
        return [
            CallTaskView(
                task_id=r.task_id,
                appointment_id=r.appointment_id,
                patient_id=r.patient_id,
                patient_name=f"{r.first_name} {r.last_name}",
                phone=r.phone,
                start_at=r.start_at,
                due_date=r.due_date,
                status=str(r.status),
                outcome=r.outcome,
                completed_at=r.completed_at,
            )
            for r in rows
        ]

    return run_use_case(
        uow, actor, action="call_task.read", entity_type="clinic", entity_id=clinic_id, work=work
    )


def complete_call_task(uow: UnitOfWork, actor: Actor, task_id: int, *, outcome: str) -> None:
    """Mark a call done with what came of it (e.g. "confirmed", "no answer, left a message")."""
    text = outcome.strip()

    def work(uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        task = store.call_task(connection, task_id)
        if task is None:
            raise NotFound("call task", task_id)
        actor.require(Action.SEND_REMINDER, clinic_id=task.clinic_id)
        if not text or len(text) > 500:
            raise ValidationError("outcome must be 1-500 characters")
        if task.status != CallTaskStatus.OPEN:
            raise ValidationError(f"call task {task_id} is {task.status}, not open")
        store.complete_call_task(
            connection, task_id, outcome=text, user_id=actor.user_id, now=uow.now()
        )
        uow.audit(actor, "call_task.complete", "call_task", task_id)

    run_use_case(
        uow,
        actor,
        action="call_task.complete",
        entity_type="call_task",
        entity_id=task_id,
        work=work,
    )
