"""API sign-in: password (argon2id) plus a TOTP code, opaque session tokens, sign-out, and the
lock after repeated failures. Tokens are 32 random bytes; only their sha256 is stored.

TOTP is required for admins and managers, and for anyone who has enrolled; a code's 30-second
step is accepted once. The TOTP secret is stored encrypted (the key ring of `crypto.py`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import Connection

from core_app.adapters import auth_store
from core_app.domain.audit import Outcome
from core_app.domain.exceptions import AuthenticationFailed, DomainError, ValidationError
from core_app.domain.staff import Action, Actor, Role
from core_app.service_layer import users
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

#: roles that must give a TOTP code whether or not they enrolled
TOTP_REQUIRED = frozenset({Role.ADMIN, Role.MANAGER})
ISSUER = "dentops"
_STEP_S = 30


class AccountLocked(DomainError):
    """Too many failed sign-ins: the username is locked for a while (whoever is asking)."""

    code = "account_locked"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class SecondFactorRequired(AuthenticationFailed):
    code = "totp_required"


class EnrolmentRequired(AuthenticationFailed):
    code = "totp_enrolment_required"


class SessionInvalid(AuthenticationFailed):
    code = "session_invalid"


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout_s: int = 1800
    max_lifetime_s: int = 12 * 3600
    max_failures: int = 5
    failure_window_s: int = 900
    lockout_s: int = 900


@dataclass(frozen=True)
class IssuedSession:
    token: str  # shown once, to the client that signed in
    actor: Actor
    expires_at: datetime
    idle_timeout_s: int


@dataclass(frozen=True)
class Enrolment:
    secret: str
    provisioning_uri: str


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise AuthenticationFailed("the system has no session")
    return actor.user_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _locked_for(uow: UnitOfWork, username: str, policy: SessionPolicy) -> int:
    """Seconds the username stays locked (0: not locked)."""
    now = uow.now()
    failures = auth_store.failures_since(
        uow.session.connection(), username, now - timedelta(seconds=policy.failure_window_s)
    )
    if len(failures) < policy.max_failures:
        return 0
    until = failures[-1] + timedelta(seconds=policy.lockout_s)
    return max(0, int((until - now).total_seconds()) + 1) if until > now else 0


def _fail(uow: UnitOfWork, who: Actor, username: str, policy: SessionPolicy, code: str) -> None:
    """Count a failed attempt; the one that reaches the limit locks the username (audited)."""
    with uow:
        auth_store.add_attempt(
            uow.session.connection(), username=username, now=uow.now(), success=False
        )
        uow.audit(
            who, "user.sign_in", "staff_user", who.user_id, outcome=Outcome.DENIED, detail=code
        )
        if _locked_for(uow, username, policy):
            uow.audit(
                who,
                "user.lock",
                "staff_user",
                who.user_id,
                outcome=Outcome.DENIED,
                detail=f"{policy.max_failures} failures; {policy.lockout_s} s",
            )
        uow.commit()


def _check_code(uow: UnitOfWork, user_id: int, secret: str, code: str) -> bool:
    """A code of the current step or its neighbours, each step accepted once."""
    now = uow.now()
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=offset * _STEP_S)
        if secrets.compare_digest(totp.at(moment), code.strip()):
            step = int(moment.timestamp()) // _STEP_S
            return auth_store.use_totp_step(
                uow.session.connection(), user_id=user_id, step=step, now=now
            )
    return False


def sign_in(
    uow: UnitOfWork,
    policy: SessionPolicy,
    *,
    username: str,
    password: str,
    totp_code: str | None = None,
) -> IssuedSession:
    name = username.strip().lower()[:40]
    anonymous = Actor(None, name or "-", Role.PROVIDER)
    with uow:
        locked = _locked_for(uow, name, policy)
        if locked:
            uow.audit(
                anonymous,
                "user.sign_in",
                "staff_user",
                None,
                outcome=Outcome.DENIED,
                detail="locked",
            )
            uow.commit()
    if locked:
        raise AccountLocked(locked)
    try:
        actor = users.authenticate(uow, username=name, password=password)  # audits either way
    except AuthenticationFailed:
        _fail(uow, anonymous, name, policy, "password")
        raise
    user_id = _user_id(actor)
    with uow:
        stored = auth_store.totp_for(uow.session.connection(), user_id)
    needs_code = actor.role in TOTP_REQUIRED or (stored is not None and stored.confirmed_at)
    if needs_code and stored is None:
        raise EnrolmentRequired(
            f"role {actor.role} needs a TOTP second factor: ask an admin to run "
            "`dentops user totp-enrol`"
        )
    if needs_code or (stored is not None and totp_code):
        if not totp_code:
            raise SecondFactorRequired("give the 6-digit code of your authenticator app")
        with uow:
            ok = stored is not None and _check_code(uow, user_id, stored.secret, totp_code)
            uow.commit()
        if not ok:
            _fail(uow, actor, name, policy, "totp")
            raise AuthenticationFailed("wrong or already used TOTP code")
    token = secrets.token_urlsafe(32)
    with uow:
        now = uow.now()
        expires_at = now + timedelta(seconds=policy.max_lifetime_s)
        connection = uow.session.connection()
        auth_store.add_attempt(connection, username=name, now=now, success=True)
        session_id = auth_store.add_session(
            connection,
            token_hash=token_hash(token),
            user_id=user_id,
            now=now,
            expires_at=expires_at,
        )
        uow.audit(actor, "session.open", "api_session", session_id)
        uow.commit()
    return IssuedSession(token, actor, expires_at, policy.idle_timeout_s)


def actor_for_token(uow: UnitOfWork, policy: SessionPolicy, token: str) -> Actor:
    """The signed-in user behind a session token; refused when unknown, revoked or expired.
    One query, in the caller's unit of work if one is open, else in a read-only transaction on
    a plain connection (no write lock, no ORM session: it runs on every request). The last
    use is written at most once a minute (a write per request would queue every reader behind
    SQLite's one writer)."""
    if uow.active:
        return _actor_in(uow, uow.session.connection(), policy, token)
    return uow.read_plain(lambda connection: _actor_in(uow, connection, policy, token))


def _actor_in(uow: UnitOfWork, connection: Connection, policy: SessionPolicy, token: str) -> Actor:
    found = auth_store.session_with_user(connection, token_hash(token))
    now = uow.now()
    if found is None:
        raise SessionInvalid("sign in again: the session is unknown, revoked or expired")
    stored = found.session
    if (
        stored.revoked_at is not None
        or now >= stored.expires_at
        or now >= stored.last_seen_at + timedelta(seconds=policy.idle_timeout_s)
    ):
        raise SessionInvalid("sign in again: the session is unknown, revoked or expired")
    if not found.is_active:
        raise SessionInvalid("sign in again: the user is no longer active")
    if now - stored.last_seen_at >= timedelta(seconds=min(60, policy.idle_timeout_s // 10)):
        session_id = stored.session_id
        uow.write(lambda connection: auth_store.touch_session(connection, session_id, now))
    return Actor(
        user_id=stored.user_id, username=found.username, role=found.role, clinic_id=found.clinic_id
    )


def sign_out(uow: UnitOfWork, actor: Actor, token: str) -> None:
    def work(uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        found = auth_store.session_by_hash(connection, token_hash(token))
        if found is None or found.user_id != actor.user_id:
            raise SessionInvalid("no such session")
        auth_store.revoke_session(connection, found.session_id, uow.now())
        uow.audit(actor, "session.close", "api_session", found.session_id)

    run_use_case(
        uow, actor, action="session.close", entity_type="api_session", entity_id=None, work=work
    )


def enrol_totp(uow: UnitOfWork, actor: Actor, *, username: str, replace: bool = False) -> Enrolment:
    """A new TOTP secret for `username` (themselves, or anyone for a user manager). A confirmed
    secret is replaced only with `replace` by a user manager (a lost phone)."""

    def work(uow: UnitOfWork) -> Enrolment:
        user = uow.users.by_username(username)
        if user is None or user.user_id is None:
            raise ValidationError(f"no staff user {username!r}")
        if user.user_id != actor.user_id:
            actor.require(Action.MANAGE_USERS, clinic_id=user.clinic_id)
        connection = uow.session.connection()
        existing = auth_store.totp_for(connection, user.user_id)
        if existing is not None and existing.confirmed_at is not None:
            if not replace:
                raise ValidationError("a confirmed TOTP secret exists; an admin can replace it")
            actor.require(Action.MANAGE_USERS, clinic_id=user.clinic_id)
        secret = pyotp.random_base32()
        auth_store.save_totp(connection, user_id=user.user_id, secret=secret, now=uow.now())
        uow.audit(actor, "user.totp_enrol", "staff_user", user.user_id)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
        return Enrolment(secret, uri)

    return run_use_case(
        uow, actor, action="user.totp_enrol", entity_type="staff_user", entity_id=None, work=work
    )


def confirm_totp(uow: UnitOfWork, actor: Actor, code: str) -> None:
    """The first correct code confirms the secret: from then on every sign-in needs a code."""

    def work(uow: UnitOfWork) -> None:
        user_id = _user_id(actor)
        stored = auth_store.totp_for(uow.session.connection(), user_id)
        if stored is None:
            raise ValidationError("enrol first: no TOTP secret for this user")
        if not _check_code(uow, user_id, stored.secret, code):
            raise ValidationError("wrong or already used TOTP code")
        uow.audit(actor, "user.totp_confirm", "staff_user", user_id)

    run_use_case(
        uow, actor, action="user.totp_confirm", entity_type="staff_user", entity_id=None, work=work
    )
