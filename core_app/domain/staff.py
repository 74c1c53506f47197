"""Staff users, roles, the actor behind every service call, and what each role may do."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from core_app.domain.exceptions import PermissionDenied, ValidationError

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SCHEDULER = "scheduler"
    FRONT_DESK = "front_desk"
    PROVIDER = "provider"


class Action(enum.StrEnum):
    MANAGE_USERS = "manage_users"
    SETUP_PRACTICE = "setup_practice"
    READ_PRACTICE = "read_practice"
    ADD_PATIENT = "add_patient"
    READ_PATIENT = "read_patient"
    BOOK = "book"
    OVERBOOK = "overbook"
    CONFIRM = "confirm"
    CHECK_IN = "check_in"
    COMPLETE = "complete"
    MARK_NO_SHOW = "mark_no_show"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    READ_SCHEDULE = "read_schedule"
    RECORD_PAYMENT = "record_payment"
    REFUND = "refund"
    READ_BALANCE = "read_balance"
    IMPORT = "import"
    RECORD_RISK = "record_risk"
    READ_RISK = "read_risk"
    MANAGE_REQUESTS = "manage_requests"
    RECORD_SUGGESTIONS = "record_suggestions"
    DECIDE_SUGGESTION = "decide_suggestion"
    SEND_REMINDER = "send_reminder"
    READ_REMINDERS = "read_reminders"
    MANAGE_REMINDER_POLICY = "manage_reminder_policy"
    DISPATCH_REMINDERS = "dispatch_reminders"
    MANAGE_KEYS = "manage_keys"
    BACKUP = "backup"
    VERIFY_AUDIT = "verify_audit"
    REVIEW_BREAK_GLASS = "review_break_glass"


_ALL = frozenset(Role)
_FRONT = frozenset({Role.ADMIN, Role.MANAGER, Role.FRONT_DESK})
_SCHEDULING = frozenset({Role.ADMIN, Role.MANAGER, Role.SCHEDULER, Role.FRONT_DESK})

#: deny by default: an action not listed here is refused for every role
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.SETUP_PRACTICE: frozenset({Role.ADMIN, Role.MANAGER}),
    Action.READ_PRACTICE: _ALL,
    Action.ADD_PATIENT: _SCHEDULING,
    Action.READ_PATIENT: _ALL,
    Action.BOOK: _SCHEDULING,
    Action.OVERBOOK: frozenset({Role.ADMIN, Role.MANAGER, Role.SCHEDULER}),
    Action.CONFIRM: _SCHEDULING,
    Action.CHECK_IN: _FRONT,
    Action.COMPLETE: _FRONT | {Role.PROVIDER},
    Action.MARK_NO_SHOW: _FRONT,
    Action.CANCEL: _SCHEDULING,
    Action.RESCHEDULE: _SCHEDULING,
    Action.READ_SCHEDULE: _ALL,
    Action.RECORD_PAYMENT: _FRONT,
    Action.REFUND: frozenset({Role.ADMIN, Role.MANAGER}),
    Action.READ_BALANCE: _FRONT | {Role.SCHEDULER},
    Action.IMPORT: frozenset({Role.ADMIN}),
    Action.RECORD_RISK: frozenset({Role.ADMIN}),  # the scoring pipeline acts as the system
    Action.READ_RISK: _ALL,
    Action.MANAGE_REQUESTS: _SCHEDULING,
    Action.RECORD_SUGGESTIONS: frozenset({Role.ADMIN}),  # the optimizer acts as the system
    Action.DECIDE_SUGGESTION: frozenset({Role.ADMIN, Role.MANAGER, Role.SCHEDULER}),
    Action.SEND_REMINDER: _FRONT,
    Action.READ_REMINDERS: _SCHEDULING,
    Action.MANAGE_REMINDER_POLICY: frozenset({Role.ADMIN, Role.MANAGER}),
    Action.DISPATCH_REMINDERS: frozenset({Role.ADMIN}),  # the dispatcher acts as the system
    Action.MANAGE_KEYS: frozenset({Role.ADMIN}),
    Action.BACKUP: frozenset({Role.ADMIN}),
    Action.VERIFY_AUDIT: frozenset({Role.ADMIN, Role.MANAGER}),
    Action.REVIEW_BREAK_GLASS: frozenset({Role.ADMIN}),
}

#: what an emergency (break-glass) grant may add to a role: seeing and treating a patient,
#: never administration, money going out or bulk work
BREAK_GLASS_ACTIONS = frozenset(
    {
        Action.READ_PATIENT,
        Action.READ_SCHEDULE,
        Action.READ_RISK,
        Action.READ_BALANCE,
        Action.ADD_PATIENT,
        Action.BOOK,
        Action.CONFIRM,
        Action.CHECK_IN,
        Action.COMPLETE,
    }
)


@dataclass(frozen=True)
class EmergencyGrant:
    """A break-glass grant the actor holds: `actions` beyond their role until `expires_at`,
    in `clinic_id` (None: the actor's own scope). The service layer attaches it only while
    it is open, and refuses to record work under it once it has expired."""

    grant_id: int
    actions: frozenset[Action]
    clinic_id: int | None
    expires_at: datetime

    def covers(self, action: Action, *, clinic_id: int | None, home_clinic: int | None) -> bool:
        if action not in self.actions or action not in BREAK_GLASS_ACTIONS:
            return False
        scope = self.clinic_id if self.clinic_id is not None else home_clinic
        return scope is None or clinic_id is None or clinic_id == scope

    @property
    def marker(self) -> str:
        """Leads the detail of every audit entry written under the grant."""
        return f"[BREAK-GLASS #{self.grant_id}]"


@dataclass(frozen=True)
class Actor:
    """Who is calling a service: a staff user (or the system, for automatic work)."""

    user_id: int | None
    username: str
    role: Role
    clinic_id: int | None = None  # None: every clinic
    grant: EmergencyGrant | None = None  # an open break-glass grant (service layer attaches)

    def require(self, action: Action, *, clinic_id: int | None = None) -> None:
        denial = self._denial(action, clinic_id)
        if denial is None:
            return
        if self.grant is not None and self.grant.covers(
            action, clinic_id=clinic_id, home_clinic=self.clinic_id
        ):
            return  # every audit entry of this actor carries the grant's marker
        raise PermissionDenied(denial)

    def _denial(self, action: Action, clinic_id: int | None) -> str | None:
        if self.role not in PERMISSIONS.get(action, frozenset()):
            return f"role {self.role} may not {action.replace('_', ' ')}"
        if clinic_id is not None and self.clinic_id is not None and clinic_id != self.clinic_id:
            return f"user {self.username} has no access to clinic {clinic_id}"
        return None


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)


@dataclass(eq=False)
class StaffUser:
    username: str
    role: Role
    password_hash: str
    clinic_id: int | None = None
    is_active: bool = True
    created_at: datetime | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if not _USERNAME.match(self.username):
            raise ValidationError(
                "username must be 3-40 characters: lower-case letters, digits, . _ -,"
                " starting with a letter"
            )

    def as_actor(self) -> Actor:
        return Actor(
            user_id=self.user_id, username=self.username, role=self.role, clinic_id=self.clinic_id
        )


def check_password_strength(password: str) -> None:
    if len(password) < 12:
        raise ValidationError("password must have at least 12 characters")
    if password.strip() != password:
        raise ValidationError("password must not start or end with whitespace")
