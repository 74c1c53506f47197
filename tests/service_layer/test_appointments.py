"""Appointment use cases against SQLite and PostgreSQL: booking, moves, cancels, overbooks."""

from __future__ import annotations

from datetime import UTC

import pytest

from core_app.domain.appointment import AppointmentStatus
from core_app.domain.exceptions import (
    IllegalTransition,
    OverbookRefused,
    PermissionDenied,
    ProcedureNotAllowed,
    SlotUnavailable,
)
from core_app.domain.staff import Role
from core_app.service_layer import appointments
from tests.conftest import MONDAY_8AM, FrozenClock, Practice, local
from tests.service_layer.helpers import add_staff, audit_entries, book, load_appointment


def test_books_an_appointment_and_reads_it_back(practice: Practice) -> None:
    appointment_id = book(practice, 1, "10:00", codes=["d0120", "D1110"])

    booked = load_appointment(practice.app, appointment_id)
    assert booked.status is AppointmentStatus.BOOKED
    assert (booked.start_at, booked.end_at) == (local(1, "10:00"), local(1, "11:15"))
    assert (booked.provider_id, booked.chair_id) == (practice.dentist_id, practice.chair_ids[0])
    assert booked.patient_id == practice.patient_ids[0]
    assert [(line.code, line.fee_cents) for line in booked.procedures] == [
        ("D0120", 6_500),
        ("D1110", 12_000),
    ]
    assert [event.event_type for event in booked.events] == ["booked"]
    assert booked.booked_by_user_id == practice.admin.user_id
    last = audit_entries(practice.app)[-1]
    assert (last.action, last.entity_id, last.outcome) == (
        "appointment.book",
        str(appointment_id),
        "success",
    )


def test_an_explicit_end_may_be_longer_than_the_procedures(practice: Practice) -> None:
    appointment_id = book(practice, 1, "10:00", end_at=local(1, "11:30"))

    assert load_appointment(practice.app, appointment_id).end_at == local(1, "11:30")


def test_slot_unavailable_names_the_appointment_holding_the_provider(practice: Practice) -> None:
    holder = book(practice, 1, "10:00")

    with pytest.raises(SlotUnavailable) as refused:
        book(practice, 1, "10:30", patient=1, chair=1)

    assert str(refused.value) == (
        f"provider {practice.dentist_id} is held by appointment {holder} at that time"
    )
    assert refused.value.holder_appointment_id == holder
    last = audit_entries(practice.app)[-1]
    assert (last.action, last.outcome, last.detail) == (
        "appointment.book",
        "rejected",
        "slot_unavailable",
    )


def test_rejects_double_booked_chair(practice: Practice) -> None:
    holder = book(practice, 1, "10:00")

    with pytest.raises(
        SlotUnavailable, match=f"chair {practice.chair_ids[0]} is held by appointment {holder}"
    ):
        book(practice, 1, "10:59", patient=1, provider_id=practice.dentist2_id)


def test_rejects_double_booked_patient(practice: Practice) -> None:
    holder = book(practice, 1, "10:00")

    with pytest.raises(SlotUnavailable, match=f"patient .* held by appointment {holder}"):
        book(practice, 1, "09:30", provider_id=practice.dentist2_id, chair=1)


def test_back_to_back_appointments_share_provider_chair_and_patient(practice: Practice) -> None:
    first = book(practice, 1, "10:00")
    second = book(practice, 1, "11:00")

    assert (
        load_appointment(practice.app, first).end_at
        == load_appointment(practice.app, second).start_at
    )


def test_hygienist_is_refused_a_dentist_only_procedure(practice: Practice) -> None:
    with pytest.raises(ProcedureNotAllowed, match="D2740"):
        book(practice, 1, "10:00", provider_id=practice.hygienist_id, codes=["D2740"])


def test_hygienist_is_booked_for_a_cleaning(practice: Practice) -> None:
    appointment_id = book(practice, 1, "10:00", provider_id=practice.hygienist_id)

    assert load_appointment(practice.app, appointment_id).provider_id == practice.hygienist_id


