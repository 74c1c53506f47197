"""The dispatcher against real channels on loopback: email through an SMTP server (aiosmtpd),
text messages through a Twilio-style HTTP provider. Each due reminder is delivered exactly once
with two dispatchers at once and after a dispatcher is killed mid-batch; failures are retried
with exponential backoff; messages carry a first name, the time and the clinic, nothing more."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from core_app.adapters.channels.file import FileChannel
from core_app.adapters.channels.sms import HttpSmsChannel
from core_app.adapters.channels.smtp import SmtpChannel
from core_app.config import Settings
from core_app.domain.patient import ContactPreference
from core_app.domain.reminder import Channel, ReminderChannel
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import bootstrap, patients, reminders
from core_app.service_layer.dispatch import UNKNOWN_GIVEN_UP, DispatchOptions, dispatch_due
from tests.conftest import FrozenClock, Practice
from tests.service_layer.channel_servers import (
    MailBox,
    SmsProvider,
    basic_auth,
    sms_provider,
    smtp_server,
)
from tests.service_layer.helpers import add_staff, book

ROOT = Path(__file__).resolve().parents[2]
SENDER = "reminders@dentops.test"


@pytest.fixture
def mail() -> tuple[MailBox, int]:
    with smtp_server() as server:
        yield server


def email_patient(practice: Practice) -> int:
    return patients.add_patient(
        practice.app.uow(),
        practice.admin,
        clinic_id=practice.clinic_id,
        first_name="Erin",
        last_name="Privatesurname",
        birth_date=date(1984, 2, 29),
        phone="+1 555 0199",
        email="erin@example.org",
        contact_preference=ContactPreference.EMAIL,
    )


def due_email_reminders(practice: Practice, clock: FrozenClock, extras: int) -> list[int]:
    """An email patient's appointment today 15:00 and `extras` front-desk reminders due at
    10:00, plus the appointment's standard 2 h one (13:00): the clock ends at 13:00."""
    practice.patient_ids.append(email_patient(practice))
    appointment = book(practice, 0, "15:00", patient=len(practice.patient_ids) - 1)
    front = add_staff(practice, "fran", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    clock.set_local(0, "10:00")
    for _ in range(extras):
        reminders.send_extra_reminder(practice.app.uow(), front, appointment)
    clock.set_local(0, "13:00")
    history = reminders.reminder_history(practice.app.uow(), practice.admin, appointment)
    return [v.reminder_id for v in history]


def smtp(port: int) -> SmtpChannel:
    return SmtpChannel(host="127.0.0.1", port=port, sender=SENDER, timeout_s=5)


def channels(email: ReminderChannel, sms: ReminderChannel) -> dict[Channel, ReminderChannel]:
    return {Channel.EMAIL: email, Channel.SMS: sms}


def statuses(practice: Practice, appointment_reminders: list[int]) -> dict[int, str]:
    appointment = practice.app.uow()
    with appointment as uow:
        rows = uow.session.execute(
            __import__("sqlalchemy").text("SELECT reminder_id, status FROM reminders")
        ).all()
    return {r: s for r, s in rows if r in appointment_reminders}


def test_email_reminder_arrives_with_first_name_time_and_clinic_only(
    practice: Practice, clock: FrozenClock, mail: tuple[MailBox, int], tmp_path: Path
) -> None:
    box, port = mail
    (reminder_id,) = due_email_reminders(practice, clock, extras=0)
    report = dispatch_due(
        practice.app.uow(), SYSTEM, channels(smtp(port), FileChannel(tmp_path / "x.jsonl"))
    )
    assert (report.claimed, report.sent) == (1, 1)
    (message,) = box.messages
    assert message["To"] == "erin@example.org"
    assert message["Message-ID"] == f"<dentops-reminder-{reminder_id}@dentops.test>"
    body = message.get_payload(decode=True).decode()
    assert "Hello Erin" in body and "Main Street" in body and "Mon 7 Jan 2030 at 15:00" in body
    whole = message.as_string()
    for private in ("Privatesurname", "1984", "02-29", "555", "0199", "Testpatient"):
        assert private not in whole
    (view,) = reminders.reminder_history(practice.app.uow(), practice.admin, 1)
    assert (view.status, view.attempts, view.sent_at) == ("sent", 1, clock.now)
    again = dispatch_due(practice.app.uow(), SYSTEM, channels(smtp(port), smtp(port)))
    assert (again.claimed, len(box.messages)) == (0, 1)


def test_two_dispatchers_at_once_deliver_each_reminder_exactly_once(
    practice: Practice, clock: FrozenClock, mail: tuple[MailBox, int], settings: Settings
) -> None:
    box, port = mail
    ids = due_email_reminders(practice, clock, extras=24)
    reports = []
    start = threading.Barrier(2)

    def run() -> None:
        app = bootstrap.connect(settings, clock=clock)
        try:
            start.wait()
            reports.append(
                dispatch_due(
                    app.uow(),
                    SYSTEM,
                    channels(smtp(port), smtp(port)),
                    options=DispatchOptions(batch_size=3),
                )
            )
        finally:
            app.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(reports) == 2
    assert box.ids() == {f"dentops-reminder-{i}": 1 for i in ids}
    assert sorted(reports[0].sent_ids + reports[1].sent_ids) == sorted(ids)
    assert all(r.sent > 0 for r in reports)  # both took part
    assert set(statuses(practice, ids).values()) == {"sent"}


def test_a_dispatcher_killed_mid_batch_and_rerun_delivers_each_reminder_once(
    practice: Practice,
    clock: FrozenClock,
    mail: tuple[MailBox, int],
    settings: Settings,
    tmp_path: Path,
) -> None:
    box, port = mail
    ids = due_email_reminders(practice, clock, extras=5)
    box.hold_at = 3  # the 3rd message arrives, but the server does not answer yet
    env = {
        **os.environ,
        "DENTOPS_DATA_DIR": str(settings.data_dir),
        "DENTOPS_KEY_FILE": str(settings.key_file),
        "DENTOPS_DATABASE_URL": settings.database_url,
        "DENTOPS_SMTP_HOST": "127.0.0.1",
        "DENTOPS_SMTP_PORT": str(port),
        "DENTOPS_SMTP_FROM": SENDER,
    }
    errors = tmp_path / "child-stderr.txt"
    with errors.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.service_layer.dispatch_child", clock.now.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + 180
        while len(box.messages) < 3 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(box.messages) == 3, errors.read_text()
        os.kill(child.pid, signal.SIGKILL)  # after sending two, while handing over the third
        assert child.wait(timeout=30) == -signal.SIGKILL
    box.release.set()
    killed_at = dict(statuses(practice, ids))
    assert sorted(killed_at.values()).count("sent") == 2
    assert list(killed_at.values()).count("sending") == 1

    rerun = dispatch_due(practice.app.uow(), SYSTEM, channels(smtp(port), smtp(port)))
    assert (rerun.claimed, rerun.sent) == (0, 0)  # the dead dispatcher's lease still holds
    clock.advance(minutes=6)  # its lease (5 min) has ended
    rerun = dispatch_due(practice.app.uow(), SYSTEM, channels(smtp(port), smtp(port)))
    assert rerun.given_up_unknown == 1 and rerun.sent == len(ids) - 3
    assert box.ids() == {f"dentops-reminder-{i}": 1 for i in ids}
    after = statuses(practice, ids)
    (unknown,) = [i for i, s in after.items() if s == "failed"]
    assert killed_at[unknown] == "sending"
    view = {v.reminder_id: v for v in reminders.reminder_history(practice.app.uow(), SYSTEM, 1)}[
        unknown
    ]
    assert view.last_error == UNKNOWN_GIVEN_UP


def sms(base_url: str, timeout_s: float = 5) -> HttpSmsChannel:
    return HttpSmsChannel(
        base_url=base_url,
        account_sid="AC123",
        auth_token="secret-token",
        sender="+15550000",
        timeout_s=timeout_s,
    )


def test_sms_failures_are_retried_with_backoff_then_sent(
    practice: Practice, clock: FrozenClock, tmp_path: Path
) -> None:
    appointment = book(practice, 0, "15:00")  # Alma prefers text messages
    clock.set_local(0, "13:00")
    provider = SmsProvider(script={1: 500, 2: "stall"}, stall_s=1.5)
    options = DispatchOptions(backoff=timedelta(minutes=1))
    with sms_provider(provider) as url:
        routes = channels(FileChannel(tmp_path / "unused.jsonl"), sms(url, timeout_s=0.5))

        def dispatch() -> tuple[int, int, int]:
            r = dispatch_due(practice.app.uow(), SYSTEM, routes, options=options)
            return r.claimed, r.retried, r.sent

        def view():  # type: ignore[no-untyped-def]
            (only,) = reminders.reminder_history(practice.app.uow(), SYSTEM, appointment)
            return only

        assert dispatch() == (1, 1, 0)
        assert (view().status, view().attempts, view().last_error) == (
            "pending",
            1,
            "sms provider: HTTP 500",
        )
        assert dispatch() == (0, 0, 0)  # not before its retry time
        clock.advance(minutes=1)
        assert dispatch() == (1, 1, 0)  # stalled past the client's timeout
        assert (view().attempts, view().last_error) == (2, "sms provider: timed out")
        clock.advance(minutes=1)
        assert dispatch() == (0, 0, 0)  # the second wait is twice as long
        clock.advance(minutes=1)
        assert dispatch() == (1, 0, 1)
        assert (view().status, view().attempts, view().sent_at) == ("sent", 3, clock.now)
    assert len(provider.requests) == 3
    keys = {r["key"] for r in provider.requests}
    assert keys == {f"dentops-reminder-{view().reminder_id}"}
    first = provider.requests[0]
    assert first["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert first["authorization"] == basic_auth("AC123", "secret-token")
    assert first["form"]["To"] == "+1 555 0100" and first["form"]["From"] == "+15550000"
    assert "Hello Alma" in first["form"]["Body"] and "Testpatient" not in first["form"]["Body"]


def test_refused_or_exhausted_sms_fails_and_is_not_retried(
    practice: Practice, clock: FrozenClock, tmp_path: Path
) -> None:
    first = book(practice, 0, "15:00")
    second = book(practice, 0, "14:30", patient=1, chair=1, provider_id=practice.dentist2_id)
    clock.set_local(0, "14:00")
    provider = SmsProvider(script={1: 400, 2: 503, 3: 503})
    options = DispatchOptions(max_attempts=2, backoff=timedelta(minutes=1))
    with sms_provider(provider) as url:
        routes = channels(FileChannel(tmp_path / "unused.jsonl"), sms(url))
        report = dispatch_due(practice.app.uow(), SYSTEM, routes, options=options)
        assert (report.failed, report.retried) == (1, 1)
        clock.advance(minutes=1)
        report = dispatch_due(practice.app.uow(), SYSTEM, routes, options=options)
        assert report.failed == 1
    views = [reminders.reminder_history(practice.app.uow(), SYSTEM, a)[0] for a in (first, second)]
    # the second appointment's reminder (12:30) was due first: refused for good (400); the
    # first's (13:00) failed twice with 503 and then had used its two attempts
    assert [(v.status, v.attempts, v.last_error) for v in views] == [
        ("failed", 2, "sms provider: HTTP 503"),
        ("failed", 1, "sms provider: HTTP 400"),
    ]


def test_reminders_of_a_cancelled_appointment_are_not_sent(
    practice: Practice, clock: FrozenClock, tmp_path: Path
) -> None:
    from core_app.service_layer import appointments

    appointment = book(practice, 0, "15:00")
    clock.set_local(0, "13:00")
    appointments.cancel_appointment(practice.app.uow(), practice.admin, appointment, reason="x")
    outbox = tmp_path / "outbox.jsonl"
    file = FileChannel(outbox)
    report = dispatch_due(practice.app.uow(), SYSTEM, channels(file, file))
    assert report.claimed == 0 and not outbox.exists()
