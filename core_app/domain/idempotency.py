"""Idempotency keys: the same key again returns the first result; other content is an error."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from core_app.domain.exceptions import IdempotencyConflict, ValidationError


def fingerprint(command: str, content: dict[str, object]) -> str:
    """A stable digest of a request's content (keys sorted, values as text)."""
    canonical = json.dumps({"command": command, "content": content}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def require_key(key: str) -> str:
    if not 8 <= len(key) <= 200 or not key.isprintable():
        raise ValidationError("an idempotency key must be 8-200 printable characters")
    return key


@dataclass(eq=False)
class IdempotencyRecord:
    key: str
    command: str
    fingerprint: str
    result_id: int
    created_at: datetime

    def replay(self, *, command: str, content_fingerprint: str) -> int:
        if command != self.command or content_fingerprint != self.fingerprint:
            raise IdempotencyConflict(
                f"idempotency key {self.key!r} was used for a different request"
            )
        return self.result_id