class TestNoShow:
    def test_no_show_is_marked_after_the_start(
        self, practice: Practice, clock: FrozenClock
    ) -> None:
        appointment_id = book(practice, 1, "10:00")
        clock.set_local(1, "10:20")

        appointments.mark_no_show(practice.app.uow(), practice.admin, appointment_id)

        missed = load_appointment(practice.app, appointment_id)
        assert missed.status is AppointmentStatus.NO_SHOW
        assert missed.no_show_at == local(1, "10:20")
        assert missed.events[-1].event_type == "no_show"

    def test_no_show_is_refused_before_the_start(
        self, practice: Practice, clock: FrozenClock
    ) -> None:
        appointment_id = book(practice, 1, "10:00")
        clock.set_local(1, "09:59")

        with pytest.raises(IllegalTransition):
            appointments.mark_no_show(practice.app.uow(), practice.admin, appointment_id)

        assert load_appointment(practice.app, appointment_id).status is AppointmentStatus.BOOKED


class TestCancel:
    def test_cancel_two_days_ahead_is_not_late(self, practice: Practice) -> None:
        appointment_id = book(practice, 2, "10:00")

        appointments.cancel_appointment(
            practice.app.uow(), practice.admin, appointment_id, reason="holiday"
        )

        cancelled = load_appointment(practice.app, appointment_id)
        assert cancelled.status is AppointmentStatus.CANCELLED
        assert not cancelled.is_late_cancel
        assert cancelled.cancelled_at == MONDAY_8AM
        assert (cancelled.cancel_reason, cancelled.cancelled_by_user_id) == (
            "holiday",
            practice.admin.user_id,
        )
        assert cancelled.events[-1].event_type == "cancelled"

    def test_cancel_the_same_day_is_a_late_cancel(self, practice: Practice) -> None:
        appointment_id = book(practice, 0, "15:00")

        appointments.cancel_appointment(
            practice.app.uow(), practice.admin, appointment_id, reason="forgot"
        )

        cancelled = load_appointment(practice.app, appointment_id)
        assert cancelled.is_late_cancel
        assert cancelled.events[-1].event_type == "late_cancel"

    def test_cancel_is_refused_after_the_start(
        self, practice: Practice, clock: FrozenClock
    ) -> None:
        appointment_id = book(practice, 0, "15:00")
        clock.set_local(0, "15:05")

        with pytest.raises(IllegalTransition):
            appointments.cancel_appointment(
                practice.app.uow(), practice.admin, appointment_id, reason="too late"
            )

    def test_a_cancelled_slot_can_be_booked_again(self, practice: Practice) -> None:
        first = book(practice, 2, "10:00")
        appointments.cancel_appointment(practice.app.uow(), practice.admin, first, reason="moved")

        assert book(practice, 2, "10:00", patient=1) != first


class TestReschedule:
    def test_reschedule_keeps_the_old_slot_in_the_history_and_resets_to_booked(
        self, practice: Practice
    ) -> None:
        appointment_id = book(practice, 1, "10:00")
        appointments.confirm_appointment(practice.app.uow(), practice.admin, appointment_id)

        appointments.reschedule_appointment(
            practice.app.uow(),
            practice.admin,
            appointment_id,
            start_at=local(2, "14:00"),
            chair_id=practice.chair_ids[2],
            reason="patient asked",
        )

        moved = load_appointment(practice.app, appointment_id)
        assert moved.status is AppointmentStatus.BOOKED
        assert moved.confirmed_at is None
        assert (moved.start_at, moved.end_at) == (local(2, "14:00"), local(2, "15:00"))
        assert moved.chair_id == practice.chair_ids[2]
        assert moved.reschedule_count == 1
        assert [e.event_type for e in moved.events] == ["booked", "confirmed", "rescheduled"]
        history = moved.events[-1]
        assert (history.from_start_at, history.from_end_at) == (
            local(1, "10:00"),
            local(1, "11:00"),
        )
        assert history.from_start_at is not None and history.from_start_at.tzinfo == UTC
        assert (history.from_provider_id, history.from_chair_id) == (
            practice.dentist_id,
            practice.chair_ids[0],
        )
        assert history.reason == "patient asked"

    def test_the_old_slot_is_free_after_a_reschedule(self, practice: Practice) -> None:
        appointment_id = book(practice, 1, "10:00")
        appointments.reschedule_appointment(
            practice.app.uow(), practice.admin, appointment_id, start_at=local(2, "14:00")
        )

        assert book(practice, 1, "10:00", patient=1) != appointment_id

    def test_reschedule_into_a_held_slot_is_refused_and_changes_nothing(
        self, practice: Practice
    ) -> None:
        appointment_id = book(practice, 1, "10:00")
        holder = book(practice, 2, "14:00", patient=1, chair=1)

        with pytest.raises(SlotUnavailable, match=f"held by appointment {holder}"):
            appointments.reschedule_appointment(
                practice.app.uow(), practice.admin, appointment_id, start_at=local(2, "14:30")
            )

        unmoved = load_appointment(practice.app, appointment_id)
        assert (unmoved.start_at, unmoved.reschedule_count) == (local(1, "10:00"), 0)
        assert [e.event_type for e in unmoved.events] == ["booked"]

    def test_reschedule_to_a_hygienist_keeps_procedure_rules(self, practice: Practice) -> None:
        appointment_id = book(practice, 1, "10:00", codes=["D0120"])

        with pytest.raises(ProcedureNotAllowed):
            appointments.reschedule_appointment(
                practice.app.uow(),
                practice.admin,
                appointment_id,
                start_at=local(2, "14:00"),
                provider_id=practice.hygienist_id,
            )


