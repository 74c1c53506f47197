"""Repositories: load and add domain objects; queries stay in SQL, rules stay in the domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session, lazyload

from core_app.adapters import orm
from core_app.adapters.crypto import installed_keyring
from core_app.adapters.db import plain_rows
from core_app.domain.appointment import ACTIVE_STATUSES, MAX_APPOINTMENT, Appointment
from core_app.domain.audit import GENESIS, AuditEntry, seal
from core_app.domain.billing import Charge, Payment
from core_app.domain.idempotency import IdempotencyRecord
from core_app.domain.patient import Patient
from core_app.domain.practice import Chair, Clinic, Procedure, Provider
from core_app.domain.staff import StaffUser

T = TypeVar("T")


class Repository(Generic[T]):
    """Add and get by primary key; subclasses add the lookups their use cases need."""

    entity: type[T]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: T) -> T:
        self.session.add(obj)
        self.session.flush()  # assigns the id now, and surfaces constraint errors here
        return obj

    def get(self, entity_id: int, *, for_update: bool = False) -> T | None:
        return self.session.get(self.entity, entity_id, with_for_update=for_update)


class ClinicRepository(Repository[Clinic]):
    entity = Clinic

    def by_name(self, name: str) -> Clinic | None:
        return self.session.scalars(select(Clinic).where(orm.clinics.c.name == name)).first()

    def list(self) -> Sequence[Clinic]:
        return self.session.scalars(select(Clinic).order_by(orm.clinics.c.clinic_id)).all()


class ProviderRepository(Repository[Provider]):
    entity = Provider

    def list(self) -> Sequence[Provider]:
        return self.session.scalars(select(Provider).order_by(orm.providers.c.provider_id)).all()

    def names_at(self, clinic_id: int) -> dict[int, str]:
        """Names of the providers with working hours at the clinic, by id (no objects loaded)."""
        p, hours = orm.providers.c, orm.provider_working_hours.c
        working = select(hours.provider_id).where(hours.clinic_id == clinic_id)
        query = select(p.provider_id, p.name).where(p.provider_id.in_(working))
        rows = plain_rows(self.session.execute(query.order_by(p.provider_id)))
        return {int(i): str(name) for i, name in rows}


class ChairRepository(Repository[Chair]):
    entity = Chair

    def for_clinic(self, clinic_id: int) -> Sequence[Chair]:
        query = (
            select(Chair).where(orm.chairs.c.clinic_id == clinic_id).order_by(orm.chairs.c.chair_id)
        )
        return self.session.scalars(query).all()

    def names_in(self, clinic_id: int) -> dict[int, str]:
        """Names of the clinic's chairs, by id (no objects loaded)."""
        c = orm.chairs.c
        query = select(c.chair_id, c.name).where(c.clinic_id == clinic_id).order_by(c.chair_id)
        return {int(i): str(name) for i, name in plain_rows(self.session.execute(query))}


class ProcedureRepository(Repository[Procedure]):
    entity = Procedure

    def by_codes(self, clinic_id: int, codes: Sequence[str]) -> list[Procedure]:
        query = select(Procedure).where(
            orm.procedures.c.clinic_id == clinic_id, orm.procedures.c.code.in_(codes)
        )
        return list(self.session.scalars(query))

    def for_clinic(self, clinic_id: int) -> Sequence[Procedure]:
        query = (
            select(Procedure)
            .where(orm.procedures.c.clinic_id == clinic_id)
            .order_by(orm.procedures.c.code)
        )
        return self.session.scalars(query).all()


class PatientRepository(Repository[Patient]):
    entity = Patient

    def for_clinic(self, clinic_id: int, *, limit: int, offset: int = 0) -> Sequence[Patient]:
        query = (
            select(Patient)
            .where(orm.patients.c.clinic_id == clinic_id)
            .order_by(orm.patients.c.patient_id)
            .limit(limit)
            .offset(offset)
        )
        return self.session.scalars(query).all()

    def by_ids(self, patient_ids: Sequence[int]) -> dict[int, Patient]:
        if not patient_ids:
            return {}
        query = select(Patient).where(orm.patients.c.patient_id.in_(set(patient_ids)))
        return {p.patient_id: p for p in self.session.scalars(query) if p.patient_id is not None}


class StaffUserRepository(Repository[StaffUser]):
    entity = StaffUser

    def by_username(self, username: str) -> StaffUser | None:
        query = select(StaffUser).where(orm.staff_users.c.username == username)
        return self.session.scalars(query).first()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(orm.staff_users)) or 0


