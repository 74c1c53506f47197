"""Who may do what: the permissions matrix (deny by default) and clinic scoping."""

from __future__ import annotations

from typing import cast

import pytest

from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.staff import (
    SYSTEM,
    Action,
    Actor,
    Role,
    StaffUser,
    check_password_strength,
)

#: the specification, one column per role: Admin, Manager, Scheduler, Front desk, Provider
MATRIX = """
                 A M S F P
manage_users     x . . . .
setup_practice   x x . . .
read_practice    x x x x x
add_patient      x x x x .
read_patient     x x x x x
book             x x x x .
overbook         x x x . .
confirm          x x x x .
check_in         x x . x .
complete         x x . x x
mark_no_show     x x . x .
cancel           x x x x .
reschedule       x x x x .
read_schedule    x x x x x
record_payment   x x . x .
refund           x x . . .
read_balance     x x x x .
import           x . . . .
record_risk      x . . . .
read_risk        x x x x x
manage_requests  x x x x .
record_suggestions x . . . .
decide_suggestion  x x x . .
send_reminder    x x . x .
read_reminders   x x x x .
manage_reminder_policy x x . . .
dispatch_reminders x . . . .
manage_keys        x . . . .
backup             x . . . .
verify_audit       x x . . .
review_break_glass x . . . .
"""
ROLES = [Role.ADMIN, Role.MANAGER, Role.SCHEDULER, Role.FRONT_DESK, Role.PROVIDER]


def allowed() -> dict[tuple[Action, Role], bool]:
    table: dict[tuple[Action, Role], bool] = {}
    for line in MATRIX.strip().splitlines()[1:]:
        name, *marks = line.split()
        for role, mark in zip(ROLES, marks, strict=True):
            table[Action(name), role] = mark == "x"
    return table


ALLOWED = allowed()


def test_the_matrix_names_every_action_and_role() -> None:
    assert {action for action, _ in ALLOWED} == set(Action)
    assert set(ROLES) == set(Role)


@pytest.mark.parametrize(("action", "role"), [key for key, ok in ALLOWED.items() if ok])
def test_role_may_perform_action(action: Action, role: Role) -> None:
    Actor(user_id=1, username="someone", role=role).require(action)


@pytest.mark.parametrize(("action", "role"), [key for key, ok in ALLOWED.items() if not ok])
def test_role_is_denied_action(action: Action, role: Role) -> None:
    with pytest.raises(PermissionDenied, match=f"role {role} may not"):
        Actor(user_id=1, username="someone", role=role).require(action)


def test_an_action_missing_from_the_table_is_denied_to_everyone() -> None:
    unknown = cast(Action, "drop_database")

    for role in Role:
        with pytest.raises(PermissionDenied):
            Actor(user_id=1, username="someone", role=role).require(unknown)


class TestClinicScoping:
    scoped = Actor(user_id=1, username="frontdesk", role=Role.FRONT_DESK, clinic_id=1)

    def test_a_clinic_user_may_act_at_their_own_clinic(self) -> None:
        self.scoped.require(Action.BOOK, clinic_id=1)

    def test_a_clinic_user_is_denied_at_another_clinic(self) -> None:
        with pytest.raises(PermissionDenied, match="no access to clinic 2"):
            self.scoped.require(Action.BOOK, clinic_id=2)

    def test_the_role_is_checked_before_the_clinic(self) -> None:
        with pytest.raises(PermissionDenied, match="may not refund"):
            self.scoped.require(Action.REFUND, clinic_id=1)

    def test_a_user_without_a_clinic_may_act_at_every_clinic(self) -> None:
        everywhere = Actor(user_id=2, username="boss", role=Role.MANAGER)

        everywhere.require(Action.REFUND, clinic_id=1)
        everywhere.require(Action.REFUND, clinic_id=2)

    def test_the_system_actor_is_an_unscoped_admin(self) -> None:
        assert (SYSTEM.role, SYSTEM.clinic_id, SYSTEM.user_id) == (Role.ADMIN, None, None)
        SYSTEM.require(Action.IMPORT, clinic_id=7)


class TestStaffUser:
    @pytest.mark.parametrize("username", ["ab", "Admin", "1admin", "a" * 41, "anna smith", ""])
    def test_refuses_odd_usernames(self, username: str) -> None:
        with pytest.raises(ValidationError, match="username"):
            StaffUser(username=username, role=Role.ADMIN, password_hash="x")

    def test_becomes_an_actor_with_its_role_and_clinic(self) -> None:
        user = StaffUser(
            username="anna.s", role=Role.SCHEDULER, password_hash="x", clinic_id=3, user_id=8
        )

        assert user.as_actor() == Actor(
            user_id=8, username="anna.s", role=Role.SCHEDULER, clinic_id=3
        )

    @pytest.mark.parametrize(
        "password", ["short-pass1", " leading-space-password", "trailing-space "]
    )
    def test_refuses_weak_passwords(self, password: str) -> None:
        with pytest.raises(ValidationError, match="password"):
            check_password_strength(password)

    def test_accepts_twelve_characters(self) -> None:
        check_password_strength("twelve-chars")
