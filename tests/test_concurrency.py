"""Races: many bookings of one slot through the real CLI, twin payments, over-refunds.

Each test runs on SQLite and PostgreSQL (the `backend`/`settings` fixtures of conftest). The
CLI races spawn 50 `dentops` processes that first pay their import cost, then wait on a shared
start line (the read end of a pipe); closing the write end releases all of them at once, so
every booking overlaps every other one. The CLI uses the system clock, so its clinic is built
with the system clock too and the slot lies in the real future (next week's Tuesday 10:00).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from core_app.adapters import orm
from core_app.config import Settings
from core_app.domain.appointment import ACTIVE_STATUSES
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import RefundExceedsPayment
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Actor, Role
from core_app.service_layer import billing, bootstrap, patients, users
from core_app.service_layer import practice as setup
from core_app.service_layer.bootstrap import App
from tests.conftest import ADMIN_PASSWORD, Practice, truncate_all

T = TypeVar("T")

RACERS = 50
#: the provider race repeats the chair race's mechanism on the other resource; fewer racers
#: keep the suite's run time in budget (each racer costs about a second of CPU to start)
PROVIDER_RACERS = 12
TWINS = 20
CLINIC_TZ = "America/New_York"
#: the CLI clinic is open every day, so that "next week's Tuesday" is always bookable
OPEN_EVERY_DAY = "mon-sun 07:00-20:00"
#: a 15-minute periodic evaluation, dentists only
PROCEDURE = "D0120"
PROCEDURE_MIN = 15
#: generous: on two cores 50 processes need about 1.5 min just to import the CLI
RACE_TIMEOUT_S = 600.0

#: Run by each racer: import the CLI, report ready, block until the start line opens (EOF on
#: the go pipe), then run the installed `dentops` console script with the remaining arguments.
_START_LINE = """\
import os, runpy, sys
import core_app.cli.main
ready_fd, go_fd, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.write(ready_fd, b"r")
os.close(ready_fd)
os.read(go_fd, 1)
os.close(go_fd)
sys.argv = [script, *sys.argv[4:]]
runpy.run_path(script, run_name="__main__")
"""


def dentops_script() -> Path:
    beside_python = Path(sys.executable).parent / "dentops"
    if beside_python.exists():
        return beside_python
    found = shutil.which("dentops")
    if found is None:
        pytest.fail("the dentops console script is not installed (run `make venv`)")
    return Path(found)


# --- the CLI clinic, on the system clock ---------------------------------------------------


@dataclass
class LiveClinic:
    """A clinic on the system clock, open every day, with 2 dentists, 2 chairs, 50 patients."""

    app: App
    admin: Actor
    env: dict[str, str]
    clinic_id: int
    dentist_ids: list[int]
    chair_ids: list[int]
    patient_ids: list[int]
    slot_start: datetime  # clinic local: next week's Tuesday 10:00


def next_weeks_tuesday(zone: ZoneInfo, hhmm: clock_time) -> datetime:
    today = datetime.now(zone).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(next_monday + timedelta(days=1), hhmm, tzinfo=zone)


def first_bookable_day(app: App, clinic_id: int, provider_ids: list[int]) -> datetime:
    """Next week's Tuesday 10:00, or the first later day at 10:00 the clinic itself calls open
    (should closed days such as public holidays ever count in `is_open`)."""
    first = next_weeks_tuesday(ZoneInfo(CLINIC_TZ), clock_time(10, 0))
    with app.uow() as uow:
        clinic = uow.clinics.get(clinic_id)
        providers = [p for p in map(uow.providers.get, provider_ids) if p is not None]
        assert clinic is not None and len(providers) == len(provider_ids)
        for offset in range(14):
            start = first + timedelta(days=offset)  # wall-clock arithmetic: 10:00 local
            end = start + timedelta(minutes=PROCEDURE_MIN)
            if clinic.is_open(start, end) and all(p.works(clinic, start, end) for p in providers):
                return start
    pytest.fail("the race clinic is closed for two weeks from next Tuesday")


def cli_env(settings: Settings, actor: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTOPS_")}
    env.update(
        DENTOPS_DATA_DIR=str(settings.data_dir),
        DENTOPS_DATABASE_URL=settings.database_url,
        DENTOPS_KEY_FILE=str(settings.key_file),
        DENTOPS_ACTOR=actor,
    )
    return env


@pytest.fixture
def live_clinic(settings: Settings) -> Iterator[LiveClinic]:
    application = bootstrap.connect(settings)  # the system clock, as in the CLI processes
    if application.backend == "postgresql":
        truncate_all(application)
    try:
        users.add_user(
            application.uow(), SYSTEM, username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN
        )
        admin = users.actor_for(application.uow(), "admin")
        week = parse_weekly_hours(OPEN_EVERY_DAY)
        clinic_id = setup.create_clinic(
            application.uow(),
            admin,
            name="Race Street",
            timezone=CLINIC_TZ,
            currency="USD",
            country="US",
            hours=week,
        )
        dentists = [
            setup.add_provider(
                application.uow(),
                admin,
                name=f"Dr Race {n}",
                kind=ProviderKind.DENTIST,
                clinic_id=clinic_id,
                hours=week,
            )
            for n in (1, 2)
        ]
        chairs = [
            setup.add_chair(application.uow(), admin, clinic_id=clinic_id, name=f"Op {n}")
            for n in (1, 2)
        ]
        patient_ids = [
            patients.add_patient(
                application.uow(),
                admin,
                clinic_id=clinic_id,
                first_name=f"Racer{n:02d}",
                last_name="Concurrent",
                birth_date=date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            )
            for n in range(RACERS)
        ]
        yield LiveClinic(
            app=application,
            admin=admin,
            env=cli_env(settings, "admin"),
            clinic_id=clinic_id,
            dentist_ids=dentists,
            chair_ids=chairs,
            patient_ids=patient_ids,
            slot_start=first_bookable_day(application, clinic_id, dentists),
        )
    finally:
        application.close()


# --- launching processes that all start at once --------------------------------------------


def run_at_once(
    commands: Sequence[Sequence[str]], *, env: Mapping[str, str], cwd: Path, timeout_s: float
) -> list[subprocess.CompletedProcess[str]]:
    """Run `dentops <args>` once per entry, all released together once every one is loaded."""
    script = str(dentops_script())
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    procs: list[subprocess.Popen[str]] = []
    deadline = time.monotonic() + timeout_s
    try:
        for args in commands:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", _START_LINE, str(ready_w), str(go_r), script, *args],
                    env=dict(env),
                    cwd=cwd,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    pass_fds=(ready_w, go_r),
                )
            )
        os.close(ready_w)
        os.close(go_r)
        ready = 0
        while ready < len(procs):
            exited = [p for p in procs if p.poll() is not None]
            if exited:
                _, err = exited[0].communicate()
                pytest.fail(
                    f"a racer exited before the start line ({exited[0].returncode}):\n{err}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"only {ready} of {len(procs)} racers reached the start line")
            readable, _, _ = select.select([ready_r], [], [], min(remaining, 1.0))
            if readable:
                ready += len(os.read(ready_r, 4096))
        # every racer is loaded and blocked: none has finished, none has touched the database
        assert all(p.poll() is None for p in procs)
        os.close(go_w)  # the start: each racer's read on the go pipe returns EOF now
        go_w = -1
        results = []
        for proc in procs:
            remaining = max(1.0, deadline - time.monotonic())
            out, err = proc.communicate(timeout=remaining)
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        return results
    finally:
        for fd in (ready_r, go_w):
            if fd >= 0:
                os.close(fd)
        for proc in procs:
            if proc.returncode is None:  # not collected: the race failed or timed out
                proc.kill()
                proc.communicate()


# --- a: 50 CLI processes book the same slot -------------------------------------------------


def book_args(clinic: LiveClinic, *, patient: int, provider: int, chair: int) -> list[str]:
    return [
        "appointment",
        "book",
        "--patient",
        str(patient),
        "--provider",
        str(provider),
        "--chair",
        str(chair),
        "--start",
        f"{clinic.slot_start:%Y-%m-%d %H:%M}",
        "--procedures",
        PROCEDURE,
        "--json",
    ]


HELD_BY = re.compile(r"^error: (chair|provider) (\d+) is held by appointment (\d+) at that time$")


def check_one_winner(
    clinic: LiveClinic,
    attempts: list[tuple[int, int, int]],
    results: list[subprocess.CompletedProcess[str]],
) -> None:
    """Exactly one booking succeeded; every other one was refused naming the winner."""
    statuses = sorted(r.returncode for r in results)
    winners = [i for i, r in enumerate(results) if r.returncode == 0]
    unexpected = [r for r in results if r.returncode not in (0, 3)]
    assert not unexpected, f"exit {unexpected[0].returncode}:\n{unexpected[0].stderr}"
    assert len(winners) == 1, f"exit statuses: {statuses}"
    assert statuses.count(3) == len(results) - 1
    winner = winners[0]
    winner_id = int(json.loads(results[winner].stdout)["appointment_id"])
    _, win_provider, win_chair = attempts[winner]

    for i, result in enumerate(results):
        if i == winner:
            continue
        _, provider, chair = attempts[i]
        match = HELD_BY.match(result.stderr.strip())
        assert match, f"racer {i} was refused for another reason: {result.stderr!r}"
        resource, resource_id, holder = match[1], int(match[2]), int(match[3])
        assert holder == winner_id, result.stderr
        shared = {("provider", win_provider)} if provider == win_provider else set()
        if chair == win_chair:
            shared.add(("chair", win_chair))
        assert (resource, resource_id) in shared, result.stderr

    start = clinic.slot_start
    end = start + timedelta(minutes=PROCEDURE_MIN)
    with clinic.app.uow() as uow:
        window = uow.appointments.in_window(clinic_id=clinic.clinic_id, start_at=start, end_at=end)
        held = [
            (a.appointment_id, a.provider_id, a.chair_id)
            for a in window
            if a.status in ACTIVE_STATUSES
        ]
    assert held == [(winner_id, win_provider, win_chair)]


@pytest.mark.slow
def test_fifty_cli_processes_race_for_one_chair(live_clinic: LiveClinic, tmp_path: Path) -> None:
    """One chair, providers alternating: the chair is the contended resource."""
    chair = live_clinic.chair_ids[0]
    attempts = [
        (patient, live_clinic.dentist_ids[i % 2], chair)
        for i, patient in enumerate(live_clinic.patient_ids)
    ]
    results = run_at_once(
        [book_args(live_clinic, patient=p, provider=d, chair=c) for p, d, c in attempts],
        env=live_clinic.env,
        cwd=tmp_path,
        timeout_s=RACE_TIMEOUT_S,
    )
    check_one_winner(live_clinic, attempts, results)


@pytest.mark.slow
def test_cli_processes_race_for_one_provider(live_clinic: LiveClinic, tmp_path: Path) -> None:
    """One provider, chairs alternating: the provider is the contended resource."""
    dentist = live_clinic.dentist_ids[0]
    attempts = [
        (patient, dentist, live_clinic.chair_ids[i % 2])
        for i, patient in enumerate(live_clinic.patient_ids[:PROVIDER_RACERS])
    ]
    results = run_at_once(
        [book_args(live_clinic, patient=p, provider=d, chair=c) for p, d, c in attempts],
        env=live_clinic.env,
        cwd=tmp_path,
        timeout_s=RACE_TIMEOUT_S,
    )
    check_one_winner(live_clinic, attempts, results)


# --- b, c: concurrent use cases on separate units of work ----------------------------------


def in_threads(count: int, call: Callable[[int], T]) -> list[T | Exception]:
    """Run call(0..count-1) in `count` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes: list[T | Exception | None] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = call(index)
        except Exception as error:  # collected and checked by the caller
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return [outcome for outcome in outcomes if outcome is not None]


