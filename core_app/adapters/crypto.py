"""Key material: authenticated encryption of patient data and keyed pseudonyms.

Ciphertexts carry the id of the key that made them (`v1.<key id>.<base64>`), so keys can be
rotated: new writes use the active key, old keys still decrypt until they are retired.
The column name is bound in as associated data, so a value copied into another column fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1"
#: decrypted values a key ring keeps, at most (then it starts again): the day list decrypts the
#: same patients' names on every request
DECRYPTED_KEPT = 20_000


class KeyMaterialError(Exception):
    """Key material is missing or does not fit the data."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


@dataclass(frozen=True)
class KeyRing:
    encryption_keys: dict[str, bytes]
    active_key_id: str
    pseudonym_key: bytes
    #: HMAC key of the audit chain (see `core_app.domain.audit`); key files written before it
    #: existed derive it from the pseudonym key (`from_json`)
    audit_key: bytes = b""
    #: one cipher per key id, made on first use (a new AESGCM per value costs more than the
    #: encryption itself when a bulk load encrypts hundreds of thousands of values)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)
    #: (ciphertext, field) -> plaintext of the values this process decrypted lately: each
    #: ciphertext has its own nonce, so an entry is never stale; a rotation or retirement
    #: installs a new key ring, which starts empty
    _decrypted: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(self.encryption_keys[key_id])
        return cipher

    def encrypt(self, plaintext: str, *, field: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher(self.active_key_id).encrypt(nonce, plaintext.encode(), field.encode())
        return f"{_PREFIX}.{self.active_key_id}.{_b64(nonce + sealed)}"

    def decrypt(self, token: str, *, field: str) -> str:
        known = self._decrypted.get((token, field))
        if known is not None:
            return known
        prefix, key_id, body = token.split(".", 2)
        if prefix != _PREFIX or key_id not in self.encryption_keys:
            raise KeyMaterialError(f"no key {key_id!r} to decrypt {field}")
        raw = _unb64(body)
        try:
            plain = self._cipher(key_id).decrypt(raw[:12], raw[12:], field.encode())
        except InvalidTag as exc:
            raise KeyMaterialError(
                f"{field} failed authentication (tampered or wrong key)"
            ) from exc
        if len(self._decrypted) >= DECRYPTED_KEPT:
            self._decrypted.clear()
        text = self._decrypted[token, field] = plain.decode()
        return text

    def pseudonym(self, kind: str, value: int | str) -> str:
        """A stable keyed pseudonym: the same id gives the same token, not reversible."""
        digest = hmac.new(self.pseudonym_key, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def to_json(self) -> str:
        return json.dumps(
            {
                "encryption_keys": {k: _b64(v) for k, v in self.encryption_keys.items()},
                "active_key_id": self.active_key_id,
                "pseudonym_key": _b64(self.pseudonym_key),
                "audit_key": _b64(self.audit_key),
            },
            indent=2,
        )

    @classmethod
    def generate(cls) -> KeyRing:
        key_id = f"k{secrets.token_hex(4)}"
        return cls(
            {key_id: AESGCM.generate_key(256)},
            key_id,
            secrets.token_bytes(32),
            audit_key=secrets.token_bytes(32),
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        pseudonym_key = _unb64(data["pseudonym_key"])
        audit_key = data.get("audit_key")
        return cls(
            encryption_keys={k: _unb64(v) for k, v in data["encryption_keys"].items()},
            active_key_id=data["active_key_id"],
            pseudonym_key=pseudonym_key,
            audit_key=(
                _unb64(audit_key)
                if audit_key
                else hmac.new(pseudonym_key, b"dentops audit chain v1", hashlib.sha256).digest()
            ),
        )

    def with_new_active_key(self) -> KeyRing:
        """This ring plus a fresh encryption key, which becomes the one new writes use."""
        key_id = f"k{secrets.token_hex(4)}"
        return KeyRing(
            {**self.encryption_keys, key_id: AESGCM.generate_key(256)},
            key_id,
            self.pseudonym_key,
            audit_key=self.audit_key,
        )

    def without_key(self, key_id: str) -> KeyRing:
        if key_id == self.active_key_id:
            raise KeyMaterialError(f"key {key_id} is the active key; rotate first")
        if key_id not in self.encryption_keys:
            raise KeyMaterialError(f"no key {key_id!r} in the key file")
        keys = {k: v for k, v in self.encryption_keys.items() if k != key_id}
        return KeyRing(keys, self.active_key_id, self.pseudonym_key, audit_key=self.audit_key)

    @staticmethod
    def key_id_of(token: str) -> str:
        """The id of the key that made a ciphertext."""
        parts = token.split(".", 2)
        return parts[1] if len(parts) == 3 and parts[0] == _PREFIX else "(not a ciphertext)"


def create_key_file(path: Path) -> KeyRing:
    """Write a fresh key ring readable by the owner only; never overwrite existing keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = KeyRing.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ring.to_json())
    return ring


def replace_key_file(path: Path, ring: KeyRing) -> None:
    """Write `ring` over the key file atomically (a private temporary file, then a rename)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_key_file(path: Path) -> KeyRing:
    if not path.exists():
        raise KeyMaterialError(f"key file {path} is missing; run `dentops init` first")
    if path.stat().st_mode & 0o077:
        raise KeyMaterialError(f"key file {path} is readable by others; run `chmod 600 {path}`")
    return KeyRing.from_json(path.read_text())


_installed: KeyRing | None = None


def install_keyring(ring: KeyRing) -> None:
    """Make `ring` the one the encrypted column types use in this process."""
    global _installed
    _installed = ring


def installed_keyring() -> KeyRing:
    if _installed is None:
        raise KeyMaterialError("no key ring installed; the application was not bootstrapped")
    return _installed
