"""A practice with two clinics and a user of every role in each, signed in through the API."""

from __future__ import annotations

import itertools
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core_app.adapters import auth_store
from core_app.adapters.passwords import hash_password
from core_app.api.app import create_api
from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role, StaffUser
from core_app.service_layer import appointments, bootstrap, patients, sessions
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
    slots: dict[str, Iterator[datetime]] = field(default_factory=dict)


@dataclass
class World:
    core: App
    api: FastAPI
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

    def fresh_token(self, username: str) -> str:
        """A new session straight in the database (sign-in itself is tested elsewhere)."""
        token = secrets.token_urlsafe(32)
        with self.core.uow() as uow:
            user = uow.users.by_username(username)
            assert user is not None and user.user_id is not None
            auth_store.add_session(
                uow.session.connection(),
                token_hash=sessions.token_hash(token),
                user_id=user.user_id,
                now=self.clock.now,
                expires_at=self.clock.now + timedelta(hours=1),
            )
            uow.commit()
        return token

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
        if local.weekday() != 6 and 8 <= local.hour < 18:
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
    # one argon2id hash for every user (each hash costs ~0.5 s on a busy 2-core machine)
    shared_hash = hash_password(PASSWORD)
    with core.uow() as uow:
        for key in CLINICS:
            for role in ROLES:
                uow.users.add(
                    StaffUser(
                        username(role, key),
                        role,
                        shared_hash,
                        clinics[key].clinic_id,
                        created_at=clock.now,
                    )
                )
        uow.users.add(StaffUser("admin-all", Role.ADMIN, shared_hash, created_at=clock.now))
        uow.commit()
    for name in [username(r, k) for k in CLINICS for r in sessions.TOTP_REQUIRED] + ["admin-all"]:
        secrets[name] = sessions.enrol_totp(core.uow(), SYSTEM, username=name).secret
    api = create_api(core)
    client = TestClient(api)
    world = World(core, api, client, clock, clinics, {}, secrets)
    for key in CLINICS:
        for role in ROLES:
            world.tokens[f"{role.value}@{key}"] = world.sign_in(username(role, key))
    world.tokens["admin@all"] = world.sign_in("admin-all")
    return world


def scored_appointment(world: World, clinic: str) -> int:
    """A future appointment with a stored no-show score."""
    from core_app.domain.no_show import NoShowScore
    from core_app.service_layer import no_show_scores

    appointment_id = world.appointment(clinic)
    no_show_scores.record_scores(
        world.core.uow(),
        SYSTEM,
        [NoShowScore(appointment_id, 0.42, ("long lead time",), "test-1", world.clock.now)],
    )
    return appointment_id


def payment(world: World, clinic: str, amount_cents: int = 10_000) -> int:
    from core_app.domain.billing import PaymentMethod
    from core_app.service_layer import billing

    return billing.record_payment(
        world.core.uow(),
        SYSTEM,
        patient_id=world.clinics[clinic].patient_ids[0],
        amount_cents=amount_cents,
        currency="USD",
        method=PaymentMethod.CASH,
    )


def request(world: World, clinic: str) -> int:
    from core_app.domain.request import NewRequest, RequestKind
    from core_app.service_layer import open_requests

    ids = world.clinics[clinic]
    return open_requests.add_request(
        world.core.uow(),
        SYSTEM,
        NewRequest(
            clinic_id=ids.clinic_id,
            patient_id=ids.patient_ids[world.unique() % len(ids.patient_ids)],
            kind=RequestKind.WAITLIST,
            procedure_codes=("D0120",),
            earliest_date=date(2030, 1, 8),
            latest_date=date(2030, 3, 30),
        ),
    )


def suggestion(world: World, clinic: str) -> int:
    from core_app.domain.request import SlotSuggestion
    from core_app.service_layer import suggestions

    ids = world.clinics[clinic]
    start = world.slot(clinic, "future")
    [found] = suggestions.record_suggestions(
        world.core.uow(),
        SYSTEM,
        [
            SlotSuggestion(
                request_id=request(world, clinic),
                provider_id=ids.dentist_id,
                chair_id=ids.chair_ids[0],
                start_at=start,
                end_at=start + timedelta(minutes=15),
                score=1.0,
                reasons=("fits the window",),
            )
        ],
    )
    return found


def in_progress(world: World, clinic: str) -> int:
    """A checked-in appointment that has started (its own provider, chair and patient, so
    that any number of them can run at once)."""
    ids = world.clinics[clinic]
    n = world.unique()
    week = parse_weekly_hours("mon-sat 00:00-23:59")
    provider = setup.add_provider(
        world.core.uow(),
        SYSTEM,
        name=f"Dr Now {n}",
        kind=ProviderKind.DENTIST,
        clinic_id=ids.clinic_id,
        hours=week,
    )
    chair = setup.add_chair(world.core.uow(), SYSTEM, clinic_id=ids.clinic_id, name=f"Now {n}")
    patient = patients.add_patient(
        world.core.uow(),
        SYSTEM,
        clinic_id=ids.clinic_id,
        first_name="Ivy",
        last_name=f"Inprogress{n}",
        birth_date=date(1980, 1, 1),
    )
    start = world.clock.now - timedelta(minutes=1)
    appointment_id = appointments.book_appointment(
        world.core.uow(),
        SYSTEM,
        patient_id=patient,
        provider_id=provider,
        chair_id=chair,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        procedure_codes=["D0120"],
        allow_past=True,
    )
    appointments.check_in_appointment(world.core.uow(), SYSTEM, appointment_id)
    return appointment_id
