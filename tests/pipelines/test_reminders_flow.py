"""The reminder dispatcher as a Prefect flow and deployment: every five minutes, one run at a
time; the task sends what is due through the core's services (real clock, real database, the
demo's file channel)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import appointments, bootstrap, patients, reminders, users
from core_app.service_layer import practice as setup
from pipelines import deployments
from pipelines.reminders import dispatch_reminders, send_due


def test_the_reminders_deployment_runs_every_five_minutes_one_at_a_time() -> None:
    made = {d.name: d for d in deployments.deployments("America/New_York")}
    schedule = (made["reminders"].schedules or [])[0].schedule
    assert schedule.cron == deployments.REMINDERS_CRON == "*/5 * * * *"  # type: ignore[union-attr]
    assert made["reminders"].concurrency_limit == 1
    assert dispatch_reminders.name == "dispatch_reminders"


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone in which `now` is around noon, so that the quiet hours never get in
    the way of a test that runs on the real clock."""
    offset = 12 - now.hour  # Etc/GMT names have the sign reversed
    offset = max(-12, min(14, offset))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@pytest.fixture
def due_practice(
    tmp_path: Path, key_file: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, int]:
    shutil.copy(sqlite_template, tmp_path / "dentops.db")
    for name in ("SMTP_HOST", "SMS_BASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(f"DENTOPS_{name}", raising=False)
    monkeypatch.setenv("DENTOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DENTOPS_KEY_FILE", str(key_file))
    settings = Settings()
    app = bootstrap.connect(settings)
    try:
        users.add_user(app.uow(), SYSTEM, username="admin", password="x" * 16, role=Role.ADMIN)
        admin = users.actor_for(app.uow(), "admin")
        week = parse_weekly_hours("mon-sun 00:00-23:59")
        now = datetime.now(UTC)
        clinic = setup.create_clinic(
            app.uow(),
            admin,
            name="Noon Clinic",
            timezone=midday_zone(now),
            currency="USD",
            country="US",
            hours=week,
        )
        dentist = setup.add_provider(
            app.uow(), admin, name="Dr Ada", kind=ProviderKind.DENTIST, clinic_id=clinic, hours=week
        )
        chair = setup.add_chair(app.uow(), admin, clinic_id=clinic, name="Op 1")
        patient = patients.add_patient(
            app.uow(),
            admin,
            clinic_id=clinic,
            first_name="Alma",
            last_name="Testpatient",
            birth_date=date(1970, 3, 14),
            phone="+1 555 0100",
        )
        start = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
        appointment = appointments.book_appointment(
            app.uow(),
            admin,
            patient_id=patient,
            provider_id=dentist,
            chair_id=chair,
            start_at=start,
            procedure_codes=["D1110"],
        )
        reminders.send_extra_reminder(app.uow(), admin, appointment)
    finally:
        app.close()
    return settings, appointment


def test_the_flow_task_sends_what_is_due_through_the_file_channel(
    due_practice: tuple[Settings, int],
) -> None:
    settings, appointment = due_practice
    report = send_due(Settings())
    assert (report["claimed"], report["sent"]) == (1, 1)
    (line,) = settings.reminder_outbox_file.read_text().splitlines()
    message = json.loads(line)
    assert message["to"] == "+1 555 0100" and message["channel"] == "sms"
    assert message["text"].startswith("Hello Alma, this is a reminder of your appointment at")
    assert "Testpatient" not in line
    again = send_due(Settings())
    assert again["claimed"] == 0
    assert len(settings.reminder_outbox_file.read_text().splitlines()) == 1
    del appointment
