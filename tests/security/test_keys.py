"""Key rotation: every encrypted value moves to the new key in audited batches; an interrupted
or raced rotation is finished by `--resume`; a key is retired only when nothing uses it."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_app.adapters.crypto import install_keyring, load_key_file
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError
from core_app.service_layer import bootstrap, break_glass, keys, patients
from core_app.service_layer.bootstrap import App
from tests.conftest import FrozenClock, Practice
from tests.service_layer.helpers import audit_entries

PATIENT_COLUMNS = {
    f"patients.{c}" for c in ("first_name", "last_name", "birth_date", "phone", "email", "notes")
}


@pytest.fixture
def own_keys(settings: Settings, tmp_path: Path, clock: FrozenClock) -> Iterator[App]:
    """An app with a private copy of the session's key file (rotation rewrites it)."""
    key_file = tmp_path / "own-keys.json"
    shutil.copy(settings.key_file, key_file)
    key_file.chmod(0o600)
    app = bootstrap.connect(settings.model_copy(update={"key_file": key_file}), clock=clock)
    yield app
    app.close()
    install_keyring(load_key_file(settings.key_file))  # the session's ring for later tests


@pytest.fixture
def keyed_practice(practice: Practice, own_keys: App) -> Practice:
    practice.app.close()
    practice.app = own_keys
    break_glass.open_grant(
        own_keys.uow(), practice.admin, reason="a reason that gets encrypted", minutes=5
    )
    return practice


def readable(app: App, practice: Practice) -> list[tuple[str, str, str | None]]:
    return [
        (p.first_name, p.last_name, p.email)
        for p in (patients.get_patient(app.uow(), practice.admin, i) for i in practice.patient_ids)
    ]


def test_rotation_moves_every_value_to_the_new_key(keyed_practice: Practice) -> None:
    app, admin = keyed_practice.app, keyed_practice.admin
    old = app.keyring.active_key_id
    before = readable(app, keyed_practice)
    status = keys.status(app, admin)
    assert set(status.values) == PATIENT_COLUMNS | {
        "break_glass_grants.reason",
        "break_glass_grants.review_note",
        "totp_secrets.secret",  # the API's second factor
    }
    assert status.uses(old) == 4 * 5 + 1  # 4 patients x 5 set fields, 1 reason

    report = keys.rotate(app, admin, batch=3)

    new = report.active_key_id
    assert new != old and report.previous_key_id == old
    assert report.rows_reencrypted == {"patients": 4, "break_glass_grants": 1, "totp_secrets": 0}
    assert report.batches == 3  # 3 + 1 patients, 1 grant
    ring = load_key_file(app.settings.key_file)
    assert ring.active_key_id == new and set(ring.encryption_keys) == {old, new}
    assert stat.S_IMODE(app.settings.key_file.stat().st_mode) == 0o600
    after = keys.status(app, admin)
    assert after.uses(old) == 0 and after.uses(new) == status.uses(old)
    assert readable(app, keyed_practice) == before
    batches = [e for e in audit_entries(app) if e.action == "keys.reencrypt"]
    assert [e.detail for e in batches][:2] == [
        f"3 rows, ids 1..3, to key {new}",
        f"1 rows, ids 4..4, to key {new}",
    ]
    # nothing left to do: a second pass writes nothing
    assert keys.rotate(app, admin, resume=True).rows_reencrypted == {
        "patients": 0,
        "break_glass_grants": 0,
        "totp_secrets": 0,
    }


def test_a_key_still_in_use_is_not_retired(keyed_practice: Practice) -> None:
    app, admin = keyed_practice.app, keyed_practice.admin
    old_ring = app.keyring
    keys.rotate(app, admin)
    # a process that started before the rotation still writes with the old key
    install_keyring(old_ring)
    late = patients.add_patient(
        app.uow(),
        admin,
        clinic_id=keyed_practice.clinic_id,
        first_name="Late",
        last_name="Writer",
        birth_date=keyed_practice.app.clock().date().replace(year=1990),
    )
    install_keyring(app.keyring)

    with pytest.raises(ValidationError, match=r"still encrypts 3 values.*--resume"):
        keys.retire(app, admin, old_ring.active_key_id)
    with pytest.raises(ValidationError, match="active key"):
        keys.retire(app, admin, app.keyring.active_key_id)

    keys.rotate(app, admin, resume=True)
    status = keys.retire(app, admin, old_ring.active_key_id)

    assert status.key_ids == [app.keyring.active_key_id]
    assert status.uses(old_ring.active_key_id) == 0
    assert [e.action for e in audit_entries(app)][-2:] == ["keys.retire", "keys.status"]
    assert patients.get_patient(app.uow(), admin, late).first_name == "Late"


def test_only_admins_rotate_and_the_refusal_is_audited(keyed_practice: Practice) -> None:
    from core_app.domain.exceptions import PermissionDenied
    from core_app.domain.staff import Role
    from tests.service_layer.helpers import add_staff

    manager = add_staff(keyed_practice, "manager", Role.MANAGER)
    before = load_key_file(keyed_practice.app.settings.key_file)
    with pytest.raises(PermissionDenied):
        keys.rotate(keyed_practice.app, manager)
    assert load_key_file(keyed_practice.app.settings.key_file) == before
    last = audit_entries(keyed_practice.app)[-1]
    assert (last.action, last.outcome, last.actor_username) == ("keys.rotate", "denied", "manager")
