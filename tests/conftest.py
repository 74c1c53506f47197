"""Shared fixtures: a migrated operational database on SQLite and on a real PostgreSQL server.

`app` runs each test against both backends. PostgreSQL comes from DENTOPS_TEST_POSTGRES_URL,
which `make test` sets (scripts/with-postgres.sh starts a throwaway server); without it the
PostgreSQL cases are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core_app.adapters import migrate
from core_app.adapters.crypto import create_key_file
from core_app.adapters.orm import metadata
from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Actor, Role
from core_app.service_layer import bootstrap, patients, users
from core_app.service_layer import practice as setup
from core_app.service_layer.bootstrap import App

PG_URL_VAR = "DENTOPS_TEST_POSTGRES_URL"
TZ = ZoneInfo("America/New_York")
#: Monday 2030-01-07, 08:00 in New York: the frozen "now" of service tests
MONDAY_8AM = datetime(2030, 1, 7, 8, 0, tzinfo=TZ)
ADMIN_PASSWORD = "admin-password-123"


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_local(self, day_offset: int, hhmm: str) -> None:
        self.now = local(day_offset, hhmm)


def local(day_offset: int, hhmm: str) -> datetime:
    """Clinic local time `hhmm` on the day `day_offset` days after Monday 2030-01-07, as UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    day = MONDAY_8AM.date() + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=TZ).astimezone(UTC)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    create_key_file(path)
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time is slower)."""
    folder = tmp_path_factory.mktemp("template")
    settings = Settings(data_dir=folder, key_file=key_file)
    app = bootstrap.connect(settings)
    migrate.upgrade(app.engine)
    app.close()
    return folder / "dentops.db"


def postgres_url() -> str | None:
    url = os.environ.get(PG_URL_VAR)
    if not url and os.environ.get("CI"):
        pytest.fail(f"{PG_URL_VAR} is not set: run the suite through `make test`")
    return url


@pytest.fixture(scope="session")
def postgres_migrated(key_file: Path) -> str:
    url = postgres_url()
    if not url:
        pytest.skip(f"{PG_URL_VAR} not set (make test starts a PostgreSQL server)")
    app = bootstrap.connect(Settings(database_url=url, key_file=key_file))
    with app.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(app.engine)
    app.close()
    return url


def truncate_all(app: App) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with app.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_settings(
    backend: str, tmp_path: Path, key_file: Path, request: pytest.FixtureRequest
) -> Settings:
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "dentops.db")
        return Settings(data_dir=tmp_path, key_file=key_file)
    url = request.getfixturevalue("postgres_migrated")
    return Settings(data_dir=tmp_path, key_file=key_file, database_url=url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, key_file: Path, request: pytest.FixtureRequest
) -> Settings:
    return make_settings(backend, tmp_path, key_file, request)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_8AM)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[App]:
    application = bootstrap.connect(settings, clock=clock)
    if application.backend == "postgresql":
        truncate_all(application)
    yield application
    application.close()


@dataclass
class Practice:
    """A small clinic: open mon-sat 08:00-18:00, two dentists, a hygienist, three chairs."""

    app: App
    admin: Actor
    clinic_id: int
    dentist_id: int
    dentist2_id: int
    hygienist_id: int
    chair_ids: list[int]
    patient_ids: list[int]


@pytest.fixture
def practice(app: App) -> Practice:
    users.add_user(app.uow(), SYSTEM, username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN)
    admin = users.actor_for(app.uow(), "admin")
    week = parse_weekly_hours("mon-sat 08:00-18:00")
    clinic_id = setup.create_clinic(
        app.uow(),
        admin,
        name="Main Street",
        timezone="America/New_York",
        currency="USD",
        country="US",
        hours=week,
    )
    dentist = setup.add_provider(
        app.uow(), admin, name="Dr Ada", kind=ProviderKind.DENTIST, clinic_id=clinic_id, hours=week
    )
    dentist2 = setup.add_provider(
        app.uow(),
        admin,
        name="Dr Bo",
        kind=ProviderKind.DENTIST,
        clinic_id=clinic_id,
        hours=parse_weekly_hours("mon-fri 08:00-16:00"),
    )
    hygienist = setup.add_provider(
        app.uow(), admin, name="Hy Cy", kind=ProviderKind.HYGIENIST, clinic_id=clinic_id, hours=week
    )
    chairs = [
        setup.add_chair(app.uow(), admin, clinic_id=clinic_id, name=f"Op {n}") for n in (1, 2, 3)
    ]
    patient_ids = [
        patients.add_patient(
            app.uow(),
            admin,
            clinic_id=clinic_id,
            first_name=first,
            last_name="Testpatient",
            birth_date=date(1970 + n * 7, 3, 14),
            phone="+1 555 0100",
            email=f"{first.lower()}@example.org",
        )
        for n, first in enumerate(["Alma", "Ben", "Cleo", "Dev"])
    ]
    return Practice(app, admin, clinic_id, dentist, dentist2, hygienist, chairs, patient_ids)
