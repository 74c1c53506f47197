"""Idempotency: a fingerprint of what was asked, and replaying a key."""

from __future__ import annotations

import pytest

from core_app.domain.exceptions import IdempotencyConflict, ValidationError
from core_app.domain.idempotency import IdempotencyRecord, fingerprint, require_key
from tests.domain.factories import NOW


def test_fingerprint_ignores_the_order_of_the_content() -> None:
    assert fingerprint("payment.record", {"a": 1, "b": "x"}) == fingerprint(
        "payment.record", {"b": "x", "a": 1}
    )


def test_fingerprint_changes_with_any_value() -> None:
    base = fingerprint("payment.record", {"amount_cents": 100, "patient_id": 1})

    assert base != fingerprint("payment.record", {"amount_cents": 101, "patient_id": 1})
    assert base != fingerprint("payment.record", {"amount_cents": 100, "patient_id": 2})
    assert base != fingerprint("payment.record", {"amount_cents": 100})


def test_fingerprint_changes_with_the_command() -> None:
    assert fingerprint("payment.record", {"id": 1}) != fingerprint("payment.refund", {"id": 1})


def test_fingerprint_is_a_sha256_hex_digest() -> None:
    digest = fingerprint("x", {"when": NOW, "codes": ["D0120"]})

    assert len(digest) == 64
    assert int(digest, 16) >= 0


def record() -> IdempotencyRecord:
    return IdempotencyRecord(
        key="key-00000001",
        command="payment.record",
        fingerprint=fingerprint("payment.record", {"amount_cents": 100}),
        result_id=42,
        created_at=NOW,
    )


def test_replay_with_the_same_request_returns_the_first_result() -> None:
    same = fingerprint("payment.record", {"amount_cents": 100})

    assert record().replay(command="payment.record", content_fingerprint=same) == 42


def test_replay_with_other_content_is_a_conflict() -> None:
    other = fingerprint("payment.record", {"amount_cents": 200})

    with pytest.raises(IdempotencyConflict, match="key-00000001"):
        record().replay(command="payment.record", content_fingerprint=other)


def test_replay_for_another_command_is_a_conflict() -> None:
    same_content = fingerprint("payment.record", {"amount_cents": 100})

    with pytest.raises(IdempotencyConflict):
        record().replay(command="payment.refund", content_fingerprint=same_content)


@pytest.mark.parametrize("key", ["short", "x" * 201, "tab\there1", "new\nline12"])
def test_refuses_keys_that_are_too_short_too_long_or_unprintable(key: str) -> None:
    with pytest.raises(ValidationError, match="idempotency key"):
        require_key(key)


@pytest.mark.parametrize("key", ["12345678", "x" * 200, "order 2030-01-07 #17"])
def test_accepts_printable_keys_of_8_to_200_characters(key: str) -> None:
    assert require_key(key) == key
