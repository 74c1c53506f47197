"""Which clinic(s) a record belongs to, by primary key, in plain SQL (one small statement): the
object-level scoping check of every API request.

A clinic, chair, patient, appointment or payment never changes clinic and is never deleted,
so the answer for them can be kept per process once its transaction has committed
(`remember`); a provider's clinics follow its working hours, which change, so they are read
every time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

from core_app.adapters import orm
from core_app.adapters.db import engine_cache

#: entities whose rows carry their clinic: the statement that reads it (built once)
_OWNED: dict[str, Select[Any]] = {
    entity: select(table.c.clinic_id).where(table.c[key] == bindparam("entity_id"))
    for entity, table, key in (
        ("chair", orm.chairs, "chair_id"),
        ("patient", orm.patients, "patient_id"),
        ("appointment", orm.appointments, "appointment_id"),
        ("payment", orm.payments, "payment_id"),
        ("clinic", orm.clinics, "clinic_id"),
    )
}
_P = orm.providers.c
_H = orm.provider_working_hours.c
_PROVIDER = (
    select(_P.provider_id, _H.clinic_id)
    .outerjoin_from(orm.providers, orm.provider_working_hours, _H.provider_id == _P.provider_id)
    .where(_P.provider_id == bindparam("entity_id"))
)

#: size at which the per-database cache of (entity, id) -> clinic is cleared
_KNOWN_MAX = 200_000


def clinics_of(connection: Connection, entity: str, entity_id: int) -> tuple[set[int] | None, bool]:
    """The clinic(s) of a clinic, chair, patient, appointment, payment or provider (the clinics
    it works at), None if it does not exist; and whether the answer may be remembered (after
    the transaction that read it commits: a row it created itself could still roll back)."""
    if entity == "provider":
        rows = connection.execute(_PROVIDER, {"entity_id": entity_id}).all()
        return (None if not rows else {int(r[1]) for r in rows if r[1] is not None}), False
    if entity not in _OWNED:
        raise ValueError(f"unknown entity {entity!r}")
    known = engine_cache(connection, "clinic_of").get((entity, entity_id))
    if known is not None:
        return {known}, False
    found = connection.execute(_OWNED[entity], {"entity_id": entity_id}).scalar()
    if found is None:
        return None, False
    return {int(found)}, True


def remember(connection: Connection, entity: str, entity_id: int, clinic_id: int) -> None:
    """Keep a committed record's clinic for this process (see the module's docstring)."""
    known = engine_cache(connection, "clinic_of")
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known[(entity, entity_id)] = clinic_id
