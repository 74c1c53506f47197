"""Staff users: adding them, signing in, and turning a username into an actor."""

from __future__ import annotations

from core_app.adapters.passwords import hash_password, verify_password
from core_app.domain.audit import Outcome
from core_app.domain.exceptions import AuthenticationFailed, PermissionDenied, ValidationError
from core_app.domain.staff import SYSTEM, Action, Actor, Role, StaffUser, check_password_strength
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import audit_alone, require, require_id, run_use_case


def add_user(
    uow: UnitOfWork,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    clinic_id: int | None = None,
) -> int:

    def work(uow: UnitOfWork) -> int:
        # the very first user (from `dentops init`) is created by the system itself
        if not (actor is SYSTEM and uow.users.count() == 0):
            actor.require(Action.MANAGE_USERS, clinic_id=clinic_id)
            if clinic_id is None and actor.clinic_id is not None:
                raise PermissionDenied(
                    f"user {actor.username} is limited to clinic {actor.clinic_id}; "
                    "they cannot create users for every clinic"
                )
        check_password_strength(password)
        if uow.users.by_username(username) is not None:
            raise ValidationError(f"user {username!r} exists already")
        if clinic_id is not None:
            require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        user = StaffUser(
            username=username,
            role=role,
            password_hash=hash_password(password),
            clinic_id=clinic_id,
            created_at=uow.now(),
        )
        user_id = require_id(uow.users.add(user).user_id)
        uow.audit(actor, "user.add", "staff_user", user_id, detail=str(role))
        return user_id

    return run_use_case(
        uow, actor, action="user.add", entity_type="staff_user", entity_id=None, work=work
    )


def authenticate(uow: UnitOfWork, *, username: str, password: str) -> Actor:
    """Check a password; the same error for an unknown user and a wrong password."""
    with uow:
        user = uow.users.by_username(username)
        ok = user is not None and user.is_active and verify_password(user.password_hash, password)
        who = user.as_actor() if user is not None else Actor(None, username[:40], Role.PROVIDER)
    outcome = Outcome.SUCCESS if ok else Outcome.DENIED
    audit_alone(uow, who, "user.sign_in", "staff_user", who.user_id, outcome=outcome, detail=None)
    if not ok:
        raise AuthenticationFailed("unknown user or wrong password")
    return who


def actor_for(uow: UnitOfWork, username: str) -> Actor:
    """The actor for an operator's command line (trusted: it holds the key file)."""
    with uow:
        user = uow.users.by_username(username)
        if user is None or not user.is_active:
            raise AuthenticationFailed(f"no active staff user {username!r}")
        return user.as_actor()


def has_users(uow: UnitOfWork) -> bool:
    with uow:
        return uow.users.count() > 0
