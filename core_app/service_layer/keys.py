"""Key rotation for the patient-data encryption: `dentops keys rotate | status | retire`.

`rotate` adds a fresh key to the key file (written atomically, mode 0600) and makes it the
active one, then re-encrypts every encrypted column, table by table, in batches of one
transaction each (audited per batch). A batch picks rows with any value not yet under the
active key, so an interrupted run is finished by `rotate --resume`, and a finished one finds
nothing to do. `updated_at` is left alone: the values' plaintext did not change. Processes
started before the rotation hold the old key ring: restart them (they cannot read values
under the new key). `retire` removes a key once no value uses it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import column, or_, select, table, update
from sqlalchemy.sql.expression import TableClause

from core_app.adapters import orm
from core_app.adapters.crypto import KeyRing, install_keyring, load_key_file, replace_key_file
from core_app.adapters.types import EncryptedDate, EncryptedText
from core_app.domain.exceptions import ValidationError
from core_app.domain.staff import Action, Actor
from core_app.service_layer.bootstrap import App
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

BATCH = 500


@dataclass(frozen=True)
class EncryptedColumns:
    table: str
    key: str  # the primary key column
    columns: tuple[str, ...]
    fields: tuple[str, ...]  # the associated data each column's values are bound to


def encrypted_columns() -> list[EncryptedColumns]:
    """Every table with encrypted columns, from the ORM metadata (so new ones are covered)."""
    found = []
    for t in orm.metadata.sorted_tables:
        cols = [c for c in t.columns if isinstance(c.type, EncryptedText | EncryptedDate)]
        if cols:
            pk = next(iter(t.primary_key.columns)).name
            fields = tuple(str(c.type.field) for c in cols)  # type: ignore[attr-defined]
            found.append(EncryptedColumns(t.name, pk, tuple(c.name for c in cols), fields))
    return found


def _raw(spec: EncryptedColumns) -> TableClause:
    """The table without the column types: values as stored (ciphertext)."""
    return table(spec.table, column(spec.key), *(column(c) for c in spec.columns))


@dataclass
class RotationReport:
    active_key_id: str
    previous_key_id: str | None
    rows_reencrypted: dict[str, int] = field(default_factory=dict)
    batches: int = 0


def _authorise(app: App, actor: Actor, action: str) -> None:
    """The permission check as a use case of its own, so that a refusal is audited."""
    run_use_case(
        app.uow(),
        actor,
        action=action,
        entity_type="key",
        entity_id=None,
        work=lambda _: actor.require(Action.MANAGE_KEYS),
    )


def rotate(app: App, actor: Actor, *, resume: bool = False, batch: int = BATCH) -> RotationReport:
    _authorise(app, actor, "keys.rotate")
    previous: str | None = None
    if not resume:
        ring = load_key_file(app.settings.key_file)
        previous = ring.active_key_id
        new_ring = ring.with_new_active_key()

        def record(u: UnitOfWork) -> None:
            actor.require(Action.MANAGE_KEYS)
            # the key file first: no value may exist under a key that is not on disk
            replace_key_file(app.settings.key_file, new_ring)
            u.audit(
                actor,
                "keys.rotate",
                "key",
                None,
                detail=f"new active key {new_ring.active_key_id}; previous {previous}",
            )
            u.commit()

        run_use_case(
            app.uow(), actor, action="keys.rotate", entity_type="key", entity_id=None, work=record
        )
        _use(app, new_ring)
    else:
        _use(app, load_key_file(app.settings.key_file))
    report = RotationReport(active_key_id=app.keyring.active_key_id, previous_key_id=previous)
    for spec in encrypted_columns():
        report.rows_reencrypted[spec.table] = 0
        after: object = None
        while True:
            done, after = _reencrypt_batch(app, actor, spec, after=after, batch=batch)
            if done == 0:
                break
            report.rows_reencrypted[spec.table] += done
            report.batches += 1
    return report


def _use(app: App, ring: KeyRing) -> None:
    install_keyring(ring)
    app.keyring = ring


def _reencrypt_batch(
    app: App, actor: Actor, spec: EncryptedColumns, *, after: object, batch: int
) -> tuple[int, object]:
    ring = app.keyring
    raw = _raw(spec)
    pk = raw.c[spec.key]
    current = f"v1.{ring.active_key_id}.%"
    stale = [raw.c[c].is_not(None) & raw.c[c].not_like(current) for c in spec.columns]

    def work(u: UnitOfWork) -> tuple[int, object]:
        actor.require(Action.MANAGE_KEYS)
        query = select(raw).where(or_(*stale)).order_by(pk).limit(batch)
        if after is not None:
            query = query.where(pk > after)
        rows = u.session.execute(query).all()
        for row in rows:
            values = {}
            for name, field_name in zip(spec.columns, spec.fields, strict=True):
                token = getattr(row, name)
                if token is None or KeyRing.key_id_of(token) == ring.active_key_id:
                    continue
                values[name] = ring.encrypt(ring.decrypt(token, field=field_name), field=field_name)
            u.session.execute(update(raw).where(pk == getattr(row, spec.key)).values(**values))
        if rows:
            first, last = getattr(rows[0], spec.key), getattr(rows[-1], spec.key)
            u.audit(
                actor,
                "keys.reencrypt",
                spec.table,
                None,
                detail=f"{len(rows)} rows, ids {first}..{last}, to key {ring.active_key_id}",
            )
        u.commit()
        return len(rows), (getattr(rows[-1], spec.key) if rows else after)

    return run_use_case(
        app.uow(),
        actor,
        action="keys.reencrypt",
        entity_type=spec.table,
        entity_id=None,
        work=work,
    )


@dataclass(frozen=True)
class KeyStatus:
    active_key_id: str
    key_ids: list[str]
    #: values per key id, per `table.column`
    values: dict[str, dict[str, int]]

    def uses(self, key_id: str) -> int:
        return sum(counts.get(key_id, 0) for counts in self.values.values())


def status(app: App, actor: Actor) -> KeyStatus:
    def work(u: UnitOfWork) -> KeyStatus:
        actor.require(Action.MANAGE_KEYS)
        values: dict[str, dict[str, int]] = {}
        for spec in encrypted_columns():
            raw = _raw(spec)
            for name in spec.columns:
                counts: Counter[str] = Counter()
                query = select(raw.c[name]).where(raw.c[name].is_not(None))
                for (token,) in u.session.execute(query.execution_options(yield_per=5000)):
                    counts[KeyRing.key_id_of(str(token))] += 1
                values[f"{spec.table}.{name}"] = dict(sorted(counts.items()))
        ring = load_key_file(app.settings.key_file)
        u.audit(actor, "keys.status", "key", None)
        u.commit()
        return KeyStatus(ring.active_key_id, sorted(ring.encryption_keys), values)

    return run_use_case(
        app.uow(), actor, action="keys.status", entity_type="key", entity_id=None, work=work
    )


def retire(app: App, actor: Actor, key_id: str) -> KeyStatus:
    """Remove `key_id` from the key file; refused while any value still uses it."""
    before = status(app, actor)

    def work(u: UnitOfWork) -> None:
        actor.require(Action.MANAGE_KEYS)
        ring = load_key_file(app.settings.key_file)
        if key_id not in ring.encryption_keys:
            raise ValidationError(f"no key {key_id!r} in the key file")
        if key_id == ring.active_key_id:
            raise ValidationError(f"key {key_id} is the active key; rotate first")
        in_use = before.uses(key_id)
        if in_use:
            raise ValidationError(
                f"key {key_id} still encrypts {in_use} values; run `dentops keys rotate --resume`"
            )
        u.audit(actor, "keys.retire", "key", None, detail=f"retired key {key_id}")
        replace_key_file(app.settings.key_file, ring.without_key(key_id))
        u.commit()

    run_use_case(
        app.uow(), actor, action="keys.retire", entity_type="key", entity_id=None, work=work
    )
    _use(app, load_key_file(app.settings.key_file))
    return status(app, actor)
