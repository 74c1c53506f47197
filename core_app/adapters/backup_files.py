"""Encrypted backup files, consistent copies of the database, and table digests.

File layout (all integers big-endian):

    MAGIC | header length (4) | header (JSON: format, backend, chunk size, nonce prefix,
    backup key id, manifest) | chunks: ciphertext length (4) | AES-256-GCM ciphertext

Each chunk's nonce is the header's 8-byte random prefix and the chunk number (4 bytes); its
associated data is the header's SHA-256, the chunk number and a last-chunk flag, so a changed
header, reordered, dropped or cut-off chunks all fail authentication. The manifest (tables,
row counts, content digests, the payload's SHA-256) holds no patient data and is readable
without the key; it is authenticated with every chunk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.engine import make_url

MAGIC = b"DENTOPS-BACKUP\x00\x01"
CHUNK = 1024 * 1024
FORMAT = 1


class BackupError(Exception):
    """A backup file that cannot be read, or a database that cannot take a restore."""


# --- the backup key ---------------------------------------------------------------------


def load_or_create_backup_key(path: Path, *, create: bool) -> bytes:
    """The 256-bit backup key from `path` (mode 0600, kept away from the backups and git)."""
    if not path.exists():
        if not create:
            raise BackupError(f"backup key file {path} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(AESGCM.generate_key(256)).decode() + "\n")
    if path.stat().st_mode & 0o077:
        raise BackupError(f"backup key file {path} is readable by others; run `chmod 600 {path}`")
    key = base64.urlsafe_b64decode(path.read_text().strip())
    if len(key) != 32:
        raise BackupError(f"backup key file {path} does not hold a 256-bit key")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"dentops backup key id" + key).hexdigest()[:16]


# --- the container ----------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + struct.pack(">I?", index, last)


def seal_file(plain: Path, out: Path, *, key: bytes, header: dict[str, Any]) -> None:
    """Encrypt `plain` into `out` (created private; never overwrites)."""
    prefix = secrets.token_bytes(8)
    full = {**header, "format": FORMAT, "chunk_size": CHUNK, "key_id": key_id(key)}
    full["nonce_prefix"] = base64.b64encode(prefix).decode()
    head = json.dumps(full, sort_keys=True).encode()
    digest = hashlib.sha256(head).digest()
    cipher = AESGCM(key)
    size = plain.stat().st_size
    count = max(1, -(-size // CHUNK))
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as sink, plain.open("rb") as source:
        sink.write(MAGIC + struct.pack(">I", len(head)) + head)
        for index in range(count):
            block = source.read(CHUNK)
            nonce = prefix + struct.pack(">I", index)
            sealed = cipher.encrypt(nonce, block, _aad(digest, index, index == count - 1))
            sink.write(struct.pack(">I", len(sealed)) + sealed)
        sink.flush()
        os.fsync(sink.fileno())


def read_header(path: Path) -> dict[str, Any]:
    with path.open("rb") as source:
        header, _ = _read_head(source)
    return header


def _read_head(source: Any) -> tuple[dict[str, Any], bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a dentops backup file")
    (length,) = struct.unpack(">I", source.read(4))
    head = source.read(length)
    header = json.loads(head)
    if header.get("format") != FORMAT:
        raise BackupError(f"backup format {header.get('format')} is not supported")
    return header, hashlib.sha256(head).digest()


def open_file(path: Path, plain: Path, *, key: bytes) -> dict[str, Any]:
    """Decrypt `path` into `plain`; returns the (authenticated) header."""
    with path.open("rb") as source:
        header, digest = _read_head(source)
        if header["key_id"] != key_id(key):
            raise BackupError("the backup was made with another backup key")
        cipher = AESGCM(key)
        prefix = base64.b64decode(header["nonce_prefix"])
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as sink:
            index, pending = 0, source.read(4)
            while pending:
                (length,) = struct.unpack(">I", pending)
                sealed = source.read(length)
                pending = source.read(4)
                nonce = prefix + struct.pack(">I", index)
                try:
                    sink.write(cipher.decrypt(nonce, sealed, _aad(digest, index, not pending)))
                except InvalidTag as error:
                    raise BackupError(
                        f"backup chunk {index} failed authentication (changed, cut off or "
                        "reordered)"
                    ) from error
                index += 1
            if index == 0:
                raise BackupError("the backup holds no data")
    return header


# --- consistent copies ------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: one consistent snapshot while others keep writing."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it (a password on
    the command line would show in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_dump(url: str, target: Path, *, snapshot: str) -> None:
    dsn, env = _libpq(url)
    _run(
        ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--file", str(target), dsn],
        env,
    )


def pg_restore(url: str, source: Path) -> None:
    dsn, env = _libpq(url)
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            dsn,
            str(source),
        ],
        env,
    )


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if done.returncode != 0:
        # the tool's own message names objects, not rows
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")


# --- table digests ----------------------------------------------------------------------


def table_digests(connection: Connection) -> dict[str, dict[str, Any]]:
    """Row count and a SHA-256 over every row (by primary key) of every table."""
    inspector = inspect(connection)
    result: dict[str, dict[str, Any]] = {}
    for name in sorted(inspector.get_table_names()):
        keys = inspector.get_pk_constraint(name).get("constrained_columns") or []
        order = ", ".join(f'"{k}"' for k in keys) or "1"
        rows = connection.exec_driver_sql(f'SELECT * FROM "{name}" ORDER BY {order}')  # noqa: S608 - names from the catalog
        digest, count = hashlib.sha256(), 0
        for row in rows:
            digest.update(repr(tuple(row)).encode() + b"\n")
            count += 1
        result[name] = {"rows": count, "sha256": digest.hexdigest()}
    return result


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


@contextmanager
def private_folder(near: Path) -> Iterator[Path]:
    """A folder only this user can read, beside `near`, removed afterwards."""
    import shutil
    import tempfile

    near.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".dentops-backup-", dir=near.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
