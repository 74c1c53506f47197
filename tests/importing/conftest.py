"""Import tests create staff users: hash their passwords with a cheap argon2 profile (as the
service tests do; see tests/service_layer/conftest.py)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core_app.service_layer import users

_cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hash_password", _cheap.hash)
