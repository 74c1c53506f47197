"""Migrations run both ways on both databases; key files are private and keys authenticate."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core_app.adapters import migrate
from core_app.adapters.crypto import KeyMaterialError, KeyRing, create_key_file, load_key_file
from core_app.adapters.orm import metadata
from core_app.config import Settings
from core_app.service_layer import bootstrap


def test_migrations_go_down_to_nothing_and_back_up(settings: Settings) -> None:
    app = bootstrap.connect(settings)
    try:
        config = migrate.alembic_config()
        with app.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(app.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(app.engine)
        assert set(inspect(app.engine).get_table_names()) >= set(metadata.tables)
        head = ScriptDirectory.from_config(config).get_current_head()
        assert migrate.current_revision(app.engine) == head
        with app.engine.connect() as connection:  # the migrations build what the code maps
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        app.close()


def test_every_table_has_an_updated_at_column() -> None:
    assert [t.name for t in metadata.sorted_tables if "updated_at" not in t.c] == []


def test_key_file_is_created_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_file(path) == ring
    with pytest.raises(FileExistsError):
        create_key_file(path)


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyMaterialError, match="readable by others"):
        load_key_file(path)


def test_ciphertext_is_bound_to_its_column_and_key() -> None:
    ring = KeyRing.generate()
    token = ring.encrypt("Ann", field="patients.first_name")
    assert "Ann" not in token and ring.decrypt(token, field="patients.first_name") == "Ann"
    with pytest.raises(KeyMaterialError):
        ring.decrypt(token, field="patients.last_name")
    with pytest.raises(KeyMaterialError):
        KeyRing.generate().decrypt(token, field="patients.first_name")


def test_pseudonyms_are_stable_and_keyed() -> None:
    ring, other = KeyRing.generate(), KeyRing.generate()
    assert ring.pseudonym("patient", 7) == ring.pseudonym("patient", 7)
    assert ring.pseudonym("patient", 7) != ring.pseudonym("patient", 8)
    assert ring.pseudonym("patient", 7) != other.pseudonym("patient", 7)


def test_decrypted_values_are_kept_per_column_and_never_outlive_their_key() -> None:
    ring = KeyRing.generate()
    token = ring.encrypt("Ada", field="patients.first_name")
    assert ring.decrypt(token, field="patients.first_name") == "Ada"
    assert ring.decrypt(token, field="patients.first_name") == "Ada"  # kept: same answer
    with pytest.raises(KeyMaterialError):  # kept per column: still bound to it
        ring.decrypt(token, field="patients.last_name")
    rotated = ring.with_new_active_key()
    assert rotated.decrypt(token, field="patients.first_name") == "Ada"
    retired = rotated.without_key(ring.active_key_id)
    with pytest.raises(KeyMaterialError):  # a ring without the key knows nothing of it
        retired.decrypt(token, field="patients.first_name")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyMaterialError):
        ring.decrypt(tampered, field="patients.first_name")
