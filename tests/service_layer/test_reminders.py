"""Reminders in the core: the outbox follows booking, moving, cancelling and scoring in the same
transaction; policies are per clinic; the front desk's extra reminders and call tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.no_show import NoShowScore
from core_app.domain.reminder import ReminderPolicy
from core_app.domain.request import NewRequest, RequestKind, SlotSuggestion
from core_app.domain.staff import Role
from core_app.service_layer import (
    appointments,
    no_show_scores,
    open_requests,
    reminders,
    suggestions,
)
from tests.conftest import FrozenClock, Practice, local
from tests.service_layer.helpers import add_staff, audit_entries, book


def kinds_and_times(practice: Practice, appointment_id: int) -> list[tuple[str, str, datetime]]:
    return [
        (v.kind, v.status, v.due_at)
        for v in reminders.reminder_history(practice.app.uow(), practice.admin, appointment_id)
    ]


def test_booking_schedules_the_standard_reminders_in_the_same_transaction(
    practice: Practice,
) -> None:
    appointment = book(practice, 1, "11:00")  # Tuesday 11:00; now is Monday 08:00
    history = reminders.reminder_history(practice.app.uow(), practice.admin, appointment)
    assert [(v.kind, v.status, v.due_at) for v in history] == [
        ("standard", "pending", local(0, "11:00")),
        ("standard", "pending", local(1, "09:00")),
    ]
    assert {v.channel for v in history} == {"sms"}  # the patients' preference (default sms)
    assert all(v.due_at.tzinfo is not None and v.attempts == 0 for v in history)
    assert "reminder.schedule" in [e.action for e in audit_entries(practice.app)]


def test_an_appointment_too_soon_for_the_24h_reminder_gets_only_the_later_ones(
    practice: Practice,
) -> None:
    appointment = book(practice, 0, "15:00")  # 7 h ahead
    assert kinds_and_times(practice, appointment) == [("standard", "pending", local(0, "13:00"))]


def test_reschedule_cancels_pending_reminders_and_schedules_new_ones(
    practice: Practice,
) -> None:
    appointment = book(practice, 1, "11:00")
    appointments.reschedule_appointment(
        practice.app.uow(), practice.admin, appointment, start_at=local(2, "14:00")
    )
    history = kinds_and_times(practice, appointment)
    assert [h for h in history if h[1] == "cancelled"] == [
        ("standard", "cancelled", local(0, "11:00")),
        ("standard", "cancelled", local(1, "09:00")),
    ]
    assert [h for h in history if h[1] == "pending"] == [
        ("standard", "pending", local(1, "14:00")),
        ("standard", "pending", local(2, "12:00")),
    ]


@pytest.mark.parametrize("ending", ["cancel", "no_show", "complete"])
def test_ending_an_appointment_cancels_its_pending_reminders(
    practice: Practice, clock: FrozenClock, ending: str
) -> None:
    appointment = book(practice, 0, "15:00")
    uow, admin = practice.app.uow(), practice.admin
    if ending == "cancel":
        appointments.cancel_appointment(uow, admin, appointment, reason="patient called")
    else:
        clock.set_local(0, "15:05")
        if ending == "no_show":
            appointments.mark_no_show(uow, admin, appointment)
        else:
            appointments.check_in_appointment(uow, admin, appointment)
            appointments.complete_appointment(practice.app.uow(), admin, appointment)
    assert [h[1] for h in kinds_and_times(practice, appointment)] == ["cancelled"]


def test_a_clinic_policy_with_the_30_minute_reminder_applies_to_new_bookings(
    practice: Practice,
) -> None:
    manager = add_staff(practice, "manny", Role.MANAGER, clinic_id=practice.clinic_id)
    policy = ReminderPolicy(short_enabled=True, min_lead=timedelta(minutes=10))
    reminders.set_reminder_policy(
        practice.app.uow(), manager, clinic_id=practice.clinic_id, policy=policy
    )
    assert reminders.reminder_policy(practice.app.uow(), manager, practice.clinic_id) == policy
    appointment = book(practice, 0, "15:00")
    assert kinds_and_times(practice, appointment) == [
        ("standard", "pending", local(0, "13:00")),
        ("short", "pending", local(0, "14:30")),
    ]
    assert "reminder.policy" in [e.action for e in audit_entries(practice.app)]
    front = add_staff(practice, "fran", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    with pytest.raises(PermissionDenied):
        reminders.set_reminder_policy(
            practice.app.uow(), front, clinic_id=practice.clinic_id, policy=ReminderPolicy()
        )


def score(appointment_id: int, probability: float) -> NoShowScore:
    return NoShowScore(
        appointment_id, probability, ("booked far ahead",), "m-1", datetime(2030, 1, 7, tzinfo=UTC)
    )


def test_high_risk_scores_add_extra_reminders_and_one_call_task_idempotently(
    practice: Practice,
) -> None:
    app, admin = practice.app, practice.admin
    far = book(practice, 4, "11:00")  # Friday 11:00: 72 h before is Tuesday 11:00
    low = book(practice, 4, "11:00", chair=1, patient=1, provider_id=practice.dentist2_id)
    for _ in range(2):  # re-scoring adds nothing
        no_show_scores.record_scores(app.uow(), admin, [score(far, 0.8), score(low, 0.05)])
    high_risk = [h for h in kinds_and_times(practice, far) if h[0] == "high_risk"]
    assert high_risk == [("high_risk", "pending", local(1, "11:00"))]
    assert [h[0] for h in kinds_and_times(practice, low)] == ["standard", "standard"]
    tasks = reminders.list_call_tasks(
        app.uow(), admin, practice.clinic_id, local(3, "12:00").date()
    )
    assert [(t.appointment_id, t.status, t.patient_name) for t in tasks] == [
        (far, "open", "Alma Testpatient")
    ]
    front = add_staff(practice, "fran", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    reminders.complete_call_task(app.uow(), front, tasks[0].task_id, outcome="confirmed by phone")
    done = reminders.list_call_tasks(app.uow(), front, practice.clinic_id, tasks[0].due_date)
    assert [(t.status, t.outcome) for t in done] == [("done", "confirmed by phone")]
    with pytest.raises(ValidationError, match="not open"):
        reminders.complete_call_task(app.uow(), front, tasks[0].task_id, outcome="again")
    # no longer high risk: its pending extra reminder is cancelled
    no_show_scores.record_scores(app.uow(), admin, [score(far, 0.1)])
    assert [h[1] for h in kinds_and_times(practice, far) if h[0] == "high_risk"] == ["cancelled"]


def test_the_front_desk_sends_an_extra_reminder_within_the_guards(
    practice: Practice, clock: FrozenClock
) -> None:
    front = add_staff(practice, "fran", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    appointment = book(practice, 0, "15:00")
    clock.set_local(0, "10:00")
    reminder_id = reminders.send_extra_reminder(practice.app.uow(), front, appointment)
    extra = [v for v in reminders.reminder_history(practice.app.uow(), front, appointment)]
    assert [(v.reminder_id, v.kind, v.due_at) for v in extra if v.kind == "extra"] == [
        (reminder_id, "extra", local(0, "10:00"))
    ]
    clock.set_local(0, "14:50")  # within the 15-minute minimum lead
    with pytest.raises(ValidationError, match="minimum lead"):
        reminders.send_extra_reminder(practice.app.uow(), front, appointment)
    later = book(practice, 1, "11:00")
    clock.set_local(0, "21:30")
    with pytest.raises(ValidationError, match="quiet hours"):
        reminders.send_extra_reminder(practice.app.uow(), front, later)
    scheduler = add_staff(practice, "sid", Role.SCHEDULER, clinic_id=practice.clinic_id)
    with pytest.raises(PermissionDenied):
        reminders.send_extra_reminder(practice.app.uow(), scheduler, later)


def test_accepting_a_suggestion_books_with_reminders(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    request_id = open_requests.add_request(
        app.uow(),
        admin,
        NewRequest(
            clinic_id=practice.clinic_id,
            patient_id=practice.patient_ids[1],
            kind=RequestKind.RECALL,
            procedure_codes=("D1110",),
            earliest_date=local(0, "12:00").date(),
            latest_date=local(10, "12:00").date(),
        ),
    )
    start = local(2, "10:00")
    (suggestion_id,) = suggestions.record_suggestions(
        app.uow(),
        admin,
        [
            SlotSuggestion(
                request_id=request_id,
                provider_id=practice.dentist_id,
                chair_id=practice.chair_ids[0],
                start_at=start,
                end_at=start + timedelta(minutes=60),
                score=1.0,
                reasons=("fills a gap",),
                plan_ref="plan-1",
            )
        ],
    )
    appointment = suggestions.accept_suggestion(app.uow(), admin, suggestion_id)
    assert kinds_and_times(practice, appointment) == [
        ("standard", "pending", local(1, "10:00")),
        ("standard", "pending", local(2, "08:00")),
    ]
