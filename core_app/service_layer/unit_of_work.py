"""The unit of work: one session, its repositories and the clock; rolls back unless committed.

Entering a unit of work that is already open joins its transaction: the inner block's commit
is left to the outermost one, so a request can run several use cases (scoping check, use case,
read-back) as one transaction. A read-only unit of work (`read_only`, set by `run_use_case`)
reads in a transaction that takes no write lock (SQLite: a deferred BEGIN under the write-ahead
log; PostgreSQL: without the audit-chain lock); its audit entries and other small writes
(`write`) are kept until `commit`, which ends the read and writes them in one short writing
transaction of their own. The result of a read is returned only after that commit, so no read
of patient data goes unaudited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from core_app.adapters import repositories as repos
from core_app.adapters.db import READ_ONLY, lock_the_audit_chain
from core_app.domain.audit import AuditEntry, Outcome
from core_app.domain.exceptions import PermissionDenied
from core_app.domain.staff import Actor

T = TypeVar("T")
Clock = Callable[[], datetime]
Write = Callable[[Connection], None]


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
        #: the next (outermost) transaction only reads; see the module's docstring
        self.read_only = False
        #: the innermost use case that refused, for the outermost one's audit entry
        self.refusal: tuple[str, str, int | None] | None = None
        self._depth = 0
        self._held_audit: list[AuditEntry] = []
        self._held_writes: list[Write] = []
        self._on_commit: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        """Inside an open transaction (a nested `with` joins it)."""
        return self._depth > 0

    def __enter__(self) -> UnitOfWork:
        self._depth += 1
        if self._depth > 1:
            return self
        self.refusal = None
        self.session = self.session_factory()
        s = self.session
        if self.read_only:
            s.connection(execution_options={READ_ONLY: True})  # type: ignore[misc]  # begins without the write lock
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
        self._depth -= 1
        if self._depth > 0:
            return  # joined: the outermost block ends the transaction
        self._held_audit.clear()
        self._held_writes.clear()
        self._on_commit.clear()
        self.read_only = False
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
        if self._depth > 1:
            return  # joined: the outermost block commits
        if self.read_only:
            self._commit_read()
        else:
            if self._held_audit:  # all of the transaction's entries in one statement
                self.audit_log.append(self._held_audit)
            self.session.commit()
            self._held_audit.clear()
        done, self._on_commit = self._on_commit, []
        for call in done:
            call()

    def _commit_read(self) -> None:
        s = self.session
        if s.new or s.dirty or s.deleted:
            raise RuntimeError("a read-only unit of work changed records")
        s.commit()  # ends the read; it wrote nothing
        self._write_held()

    def _write_held(self) -> None:
        """The held writes and audit entries of a read, in one writing transaction of their
        own, on a plain connection (an ORM session cost 52-73 us more per use)."""
        if not (self._held_audit or self._held_writes):
            return
        with self._engine.connect() as connection, connection.begin():  # BEGIN IMMEDIATE
            lock_the_audit_chain(connection)
            for write in self._held_writes:
                write(connection)
            repos.AuditRepository(connection).append(self._held_audit)
        self._held_audit.clear()
        self._held_writes.clear()

    def read_plain(self, work: Callable[[Connection], T]) -> T:
        """`work` in a read-only transaction on a plain connection, without an ORM session or
        repositories (for a short read made on every request, such as the session check);
        the small writes and audit entries it holds (`write`, `audit`) are written after it,
        as in a read-only unit of work. Not inside an open unit of work."""
        if self.active:
            raise RuntimeError("read_plain runs on its own, not inside an open unit of work")
        self.read_only = True
        try:
            with self._engine.connect() as connection:
                connection.execution_options(**{READ_ONLY: True})
                with connection.begin():  # a deferred BEGIN: no write lock
                    result = work(connection)
                self._write_held()
            return result
        finally:
            self._held_audit.clear()
            self._held_writes.clear()
            self.read_only = False

    @property
    def _engine(self) -> Engine:
        bind: Engine = self.session_factory.kw["bind"]
        return bind

    def on_commit(self, call: Callable[[], None]) -> None:
        """Run `call` once this unit of work's transaction has committed (not on rollback)."""
        self._on_commit.append(call)

    def write(self, change: Write) -> None:
        """A small write on this transaction's connection; in a read-only unit of work it is
        kept and done with the audit entries when the read commits."""
        if self.read_only:
            self._held_writes.append(change)
        else:
            change(self.session.connection())

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
        """One audit entry per record touched, appended to the chain as this transaction
        commits, all of its entries in one statement (chained: see `AuditRepository.append`;
        a read-only unit of work writes them after its read). Work done under a break-glass
        grant is marked loudly, and refused once the grant has expired."""
        ids = entity_ids if isinstance(entity_ids, list) else [entity_ids]
        occurred_at = self.now()
        if actor.grant is not None:
            if outcome == Outcome.SUCCESS and actor.grant.expires_at <= occurred_at:
                raise PermissionDenied(
                    f"break-glass grant {actor.grant.grant_id} expired at "
                    f"{actor.grant.expires_at:%Y-%m-%d %H:%M} UTC"
                )
            detail = actor.grant.marker + (f" {detail}" if detail else "")
        entries = [
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
        self._held_audit.extend(entries)  # appended when the transaction commits
