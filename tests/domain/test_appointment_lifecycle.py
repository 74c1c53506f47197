"""The appointment lifecycle: legal status changes, time rules, late cancels, history, charges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from core_app.domain.appointment import Appointment, AppointmentStatus
from core_app.domain.exceptions import (
    BookingInPast,
    IllegalTransition,
    OverbookRefused,
    SlotUnavailable,
    ValidationError,
)
from tests.domain.factories import ACTOR_ID, CHAIR_IDS, DENTIST_ID, World, cleaning, exam, local

S = AppointmentStatus

#: the specification, written out independently of core_app's TRANSITIONS table
LEGAL: dict[AppointmentStatus, set[AppointmentStatus]] = {
    S.BOOKED: {S.CONFIRMED, S.CHECKED_IN, S.NO_SHOW, S.CANCELLED},
    S.CONFIRMED: {S.CHECKED_IN, S.NO_SHOW, S.CANCELLED},
    S.CHECKED_IN: {S.COMPLETED},
    S.COMPLETED: set(),
    S.NO_SHOW: set(),
    S.CANCELLED: set(),
}
TARGETS = [S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW, S.CANCELLED]

START = local(1, "09:00")  # Tuesday
END = local(1, "10:15")
BEFORE_START = START - timedelta(hours=1)
DURING = START + timedelta(minutes=10)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def visit(world: World) -> Appointment:
    """Tuesday 09:00-10:15 with an exam and a cleaning ($185), booked on Monday."""
    return world.book(START, END, procedures=[exam(), cleaning()])


def move(appointment: Appointment, world: World, target: AppointmentStatus) -> None:
    """Ask for `target` through the public method, at a time when only the status can object."""
    actions: dict[AppointmentStatus, Callable[[], object]] = {
        S.CONFIRMED: lambda: appointment.confirm(now=BEFORE_START, actor_user_id=ACTOR_ID),
        S.CHECKED_IN: lambda: appointment.check_in(
            clinic=world.clinic, now=DURING, actor_user_id=ACTOR_ID
        ),
        S.COMPLETED: lambda: appointment.complete(now=DURING, actor_user_id=ACTOR_ID),
        S.NO_SHOW: lambda: appointment.mark_no_show(now=DURING, actor_user_id=ACTOR_ID),
        S.CANCELLED: lambda: appointment.cancel(
            now=BEFORE_START, actor_user_id=ACTOR_ID, reason="patient called"
        ),
    }
    actions[target]()


ALL_PAIRS = [(source, target) for source in S for target in TARGETS]


@pytest.mark.parametrize(
    ("source", "target"),
    [pair for pair in ALL_PAIRS if pair[1] in LEGAL[pair[0]]],
    ids=lambda s: str(s),
)
def test_legal_transition_moves_the_appointment_and_records_it(
    world: World, visit: Appointment, source: AppointmentStatus, target: AppointmentStatus
) -> None:
    visit.status = source
    events_before = len(visit.events)

    move(visit, world, target)

    assert visit.status is target
    assert len(visit.events) == events_before + 1


@pytest.mark.parametrize(
    ("source", "target"),
    [pair for pair in ALL_PAIRS if pair[1] not in LEGAL[pair[0]]],
    ids=lambda s: str(s),
)
def test_illegal_transition_raises_and_changes_nothing(
    world: World, visit: Appointment, source: AppointmentStatus, target: AppointmentStatus
) -> None:
    visit.status = source
    events_before = len(visit.events)

    with pytest.raises(IllegalTransition):
        move(visit, world, target)

    assert visit.status is source
    assert len(visit.events) == events_before


def test_every_status_pair_is_covered_by_the_two_tests_above() -> None:
    assert len(ALL_PAIRS) == len(S) * len(TARGETS) == 30
    assert sum(len(targets) for targets in LEGAL.values()) == 8


class TestConfirmAndCheckIn:
    def test_confirm_is_refused_once_the_appointment_has_started(self, visit: Appointment) -> None:
        with pytest.raises(IllegalTransition, match="already started"):
            visit.confirm(now=START, actor_user_id=ACTOR_ID)

    def test_confirm_records_when(self, visit: Appointment) -> None:
        visit.confirm(now=BEFORE_START, actor_user_id=ACTOR_ID)

        assert visit.confirmed_at == BEFORE_START
        assert visit.events[-1].event_type == "confirmed"

    def test_check_in_is_refused_the_day_before(self, world: World, visit: Appointment) -> None:
        with pytest.raises(IllegalTransition, match="only on that day"):
            visit.check_in(clinic=world.clinic, now=local(0, "17:00"), actor_user_id=ACTOR_ID)

    def test_check_in_uses_the_clinic_day_not_the_utc_day(
        self, world: World, visit: Appointment
    ) -> None:
        monday_evening = local(0, "21:30")  # already Tuesday in UTC
        assert monday_evening.date() == START.date()

        with pytest.raises(IllegalTransition):
            visit.check_in(clinic=world.clinic, now=monday_evening, actor_user_id=ACTOR_ID)

    def test_check_in_is_allowed_early_on_the_day(self, world: World, visit: Appointment) -> None:
        visit.check_in(clinic=world.clinic, now=local(1, "07:00"), actor_user_id=ACTOR_ID)

        assert visit.status is S.CHECKED_IN
        assert visit.checked_in_at == local(1, "07:00")

    def test_check_in_is_refused_once_the_appointment_has_ended(
        self, world: World, visit: Appointment
    ) -> None:
        with pytest.raises(IllegalTransition):
            visit.check_in(clinic=world.clinic, now=END, actor_user_id=ACTOR_ID)


class TestNoShow:
    def test_no_show_is_refused_before_the_start(self, visit: Appointment) -> None:
        with pytest.raises(IllegalTransition, match="only after the start"):
            visit.mark_no_show(now=START - timedelta(minutes=1), actor_user_id=ACTOR_ID)

        assert visit.status is S.BOOKED

    def test_no_show_is_allowed_from_the_start(self, visit: Appointment) -> None:
        visit.mark_no_show(now=START, actor_user_id=ACTOR_ID)

        assert visit.status is S.NO_SHOW
        assert visit.no_show_at == START
        assert not visit.is_active
        assert visit.events[-1].event_type == "no_show"


class TestCancel:
    def test_cancel_more_than_24_hours_ahead_is_an_ordinary_cancel(
        self, visit: Appointment
    ) -> None:
        visit.cancel(now=START - timedelta(hours=24, minutes=1), actor_user_id=7, reason=" moving ")

        assert visit.status is S.CANCELLED
        assert not visit.is_late_cancel
        assert (visit.cancelled_by_user_id, visit.cancel_reason) == (7, "moving")
        assert (visit.events[-1].event_type, visit.events[-1].reason) == ("cancelled", "moving")

    def test_cancel_exactly_24_hours_ahead_is_not_late(self, visit: Appointment) -> None:
        visit.cancel(now=START - timedelta(hours=24), actor_user_id=ACTOR_ID, reason="ill")

        assert not visit.is_late_cancel

    def test_cancel_within_24_hours_is_a_late_cancel(self, visit: Appointment) -> None:
        visit.cancel(
            now=START - timedelta(hours=23, minutes=59), actor_user_id=ACTOR_ID, reason="ill"
        )

        assert visit.is_late_cancel
        assert visit.events[-1].event_type == "late_cancel"

    @pytest.mark.parametrize("after", [timedelta(0), timedelta(minutes=5)])
    def test_cancel_is_refused_once_the_appointment_has_started(
        self, visit: Appointment, after: timedelta
    ) -> None:
        with pytest.raises(IllegalTransition, match="no-show instead"):
            visit.cancel(now=START + after, actor_user_id=ACTOR_ID, reason="too late")

        assert visit.status is S.BOOKED

    def test_cancel_needs_a_reason(self, visit: Appointment) -> None:
        with pytest.raises(ValidationError, match="reason"):
            visit.cancel(now=BEFORE_START, actor_user_id=ACTOR_ID, reason="   ")

        assert visit.status is S.BOOKED


class TestComplete:
    def test_complete_creates_one_charge_per_procedure(
        self, world: World, visit: Appointment
    ) -> None:
        visit.check_in(clinic=world.clinic, now=START, actor_user_id=ACTOR_ID)

        charges = visit.complete(now=DURING, actor_user_id=ACTOR_ID)

        assert visit.status is S.COMPLETED
        assert visit.completed_at == DURING
        assert [(c.procedure_code, c.amount_cents) for c in charges] == [
            ("D0120", 6_500),
            ("D1110", 12_000),
        ]
        for charge in charges:
            assert charge.appointment_id == visit.appointment_id
            assert (charge.clinic_id, charge.patient_id) == (visit.clinic_id, visit.patient_id)
            assert (charge.currency, charge.charged_at) == ("USD", DURING)

    def test_complete_charges_the_fee_fixed_at_booking(self, world: World) -> None:
        procedure = exam()
        visit = world.book(START, END, procedures=[procedure])
        procedure.fee_cents = 99_999  # the catalog fee changes after booking
        visit.status = S.CHECKED_IN

        assert [c.amount_cents for c in visit.complete(now=DURING, actor_user_id=None)] == [6_500]

    def test_complete_is_refused_before_the_start(self, visit: Appointment) -> None:
        visit.status = S.CHECKED_IN

        with pytest.raises(IllegalTransition, match="before it starts"):
            visit.complete(now=START - timedelta(minutes=1), actor_user_id=ACTOR_ID)

    def test_complete_twice_is_refused(self, visit: Appointment) -> None:
        visit.status = S.CHECKED_IN
        visit.complete(now=DURING, actor_user_id=ACTOR_ID)

        with pytest.raises(IllegalTransition):
            visit.complete(now=DURING, actor_user_id=ACTOR_ID)


class TestReschedule:
    def reschedule(
        self,
        world: World,
        appointment: Appointment,
        start_at: datetime,
        *,
        chair: int = 0,
        now: datetime = BEFORE_START,
        has_overbook: bool = False,
    ) -> None:
        duration = appointment.end_at - appointment.start_at
        appointment.reschedule(
            slot=world.slot(start_at, start_at + duration, chair=chair),
            now=now,
            actor_user_id=ACTOR_ID,
            existing=world.existing,
            has_overbook=has_overbook,
            reason="dentist ill",
        )

    def test_reschedule_keeps_the_old_slot_in_the_history(
        self, world: World, visit: Appointment
    ) -> None:
        visit.confirm(now=BEFORE_START, actor_user_id=ACTOR_ID)

        self.reschedule(world, visit, local(2, "14:00"), chair=1)

        moved = visit.events[-1]
        assert moved.event_type == "rescheduled"
        assert (moved.from_start_at, moved.from_end_at) == (START, END)
        assert (moved.from_provider_id, moved.from_chair_id) == (DENTIST_ID, CHAIR_IDS[0])
        assert moved.reason == "dentist ill"
        assert (visit.start_at, visit.end_at) == (local(2, "14:00"), local(2, "15:15"))
        assert visit.chair_id == CHAIR_IDS[1]

    def test_reschedule_resets_a_confirmed_appointment_to_booked(
        self, world: World, visit: Appointment
    ) -> None:
        visit.confirm(now=BEFORE_START, actor_user_id=ACTOR_ID)

        self.reschedule(world, visit, local(2, "14:00"))

        assert visit.status is S.BOOKED
        assert visit.confirmed_at is None
        assert visit.reschedule_count == 1

    def test_reschedule_may_overlap_its_own_old_slot(
        self, world: World, visit: Appointment
    ) -> None:
        self.reschedule(world, visit, START + timedelta(minutes=30))

        assert visit.start_at == START + timedelta(minutes=30)

    def test_reschedule_into_a_taken_slot_is_refused_and_changes_nothing(
        self, world: World, visit: Appointment
    ) -> None:
        holder = world.book(local(2, "14:00"), local(2, "15:00"), chair=1, patient=1)

        with pytest.raises(SlotUnavailable) as refused:
            self.reschedule(world, visit, local(2, "14:30"))

        assert refused.value.holder_appointment_id == holder.appointment_id
        assert (visit.start_at, visit.reschedule_count, len(visit.events)) == (START, 0, 1)

    def test_reschedule_into_the_past_is_refused(self, world: World, visit: Appointment) -> None:
        with pytest.raises(BookingInPast):
            self.reschedule(world, visit, local(0, "09:00"), now=local(0, "10:00"))

    def test_reschedule_is_refused_once_the_appointment_has_started(
        self, world: World, visit: Appointment
    ) -> None:
        with pytest.raises(IllegalTransition, match="already started"):
            self.reschedule(world, visit, local(2, "14:00"), now=DURING)

    @pytest.mark.parametrize("status", [S.CHECKED_IN, S.COMPLETED, S.NO_SHOW, S.CANCELLED])
    def test_reschedule_is_refused_once_the_visit_is_under_way_or_over(
        self, world: World, visit: Appointment, status: AppointmentStatus
    ) -> None:
        visit.status = status

        with pytest.raises(IllegalTransition):
            self.reschedule(world, visit, local(2, "14:00"))

    def test_an_overbook_cannot_be_rescheduled(self, world: World, visit: Appointment) -> None:
        extra = world.book(
            START, START + timedelta(minutes=30), chair=1, patient=1, overbook_of=visit
        )

        with pytest.raises(OverbookRefused, match="is an overbook"):
            self.reschedule(world, extra, local(2, "14:00"), chair=1)

    def test_an_appointment_carrying_an_overbook_cannot_be_rescheduled(
        self, world: World, visit: Appointment
    ) -> None:
        with pytest.raises(OverbookRefused, match="carries an overbook"):
            self.reschedule(world, visit, local(2, "14:00"), has_overbook=True)
