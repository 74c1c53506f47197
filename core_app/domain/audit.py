"""Audit entries: who did what to which record, when, and how it ended. Append-only.

Each entry is chained to the one before it: `chain_hash` is an HMAC-SHA-256 (key beside the
encryption keys) over the previous entry's hash and this entry's canonical serialisation,
including its sequence number. Changing, deleting or inserting an entry breaks the chain from
that position on, and without the key nobody can compute a chain that verifies.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

#: the "previous hash" of the first entry of a chain
GENESIS = "0" * 64


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
    seq: int | None = None  # position in the chain, 1, 2, ...
    chain_hash: str | None = None


def canonical(
    *,
    seq: int,
    occurred_at: datetime,
    actor_user_id: int | None,
    actor_username: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    outcome: str,
    detail: str | None,
) -> bytes:
    """One entry's fields as bytes that do not depend on the database or the driver."""
    return json.dumps(
        [
            seq,
            occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor_user_id,
            actor_username,
            action,
            entity_type,
            entity_id,
            str(outcome),
            detail,
        ],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode()


def link(key: bytes, previous_hash: str, content: bytes) -> str:
    """The chain hash of an entry whose canonical content is `content`."""
    return hmac.new(key, previous_hash.encode() + b"\n" + content, hashlib.sha256).hexdigest()


def seal(entry: AuditEntry, *, key: bytes, seq: int, previous_hash: str) -> str:
    """Give `entry` its place in the chain; returns its hash (the next entry's predecessor)."""
    entry.seq = seq
    entry.chain_hash = link(key, previous_hash, canonical_of(entry))
    return entry.chain_hash


def canonical_of(entry: AuditEntry) -> bytes:
    if entry.seq is None:
        raise ValueError("an entry outside the chain has no canonical form")
    return canonical(
        seq=entry.seq,
        occurred_at=entry.occurred_at,
        actor_user_id=entry.actor_user_id,
        actor_username=entry.actor_username,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        outcome=str(entry.outcome),
        detail=entry.detail,
    )


@dataclass(frozen=True)
class ChainBreak:
    """The first position where the stored chain differs from the recomputed one."""

    seq: int | None
    audit_id: int | None
    problem: str


def first_break(rows: Iterable[AuditEntry], *, key: bytes) -> tuple[int, ChainBreak | None]:
    """Walk entries in `seq` order (entries without a seq last); returns how many verified
    and the first break, if any."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for entry in rows:
        if entry.seq is None or entry.chain_hash is None:
            return checked, ChainBreak(None, entry.audit_id, "entry outside the chain")
        if entry.seq != expected_seq:
            problem = (
                f"sequence {expected_seq} is missing"
                if entry.seq > expected_seq
                else f"sequence {entry.seq} appears twice"
            )
            return checked, ChainBreak(expected_seq, entry.audit_id, problem)
        if not hmac.compare_digest(link(key, previous, canonical_of(entry)), entry.chain_hash):
            return checked, ChainBreak(entry.seq, entry.audit_id, "content does not match its hash")
        previous, expected_seq, checked = entry.chain_hash, expected_seq + 1, checked + 1
    return checked, None
