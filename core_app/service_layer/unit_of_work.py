"""The unit of work: one session, its repositories and the clock; rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from core_app.adapters import repositories as repos
from core_app.domain.audit import AuditEntry, Outcome
from core_app.domain.exceptions import PermissionDenied
from core_app.domain.staff import Actor

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    session: Session

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock = system_clock,
        retries: int = 8,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.retries = retries

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        s = self.session
        self.clinics = repos.ClinicRepository(s)
        self.providers = repos.ProviderRepository(s)
        self.chairs = repos.ChairRepository(s)
        self.procedures = repos.ProcedureRepository(s)
        self.patients = repos.PatientRepository(s)
        self.users = repos.StaffUserRepository(s)
        self.appointments = repos.AppointmentRepository(s)
        self.charges = repos.ChargeRepository(s)
        self.payments = repos.PaymentRepository(s)
        self.idempotency = repos.IdempotencyRepository(s)
        self.audit_log = repos.AuditRepository(s)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def serialise_on_row_locks(self) -> None:
        """Call first in a use case that takes `SELECT ... FOR UPDATE` before reading what the
        lock guards. On PostgreSQL the transaction then runs READ COMMITTED, so each statement
        after the lock sees what the previous holder committed; under SERIALIZABLE the snapshot
        taken at the locking statement is stale and every waiter fails with a serialization
        error. SQLite serialises all writers anyway (BEGIN IMMEDIATE)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection(execution_options={"isolation_level": "READ COMMITTED"})

    def commit(self) -> None:
        self.session.commit()

    def now(self) -> datetime:
        return self.clock()

    def audit(
        self,
        actor: Actor,
        action: str,
        entity_type: str,
        entity_ids: list[int | None] | int | None,
        *,
        outcome: Outcome = Outcome.SUCCESS,
        detail: str | None = None,
    ) -> None:
        """Append one audit entry per record touched, in this transaction (chained: see
        `AuditRepository.append`). Work done under a break-glass grant is marked loudly, and
        refused once the grant has expired."""
        ids = entity_ids if isinstance(entity_ids, list) else [entity_ids]
        occurred_at = self.now()
        if actor.grant is not None:
            if outcome == Outcome.SUCCESS and actor.grant.expires_at <= occurred_at:
                raise PermissionDenied(
                    f"break-glass grant {actor.grant.grant_id} expired at "
                    f"{actor.grant.expires_at:%Y-%m-%d %H:%M} UTC"
                )
            detail = actor.grant.marker + (f" {detail}" if detail else "")
        self.audit_log.append(
            [
                AuditEntry(
                    occurred_at=occurred_at,
                    actor_user_id=actor.user_id,
                    actor_username=actor.username,
                    action=action,
                    entity_type=entity_type,
                    entity_id=None if entity_id is None else str(entity_id),
                    outcome=outcome,
                    detail=detail,
                )
                for entity_id in ids
            ]
        )
