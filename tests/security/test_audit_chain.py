"""The audit log is a hash chain: clean data verifies; any changed, deleted or forged entry is
reported at its position; concurrent writers never chain onto the same predecessor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, text

from core_app.adapters import orm
from core_app.domain.audit import GENESIS
from core_app.domain.exceptions import PermissionDenied
from core_app.service_layer import audit_chain, patients
from core_app.service_layer.bootstrap import App
from tests.conftest import Practice
from tests.service_layer.helpers import audit_entries


@contextmanager
def without_append_only_triggers(app: App) -> Iterator[Connection]:
    """An attacker with database access: the append-only triggers lifted, put back after."""
    postgres = app.backend == "postgresql"
    with app.engine.begin() as connection:
        if postgres:
            connection.execute(
                text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
            )
        else:
            for verb in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER audit_entries_no_{verb}"))
        yield connection
        if postgres:
            connection.execute(
                text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
            )
        else:
            for verb in ("update", "delete"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER audit_entries_no_{verb} BEFORE {verb.upper()} ON "
                        "audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are "
                        "append-only'); END"
                    )
                )


def test_clean_entries_verify_and_form_one_chain(practice: Practice) -> None:
    entries = audit_entries(practice.app)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.chain_hash and len(e.chain_hash) == 64 for e in entries)
    assert entries[0].chain_hash != GENESIS

    report = audit_chain.verify_chain(practice.app.uow(), practice.admin)

    assert report.ok and report.broken is None
    assert report.verified == report.entries == len(entries)
    assert report.head_seq == len(entries)
    # the verification itself is audited and chained on
    after = audit_entries(practice.app)
    assert after[-1].action == "audit.verify" and after[-1].seq == len(entries) + 1
    assert audit_chain.verify_chain(practice.app.uow(), practice.admin).ok


def test_a_changed_field_is_reported_at_its_position(practice: Practice) -> None:
    victim = audit_entries(practice.app)[5]
    with without_append_only_triggers(practice.app) as connection:
        connection.execute(
            text("UPDATE audit_entries SET detail = 'nothing to see' WHERE audit_id = :id"),
            {"id": victim.audit_id},
        )

    report = audit_chain.verify_chain(practice.app.uow(), practice.admin)

    assert not report.ok and report.broken is not None
    assert (report.broken.seq, report.broken.audit_id) == (victim.seq, victim.audit_id)
    assert report.broken.problem == "content does not match its hash"
    assert report.verified == victim.seq - 1


def test_a_changed_outcome_with_a_recomputed_plain_hash_is_still_caught(
    practice: Practice,
) -> None:
    """Without the HMAC key a forger cannot produce a hash that verifies."""
    import hashlib

    victim = audit_entries(practice.app)[3]
    forged = hashlib.sha256(b"anything the forger can compute").hexdigest()
    with without_append_only_triggers(practice.app) as connection:
        connection.execute(
            text(
                "UPDATE audit_entries SET outcome = 'denied', chain_hash = :h WHERE audit_id = :id"
            ),
            {"h": forged, "id": victim.audit_id},
        )

    report = audit_chain.verify_chain(practice.app.uow(), practice.admin)

    assert report.broken is not None and report.broken.seq == victim.seq


def test_a_deleted_entry_is_reported_as_a_gap(practice: Practice) -> None:
    entries = audit_entries(practice.app)
    victim, successor = entries[4], entries[5]
    with without_append_only_triggers(practice.app) as connection:
        connection.execute(
            text("DELETE FROM audit_entries WHERE audit_id = :id"), {"id": victim.audit_id}
        )

    report = audit_chain.verify_chain(practice.app.uow(), practice.admin)

    assert report.broken is not None
    assert report.broken.seq == victim.seq
    assert report.broken.audit_id == successor.audit_id
    assert report.broken.problem == f"sequence {victim.seq} is missing"


@pytest.mark.parametrize("chained", [False, True])
def test_a_forged_entry_is_reported(practice: Practice, chained: bool) -> None:
    """Inserting needs no trigger to be lifted: a row outside the chain, or one that claims
    the next place with a hash the forger made up."""
    entries = audit_entries(practice.app)
    with practice.app.engine.begin() as connection:
        forged_id: int = connection.execute(
            orm.audit_entries.insert()
            .values(
                occurred_at=datetime.now(UTC),
                actor_username="admin",
                action="patient.read",
                entity_type="patient",
                entity_id="1",
                outcome="success",
                seq=len(entries) + 1 if chained else None,
                chain_hash=entries[-1].chain_hash if chained else None,
            )
            .returning(orm.audit_entries.c.audit_id)
        ).scalar_one()

    report = audit_chain.verify_chain(practice.app.uow(), practice.admin)

    assert report.broken is not None and report.broken.audit_id == forged_id
    assert report.broken.seq == (len(entries) + 1 if chained else None)
    assert report.verified == len(entries)


def test_only_admins_and_managers_verify(practice: Practice) -> None:
    from core_app.domain.staff import Role
    from tests.service_layer.helpers import add_staff

    desk = add_staff(practice, "desk", Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        audit_chain.verify_chain(practice.app.uow(), desk)
    assert audit_entries(practice.app)[-1].outcome == "denied"


WRITERS = 4
PER_WRITER = 6


def test_concurrent_writers_never_share_a_predecessor(practice: Practice) -> None:
    """Writers on several threads add patients at once (each add is audited); the chain stays
    one line: every sequence number once, and it verifies."""
    app = practice.app
    before = len(audit_entries(app))
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_WRITER):
                patients.add_patient(
                    app.uow(),
                    practice.admin,
                    clinic_id=practice.clinic_id,
                    first_name=f"Writer{n}",
                    last_name=f"Number{i}",
                    birth_date=date(1980, 1, 1 + i),
                )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    entries = audit_entries(app)
    adds = [e for e in entries[before:] if e.action == "patient.add"]
    assert len(adds) == WRITERS * PER_WRITER
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert audit_chain.verify_chain(app.uow(), practice.admin).ok


def test_the_migration_chains_the_entries_written_before_it(app: App) -> None:
    """Entries from before revision 0007 are chained in audit_id order when it runs."""
    from alembic import command

    from core_app.adapters import migrate
    from core_app.domain.staff import SYSTEM

    config = migrate.alembic_config()
    with app.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with app.engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_entries (occurred_at, actor_username, action, entity_type, "
                    "entity_id, outcome, detail, updated_at) "
                    "VALUES (:at, 'old', 'patient.read', 'patient', :id, 'success', NULL, :at)"
                ),
                {"at": datetime(2029, 1, 1, 9, n, tzinfo=UTC), "id": str(n)},
            )
    migrate.upgrade(app.engine)

    entries = audit_entries(app)
    assert [(e.seq, e.entity_id) for e in entries] == [(1, "0"), (2, "1"), (3, "2")]
    report = audit_chain.verify_chain(app.uow(), SYSTEM)
    assert report.ok and report.verified == 3
    with pytest.raises(Exception, match="append-only"), app.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries"))  # the triggers are back
