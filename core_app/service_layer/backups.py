"""`dentops backup` and `dentops restore`: consistent, encrypted, checked copies of the core.

Backup: SQLite through its online backup API (one snapshot while others write), PostgreSQL
through `pg_dump --format=custom` on a snapshot exported by the transaction that also counts
and digests every table, so the manifest describes exactly what the dump holds. The copy is
encrypted with the backup key (`core_app.adapters.backup_files`).

Restore: only into an empty database. The file's chunks are authenticated, the payload's
SHA-256 is checked against the manifest, then every table's row count and content digest.
SQLite is checked before the file is moved into place (nothing half-written); PostgreSQL's
`pg_restore` runs in one transaction and is checked afterwards.

The patient columns stay encrypted with the practice's key file: restoring needs that key file
too (the manifest lists the key ids the data uses).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from core_app.adapters import backup_files as files
from core_app.adapters.db import make_engine
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError
from core_app.domain.staff import Action, Actor
from core_app.service_layer.bootstrap import App
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case


@dataclass(frozen=True)
class BackupReport:
    path: str
    backend: str
    tables: int
    rows: int
    payload_sha256: str
    backup_key_id: str
    created_key: bool


def backup(app: App, actor: Actor, out: Path) -> BackupReport:
    run_use_case(  # the permission check first, as a use case: a refusal is audited
        app.uow(),
        actor,
        action="backup.create",
        entity_type="database",
        entity_id=None,
        work=lambda _: actor.require(Action.BACKUP),
    )
    if out.exists():
        raise ValidationError(f"{out} exists; choose a new file name")
    settings = app.settings
    created_key = not settings.backup_key_file.exists()
    try:
        key = files.load_or_create_backup_key(settings.backup_key_file, create=True)
    except files.BackupError as error:
        raise ValidationError(str(error)) from error
    with files.private_folder(out) as folder:
        payload = folder / "payload"
        if app.backend == "sqlite":
            files.copy_sqlite(files.sqlite_path(settings.database_url), payload)
            copy = create_engine(f"sqlite:///{payload}")
            try:
                with copy.connect() as connection:
                    tables = files.table_digests(connection)
            finally:
                copy.dispose()
        else:
            tables = _dump_postgres(app, payload)
        manifest: dict[str, Any] = {
            "created_at": app.clock().astimezone(UTC).isoformat(),
            "backend": app.backend,
            "tables": tables,
            "payload_sha256": files.sha256_file(payload),
            "payload_bytes": payload.stat().st_size,
            "encryption_key_ids": sorted(app.keyring.encryption_keys),
        }
        files.seal_file(
            payload, out, key=key, header={"backend": app.backend, "manifest": manifest}
        )
    rows = sum(t["rows"] for t in tables.values())

    def record(u: UnitOfWork) -> None:
        u.audit(
            actor,
            "backup.create",
            "database",
            None,
            detail=f"{len(tables)} tables, {rows} rows, sha256 {manifest['payload_sha256'][:16]}",
        )
        u.commit()

    run_use_case(
        app.uow(),
        actor,
        action="backup.create",
        entity_type="database",
        entity_id=None,
        work=record,
    )
    return BackupReport(
        path=str(out),
        backend=app.backend,
        tables=len(tables),
        rows=rows,
        payload_sha256=manifest["payload_sha256"],
        backup_key_id=files.key_id(key),
        created_key=created_key,
    )


def _dump_postgres(app: App, payload: Path) -> dict[str, dict[str, Any]]:
    with app.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            tables = files.table_digests(connection)
            files.pg_dump(app.settings.database_url, payload, snapshot=snapshot)
    return tables


@dataclass(frozen=True)
class RestoreReport:
    database: str
    backend: str
    tables: int
    rows: int
    checked: bool
    missing_key_ids: list[str]


def restore(settings: Settings, source: Path) -> RestoreReport:
    """Restore `source` into the (empty) database of `settings`."""
    if not source.exists():
        raise ValidationError(f"no backup file {source}")
    try:
        key = files.load_or_create_backup_key(settings.backup_key_file, create=False)
        header = files.read_header(source)
    except files.BackupError as error:
        raise ValidationError(str(error)) from error
    manifest = header["manifest"]
    engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
    backend = engine.dialect.name
    try:
        if backend != header["backend"]:
            raise ValidationError(
                f"the backup is of a {header['backend']} database; this one is {backend}"
            )
        if not files.is_empty(engine):
            raise ValidationError("restore needs an empty database; this one has tables")
    finally:
        engine.dispose()
    target = files.sqlite_path(settings.database_url) if backend == "sqlite" else None
    with files.private_folder(target or settings.data_dir / "restore") as folder:
        payload = folder / "payload"
        try:
            files.open_file(source, payload, key=key)
        except files.BackupError as error:
            raise ValidationError(str(error)) from error
        if files.sha256_file(payload) != manifest["payload_sha256"]:
            raise ValidationError("the backup's content does not match its manifest checksum")
        if target is not None:
            _check(f"sqlite:///{payload}", manifest)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(payload, target)
        else:
            try:
                files.pg_restore(settings.database_url, payload)
            except files.BackupError as error:
                raise ValidationError(str(error)) from error
            _check(settings.database_url, manifest)
    missing = _missing_keys(settings, manifest)
    return RestoreReport(
        database=make_engine(settings.database_url).url.render_as_string(hide_password=True),
        backend=backend,
        tables=len(manifest["tables"]),
        rows=sum(t["rows"] for t in manifest["tables"].values()),
        checked=True,
        missing_key_ids=missing,
    )


def _check(url: str, manifest: dict[str, Any]) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = files.table_digests(connection)
    finally:
        engine.dispose()
    expected = manifest["tables"]
    wrong = sorted(
        name for name in set(found) | set(expected) if found.get(name) != expected.get(name)
    )
    if wrong:
        raise ValidationError(f"restored tables differ from the manifest: {', '.join(wrong)}")


def _missing_keys(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    from core_app.adapters.crypto import KeyMaterialError, load_key_file

    try:
        ring = load_key_file(settings.key_file)
    except KeyMaterialError:
        return list(manifest.get("encryption_key_ids", []))
    return [k for k in manifest.get("encryption_key_ids", []) if k not in ring.encryption_keys]


def inspect_backup(source: Path) -> dict[str, Any]:
    """The manifest of a backup file (readable without the key; authenticated on restore)."""
    try:
        return dict(files.read_header(source))
    except files.BackupError as error:
        raise ValidationError(str(error)) from error
