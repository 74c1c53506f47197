"""Permissions at the service boundary: roles, clinic scoping, and the audit of each denial."""

from __future__ import annotations

from datetime import date

import pytest

from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import PermissionDenied
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.staff import Actor, Role
from core_app.service_layer import appointments, billing, patients, users
from core_app.service_layer import practice as setup
from tests.conftest import Practice
from tests.service_layer.helpers import PASSWORD, add_staff, audit_entries, book, count_rows


def pay(practice: Practice, cents: int = 10_000, *, actor: Actor | None = None) -> int:
    return billing.record_payment(
        practice.app.uow(),
        actor or practice.admin,
        patient_id=practice.patient_ids[0],
        amount_cents=cents,
        currency="USD",
        method=PaymentMethod.CASH,
    )


def second_clinic(practice: Practice) -> int:
    return setup.create_clinic(
        practice.app.uow(),
        practice.admin,
        name="Uptown",
        timezone="America/New_York",
        currency="USD",
        country="US",
        hours=parse_weekly_hours("mon-fri 09:00-17:00"),
    )


def assert_last_audit_denied(practice: Practice, action: str, username: str) -> None:
    last = audit_entries(practice.app)[-1]
    assert (last.action, last.outcome, last.actor_username, last.detail) == (
        action,
        "denied",
        username,
        "permission_denied",
    )


def test_front_desk_may_record_a_payment_but_not_refund_it(practice: Practice) -> None:
    front = add_staff(practice, "front", Role.FRONT_DESK)
    payment_id = pay(practice, actor=front)

    with pytest.raises(PermissionDenied, match="may not refund"):
        billing.refund_payment(
            practice.app.uow(), front, payment_id=payment_id, amount_cents=100, reason="asked"
        )

    assert count_rows(practice.app, "refunds") == 0
    assert_last_audit_denied(practice, "payment.refund", "front")


def test_a_provider_may_not_take_payments(practice: Practice) -> None:
    provider = add_staff(practice, "drada", Role.PROVIDER)

    with pytest.raises(PermissionDenied, match="may not record payment"):
        pay(practice, actor=provider)

    assert count_rows(practice.app, "payments") == 0
    assert_last_audit_denied(practice, "payment.record", "drada")


class TestAnotherClinicsUser:
    @pytest.fixture
    def outsider(self, practice: Practice) -> Actor:
        """A manager of the Uptown clinic: may refund, but only at Uptown."""
        return add_staff(practice, "uptown.mgr", Role.MANAGER, clinic_id=second_clinic(practice))

    def test_is_denied_a_refund_at_our_clinic(self, practice: Practice, outsider: Actor) -> None:
        payment_id = pay(practice)

        with pytest.raises(PermissionDenied, match=f"no access to clinic {practice.clinic_id}"):
            billing.refund_payment(
                practice.app.uow(), outsider, payment_id=payment_id, amount_cents=100, reason="x"
            )

        assert count_rows(practice.app, "refunds") == 0
        assert_last_audit_denied(practice, "payment.refund", "uptown.mgr")

    def test_is_denied_our_patients_details(self, practice: Practice, outsider: Actor) -> None:
        with pytest.raises(PermissionDenied, match="no access"):
            patients.get_patient(practice.app.uow(), outsider, practice.patient_ids[0])

        assert_last_audit_denied(practice, "patient.read", "uptown.mgr")

    def test_is_denied_booking_our_chairs(self, practice: Practice, outsider: Actor) -> None:
        with pytest.raises(PermissionDenied, match="no access"):
            book(practice, 1, "10:00", actor=outsider)

        assert count_rows(practice.app, "appointments") == 0

    def test_is_denied_cancelling_our_appointments(
        self, practice: Practice, outsider: Actor
    ) -> None:
        appointment_id = book(practice, 2, "10:00")

        with pytest.raises(PermissionDenied, match="no access"):
            appointments.cancel_appointment(
                practice.app.uow(), outsider, appointment_id, reason="prank"
            )

        assert_last_audit_denied(practice, "appointment.cancel", "uptown.mgr")

    def test_may_work_at_their_own_clinic(self, practice: Practice, outsider: Actor) -> None:
        assert outsider.clinic_id is not None
        patient_id = patients.add_patient(
            practice.app.uow(),
            outsider,
            clinic_id=outsider.clinic_id,
            first_name="Uma",
            last_name="Uptown",
            birth_date=date(1990, 1, 1),
        )

        assert patients.get_patient(practice.app.uow(), outsider, patient_id).first_name == "Uma"


def test_replaying_an_idempotency_key_still_checks_permissions(practice: Practice) -> None:
    front = add_staff(practice, "front", Role.FRONT_DESK)
    payment_id = pay(practice)

    def refund_as(actor: Actor) -> int:
        return billing.refund_payment(
            practice.app.uow(),
            actor,
            payment_id=payment_id,
            amount_cents=500,
            reason="broken crown",
            idempotency_key="refund-0000001",
        )

    refund_as(practice.admin)

    with pytest.raises(PermissionDenied):
        refund_as(front)


def test_a_clinic_admin_cannot_create_an_all_clinics_admin(practice: Practice) -> None:
    uptown = second_clinic(practice)
    local_admin = add_staff(practice, "uptown.admin", Role.ADMIN, clinic_id=uptown)

    with pytest.raises(PermissionDenied):
        users.add_user(
            practice.app.uow(), local_admin, username="root2", password=PASSWORD, role=Role.ADMIN
        )
