"""Audit entries: who did what to which record, when, and how it ended. Append-only."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(eq=False)
class AuditEntry:
    occurred_at: datetime
    actor_user_id: int | None
    actor_username: str
    action: str
    entity_type: str
    entity_id: str | None
    outcome: Outcome
    detail: str | None = None  # never patient data: ids, counts, error codes
    audit_id: int | None = None