def count_rows(app: App, table: str) -> int:
    with app.engine.connect() as connection:
        return int(
            connection.scalar(sql_select(func.count()).select_from(orm.metadata.tables[table])) or 0
        )


def test_one_idempotency_key_sent_twenty_times_creates_one_payment(practice: Practice) -> None:
    app, patient = practice.app, practice.patient_ids[0]

    def pay(_: int) -> int:
        return billing.record_payment(
            app.uow(),
            practice.admin,
            patient_id=patient,
            amount_cents=12_000,
            currency="USD",
            method=PaymentMethod.CARD,
            idempotency_key="race-payment-0001",
        )

    outcomes = in_threads(TWINS, pay)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert len(outcomes) == TWINS
    assert len(set(outcomes)) == 1
    assert count_rows(app, "payments") == 1
    assert count_rows(app, "idempotency_keys") == 1
    with app.uow() as uow:
        payments = [(p.payment_id, p.amount_cents) for p in uow.payments.for_patient(patient)]
    assert payments == [(outcomes[0], 12_000)]


def test_concurrent_partial_refunds_never_exceed_the_payment(practice: Practice) -> None:
    app = practice.app
    payment_id = billing.record_payment(
        app.uow(),
        practice.admin,
        patient_id=practice.patient_ids[0],
        amount_cents=10_000,
        currency="USD",
        method=PaymentMethod.CASH,
    )

    def refund(index: int) -> int:
        return billing.refund_payment(
            app.uow(),
            practice.admin,
            payment_id=payment_id,
            amount_cents=750,
            reason=f"goodwill {index}",
        )

    outcomes = in_threads(TWINS, refund)
    refund_ids = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, RefundExceedsPayment)]
    other = [o for o in outcomes if isinstance(o, Exception) and o not in refused]
    assert not other, other
    assert len(refund_ids) == 13  # 13 x 7.50 = 97.50; a 14th would make 105.00
    assert len(set(refund_ids)) == 13
    assert len(refused) == TWINS - 13
    with app.engine.connect() as connection:
        refunds = orm.metadata.tables["refunds"]
        total = connection.scalar(
            sql_select(func.sum(refunds.c.amount_cents)).where(refunds.c.payment_id == payment_id)
        )
    assert total == 9_750
    with app.uow() as uow:
        payment = uow.payments.get(payment_id)
        assert payment is not None
        assert payment.refunded_cents == 9_750
        assert payment.refundable_cents == 250
