"""Storage of requests and suggestions (plain SQL on the two tables)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from core_app.adapters import orm
from core_app.adapters.db import plain_rows
from core_app.domain.request import RequestStatus, SlotSuggestion, SuggestionStatus

ACTIVE = ("booked", "confirmed", "checked_in", "completed")


def add_request(connection: Connection, values: dict[str, Any]) -> int:
    result = connection.execute(insert(orm.requests).values(**values))
    return _new_id(result.inserted_primary_key)


def _new_id(key: Any) -> int:
    if key is None:  # pragma: no cover - every insert here has an integer primary key
        raise RuntimeError("the database returned no primary key")
    return int(key[0])


def add_requests(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(orm.requests), list(rows))


def patient_clinics(connection: Connection, patient_ids: Sequence[int]) -> dict[int, int]:
    """Clinic of each stored patient among `patient_ids`."""
    t = orm.patients.c
    found: dict[int, int] = {}
    for lo in range(0, len(patient_ids), 500):
        query = select(t.patient_id, t.clinic_id).where(
            t.patient_id.in_(patient_ids[lo : lo + 500])
        )
        found.update({p: c for p, c in plain_rows(connection.execute(query))})
    return found


def get_request(connection: Connection, request_id: int) -> dict[str, Any] | None:
    row = connection.execute(
        select(orm.requests).where(orm.requests.c.request_id == request_id)
    ).first()
    return dict(row._mapping) if row else None


def list_requests(
    connection: Connection,
    clinic_id: int,
    status: RequestStatus | None,
    *,
    most_urgent_first: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """A clinic's requests, oldest first (or most urgent, then earliest window, first), at most
    `limit` of them."""
    t = orm.requests.c
    urgent_first = (t.urgency.desc(), t.earliest_date, t.request_id)
    order = urgent_first if most_urgent_first else (t.request_id,)
    query = select(orm.requests).where(t.clinic_id == clinic_id).order_by(*order)
    if status is not None:
        query = query.where(t.status == status)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]


def count_requests(connection: Connection, clinic_id: int, status: RequestStatus | None) -> int:
    t = orm.requests.c
    query = select(func.count()).select_from(orm.requests).where(t.clinic_id == clinic_id)
    if status is not None:
        query = query.where(t.status == status)
    return int(connection.execute(query).scalar_one())


def set_request_status(
    connection: Connection,
    request_id: int,
    status: RequestStatus,
    now: datetime,
    appointment_id: int | None = None,
) -> None:
    connection.execute(
        update(orm.requests)
        .where(orm.requests.c.request_id == request_id)
        .values(status=status, appointment_id=appointment_id, updated_at=now)
    )


def replace_pending(
    connection: Connection,
    suggestions: Sequence[SlotSuggestion],
    clinic_of: dict[int, int],
    now: datetime,
) -> list[int]:
    """Earlier pending suggestions of the same requests expire; the new ones are stored."""
    t = orm.suggestions.c
    request_ids = sorted({s.request_id for s in suggestions})
    for lo in range(0, len(request_ids), 500):
        connection.execute(
            update(orm.suggestions)
            .where(
                t.request_id.in_(request_ids[lo : lo + 500]),
                t.status == SuggestionStatus.PENDING,
            )
            .values(status=SuggestionStatus.EXPIRED, decided_at=now, updated_at=now)
        )
    ids = []
    for s in suggestions:
        result = connection.execute(
            insert(orm.suggestions).values(
                request_id=s.request_id,
                clinic_id=clinic_of[s.request_id],
                provider_id=s.provider_id,
                chair_id=s.chair_id,
                start_at=s.start_at,
                end_at=s.end_at,
                overbook_of_appointment_id=s.overbook_of_appointment_id,
                score=s.score,
                reasons=json.dumps(list(s.reasons)),
                plan_ref=s.plan_ref,
                status=SuggestionStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
        )
        ids.append(_new_id(result.inserted_primary_key))
    return ids


def get_suggestion(connection: Connection, suggestion_id: int) -> dict[str, Any] | None:
    row = connection.execute(
        select(orm.suggestions).where(orm.suggestions.c.suggestion_id == suggestion_id)
    ).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["reasons"] = tuple(json.loads(found["reasons"]))
    return found


def list_suggestions(
    connection: Connection, clinic_id: int, status: SuggestionStatus | None
) -> list[dict[str, Any]]:
    t = orm.suggestions.c
    query = select(orm.suggestions).where(t.clinic_id == clinic_id)
    if status is not None:
        query = query.where(t.status == status)
    rows = []
    for row in connection.execute(query.order_by(t.start_at, t.suggestion_id)):
        found = dict(row._mapping)
        found["reasons"] = tuple(json.loads(found["reasons"]))
        rows.append(found)
    return rows


def decide(
    connection: Connection,
    suggestion_id: int,
    status: SuggestionStatus,
    now: datetime,
    *,
    user_id: int | None = None,
    reason: str | None = None,
    appointment_id: int | None = None,
) -> None:
    connection.execute(
        update(orm.suggestions)
        .where(orm.suggestions.c.suggestion_id == suggestion_id)
        .values(
            status=status,
            decided_at=now,
            decided_by_user_id=user_id,
            reject_reason=reason,
            appointment_id=appointment_id,
            updated_at=now,
        )
    )


def stale_pending(connection: Connection, clinic_id: int, now: datetime) -> list[int]:
    """Pending suggestions of a clinic whose slot has started, or whose provider or chair an
    active appointment now holds (other than the one a suggestion deliberately overbooks), or
    whose request is no longer open."""
    s, a, r = orm.suggestions.c, orm.appointments.c, orm.requests.c
    taken = (
        select(a.appointment_id)
        .where(
            a.status.in_(ACTIVE),
            a.start_at < s.end_at,
            a.end_at > s.start_at,
            or_(a.provider_id == s.provider_id, a.chair_id == s.chair_id),
            or_(
                s.overbook_of_appointment_id.is_(None),
                a.appointment_id != s.overbook_of_appointment_id,
            ),
        )
        .exists()
    )
    closed = (
        select(r.request_id)
        .where(r.request_id == s.request_id, r.status != RequestStatus.OPEN)
        .exists()
    )
    query = select(s.suggestion_id).where(
        and_(s.clinic_id == clinic_id, s.status == SuggestionStatus.PENDING),
        or_(s.start_at <= now, taken, closed),
    )
    found: list[int] = list(connection.execute(query).scalars())
    return found


def expire(connection: Connection, suggestion_ids: Sequence[int], now: datetime) -> None:
    for lo in range(0, len(suggestion_ids), 500):
        connection.execute(
            update(orm.suggestions)
            .where(orm.suggestions.c.suggestion_id.in_(suggestion_ids[lo : lo + 500]))
            .values(status=SuggestionStatus.EXPIRED, decided_at=now, updated_at=now)
        )
