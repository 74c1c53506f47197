"""A practice with two clinics and a user of every role in each, signed in through the API."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from fastapi.testclient import TestClient

from core_app.api.app import create_api
from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import appointments, bootstrap, patients, sessions, users
from core_app.service_layer import practice as setup
from core_app.service_layer.bootstrap import App
from tests.conftest import MONDAY_8AM, TZ, FrozenClock

PASSWORD = "correct-horse-battery"
CLINICS = ("a", "b")
ROLES = tuple(Role)


@dataclass
class ClinicIds:
    clinic_id: int
    dentist_id: int
    hygienist_id: int
    chair_ids: list[int]
    patient_ids: list[int]
    #: next free quarter-hour per timeline ("today", "future", "past")
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    core: App
    client: TestClient
    clock: FrozenClock
    clinics: dict[str, ClinicIds]
    tokens: dict[str, str]  # "<role>@<clinic>" (or "admin@all") -> session token
    totp_secrets: dict[str, str]  # username -> secret
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def headers(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}

    def unique(self) -> int:
        return next(self.counter)

    def slot(self, clinic: str, timeline: str) -> datetime:
        """A quarter-hour no other test appointment of this clinic uses (mon-sat 08-18)."""
        ids = self.clinics[clinic]
        if timeline not in ids.slots:
            base = MONDAY_8AM + {"today": timedelta(minutes=15), "future": timedelta(days=1)}.get(
                timeline, timedelta(days=-1)
            )
            step = timedelta(minutes=-15 if timeline == "past" else 15)
            ids.slots[timeline] = _quarters(base, step)
        return next(ids.slots[timeline])

    def appointment(self, clinic: str, timeline: str = "future") -> int:
        """A booked appointment (past ones booked as an import would)."""
        ids = self.clinics[clinic]
        start = self.slot(clinic, timeline)
        return appointments.book_appointment(
            self.core.uow(),
            SYSTEM,
            patient_id=ids.patient_ids[self.unique() % len(ids.patient_ids)],
            provider_id=ids.dentist_id,
            chair_id=ids.chair_ids[0],
            start_at=start,
            procedure_codes=["D0120"],
            allow_past=timeline == "past",
        )

    def sign_in(self, username: str) -> str:
        """A fresh session (the clock moves on a TOTP step so that the code is new)."""
        self.clock.advance(seconds=30)
        secret = self.totp_secrets.get(username)
        code = pyotp.TOTP(secret).at(self.clock.now) if secret else None
        response = self.client.post(
            "/v1/auth/sign-in",
            json={"username": username, "password": PASSWORD}
            | ({"totp_code": code} if code else {}),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


def _quarters(start: datetime, step: timedelta) -> Any:
    moment = start
    while True:
        local = moment.astimezone(TZ)
        if local.weekday() != 6 and 8 <= local.hour < 18 and local.minute + 15 <= 60:
            if local.hour < 17 or local.minute <= 45:
                yield moment
        moment += step


def username(role: Role, clinic: str) -> str:
    return f"{role.value.replace('_', '-')}-{clinic}"


def build_world(template: Path, key_file: Path, folder: Path, **settings: Any) -> World:
    shutil.copy(template, folder / "dentops.db")
    clock = FrozenClock(MONDAY_8AM)
    config = Settings(data_dir=folder, key_file=key_file, **settings)
    core = bootstrap.connect(config, clock=clock)
    week = parse_weekly_hours("mon-sat 08:00-18:00")
    clinics: dict[str, ClinicIds] = {}
    secrets: dict[str, str] = {}
    for n, key in enumerate(CLINICS):
        clinic_id = setup.create_clinic(
            core.uow(),
            SYSTEM,
            name=f"Clinic {key.upper()}",
            timezone="America/New_York",
            currency="USD",
            country="US",
            hours=week,
        )
        dentist = setup.add_provider(
            core.uow(),
            SYSTEM,
            name="Dr Ada",
            kind=ProviderKind.DENTIST,
            clinic_id=clinic_id,
            hours=week,
        )
        hygienist = setup.add_provider(
            core.uow(),
            SYSTEM,
            name="Hy Cy",
            kind=ProviderKind.HYGIENIST,
            clinic_id=clinic_id,
            hours=week,
        )
        chairs = [
            setup.add_chair(core.uow(), SYSTEM, clinic_id=clinic_id, name=f"Op {c}") for c in (1, 2)
        ]
        patient_ids = [
            patients.add_patient(
                core.uow(),
                SYSTEM,
                clinic_id=clinic_id,
                first_name=first,
                last_name=f"Worldpatient{key}",
                birth_date=date(1970 + i, 5, 1 + n),
                phone="+1 555 0100",
                email=f"{first.lower()}.{key}@example.org",
            )
            for i, first in enumerate(["Alma", "Ben", "Cleo"])
        ]
        clinics[key] = ClinicIds(clinic_id, dentist, hygienist, chairs, patient_ids)
        for role in ROLES:
            users.add_user(
                core.uow(),
                SYSTEM,
                username=username(role, key),
                password=PASSWORD,
                role=role,
                clinic_id=clinic_id,
            )
    users.add_user(core.uow(), SYSTEM, username="admin-all", password=PASSWORD, role=Role.ADMIN)
    for name in [username(r, k) for k in CLINICS for r in sessions.TOTP_REQUIRED] + ["admin-all"]:
        secrets[name] = sessions.enrol_totp(core.uow(), SYSTEM, username=name).secret
    client = TestClient(create_api(core))
    world = World(core, client, clock, clinics, {}, secrets)
    for key in CLINICS:
        for role in ROLES:
            world.tokens[f"{role.value}@{key}"] = world.sign_in(username(role, key))
    world.tokens["admin@all"] = world.sign_in("admin-all")
    return world