class AppointmentRepository(Repository[Appointment]):
    entity = Appointment

    def overlapping(
        self,
        *,
        start_at: datetime,
        end_at: datetime,
        provider_id: int,
        chair_id: int,
        patient_id: int,
    ) -> Sequence[Appointment]:
        """Active appointments on the provider, chair or patient that overlap [start, end).
        Their procedure lines and events are loaded only if used (the slot rules read neither)."""
        t = orm.appointments.c
        query = (
            select(Appointment)
            .where(
                t.status.in_(ACTIVE_STATUSES),
                t.start_at < end_at,
                t.start_at > start_at - MAX_APPOINTMENT,  # lets the index bound both ends
                t.end_at > start_at,
                or_(
                    t.provider_id == provider_id, t.chair_id == chair_id, t.patient_id == patient_id
                ),
            )
            .options(lazyload("*"))
        )
        return self.session.scalars(query).all()

    def has_active_overbook(self, appointment_id: int) -> bool:
        t = orm.appointments.c
        query = select(t.appointment_id).where(
            t.overbook_of_appointment_id == appointment_id, t.status.in_(ACTIVE_STATUSES)
        )
        return self.session.execute(query.limit(1)).first() is not None

    def in_window(
        self, *, clinic_id: int, start_at: datetime, end_at: datetime
    ) -> Sequence[Appointment]:
        t = orm.appointments.c
        query = (
            select(Appointment)
            .where(
                t.clinic_id == clinic_id,
                t.start_at < end_at,
                t.start_at > start_at - MAX_APPOINTMENT,
                t.end_at > start_at,
            )
            .order_by(t.start_at, t.chair_id)
        )
        return self.session.scalars(query).all()

    def for_patient(self, patient_id: int) -> Sequence[Appointment]:
        t = orm.appointments.c
        query = select(Appointment).where(t.patient_id == patient_id).order_by(t.start_at)
        return self.session.scalars(query).all()


class ChargeRepository(Repository[Charge]):
    entity = Charge

    def for_patient(self, patient_id: int) -> Sequence[Charge]:
        t = orm.charges.c
        query = select(Charge).where(t.patient_id == patient_id).order_by(t.charged_at, t.charge_id)
        return self.session.scalars(query).all()


class PaymentRepository(Repository[Payment]):
    entity = Payment

    def for_patient(self, patient_id: int) -> Sequence[Payment]:
        t = orm.payments.c
        query = select(Payment).where(t.patient_id == patient_id).order_by(t.received_at)
        return self.session.scalars(query).all()


_K = orm.idempotency_keys.c
_KEY = select(_K.key, _K.command, _K.fingerprint, _K.result_id, _K.created_at).where(
    _K.key == bindparam("key")
)
_INSERT_KEY = insert(orm.idempotency_keys)


class IdempotencyRepository:
    """Core statements on the session's connection (the key is read and written on every
    create that carries one; records are never changed, so the session need not track them)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_key(self, key: str) -> IdempotencyRecord | None:
        row = self.session.connection().execute(_KEY, {"key": key}).first()
        if row is None:
            return None
        values: tuple[Any, ...] = tuple(row)
        found_key, command, digest, result_id, created_at = values
        return IdempotencyRecord(found_key, command, digest, result_id, created_at)

    def add(self, record: IdempotencyRecord) -> IdempotencyRecord:
        self.session.connection().execute(
            _INSERT_KEY,
            {
                "key": record.key,
                "command": record.command,
                "fingerprint": record.fingerprint,
                "result_id": record.result_id,
                "created_at": record.created_at,
            },
        )
        return record


_T = orm.audit_entries.c
_CHAIN_END = (
    select(_T.seq, _T.chain_hash).where(_T.seq.is_not(None)).order_by(_T.seq.desc()).limit(1)
)
_INSERT_AUDIT = insert(orm.audit_entries)


class AuditRepository:
    """Append-only: no update, no delete (the database refuses them too). Works in an ORM
    session's transaction or a plain connection's."""

    def __init__(self, session: Session | Connection) -> None:
        self.session = session
        #: the chain's end as this transaction left it: (transaction, seq, hash)
        self._head: tuple[object, int, str] | None = None

    def append(self, entries: Sequence[AuditEntry]) -> None:
        """Chain `entries` onto the last entry and insert them in this transaction (plain
        multi-row insert; the entries are read back from the table, never through the
        session).

        Two writers must not chain onto the same predecessor. SQLite: every writing
        transaction starts with BEGIN IMMEDIATE, so appends are serialised. PostgreSQL: every
        writing unit of work first locks the audit table (`db.serialise_on_the_audit_chain`);
        a writer outside them still fails at the unique `seq` (or with a serialization
        failure). The chain's end is read once per transaction: later appends in the same
        transaction continue from what the previous one wrote."""
        if not entries:
            return
        transaction = self.session.get_transaction()
        if self._head is not None and self._head[0] is transaction:
            seq, previous = self._head[1], self._head[2]
        else:
            last = self.session.execute(_CHAIN_END).first()
            seq, previous = (0, GENESIS) if last is None else (int(last[0]), str(last[1]))
        key = installed_keyring().audit_key
        for entry in entries:
            seq += 1
            previous = seal(entry, key=key, seq=seq, previous_hash=previous)
        self.session.execute(
            _INSERT_AUDIT,
            [
                {
                    "occurred_at": e.occurred_at,
                    "actor_user_id": e.actor_user_id,
                    "actor_username": e.actor_username,
                    "action": e.action,
                    "entity_type": e.entity_type,
                    "entity_id": e.entity_id,
                    "outcome": e.outcome,
                    "detail": e.detail,
                    "seq": e.seq,
                    "chain_hash": e.chain_hash,
                }
                for e in entries
            ],
        )
        self._head = (transaction, seq, previous)

    def recent(self, *, limit: int) -> Sequence[AuditEntry]:
        query = select(AuditEntry).order_by(orm.audit_entries.c.audit_id.desc()).limit(limit)
        return self.session.scalars(query).all()
