"""Sign-in with password and TOTP, sessions (idle timeout, absolute lifetime, sign-out), and
the lock after repeated failures. Runs on SQLite and PostgreSQL (the sign-in bookkeeping is
SQL of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from core_app.adapters.passwords import hash_password
from core_app.api.app import create_api
from core_app.domain.staff import SYSTEM, Role, StaffUser
from core_app.service_layer import sessions
from core_app.service_layer.bootstrap import App
from tests.conftest import FrozenClock

PASSWORD = "a-long-password-1"
POLICY = sessions.SessionPolicy(
    idle_timeout_s=600, max_lifetime_s=3600, max_failures=3, failure_window_s=300, lockout_s=900
)


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2id is slow by design


@pytest.fixture
def client(app: App, password_hash: str, clock: FrozenClock) -> Iterator[TestClient]:
    with app.uow() as uow:
        for name, role in [("boss", Role.ADMIN), ("desk", Role.FRONT_DESK), ("mgr", Role.MANAGER)]:
            uow.users.add(StaffUser(name, role, password_hash, created_at=clock.now))
        uow.commit()
    with TestClient(create_api(app, policy=POLICY)) as test_client:
        yield test_client


def sign_in(
    client: TestClient, username: str, code: str | None = None, password: str = PASSWORD
) -> Any:
    body: dict[str, Any] = {"username": username, "password": password}
    if code:
        body["totp_code"] = code
    return client.post("/v1/auth/sign-in", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admins_need_a_totp_code_and_each_code_works_once(
    app: App, client: TestClient, clock: FrozenClock
) -> None:
    assert sign_in(client, "mgr").json()["error"] == "totp_enrolment_required"
    secret = sessions.enrol_totp(app.uow(), SYSTEM, username="boss").secret
    refused = sign_in(client, "boss")
    assert refused.status_code == 401 and refused.json()["error"] == "totp_required"
    code = pyotp.TOTP(secret).at(clock.now)
    wrong = "000000" if code != "000000" else "111111"
    assert sign_in(client, "boss", wrong).status_code == 401
    signed = sign_in(client, "boss", code)
    assert signed.status_code == 201
    assert set(signed.json()["user"]) == {"user_id", "username", "role", "clinic_id"}
    assert sign_in(client, "boss", code).status_code == 401  # a replayed code
    clock.advance(seconds=30)
    assert sign_in(client, "boss", pyotp.TOTP(secret).at(clock.now)).status_code == 201


def test_others_may_enrol_and_then_need_a_code(client: TestClient, clock: FrozenClock) -> None:
    token = sign_in(client, "desk").json()["token"]
    enrolled = client.post("/v1/auth/totp/enrol", headers=bearer(token))
    assert enrolled.status_code == 201
    secret = enrolled.json()["secret"]
    assert sign_in(client, "desk").status_code == 201  # not confirmed yet: still optional
    code = pyotp.TOTP(secret).at(clock.now)
    confirmed = client.post("/v1/auth/totp/confirm", headers=bearer(token), json={"code": code})
    assert confirmed.status_code == 204
    assert sign_in(client, "desk").json()["error"] == "totp_required"
    clock.advance(seconds=30)
    assert sign_in(client, "desk", pyotp.TOTP(secret).at(clock.now)).status_code == 201
    again = client.post("/v1/auth/totp/enrol", headers=bearer(token))
    assert again.status_code == 422  # a confirmed secret is replaced only by an admin


def test_tokens_and_totp_secrets_are_not_stored_in_the_clear(app: App, client: TestClient) -> None:
    token = sign_in(client, "desk").json()["token"]
    secret = client.post("/v1/auth/totp/enrol", headers=bearer(token)).json()["secret"]
    with app.engine.connect() as connection:
        hashes: list[str] = list(
            connection.execute(text("SELECT token_hash FROM api_sessions")).scalars()
        )
        stored: str = connection.execute(text("SELECT secret FROM totp_secrets")).scalar_one()
    assert token not in hashes and sessions.token_hash(token) in hashes
    assert secret not in stored and stored.startswith("v1.")


def test_sessions_end_when_idle_after_their_lifetime_and_on_sign_out(
    client: TestClient, clock: FrozenClock
) -> None:
    token = sign_in(client, "desk").json()["token"]
    assert client.get("/v1/auth/me", headers=bearer(token)).status_code == 200
    clock.advance(seconds=POLICY.idle_timeout_s + 1)
    idle = client.get("/v1/auth/me", headers=bearer(token))
    assert idle.status_code == 401 and idle.json()["error"] == "session_invalid"

    token = sign_in(client, "desk").json()["token"]
    for _ in range(POLICY.max_lifetime_s // 300):  # busy all along, yet the lifetime ends
        clock.advance(seconds=300)
        if client.get("/v1/auth/me", headers=bearer(token)).status_code != 200:
            break
    else:
        pytest.fail("the session outlived its absolute lifetime")
    token = sign_in(client, "desk").json()["token"]
    assert client.post("/v1/auth/sign-out", headers=bearer(token)).status_code == 204
    assert client.get("/v1/auth/me", headers=bearer(token)).status_code == 401
    assert client.get("/v1/auth/me", headers=bearer("made-up-token")).status_code == 401


def test_repeated_failures_lock_the_username_for_a_while(
    app: App, client: TestClient, clock: FrozenClock
) -> None:
    for _ in range(POLICY.max_failures):
        assert sign_in(client, "desk", password="wrong-password-9").status_code == 401
    locked = sign_in(client, "desk")
    assert locked.status_code == 429 and locked.json()["error"] == "account_locked"
    assert int(locked.headers["Retry-After"]) > 0
    with app.uow() as uow:
        actions = [e.action for e in uow.audit_log.recent(limit=20)]
    assert "user.lock" in actions
    clock.advance(seconds=POLICY.lockout_s + 1)
    assert sign_in(client, "desk").status_code == 201
    # a success clears the count: one more failure does not lock again
    assert sign_in(client, "desk", password="wrong-password-9").status_code == 401
    assert sign_in(client, "desk").status_code == 201
