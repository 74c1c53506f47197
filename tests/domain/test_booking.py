"""`book()`: the rules a slot must pass, with hand-built appointments (ids given by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core_app.domain.appointment import AppointmentStatus, Slot, book
from core_app.domain.exceptions import (
    BookingInPast,
    OutsideHours,
    OverbookRefused,
    ProcedureNotAllowed,
    SlotUnavailable,
    ValidationError,
)
from core_app.domain.practice import ProviderKind
from tests.domain.factories import (
    ACTOR_ID,
    CHAIR_IDS,
    DENTIST_ID,
    NOW,
    PATIENT_IDS,
    World,
    cleaning,
    exam,
    local,
    make_chair,
    make_clinic,
    make_patient,
    make_provider,
)


@pytest.fixture
def world() -> World:
    return World()


def test_books_a_free_slot(world: World) -> None:
    appointment = world.book(local(1, "09:00"), local(1, "10:15"), procedures=[exam(), cleaning()])

    assert appointment.status is AppointmentStatus.BOOKED
    assert (appointment.provider_id, appointment.chair_id) == (DENTIST_ID, CHAIR_IDS[0])
    assert appointment.patient_id == PATIENT_IDS[0]
    assert appointment.start_at == local(1, "09:00")
    assert appointment.start_at.utcoffset() == timedelta(0)
    assert appointment.currency == "USD"
    assert [line.code for line in appointment.procedures] == ["D0120", "D1110"]
    assert appointment.fee_cents == 18_500
    assert appointment.booked_at == NOW
    assert appointment.booked_by_user_id == ACTOR_ID
    assert not appointment.is_overbook
    assert [(e.event_type, e.occurred_at) for e in appointment.events] == [("booked", NOW)]


class TestOverlaps:
    """Half-open intervals: [09:00, 10:00) and [10:00, 11:00) do not overlap."""

    def test_rejects_double_booked_provider(self, world: World) -> None:
        held = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(SlotUnavailable) as refused:
            world.book(local(1, "09:30"), local(1, "10:30"), chair=1, patient=1)

        assert (refused.value.resource, refused.value.resource_id) == ("provider", DENTIST_ID)
        assert refused.value.holder_appointment_id == held.appointment_id
        assert f"held by appointment {held.appointment_id}" in str(refused.value)

    def test_rejects_double_booked_chair(self, world: World) -> None:
        held = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(SlotUnavailable) as refused:
            world.book(local(1, "09:45"), local(1, "10:45"), provider=world.dentist2, patient=1)

        assert (refused.value.resource, refused.value.resource_id) == ("chair", CHAIR_IDS[0])
        assert refused.value.holder_appointment_id == held.appointment_id

    def test_rejects_double_booked_patient(self, world: World) -> None:
        held = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(SlotUnavailable) as refused:
            world.book(local(1, "08:30"), local(1, "09:01"), provider=world.dentist2, chair=1)

        assert (refused.value.resource, refused.value.resource_id) == ("patient", PATIENT_IDS[0])
        assert refused.value.holder_appointment_id == held.appointment_id

    def test_rejects_a_slot_enclosing_another(self, world: World) -> None:
        world.book(local(1, "09:00"), local(1, "09:30"))

        with pytest.raises(SlotUnavailable):
            world.book(local(1, "08:30"), local(1, "11:00"), chair=1, patient=1)

    def test_allows_back_to_back_on_the_same_provider_chair_and_patient(self, world: World) -> None:
        world.book(local(1, "09:00"), local(1, "10:00"))
        after = world.book(local(1, "10:00"), local(1, "11:00"))
        before = world.book(local(1, "08:30"), local(1, "09:00"))

        assert after.start_at == local(1, "10:00")
        assert before.end_at == local(1, "09:00")

    def test_allows_parallel_appointments_on_other_provider_chair_and_patient(
        self, world: World
    ) -> None:
        world.book(local(1, "09:00"), local(1, "10:00"))
        parallel = world.book(
            local(1, "09:00"), local(1, "10:00"), provider=world.dentist2, chair=1, patient=1
        )

        assert parallel.appointment_id is not None

    @pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
    def test_ignores_appointments_that_no_longer_hold_the_slot(
        self, world: World, status: AppointmentStatus
    ) -> None:
        world.book(local(1, "09:00"), local(1, "10:00")).status = status

        assert world.book(local(1, "09:00"), local(1, "10:00")).is_active

    @pytest.mark.parametrize(
        "status",
        [AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED],
    )
    def test_appointments_that_went_ahead_still_hold_the_slot(
        self, world: World, status: AppointmentStatus
    ) -> None:
        world.book(local(1, "09:00"), local(1, "10:00")).status = status

        with pytest.raises(SlotUnavailable):
            world.book(local(1, "09:00"), local(1, "10:00"), chair=1, patient=1)


class TestTimeRules:
    def test_refuses_booking_in_the_past(self, world: World) -> None:
        with pytest.raises(BookingInPast):
            world.book(local(-2, "09:00"), local(-2, "10:00"))  # last Saturday

    def test_refuses_a_start_one_minute_ago(self, world: World) -> None:
        with pytest.raises(BookingInPast):
            world.book(local(0, "09:00"), local(0, "10:00"), now=local(0, "09:01"))

    def test_books_the_past_when_allowed(self, world: World) -> None:
        past = world.book(local(-2, "09:00"), local(-2, "10:00"), allow_past=True)

        assert past.start_at < NOW

    def test_books_starting_right_now(self, world: World) -> None:
        assert world.book(NOW, NOW + timedelta(minutes=30)).start_at == NOW

    def test_refuses_a_slot_outside_opening_hours(self, world: World) -> None:
        with pytest.raises(OutsideHours, match="clinic 1 is not open"):
            world.book(local(0, "17:30"), local(0, "18:30"))

    def test_refuses_a_slot_on_a_closed_day(self, world: World) -> None:
        with pytest.raises(OutsideHours, match="not open"):
            world.book(local(6, "10:00"), local(6, "11:00"))

    def test_refuses_a_slot_outside_the_providers_working_hours(self, world: World) -> None:
        # the clinic is open until 18:00, Dr 11 works until 16:00
        with pytest.raises(OutsideHours, match="provider 11 does not work"):
            world.book(local(0, "15:30"), local(0, "16:30"), provider=world.dentist2)

    def test_refuses_a_slot_that_ends_before_it_starts(self, world: World) -> None:
        with pytest.raises(ValidationError, match="end after it starts"):
            world.book(local(1, "10:00"), local(1, "10:00"))

    def test_refuses_a_slot_longer_than_eight_hours(self, world: World) -> None:
        with pytest.raises(ValidationError, match="8 hours"):
            world.book(local(1, "08:00"), local(1, "16:01"))

    def test_refuses_a_slot_shorter_than_its_procedures(self, world: World) -> None:
        with pytest.raises(ValidationError, match="need 75 minutes"):
            world.book(local(1, "09:00"), local(1, "10:00"), procedures=[exam(), cleaning()])

    def test_refuses_a_naive_start(self, world: World) -> None:
        naive = datetime(2030, 1, 8, 9, 0)

        with pytest.raises(ValidationError, match="timezone"):
            world.book(naive, naive + timedelta(hours=1))


class TestWhatIsBooked:
    def test_refuses_a_hygienist_for_a_dentist_only_procedure(self, world: World) -> None:
        with pytest.raises(ProcedureNotAllowed):
            world.book(local(1, "09:00"), local(1, "09:30"), provider=world.hygienist)

    def test_books_a_hygienist_for_a_cleaning(self, world: World) -> None:
        appointment = world.book(
            local(1, "09:00"), local(1, "10:00"), provider=world.hygienist, procedures=[cleaning()]
        )

        assert appointment.provider_id == world.hygienist.provider_id

    def test_refuses_an_appointment_without_procedures(self, world: World) -> None:
        with pytest.raises(ValidationError, match="at least one procedure"):
            world.book(local(1, "09:00"), local(1, "10:00"), procedures=[])

    def test_refuses_a_procedure_from_another_clinics_catalog(self, world: World) -> None:
        with pytest.raises(ValidationError, match="catalog"):
            world.book(local(1, "09:00"), local(1, "10:00"), procedures=[exam(clinic_id=2)])

    def test_refuses_an_inactive_procedure(self, world: World) -> None:
        retired = exam()
        retired.is_active = False

        with pytest.raises(ValidationError, match="catalog"):
            world.book(local(1, "09:00"), local(1, "10:00"), procedures=[retired])

    def test_refuses_a_chair_of_another_clinic(self, world: World) -> None:
        world.chairs[0] = make_chair(CHAIR_IDS[0], clinic_id=2)

        with pytest.raises(ValidationError, match="another clinic"):
            world.book(local(1, "09:00"), local(1, "10:00"))

    def test_refuses_an_inactive_patient(self, world: World) -> None:
        world.patients[0].is_active = False

        with pytest.raises(ValidationError, match="no longer active"):
            world.book(local(1, "09:00"), local(1, "10:00"))

    def test_refuses_an_inactive_provider(self, world: World) -> None:
        world.dentist.is_active = False

        with pytest.raises(ValidationError, match="no longer active"):
            world.book(local(1, "09:00"), local(1, "10:00"))

    def test_refuses_a_patient_registered_at_another_clinic(self, world: World) -> None:
        world.patients[0] = make_patient(PATIENT_IDS[0], clinic_id=2)

        with pytest.raises(ValidationError):
            world.book(local(1, "09:00"), local(1, "10:00"))


class TestOverbooks:
    def test_overbooks_the_target_on_its_provider(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))

        extra = world.book(
            local(1, "09:00"), local(1, "09:30"), chair=1, patient=1, overbook_of=target
        )

        assert extra.overbook_of_appointment_id == target.appointment_id
        assert extra.is_overbook
        assert [e.event_type for e in extra.events] == ["overbooked"]

    def test_overbooks_the_target_on_its_chair(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))

        extra = world.book(
            local(1, "09:30"),
            local(1, "10:00"),
            provider=world.dentist2,
            patient=1,
            overbook_of=target,
        )

        assert extra.overbook_of_appointment_id == target.appointment_id

    def test_without_naming_the_target_the_same_slot_is_refused(self, world: World) -> None:
        world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(SlotUnavailable):
            world.book(local(1, "09:00"), local(1, "09:30"), chair=1, patient=1)

    def test_refuses_an_overbook_sharing_neither_provider_nor_chair(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(OverbookRefused, match="must overlap"):
            world.book(
                local(1, "09:00"),
                local(1, "09:30"),
                provider=world.dentist2,
                chair=1,
                patient=1,
                overbook_of=target,
            )

    def test_refuses_an_overbook_that_does_not_overlap_the_target(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(OverbookRefused, match="must overlap"):
            world.book(local(1, "10:00"), local(1, "10:30"), chair=1, patient=1, overbook_of=target)

    @pytest.mark.parametrize(
        "status",
        [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED],
    )
    def test_refuses_to_overbook_a_target_that_is_not_active(
        self, world: World, status: AppointmentStatus
    ) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))
        target.status = status

        with pytest.raises(OverbookRefused, match="nothing to overbook"):
            world.book(local(1, "09:00"), local(1, "09:30"), chair=1, patient=1, overbook_of=target)

    def test_refuses_to_overbook_an_overbook(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))
        first = world.book(
            local(1, "09:00"), local(1, "09:30"), chair=1, patient=1, overbook_of=target
        )

        with pytest.raises(OverbookRefused, match="itself an overbook"):
            world.book(local(1, "09:00"), local(1, "09:30"), chair=1, patient=2, overbook_of=first)

    def test_refuses_a_second_overbook_of_the_same_target(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))

        with pytest.raises(OverbookRefused, match="already carries an overbook"):
            world.book(
                local(1, "09:30"),
                local(1, "10:00"),
                chair=2,
                patient=2,
                overbook_of=target,
                overbook_taken=True,
            )

    def test_refuses_to_overbook_a_target_in_another_clinic(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))
        target.clinic_id = 2

        with pytest.raises(OverbookRefused, match="another clinic"):
            world.book(local(1, "09:00"), local(1, "09:30"), chair=1, patient=1, overbook_of=target)

    def test_an_overbook_still_conflicts_with_other_appointments(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))
        other = world.book(
            local(1, "09:00"), local(1, "10:00"), provider=world.dentist2, chair=1, patient=1
        )

        with pytest.raises(SlotUnavailable) as refused:
            world.book(local(1, "09:00"), local(1, "09:30"), chair=1, patient=2, overbook_of=target)

        assert refused.value.holder_appointment_id == other.appointment_id

    def test_an_overbook_blocks_later_bookings_on_its_own_resources(self, world: World) -> None:
        target = world.book(local(1, "09:00"), local(1, "10:00"))
        extra = world.book(
            local(1, "09:00"), local(1, "09:30"), chair=1, patient=1, overbook_of=target
        )

        with pytest.raises(SlotUnavailable) as refused:
            world.book(
                local(1, "09:15"), local(1, "09:45"), provider=world.dentist2, chair=1, patient=2
            )

        assert refused.value.holder_appointment_id == extra.appointment_id


def test_book_works_with_objects_passed_directly() -> None:
    """`book()` itself, without the World helper: the existing list is all it knows."""
    clinic = make_clinic()
    dentist = make_provider(DENTIST_ID)
    hygienist = make_provider(12, ProviderKind.HYGIENIST)
    chair = make_chair(CHAIR_IDS[0])

    first = book(
        slot=Slot(clinic, dentist, chair, local(1, "09:00"), local(1, "10:00")),
        patient=make_patient(PATIENT_IDS[0]),
        procedures=[exam()],
        now=NOW,
        actor_user_id=None,
        existing=[],
    )
    first.appointment_id = 500

    with pytest.raises(SlotUnavailable, match="chair 20 is held by appointment 500"):
        book(
            slot=Slot(clinic, hygienist, chair, local(1, "09:30"), local(1, "10:30")),
            patient=make_patient(PATIENT_IDS[1]),
            procedures=[cleaning()],
            now=NOW,
            actor_user_id=None,
            existing=[first],
        )