class TestOverbook:
    def test_overbook_of_a_named_appointment_works_once(self, practice: Practice) -> None:
        scheduler = add_staff(practice, "sched", Role.SCHEDULER)
        target = book(practice, 1, "10:00")

        extra = book(practice, 1, "10:00", patient=1, chair=1, overbook_of=target, actor=scheduler)

        overbook = load_appointment(practice.app, extra)
        assert overbook.overbook_of_appointment_id == target
        assert [e.event_type for e in overbook.events] == ["overbooked"]
        assert audit_entries(practice.app)[-1].action == "appointment.overbook"
        with pytest.raises(OverbookRefused, match=f"appointment {target} already carries"):
            book(practice, 1, "10:30", patient=2, chair=2, overbook_of=target, actor=scheduler)

    def test_a_second_overbook_is_possible_after_the_first_is_cancelled(
        self, practice: Practice
    ) -> None:
        target = book(practice, 1, "10:00")
        first = book(practice, 1, "10:00", patient=1, chair=1, overbook_of=target)
        appointments.cancel_appointment(practice.app.uow(), practice.admin, first, reason="gone")

        second = book(practice, 1, "10:30", patient=2, chair=2, overbook_of=target)

        assert load_appointment(practice.app, second).overbook_of_appointment_id == target

    def test_overbook_must_share_the_targets_provider_or_chair(self, practice: Practice) -> None:
        target = book(practice, 1, "10:00")

        with pytest.raises(OverbookRefused, match="must overlap"):
            book(
                practice,
                1,
                "10:00",
                patient=1,
                chair=1,
                provider_id=practice.dentist2_id,
                overbook_of=target,
            )

    @pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PROVIDER])
    def test_overbook_needs_scheduler_manager_or_admin(
        self, practice: Practice, role: Role
    ) -> None:
        user = add_staff(practice, "someone", role)
        target = book(practice, 1, "10:00")

        with pytest.raises(PermissionDenied, match="may not overbook"):
            book(practice, 1, "10:00", patient=1, chair=1, overbook_of=target, actor=user)

        last = audit_entries(practice.app)[-1]
        assert (last.actor_username, last.outcome) == ("someone", "denied")

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
    def test_managers_and_admins_may_overbook(self, practice: Practice, role: Role) -> None:
        user = add_staff(practice, "boss", role)
        target = book(practice, 1, "10:00")

        extra = book(practice, 1, "10:00", patient=1, chair=1, overbook_of=target, actor=user)

        assert load_appointment(practice.app, extra).is_overbook

    def test_front_desk_may_book_ordinary_appointments(self, practice: Practice) -> None:
        front = add_staff(practice, "front", Role.FRONT_DESK)

        assert book(practice, 1, "10:00", actor=front) > 0
