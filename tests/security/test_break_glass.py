"""Break-glass: a user without the permission opens a time-limited grant with a reason; each
use is marked in the audit log; it expires; an admin (someone else) reviews it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.staff import Action, Actor, EmergencyGrant, Role
from core_app.service_layer import billing, break_glass
from tests.conftest import FrozenClock, Practice
from tests.service_layer.helpers import add_staff, audit_entries

REASON = "patient collapsed in the waiting room; need the record"


def test_a_grant_lets_a_provider_do_what_the_role_lacks_and_marks_every_use(
    practice: Practice,
) -> None:
    app = practice.app
    provider = add_staff(practice, "dr.night", Role.PROVIDER, clinic_id=practice.clinic_id)
    patient_id = practice.patient_ids[0]
    with pytest.raises(PermissionDenied, match="may not read balance"):
        billing.patient_account(app.uow(), provider, patient_id)

    grant_id = break_glass.open_grant(
        app.uow(), provider, reason=REASON, minutes=30, actions=[Action.READ_BALANCE]
    )
    elevated = break_glass.with_open_grant(app.uow(), provider)
    account = billing.patient_account(app.uow(), elevated, patient_id)

    assert account.balance.balance_cents == 0
    marker = f"[BREAK-GLASS #{grant_id}]"
    opened, used = audit_entries(app)[-2:]
    assert (opened.action, opened.detail.startswith(marker)) == ("break_glass.open", True)
    assert used.action == "patient.balance.read" and used.detail.startswith(marker)
    assert used.actor_username == "dr.night" and used.outcome == "success"
    # the grant covers only what was asked for
    with pytest.raises(PermissionDenied, match="may not refund"):
        elevated.require(Action.REFUND)

    [listed] = break_glass.list_grants(app.uow(), practice.admin)
    assert (listed.grant_id, listed.username, listed.uses) == (grant_id, "dr.night", 1)
    assert listed.reason == REASON and listed.is_open and listed.reviewed_at is None


def test_an_expired_grant_is_refused(practice: Practice, clock: FrozenClock) -> None:
    app = practice.app
    provider = add_staff(practice, "dr.late", Role.PROVIDER)
    break_glass.open_grant(
        app.uow(), provider, reason=REASON, minutes=15, actions=[Action.READ_BALANCE]
    )
    held = break_glass.with_open_grant(app.uow(), provider)
    assert held.grant is not None

    clock.advance(minutes=16)

    # a fresh lookup no longer finds it ...
    assert break_glass.with_open_grant(app.uow(), provider).grant is None
    with pytest.raises(PermissionDenied, match="may not read balance"):
        billing.patient_account(
            app.uow(), break_glass.with_open_grant(app.uow(), provider), practice.patient_ids[0]
        )
    # ... and an actor still holding it (a long-lived session) cannot record work under it
    with pytest.raises(PermissionDenied, match="expired"):
        billing.patient_account(app.uow(), held, practice.patient_ids[0])
    assert audit_entries(app)[-1].outcome == "denied"
    assert not [
        e
        for e in audit_entries(app)
        if e.action == "patient.balance.read" and e.outcome == "success"
    ]


#: (reason, minutes, actions, what the refusal names)
REFUSED = [
    ("", 30, [Action.READ_PATIENT], "reason"),
    ("   urgent  ", 30, [Action.READ_PATIENT], "reason"),
    (REASON, 0, [Action.READ_PATIENT], "minutes"),
    (REASON, 241, [Action.READ_PATIENT], "minutes"),
    (REASON, 30, [Action.MANAGE_USERS], "may grant only"),
    (REASON, 30, [Action.REFUND], "may grant only"),
    (REASON, 30, [], "may grant only"),
]


def test_a_grant_needs_a_reason_a_time_limit_and_emergency_actions(practice: Practice) -> None:
    provider = add_staff(practice, "dr.hasty", Role.PROVIDER)
    for reason, minutes, actions, message in REFUSED:
        with pytest.raises(ValidationError, match=message):
            break_glass.open_grant(
                practice.app.uow(), provider, reason=reason, minutes=minutes, actions=actions
            )
        assert audit_entries(practice.app)[-1].outcome == "rejected"
    assert break_glass.list_grants(practice.app.uow(), practice.admin) == []


def test_grants_are_reviewed_by_an_admin_other_than_the_holder(practice: Practice) -> None:
    app = practice.app
    grant_id = break_glass.open_grant(app.uow(), practice.admin, reason=REASON, minutes=5)
    with pytest.raises(PermissionDenied, match="someone else"):
        break_glass.review_grant(app.uow(), practice.admin, grant_id, note="fine")
    desk = add_staff(practice, "desk", Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        break_glass.list_grants(app.uow(), desk)

    other_admin = add_staff(practice, "admin2", Role.ADMIN)
    break_glass.review_grant(app.uow(), other_admin, grant_id, note="checked with the dentist")

    assert break_glass.list_grants(app.uow(), other_admin) == []
    [done] = break_glass.list_grants(app.uow(), other_admin, unreviewed_only=False)
    assert done.reviewed_by_user_id == other_admin.user_id
    assert done.review_note == "checked with the dentist"


def test_a_grant_for_another_clinic_reaches_that_clinic_only() -> None:
    provider = Actor(user_id=9, username="dr.away", role=Role.PROVIDER, clinic_id=2)
    grant = EmergencyGrant(
        grant_id=1,
        actions=frozenset({Action.READ_BALANCE}),
        clinic_id=1,
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    elevated = dataclasses.replace(provider, grant=grant)
    elevated.require(Action.READ_BALANCE, clinic_id=1)
    with pytest.raises(PermissionDenied):
        elevated.require(Action.READ_BALANCE, clinic_id=3)
    with pytest.raises(PermissionDenied):
        provider.require(Action.READ_BALANCE, clinic_id=1)
    # a grant of an action outside the emergency set never takes effect
    wide = dataclasses.replace(grant, actions=frozenset({Action.MANAGE_USERS}))
    with pytest.raises(PermissionDenied):
        dataclasses.replace(provider, grant=wide).require(Action.MANAGE_USERS)
