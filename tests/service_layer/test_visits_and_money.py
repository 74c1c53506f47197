"""From booking to balance: a visit is confirmed, checked in, completed, charged and paid."""

from __future__ import annotations

import pytest

from core_app.domain.appointment import AppointmentStatus
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import IdempotencyConflict, IllegalTransition, RefundExceedsPayment
from core_app.service_layer import appointments, billing
from tests.conftest import FrozenClock, Practice, local
from tests.service_layer.helpers import audit_entries, book, count_rows, load_appointment


def pay(practice: Practice, cents: int, *, patient: int = 0, key: str | None = None) -> int:
    return billing.record_payment(
        practice.app.uow(),
        practice.admin,
        patient_id=practice.patient_ids[patient],
        amount_cents=cents,
        currency="USD",
        method=PaymentMethod.CARD,
        idempotency_key=key,
    )


def refund(practice: Practice, payment_id: int, cents: int, *, key: str | None = None) -> int:
    return billing.refund_payment(
        practice.app.uow(),
        practice.admin,
        payment_id=payment_id,
        amount_cents=cents,
        reason="goodwill",
        idempotency_key=key,
    )


def account(practice: Practice, patient: int = 0) -> billing.PatientAccount:
    return billing.patient_account(
        practice.app.uow(), practice.admin, practice.patient_ids[patient]
    )


def test_a_visit_from_booking_to_balance_and_ageing(practice: Practice, clock: FrozenClock) -> None:
    app, admin = practice.app, practice.admin
    audits_before = len(audit_entries(app))
    visit = book(practice, 1, "10:00", codes=["D0120", "D1110"])  # $65 + $120, 75 minutes
    appointments.confirm_appointment(app.uow(), admin, visit)

    clock.set_local(1, "09:50")
    appointments.check_in_appointment(app.uow(), admin, visit)
    clock.set_local(1, "11:20")
    appointments.complete_appointment(app.uow(), admin, visit)

    done = load_appointment(app, visit)
    assert done.status is AppointmentStatus.COMPLETED
    assert (done.confirmed_at, done.checked_in_at, done.completed_at) == (
        local(0, "08:00"),
        local(1, "09:50"),
        local(1, "11:20"),
    )
    assert [e.event_type for e in done.events] == ["booked", "confirmed", "checked_in", "completed"]
    with app.uow() as uow:
        charges = uow.charges.for_patient(practice.patient_ids[0])
        assert [(c.procedure_code, c.amount_cents, c.currency) for c in charges] == [
            ("D0120", 6_500, "USD"),
            ("D1110", 12_000, "USD"),
        ]
        assert {c.appointment_id for c in charges} == {visit}
        assert {c.charged_at for c in charges} == {local(1, "11:20")}

    payment_id = pay(practice, 10_000)
    balance = account(practice).balance
    assert (balance.charged_cents, balance.paid_cents, balance.refunded_cents) == (
        18_500,
        10_000,
        0,
    )
    assert balance.balance_cents == 8_500
    assert account(practice).ageing.buckets == {"0_30": 8_500, "31_60": 0, "61_90": 0, "over_90": 0}

    clock.advance(days=45)
    refund(practice, payment_id, 1_500)
    later = account(practice)
    assert later.balance.balance_cents == 10_000
    assert later.ageing.buckets == {"0_30": 0, "31_60": 10_000, "61_90": 0, "over_90": 0}
    assert later.ageing.credit_cents == 0

    trail = [(e.action, e.outcome) for e in audit_entries(app)[audits_before:]]
    assert trail == [
        ("appointment.book", "success"),
        ("appointment.confirm", "success"),
        ("appointment.check_in", "success"),
        ("charge.create", "success"),
        ("appointment.complete", "success"),
        ("payment.record", "success"),
        ("patient.balance.read", "success"),
        ("patient.balance.read", "success"),
        ("payment.refund", "success"),
        ("patient.balance.read", "success"),
    ]


def test_check_in_waits_for_the_day_of_the_visit(practice: Practice) -> None:
    visit = book(practice, 1, "10:00")

    with pytest.raises(IllegalTransition, match="only on that day"):
        appointments.check_in_appointment(practice.app.uow(), practice.admin, visit)


def test_overpaying_leaves_a_credit(practice: Practice) -> None:
    pay(practice, 2_500)

    current = account(practice)
    assert current.balance.balance_cents == -2_500
    assert current.ageing.credit_cents == 2_500


class TestRefunds:
    def test_partial_refunds_up_to_the_payment_are_accepted(self, practice: Practice) -> None:
        payment_id = pay(practice, 10_000)

        refund(practice, payment_id, 6_000)
        refund(practice, payment_id, 4_000)

        assert account(practice).balance.refunded_cents == 10_000

    def test_refund_beyond_the_payment_is_refused(self, practice: Practice) -> None:
        payment_id = pay(practice, 10_000)
        refund(practice, payment_id, 6_000)

        with pytest.raises(RefundExceedsPayment, match="4000 cents left"):
            refund(practice, payment_id, 4_001)

        assert count_rows(practice.app, "refunds") == 1
        last = audit_entries(practice.app)[-1]
        assert (last.action, last.outcome, last.detail) == (
            "payment.refund",
            "rejected",
            "refund_exceeds_payment",
        )


class TestIdempotency:
    def test_same_key_returns_the_same_payment_and_creates_nothing(
        self, practice: Practice
    ) -> None:
        first = pay(practice, 10_000, key="till-7-receipt-0001")

        again = pay(practice, 10_000, key="till-7-receipt-0001")

        assert again == first
        assert count_rows(practice.app, "payments") == 1
        assert count_rows(practice.app, "idempotency_keys") == 1
        assert account(practice).balance.paid_cents == 10_000

    def test_same_key_with_other_content_is_a_conflict(self, practice: Practice) -> None:
        pay(practice, 10_000, key="till-7-receipt-0001")

        with pytest.raises(IdempotencyConflict):
            pay(practice, 10_001, key="till-7-receipt-0001")

        assert count_rows(practice.app, "payments") == 1
        assert audit_entries(practice.app)[-1].outcome == "rejected"

    def test_same_key_for_another_command_is_a_conflict(self, practice: Practice) -> None:
        payment_id = pay(practice, 10_000, key="shared-key-0001")

        with pytest.raises(IdempotencyConflict):
            refund(practice, payment_id, 100, key="shared-key-0001")

        assert count_rows(practice.app, "refunds") == 0

    def test_same_key_books_once(self, practice: Practice) -> None:
        first = book(practice, 1, "10:00", idempotency_key="booking-form-0001")

        again = book(practice, 1, "10:00", idempotency_key="booking-form-0001")

        assert again == first
        assert count_rows(practice.app, "appointments") == 1

    def test_same_booking_key_for_another_slot_is_a_conflict(self, practice: Practice) -> None:
        book(practice, 1, "10:00", idempotency_key="booking-form-0001")

        with pytest.raises(IdempotencyConflict):
            book(practice, 1, "14:00", idempotency_key="booking-form-0001")

        assert count_rows(practice.app, "appointments") == 1

    def test_same_refund_key_refunds_once(self, practice: Practice) -> None:
        payment_id = pay(practice, 10_000)

        first = refund(practice, payment_id, 3_000, key="refund-form-0001")
        again = refund(practice, payment_id, 3_000, key="refund-form-0001")

        assert again == first
        assert account(practice).balance.refunded_cents == 3_000
