"""What every client relies on: idempotent creation, the error body, the request id, paging,
unknown fields refused, other clinics' records indistinguishable from missing ones, and an
OpenAPI document that declares every response and exposes no secret."""

from __future__ import annotations

from typing import Any

from tests.api import world as w
from tests.api.world import World


def _book_body(world: World, clinic: str = "a") -> dict[str, Any]:
    ids = world.clinics[clinic]
    return {
        "patient_id": ids.patient_ids[2],
        "provider_id": ids.hygienist_id,
        "chair_id": ids.chair_ids[1],
        "start_at": world.slot(clinic, "future").isoformat(),
        "procedure_codes": ["D1206"],
    }


def test_a_retried_booking_replays_and_other_content_is_refused(world: World) -> None:
    headers = world.headers("scheduler@a") | {"Idempotency-Key": "contract-book-0001"}
    body = _book_body(world)
    first = world.client.post("/v1/appointments", json=body, headers=headers)
    again = world.client.post("/v1/appointments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = world.client.post("/v1/appointments", json=_book_body(world), headers=headers)
    assert other.status_code == 422 and other.json()["error"] == "idempotency_conflict"
    missing = world.client.post(
        "/v1/appointments", json=_book_body(world), headers=world.headers("scheduler@a")
    )
    assert missing.status_code == 422


def test_payments_and_refunds_replay_once_per_key(world: World) -> None:
    desk = world.headers("front_desk@a")
    patient = world.clinics["a"].patient_ids[1]
    body = {"patient_id": patient, "amount_cents": 7_000, "currency": "USD", "method": "card"}
    key = {"Idempotency-Key": "contract-pay-0001"}
    first = world.client.post("/v1/payments", json=body, headers=desk | key)
    again = world.client.post("/v1/payments", json=body, headers=desk | key)
    assert first.status_code == again.status_code == 201
    assert first.json()["payment_id"] == again.json()["payment_id"]
    changed = world.client.post(
        "/v1/payments", json=body | {"amount_cents": 7_001}, headers=desk | key
    )
    assert changed.status_code == 422

    manager = world.headers("manager@a")
    refund = {"amount_cents": 1_000, "reason": "overcharged"}
    path = f"/v1/payments/{first.json()['payment_id']}/refunds"
    key = {"Idempotency-Key": "contract-refund-0001"}
    r1 = world.client.post(path, json=refund, headers=manager | key)
    r2 = world.client.post(path, json=refund, headers=manager | key)
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    payment = world.client.get(f"/v1/payments/{first.json()['payment_id']}", headers=desk)
    assert payment.json()["refunded_cents"] == 1_000  # refunded once
    too_much = world.client.post(
        path,
        json={"amount_cents": 6_001, "reason": "again"},
        headers=manager | {"Idempotency-Key": "contract-refund-0002"},
    )
    assert too_much.status_code == 422 and too_much.json()["error"] == "refund_exceeds_payment"


def test_unknown_fields_are_refused_without_echoing_input(world: World) -> None:
    canary = "Zyxwvu-Canary-7731"
    body = {
        "clinic_id": world.clinics["a"].clinic_id,
        "first_name": canary,
        "last_name": "Doe",
        "birth_date": "1990-01-01",
        "is_vip": True,
    }
    refused = world.client.post("/v1/patients", json=body, headers=world.headers("admin@a"))
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_input"
    assert "is_vip" in refused.json()["message"] and canary not in refused.text
    bad_email = dict(body, email=f"{canary}@", is_vip=None)
    del bad_email["is_vip"]
    refused = world.client.post("/v1/patients", json=bad_email, headers=world.headers("admin@a"))
    assert refused.status_code == 422 and canary not in refused.text


def test_another_clinics_record_looks_exactly_like_a_missing_one(world: World) -> None:
    desk = world.headers("front_desk@a")
    other = world.client.get(f"/v1/patients/{world.clinics['b'].patient_ids[0]}", headers=desk)
    missing = world.client.get("/v1/patients/999999", headers=desk)
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == missing.json()["error"] == "not_found"
    assert other.json()["message"].split()[0] == missing.json()["message"].split()[0]
    # a booking naming another clinic's patient in one's own chair is refused the same way
    body = _book_body(world) | {"patient_id": world.clinics["b"].patient_ids[0]}
    booked = world.client.post(
        "/v1/appointments",
        json=body,
        headers=world.headers("scheduler@a") | {"Idempotency-Key": "contract-cross-01"},
    )
    assert booked.status_code == 404


def test_every_response_carries_a_request_id(world: World) -> None:
    given = world.client.get("/v1/auth/me", headers={"X-Request-ID": "caller-chosen-id-42"})
    assert given.status_code == 401
    assert given.headers["x-request-id"] == "caller-chosen-id-42"
    assert given.json()["request_id"] == "caller-chosen-id-42"
    made = world.client.get("/v1/clinics", headers=world.headers("admin@a"))
    assert len(made.headers["x-request-id"]) == 32
    junk = world.client.get("/v1/auth/me", headers={"X-Request-ID": "<script>"})
    assert junk.headers["x-request-id"] != "<script>"


def test_lists_page_with_a_maximum(world: World) -> None:
    admin = world.headers("admin@a")
    first = world.client.get("/v1/patients", params={"limit": 2}, headers=admin).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = world.client.get(
        "/v1/patients", params={"limit": 2, "offset": first["next_offset"]}, headers=admin
    ).json()
    assert {p["patient_id"] for p in rest["items"]}.isdisjoint(
        p["patient_id"] for p in first["items"]
    )
    assert world.client.get("/v1/patients", params={"limit": 201}, headers=admin).status_code == 422
    booked = w.World.appointment(world, "a")
    day = world.client.get(
        "/v1/appointments",
        params={
            "start_at": "2030-01-08T00:00:00-05:00",
            "end_at": "2030-02-07T00:00:00-05:00",
            "status": "booked",
            "limit": 200,
        },
        headers=admin,
    ).json()
    assert booked in [a["appointment_id"] for a in day["items"]]
    assert all(a["status"] == "booked" for a in day["items"])


def test_the_openapi_document_declares_errors_and_no_secrets(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if (method.upper(), path) not in {
                ("POST", "/v1/auth/sign-in"),
                ("POST", "/v1/webhooks/stripe"),
            }:
                assert "401" in responses, (method, path)
            assert "422" in responses or not (
                operation.get("parameters") or operation.get("requestBody")
            ), (method, path)
            for status, response in responses.items():
                assert "X-Request-ID" in response["headers"], (method, path, status)
                if status != "204":
                    assert "application/json" in response["content"], (method, path, status)
    components = str(document["components"]["schemas"]).lower()
    for secret in ("password_hash", "ciphertext", "key_id", "token_hash", "last_used_step"):
        assert secret not in components
    assert "HTTPValidationError" not in document["components"]["schemas"]
