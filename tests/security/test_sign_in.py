"""Person authentication: a password sign-in names the user, refuses alike an unknown user and
a wrong password, and audits every attempt (in the chain)."""

from __future__ import annotations

import pytest

from core_app.domain.exceptions import AuthenticationFailed
from core_app.service_layer import audit_chain, users
from tests.conftest import ADMIN_PASSWORD, Practice
from tests.service_layer.helpers import audit_entries


def test_sign_in_names_the_user_and_refuses_alike_otherwise(practice: Practice) -> None:
    app = practice.app
    actor = users.authenticate(app.uow(), username="admin", password=ADMIN_PASSWORD)
    assert (actor.username, actor.user_id) == ("admin", practice.admin.user_id)

    messages = []
    for username, password in (("admin", "wrong-password-123"), ("nobody", ADMIN_PASSWORD)):
        with pytest.raises(AuthenticationFailed) as refused:
            users.authenticate(app.uow(), username=username, password=password)
        messages.append(str(refused.value))

    assert messages[0] == messages[1] == "unknown user or wrong password"
    attempts = [
        (e.actor_username, e.outcome) for e in audit_entries(app) if e.action == "user.sign_in"
    ]
    assert attempts == [("admin", "success"), ("admin", "denied"), ("nobody", "denied")]
    assert audit_chain.verify_chain(app.uow(), practice.admin).ok
