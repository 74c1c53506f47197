"""Card payments: Stripe payment intents (against a loopback HTTP server standing in for
Stripe's API) and the webhook, which checks the Stripe-Signature over the raw body, refuses old
timestamps and handles each event once. Runs on SQLite and PostgreSQL (events are keyed by id)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from core_app.adapters.card_processor import StripeProcessor
from core_app.api.app import create_api
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import users
from tests.conftest import Practice

SECRET = "whsec_test_secret_for_dentops"
PASSWORD = "front-desk-password"


class FakeStripeApi(BaseHTTPRequestHandler):
    """Stripe's payment intent endpoint as far as the adapter uses it."""

    received: list[dict[str, Any]] = []  # noqa: RUF012 - shared with the test on purpose

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        self.received.append({"path": self.path, "form": form, "headers": dict(self.headers)})
        body = json.dumps(
            {
                "id": "pi_test_123",
                "object": "payment_intent",
                "amount": int(form["amount"][0]),
                "currency": form["currency"][0],
                "client_secret": "pi_test_123_secret_abc",
                "status": "requires_payment_method",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stripe_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripeApi)
    FakeStripeApi.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(practice: Practice, stripe_api: str) -> Iterator[TestClient]:
    processor = StripeProcessor(
        api_key="sk_test_dentops", webhook_secret=SECRET, tolerance_s=300, api_base=stripe_api
    )
    users.add_user(
        practice.app.uow(),
        SYSTEM,
        username="desk",
        password=PASSWORD,
        role=Role.FRONT_DESK,
        clinic_id=practice.clinic_id,
    )
    with TestClient(create_api(practice.app, processor=processor)) as test_client:
        yield test_client


def signed(payload: bytes, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"}


def succeeded(event_id: str, patient_id: int, amount: int = 4_200) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_test_123",
                    "object": "payment_intent",
                    "amount": amount,
                    "amount_received": amount,
                    "currency": "usd",
                    "metadata": {"patient_id": str(patient_id)},
                }
            },
        }
    ).encode()


def test_a_card_payment_starts_a_stripe_payment_intent(
    client: TestClient, practice: Practice
) -> None:
    token = client.post("/v1/auth/sign-in", json={"username": "desk", "password": PASSWORD}).json()[
        "token"
    ]
    started = client.post(
        "/v1/card-payments",
        json={"patient_id": practice.patient_ids[0], "amount_cents": 4_200, "currency": "USD"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "card-intent-0001"},
    )
    assert started.status_code == 201, started.text
    assert started.json() | {"client_secret": None} == {
        "processor": "stripe",
        "status": "requires_payment_method",
        "payment_id": None,
        "intent_id": "pi_test_123",
        "client_secret": None,
    }
    [call] = FakeStripeApi.received
    assert call["path"] == "/v1/payment_intents"
    assert call["form"]["amount"] == ["4200"] and call["form"]["currency"] == ["usd"]
    assert call["headers"]["Idempotency-Key"] == "card-intent-0001"


def test_a_signed_event_records_the_payment_once(client: TestClient, practice: Practice) -> None:
    payload = succeeded("evt_1", practice.patient_ids[0])
    first = client.post("/v1/webhooks/stripe", content=payload, headers=signed(payload))
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "recorded"
    again = client.post("/v1/webhooks/stripe", content=payload, headers=signed(payload))
    assert again.json() == {"event_id": "evt_1", "outcome": "duplicate", "payment_id": None}
    # another event about the same intent (a retry by Stripe with a new id) adds nothing either
    other = succeeded("evt_2", practice.patient_ids[0])
    replay = client.post("/v1/webhooks/stripe", content=other, headers=signed(other))
    assert replay.json()["payment_id"] == first.json()["payment_id"]
    with practice.app.uow() as uow:
        payments = [
            (p.amount_cents, p.reference) for p in uow.payments.for_patient(practice.patient_ids[0])
        ]
    assert payments == [(4_200, "stripe pi_test_123")]


def test_unverifiable_events_are_refused(client: TestClient, practice: Practice) -> None:
    payload = succeeded("evt_bad", practice.patient_ids[0])
    attempts = {
        "tampered body": (payload.replace(b"4200", b"9999"), signed(payload)),
        "old timestamp": (payload, signed(payload, at=int(time.time()) - 301)),
        "other secret": (payload, signed(payload, secret="whsec_someone_else")),
        "no signature": (payload, {"Content-Type": "application/json"}),
    }
    for name, (sent, headers) in attempts.items():
        refused = client.post("/v1/webhooks/stripe", content=sent, headers=headers)
        assert refused.status_code == 400, name
        assert refused.json()["error"] == "invalid_signature", name
    with practice.app.uow() as uow:
        assert uow.payments.for_patient(practice.patient_ids[0]) == []
