"""Which clinic(s) a record belongs to, by primary key, in plain SQL (one small statement): the
object-level scoping check of every API request."""

from __future__ import annotations

from sqlalchemy import Connection, Table, select

from core_app.adapters import orm

#: entities whose rows carry their clinic
_OWNED: dict[str, tuple[Table, str]] = {
    "chair": (orm.chairs, "chair_id"),
    "patient": (orm.patients, "patient_id"),
    "appointment": (orm.appointments, "appointment_id"),
    "payment": (orm.payments, "payment_id"),
    "clinic": (orm.clinics, "clinic_id"),
}


def clinics_of(connection: Connection, entity: str, entity_id: int) -> set[int] | None:
    """The clinic(s) of a clinic, chair, patient, appointment, payment or provider (the clinics
    it works at); None if it does not exist."""
    if entity == "provider":
        p = orm.providers.c
        h = orm.provider_working_hours.c
        rows = connection.execute(
            select(p.provider_id, h.clinic_id)
            .outerjoin_from(
                orm.providers, orm.provider_working_hours, h.provider_id == p.provider_id
            )
            .where(p.provider_id == entity_id)
        ).all()
        return None if not rows else {int(r[1]) for r in rows if r[1] is not None}
    if entity not in _OWNED:
        raise ValueError(f"unknown entity {entity!r}")
    table, key = _OWNED[entity]
    found = connection.execute(select(table.c.clinic_id).where(table.c[key] == entity_id)).scalar()
    return None if found is None else {int(found)}
