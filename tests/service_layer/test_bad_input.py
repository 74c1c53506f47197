"""Bad input leaves the database unchanged, apart from exactly one audit entry for the refusal.

Every table but `audit_entries` is snapshotted (row counts and SELECT * by primary key) before
and after the refused call; the audit log must have grown by one 'rejected' (or 'denied') entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest

from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import (
    BookingInPast,
    CurrencyMismatch,
    DomainError,
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    OutsideHours,
    PermissionDenied,
    ProcedureNotAllowed,
    RefundExceedsPayment,
    SlotUnavailable,
    ValidationError,
)
from core_app.domain.staff import Actor, Role
from core_app.service_layer import appointments, billing
from tests.conftest import FrozenClock, Practice, local
from tests.service_layer.helpers import add_staff, audit_entries, book, snapshot


@dataclass
class Scene:
    """What exists before the bad call: a booked visit, a keyed payment, a front-desk user."""

    practice: Practice
    clock: FrozenClock
    appointment_id: int
    payment_id: int
    front_desk: Actor


@pytest.fixture
def scene(practice: Practice, clock: FrozenClock) -> Scene:
    appointment_id = book(practice, 1, "10:00")  # Tuesday, dentist, chair 1, patient 0
    payment_id = pay(practice, 10_000, key="receipt-000001")
    return Scene(
        practice, clock, appointment_id, payment_id, add_staff(practice, "front", Role.FRONT_DESK)
    )


def pay(practice: Practice, cents: int, *, currency: str = "USD", key: str | None = None) -> int:
    return billing.record_payment(
        practice.app.uow(),
        practice.admin,
        patient_id=practice.patient_ids[0],
        amount_cents=cents,
        currency=currency,
        method=PaymentMethod.CARD,
        idempotency_key=key,
    )


def overlapping_booking(s: Scene) -> object:
    return book(s.practice, 1, "10:30", patient=1, chair=1)


def unknown_patient(s: Scene) -> object:
    return appointments.book_appointment(
        s.practice.app.uow(),
        s.practice.admin,
        patient_id=999_999,
        provider_id=s.practice.dentist_id,
        chair_id=s.practice.chair_ids[1],
        start_at=local(2, "10:00"),
        procedure_codes=["D1110"],
    )


def past_time(s: Scene) -> object:
    return book(s.practice, -2, "10:00", patient=1)


def closed_day(s: Scene) -> object:
    return book(s.practice, 6, "10:00", patient=1)


def dentist_only_for_hygienist(s: Scene) -> object:
    return book(s.practice, 2, "10:00", provider_id=s.practice.hygienist_id, codes=["D2740"])


def unknown_procedure_code(s: Scene) -> object:
    return book(s.practice, 2, "10:00", codes=["D1110", "D0000"])


def negative_amount(s: Scene) -> object:
    return pay(s.practice, -500)


def zero_amount(s: Scene) -> object:
    return pay(s.practice, 0)


def wrong_currency(s: Scene) -> object:
    return pay(s.practice, 10_000, currency="EUR")


def reused_key_other_amount(s: Scene) -> object:
    return pay(s.practice, 9_999, key="receipt-000001")


def complete_a_booked_appointment(s: Scene) -> object:
    s.clock.set_local(1, "10:15")  # during the visit: only its status stands in the way
    appointments.complete_appointment(s.practice.app.uow(), s.practice.admin, s.appointment_id)
    return None


def refund_beyond_payment(s: Scene) -> object:
    return billing.refund_payment(
        s.practice.app.uow(),
        s.practice.admin,
        payment_id=s.payment_id,
        amount_cents=10_001,
        reason="too much",
    )


def front_desk_refund(s: Scene) -> object:
    return billing.refund_payment(
        s.practice.app.uow(), s.front_desk, payment_id=s.payment_id, amount_cents=100, reason="x"
    )


def naive_start_time(s: Scene) -> object:
    return appointments.book_appointment(
        s.practice.app.uow(),
        s.practice.admin,
        patient_id=s.practice.patient_ids[1],
        provider_id=s.practice.dentist_id,
        chair_id=s.practice.chair_ids[1],
        start_at=datetime(2030, 1, 9, 10, 0),  # no timezone
        procedure_codes=["D1110"],
    )


CASES: list[object] = [
    pytest.param(
        overlapping_booking, SlotUnavailable, "appointment.book", "rejected", id="overlap"
    ),
    pytest.param(unknown_patient, NotFound, "appointment.book", "rejected", id="unknown-patient"),
    pytest.param(past_time, BookingInPast, "appointment.book", "rejected", id="past-time"),
    pytest.param(closed_day, OutsideHours, "appointment.book", "rejected", id="closed-day"),
    pytest.param(
        dentist_only_for_hygienist,
        ProcedureNotAllowed,
        "appointment.book",
        "rejected",
        id="hygienist-dentist-only",
    ),
    pytest.param(
        unknown_procedure_code,
        ValidationError,
        "appointment.book",
        "rejected",
        id="unknown-procedure-code",
    ),
    pytest.param(negative_amount, ValidationError, "payment.record", "rejected", id="negative"),
    pytest.param(zero_amount, ValidationError, "payment.record", "rejected", id="zero"),
    pytest.param(wrong_currency, CurrencyMismatch, "payment.record", "rejected", id="currency"),
    pytest.param(
        reused_key_other_amount,
        IdempotencyConflict,
        "payment.record",
        "rejected",
        id="idempotency-conflict",
    ),
    pytest.param(
        complete_a_booked_appointment,
        IllegalTransition,
        "appointment.complete",
        "rejected",
        id="complete-booked",
    ),
    pytest.param(
        refund_beyond_payment,
        RefundExceedsPayment,
        "payment.refund",
        "rejected",
        id="refund-too-much",
    ),
    pytest.param(front_desk_refund, PermissionDenied, "payment.refund", "denied", id="permission"),
    pytest.param(
        naive_start_time,
        ValidationError,
        "appointment.book",
        "rejected",
        id="naive-time",
    ),
]


@pytest.mark.parametrize(("attempt", "error", "action", "outcome"), CASES)
def test_bad_input_leaves_the_database_unchanged(
    scene: Scene,
    attempt: Callable[[Scene], object],
    error: type[DomainError],
    action: str,
    outcome: str,
) -> None:
    app = scene.practice.app
    before = snapshot(app)
    audits_before = audit_entries(app)

    with pytest.raises(error):
        attempt(scene)

    assert snapshot(app) == before
    audits_after = audit_entries(app)
    assert audits_after[: len(audits_before)] == audits_before
    new = audits_after[len(audits_before) :]
    assert [(e.action, e.outcome, e.detail) for e in new] == [(action, outcome, error.code)]


def test_the_snapshot_sees_a_change(scene: Scene) -> None:
    """The check above can fail: a successful call changes the snapshot."""
    before = snapshot(scene.practice.app)

    pay(scene.practice, 1)

    after = snapshot(scene.practice.app)
    assert after != before
    assert after["payments"][0] == before["payments"][0] + 1
