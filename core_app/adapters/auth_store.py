"""Storage of API sessions, TOTP secrets, sign-in attempts and card processor events (plain SQL
on the tables of migration 0006). Session tokens are never stored, only their sha256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from core_app.adapters import orm


@dataclass(frozen=True)
class StoredSession:
    session_id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredTotp:
    user_id: int
    secret: str
    confirmed_at: datetime | None
    last_used_step: int | None


def add_session(
    connection: Connection, *, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> int:
    result = connection.execute(
        insert(orm.api_sessions).values(
            token_hash=token_hash,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - the table has an integer primary key
        raise RuntimeError("the database returned no primary key")
    return int(key[0])


def session_by_hash(connection: Connection, token_hash: str) -> StoredSession | None:
    t = orm.api_sessions.c
    row = connection.execute(
        select(
            t.session_id, t.user_id, t.created_at, t.last_seen_at, t.expires_at, t.revoked_at
        ).where(t.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    values: tuple[Any, ...] = tuple(row)
    return StoredSession(*values)


@dataclass(frozen=True)
class SessionHolder:
    """A session with its user: what the check of every API request needs, in one query."""

    session: StoredSession
    username: str
    role: Any  # core_app.domain.staff.Role
    clinic_id: int | None
    is_active: bool


_S = orm.api_sessions.c
_U = orm.staff_users.c
_SESSION_WITH_USER = (
    select(
        _S.session_id,
        _S.user_id,
        _S.created_at,
        _S.last_seen_at,
        _S.expires_at,
        _S.revoked_at,
        _U.username,
        _U.role,
        _U.clinic_id,
        _U.is_active,
    )
    .join_from(orm.api_sessions, orm.staff_users, _U.user_id == _S.user_id)
    .where(_S.token_hash == bindparam("token_hash"))
)


def session_with_user(connection: Connection, token_hash: str) -> SessionHolder | None:
    row = connection.execute(_SESSION_WITH_USER, {"token_hash": token_hash}).first()
    if row is None:
        return None
    values: tuple[Any, ...] = tuple(row)
    return SessionHolder(StoredSession(*values[:6]), *values[6:])


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    t = orm.api_sessions.c
    connection.execute(
        update(orm.api_sessions).where(t.session_id == session_id).values(last_seen_at=now)
    )


def revoke_session(connection: Connection, session_id: int, now: datetime) -> None:
    t = orm.api_sessions.c
    connection.execute(
        update(orm.api_sessions)
        .where(and_(t.session_id == session_id, t.revoked_at.is_(None)))
        .values(revoked_at=now)
    )


def totp_for(connection: Connection, user_id: int) -> StoredTotp | None:
    t = orm.totp_secrets.c
    row = connection.execute(
        select(t.user_id, t.secret, t.confirmed_at, t.last_used_step).where(t.user_id == user_id)
    ).first()
    if row is None:
        return None
    values: tuple[Any, ...] = tuple(row)
    return StoredTotp(*values)


def save_totp(connection: Connection, *, user_id: int, secret: str, now: datetime) -> None:
    """A new (unconfirmed) secret, replacing any earlier one."""
    connection.execute(delete(orm.totp_secrets).where(orm.totp_secrets.c.user_id == user_id))
    connection.execute(
        insert(orm.totp_secrets).values(user_id=user_id, secret=secret, created_at=now)
    )


def use_totp_step(connection: Connection, *, user_id: int, step: int, now: datetime) -> bool:
    """Mark the code's step used; False if it (or a later one) was used already (a replay)."""
    t = orm.totp_secrets.c
    result = connection.execute(
        update(orm.totp_secrets)
        .where(and_(t.user_id == user_id, (t.last_used_step.is_(None)) | (t.last_used_step < step)))
        .values(last_used_step=step, confirmed_at=func.coalesce(t.confirmed_at, now))
    )
    return result.rowcount == 1


def add_attempt(connection: Connection, *, username: str, now: datetime, success: bool) -> None:
    connection.execute(
        insert(orm.sign_in_attempts).values(username=username, occurred_at=now, is_success=success)
    )


def failures_since(connection: Connection, username: str, since: datetime) -> list[datetime]:
    """Failed attempts after `since` and after the username's last success, oldest first."""
    t = orm.sign_in_attempts.c
    last_success = connection.execute(
        select(func.max(t.occurred_at)).where(and_(t.username == username, t.is_success.is_(True)))
    ).scalar()
    floor = since if last_success is None else max(since, _aware(last_success))
    rows: list[Any] = list(
        connection.execute(
            select(t.occurred_at)
            .where(and_(t.username == username, t.is_success.is_(False), t.occurred_at > floor))
            .order_by(t.occurred_at)
        ).scalars()
    )
    return [_aware(value) for value in rows]


def _aware(value: datetime) -> datetime:
    # func.max() bypasses the column type on SQLite: give the naive UTC value its zone back
    if isinstance(value, str):  # SQLite returns text for an aggregate of a DATETIME column
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def event_seen(connection: Connection, event_id: str) -> bool:
    t = orm.processor_events.c
    return connection.execute(select(t.event_id).where(t.event_id == event_id)).first() is not None


def add_event(
    connection: Connection,
    *,
    event_id: str,
    processor: str,
    event_type: str,
    now: datetime,
    payment_id: int | None,
) -> None:
    connection.execute(
        insert(orm.processor_events).values(
            event_id=event_id,
            processor=processor,
            event_type=event_type,
            received_at=now,
            payment_id=payment_id,
        )
    )
