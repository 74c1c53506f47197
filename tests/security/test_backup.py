"""Backups: a populated practice is backed up online (encrypted), restored into an empty
database, and every table compared row by row; a non-empty target, a changed file and a wrong
key are refused."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from core_app.adapters.backup_files import MAGIC, read_header
from core_app.config import Settings
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import ValidationError
from core_app.service_layer import backups, billing, break_glass, patients
from tests.conftest import Practice
from tests.service_layer.helpers import audit_entries, book


def populate(practice: Practice) -> None:
    appointment = book(practice, 0, "09:00")
    billing.record_payment(
        practice.app.uow(),
        practice.admin,
        patient_id=practice.patient_ids[0],
        amount_cents=4500,
        currency="USD",
        method=PaymentMethod.CARD,
        appointment_id=appointment,
    )
    break_glass.open_grant(practice.app.uow(), practice.admin, reason="tested restore", minutes=5)


def every_table(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        return {
            name: [tuple(r) for r in connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))]  # noqa: S608
            for name in names
        }


def test_backup_then_restore_into_an_empty_database_gives_every_table_back(
    practice: Practice, tmp_path: Path
) -> None:
    app = practice.app
    populate(practice)
    before = every_table(app.engine)
    out = tmp_path / "practice.backup"

    report = backups.backup(app, practice.admin, out)

    assert report.created_key and report.tables == len(before)
    assert report.rows == sum(len(rows) for rows in before.values())
    assert out.read_bytes().startswith(MAGIC)
    assert out.stat().st_mode & 0o077 == 0
    manifest = read_header(out)["manifest"]
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert audit_entries(app)[-1].action == "backup.create"
    # no plaintext leaks into the file: a patient's email is not there, not even encrypted
    assert b"alma@example.org" not in out.read_bytes()

    target = restore_target(app.settings, tmp_path)
    restored = backups.restore(target, out)

    assert restored.checked and restored.missing_key_ids == []
    engine = create_engine(target.database_url)
    try:
        assert every_table(engine) == before
    finally:
        engine.dispose()


def restore_target(settings: Settings, tmp_path: Path) -> Settings:
    """An empty database to restore into: a new SQLite file, or the PostgreSQL test database
    emptied (the role may not create databases)."""
    if settings.database_url.startswith("sqlite"):
        return settings.model_copy(
            update={"database_url": f"sqlite:///{tmp_path / 'restored' / 'dentops.db'}"}
        )
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return settings


def test_restore_refuses_a_database_with_tables(practice: Practice, tmp_path: Path) -> None:
    out = tmp_path / "practice.backup"
    backups.backup(practice.app, practice.admin, out)
    with pytest.raises(ValidationError, match="empty database"):
        backups.restore(practice.app.settings, out)


#: refused before any database is touched, so one backend shows it; PostgreSQL's consistency
#: while others write is pg_dump's snapshot (its manifest is taken in the same snapshot)
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@SQLITE_ONLY
@pytest.mark.parametrize("where", ["header", "chunk", "end"])
def test_a_changed_or_cut_backup_is_refused(practice: Practice, tmp_path: Path, where: str) -> None:
    out = tmp_path / "practice.backup"
    backups.backup(practice.app, practice.admin, out)
    data = bytearray(out.read_bytes())
    if where == "header":
        at = data.index(b'"rows": ') + 8
        data[at : at + 1] = b"9"
    elif where == "chunk":
        data[-100] ^= 0x01
    else:
        data = data[: len(data) // 2]
    out.write_bytes(bytes(data))
    target = Settings(
        data_dir=tmp_path / "restored",
        key_file=practice.app.settings.key_file,
        backup_key_file=practice.app.settings.backup_key_file,
    )

    with pytest.raises(ValidationError, match=r"authentication|manifest"):
        backups.restore(target, out)

    assert (
        not (tmp_path / "restored" / "dentops.db").exists()
        or not inspect(create_engine(target.database_url)).get_table_names()
    )


@SQLITE_ONLY
def test_another_backup_key_cannot_open_it(practice: Practice, tmp_path: Path) -> None:
    out = tmp_path / "practice.backup"
    backups.backup(practice.app, practice.admin, out)
    other = tmp_path / "other.key"
    from core_app.adapters.backup_files import load_or_create_backup_key

    load_or_create_backup_key(other, create=True)
    target = Settings(data_dir=tmp_path / "restored", backup_key_file=other)
    with pytest.raises(ValidationError, match="another backup key"):
        backups.restore(target, out)


@SQLITE_ONLY
def test_sqlite_backup_is_consistent_while_others_write(practice: Practice, tmp_path: Path) -> None:
    app = practice.app
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            written.append(
                patients.add_patient(
                    app.uow(),
                    practice.admin,
                    clinic_id=practice.clinic_id,
                    first_name=f"Busy{n}",
                    last_name="Writer",
                    birth_date=date(1985, 1, 1),
                )
            )

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 3:
            stop.wait(0.05)
        out = tmp_path / "busy.backup"
        backups.backup(app, practice.admin, out)
    finally:
        stop.set()
        writer.join()

    target = restore_target(app.settings, tmp_path)
    backups.restore(target, out)  # checks every table against the manifest
    engine = create_engine(target.database_url)
    try:
        tables = every_table(engine)
    finally:
        engine.dispose()
    restored_ids = {row[0] for row in tables["patients"]}
    # a prefix of what was written, each patient with its audit entry
    assert restored_ids >= set(practice.patient_ids)
    adds = [r for r in tables["audit_entries"] if r[4] == "patient.add"]
    assert len(adds) == len(restored_ids)


@SQLITE_ONLY
def test_only_admins_back_up_and_the_refusal_is_audited(practice: Practice, tmp_path: Path) -> None:
    from core_app.domain.exceptions import PermissionDenied
    from core_app.domain.staff import Role
    from tests.service_layer.helpers import add_staff

    manager = add_staff(practice, "manager", Role.MANAGER)
    with pytest.raises(PermissionDenied):
        backups.backup(practice.app, manager, tmp_path / "no.backup")
    assert not (tmp_path / "no.backup").exists()
    assert audit_entries(practice.app)[-1].outcome == "denied"
