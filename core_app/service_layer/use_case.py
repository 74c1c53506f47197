"""Running a use case: one transaction, retried on transient conflicts, audited either way."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from core_app.adapters.db import is_retryable
from core_app.domain.audit import Outcome
from core_app.domain.exceptions import DomainError, NotFound, PermissionDenied, ValidationError
from core_app.domain.idempotency import IdempotencyRecord, fingerprint, require_key
from core_app.domain.staff import Actor
from core_app.service_layer.unit_of_work import UnitOfWork

R = TypeVar("R")
T = TypeVar("T")

_jitter = random.Random(0)  # noqa: S311 - spreads retry backoff; not a secret


class TransientConflict(DomainError):
    code = "busy"


def run_use_case(
    uow: UnitOfWork,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: int | None,
    work: Callable[[UnitOfWork], R],
    read_only: bool = False,
) -> R:
    """Run `work` in a transaction and commit; on a domain error, audit the refusal and re-raise.

    A serialization failure, lock timeout or a constraint that a concurrent twin tripped is
    retried from the start, so the rules run again against what the other transaction wrote.
    `read_only`: `work` only reads (and audits), so it needs no write lock while it reads (see
    `UnitOfWork`). Called inside an open unit of work, the use case joins that transaction:
    the outermost use case commits, retries and audits a refusal under the name of the
    innermost use case that refused.
    """
    if uow.active:
        if uow.read_only and not read_only:
            raise RuntimeError(f"{action} writes: it cannot join a read-only unit of work")
        try:
            return work(uow)
        except DomainError:
            if uow.refusal is None:
                uow.refusal = (action, entity_type, entity_id)
            raise
    for attempt in range(uow.retries + 1):
        refused = (action, entity_type, entity_id)
        try:
            uow.read_only = read_only
            with uow:
                try:
                    result = work(uow)
                except DomainError:
                    refused = uow.refusal or refused
                    raise
                uow.commit()
                return result
        except DomainError as error:
            _audit_refusal(uow, actor, *refused, error)
            raise
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + _jitter.random()))
    busy = TransientConflict(f"{action} kept colliding with concurrent changes; try again")
    _audit_refusal(uow, actor, action, entity_type, entity_id, busy)
    raise busy


def _audit_refusal(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    error: DomainError,
) -> None:
    outcome = Outcome.DENIED if isinstance(error, PermissionDenied) else Outcome.REJECTED
    audit_alone(uow, actor, action, entity_type, entity_id, outcome=outcome, detail=error.code)


def audit_alone(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    *,
    outcome: Outcome,
    detail: str | None,
) -> None:
    """One audit entry in a transaction of its own, retried like a use case when a concurrent
    append took the same place in the chain (PostgreSQL)."""
    for attempt in range(uow.retries + 1):
        try:
            with uow:
                uow.audit(actor, action, entity_type, entity_id, outcome=outcome, detail=detail)
                uow.commit()
                return
        except DBAPIError as error:
            if not is_retryable(error) or attempt == uow.retries:
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + _jitter.random()))


def idempotent(
    uow: UnitOfWork,
    *,
    key: str | None,
    command: str,
    content: dict[str, object],
    create: Callable[[], int],
) -> int:
    """Create once per key: the same key and content returns the first result."""
    if key is None:
        return create()
    require_key(key)
    digest = fingerprint(command, content)
    record = uow.idempotency.by_key(key)
    if record is not None:
        return record.replay(command=command, content_fingerprint=digest)
    result = create()
    uow.idempotency.add(
        IdempotencyRecord(
            key=key, command=command, fingerprint=digest, result_id=result, created_at=uow.now()
        )
    )
    return result


def require(entity: T | None, name: str, entity_id: int) -> T:
    if entity is None:
        raise NotFound(name, entity_id)
    return entity


def require_id(value: int | None) -> int:
    if value is None:
        raise ValidationError("the record has not been saved")
    return value
