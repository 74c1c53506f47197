"""Booking race: N `dentops appointment book` processes go for the same chair slot at once.

    python bench/booking_race.py --backend sqlite --attempts 50
    scripts/with-postgres.sh .venv/bin/python bench/booking_race.py --backend postgresql

Builds what it needs under DENTOPS_DATA_DIR (a fresh temporary folder, removed afterwards, when
unset): `dentops init`, then a clinic open every day 07:00-20:00 with two dentists, one chair
(or with --resource provider: one dentist, two chairs) and N patients, set up through the
services. PostgreSQL comes from DENTOPS_DATABASE_URL or DENTOPS_TEST_POSTGRES_URL; each run
makes its own clinic, so a database used before does no harm.

The processes are started one after another; by default each one first imports the CLI and
then waits at a start line (a pipe) until all are loaded, so the bookings themselves overlap
(--no-barrier runs the bare console script and relies on import time alone). Every process
is timed from its launch to its exit. Progress goes to stderr; the last line on stdout is one
JSON object: backend, attempts, succeeded, conflicts, errors (exit status other than 0 or 3),
p50_ms/p95_ms of the per-process wall time, cpu_count, and more.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core_app.config import Settings
from core_app.domain.appointment import ACTIVE_STATUSES
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import bootstrap, patients, users
from core_app.service_layer import practice as setup

EXIT_OK = 0
EXIT_CONFLICT = 3
ADMIN = "bench-admin"
CLINIC_TZ = "America/New_York"
OPEN_EVERY_DAY = "mon-sun 07:00-20:00"
PROCEDURE = "D0120"  # periodic oral evaluation, 15 minutes, dentists only
PROCEDURE_MIN = 15
HELD_BY = re.compile(r"held by appointment (\d+)")

#: Each racer: import the CLI, report ready, block until the go pipe reaches EOF, then run the
#: installed console script with the remaining arguments.
START_LINE = """\
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


def log(message: str) -> None:
    print(f"booking_race: {message}", file=sys.stderr, flush=True)


def dentops_script() -> str:
    beside_python = Path(sys.executable).parent / "dentops"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dentops")
    if found is None:
        raise SystemExit("booking_race: the dentops console script is not installed")
    return found


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def database_url(backend: str) -> str:
    if backend == "sqlite":
        return ""  # Settings default: data_dir/dentops.db
    for name in ("DENTOPS_DATABASE_URL", "DENTOPS_TEST_POSTGRES_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url
    raise SystemExit(
        "booking_race: set DENTOPS_DATABASE_URL or DENTOPS_TEST_POSTGRES_URL to a PostgreSQL "
        "URL (scripts/with-postgres.sh sets the latter)"
    )


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTOPS_")}
    env.update(
        DENTOPS_DATA_DIR=str(settings.data_dir),
        DENTOPS_DATABASE_URL=settings.database_url,
        DENTOPS_KEY_FILE=str(settings.key_file),
        DENTOPS_ACTOR=ADMIN,
    )
    return env


@dataclass
class Stage:
    settings: Settings
    clinic_id: int
    attempts: list[tuple[int, int, int]]  # (patient, provider, chair) per process
    start_local: datetime


def first_bookable_day(app: bootstrap.App, clinic_id: int, provider_ids: list[int]) -> datetime:
    """Next week's Tuesday 10:00 clinic time, or the first later day at 10:00 that is open."""
    zone = ZoneInfo(CLINIC_TZ)
    today = datetime.now(zone).date()
    next_tuesday = today + timedelta(days=8 - today.weekday())
    first = datetime.combine(next_tuesday, clock_time(10, 0), tzinfo=zone)
    with app.uow() as uow:
        clinic = uow.clinics.get(clinic_id)
        providers = [p for p in map(uow.providers.get, provider_ids) if p is not None]
        assert clinic is not None and len(providers) == len(provider_ids)
        for offset in range(14):
            start = first + timedelta(days=offset)
            end = start + timedelta(minutes=PROCEDURE_MIN)
            if clinic.is_open(start, end) and all(p.works(clinic, start, end) for p in providers):
                return start
    raise SystemExit("booking_race: the clinic is closed for two weeks from next Tuesday")


def build_stage(settings: Settings, *, attempts: int, resource: str) -> Stage:
    """`dentops init`, then a clinic, its providers, chairs and patients via the services."""
    env = child_env(settings)
    init = subprocess.run(
        [
            dentops_script(),
            "init",
            "--admin-username",
            ADMIN,
            "--admin-password",
            secrets.token_hex(12),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        raise SystemExit(f"booking_race: dentops init failed:\n{init.stderr}")
    app = bootstrap.connect(settings)
    try:
        with app.uow() as uow:
            has_admin = uow.users.by_username(ADMIN) is not None
        if not has_admin:  # the database had users before: add ours
            users.add_user(
                app.uow(), SYSTEM, username=ADMIN, password=secrets.token_hex(12), role=Role.ADMIN
            )
        admin = users.actor_for(app.uow(), ADMIN)
        week = parse_weekly_hours(OPEN_EVERY_DAY)
        run_tag = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        clinic_id = setup.create_clinic(
            app.uow(),
            admin,
            name=f"Bench {run_tag}",
            timezone=CLINIC_TZ,
            currency="USD",
            country="US",
            hours=week,
        )
        dentists = [
            setup.add_provider(
                app.uow(),
                admin,
                name=f"Dr Bench {n}",
                kind=ProviderKind.DENTIST,
                clinic_id=clinic_id,
                hours=week,
            )
            for n in (1, 2)
        ]
        chairs = [
            setup.add_chair(app.uow(), admin, clinic_id=clinic_id, name=f"Op {n}") for n in (1, 2)
        ]
        patient_ids = [
            patients.add_patient(
                app.uow(),
                admin,
                clinic_id=clinic_id,
                first_name=f"Bench{n:03d}",
                last_name="Racer",
                birth_date=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
            )
            for n in range(attempts)
        ]
        start = first_bookable_day(app, clinic_id, dentists)
    finally:
        app.close()
    if resource == "chair":  # one chair, providers alternating
        plan = [(p, dentists[i % 2], chairs[0]) for i, p in enumerate(patient_ids)]
    else:  # one provider, chairs alternating
        plan = [(p, dentists[0], chairs[i % 2]) for i, p in enumerate(patient_ids)]
    return Stage(settings, clinic_id, plan, start)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    launched_at: float
    exited_at: float


@dataclass
class Race:
    results: list[Finished]
    all_ready_at: float
    released_at: float


def race(stage: Stage, *, barrier: bool, timeout_s: float) -> Race:
    script = dentops_script()
    env = child_env(stage.settings)
    start = f"{stage.start_local:%Y-%m-%d %H:%M}"
    commands = [
        [
            "appointment",
            "book",
            "--patient",
            str(patient),
            "--provider",
            str(provider),
            "--chair",
            str(chair),
            "--start",
            start,
            "--procedures",
            PROCEDURE,
            "--json",
        ]
        for patient, provider, chair in stage.attempts
    ]
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    procs: list[subprocess.Popen[str]] = []
    launched: list[float] = []
    finished: list[Finished | None] = [None] * len(commands)
    waiters: list[threading.Thread] = []

    def wait_for(index: int) -> None:
        proc = procs[index]
        out, err = proc.communicate()
        finished[index] = Finished(proc.returncode, out, err, launched[index], time.perf_counter())

    deadline = time.monotonic() + timeout_s
    try:
        for args in commands:
            if barrier:
                argv = [sys.executable, "-c", START_LINE, str(ready_w), str(go_r), script, *args]
                fds: tuple[int, ...] = (ready_w, go_r)
            else:
                argv, fds = [script, *args], ()
            launched.append(time.perf_counter())
            procs.append(
                subprocess.Popen(
                    argv,
                    env=env,
                    cwd=stage.settings.data_dir,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    pass_fds=fds,
                )
            )
            waiters.append(threading.Thread(target=wait_for, args=(len(procs) - 1,)))
            waiters[-1].start()
        os.close(ready_w)
        os.close(go_r)
        ready = len(procs) if not barrier else 0
        while ready < len(procs):
            early = [p for p in procs if p.poll() is not None]
            if early:
                raise SystemExit(
                    f"booking_race: a racer exited (status {early[0].returncode}) before the "
                    "start line"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SystemExit(f"booking_race: {ready}/{len(procs)} racers ready in time")
            readable, _, _ = select.select([ready_r], [], [], min(remaining, 1.0))
            if readable:
                chunk = os.read(ready_r, 4096)
                if not chunk:  # every racer closed its end: some died before the start line
                    break
                ready += len(chunk)
        all_ready_at = time.perf_counter()
        if barrier:
            loading_s = all_ready_at - launched[0]
            log(f"{ready}/{len(procs)} racers at the start line after {loading_s:.1f} s")
        os.close(go_w)
        go_w = -1
        released_at = time.perf_counter()
        for waiter in waiters:
            waiter.join(timeout=max(1.0, deadline - time.monotonic()))
        if any(waiter.is_alive() for waiter in waiters):
            raise SystemExit("booking_race: racers still running at the timeout")
    finally:
        for fd in (ready_r, go_w):
            if fd >= 0:
                os.close(fd)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    results = [f for f in finished if f is not None]
    return Race(results, all_ready_at, released_at)


def active_in_slot(stage: Stage) -> list[int]:
    start = stage.start_local
    app = bootstrap.connect(stage.settings)
    try:
        with app.uow() as uow:
            window = uow.appointments.in_window(
                clinic_id=stage.clinic_id,
                start_at=start,
                end_at=start + timedelta(minutes=PROCEDURE_MIN),
            )
            return [
                a.appointment_id
                for a in window
                if a.status in ACTIVE_STATUSES and a.appointment_id is not None
            ]
    finally:
        app.close()


def summarise(
    stage: Stage, outcome: Race, *, backend: str, barrier: bool, setup_s: float
) -> dict[str, Any]:
    results = outcome.results
    winners = [r for r in results if r.returncode == EXIT_OK]
    winner_id: int | None = None
    if len(winners) == 1:
        winner_id = int(json.loads(winners[0].stdout)["appointment_id"])
    conflicts = [r for r in results if r.returncode == EXIT_CONFLICT]
    naming = [r for r in conflicts if (m := HELD_BY.search(r.stderr)) and int(m[1]) == winner_id]
    errors = [r for r in results if r.returncode not in (EXIT_OK, EXIT_CONFLICT)]
    for error in errors[:3]:
        log(f"exit {error.returncode}: {error.stderr.strip()[-500:]}")
    for other in [r for r in conflicts if r not in naming][:3]:
        log(f"conflict without the winner: {other.stderr.strip()}")
    wall_ms = [(r.exited_at - r.launched_at) * 1000 for r in results]
    after_release_ms = [(r.exited_at - outcome.released_at) * 1000 for r in results]
    held = active_in_slot(stage)
    return {
        "backend": backend,
        "attempts": len(stage.attempts),
        "succeeded": len(winners),
        "conflicts": len(conflicts),
        "errors": len(errors) + (len(stage.attempts) - len(results)),
        "p50_ms": round(percentile(wall_ms, 50), 1),
        "p95_ms": round(percentile(wall_ms, 95), 1),
        "max_ms": round(max(wall_ms, default=math.nan), 1),
        "cpu_count": os.cpu_count(),
        "barrier": barrier,
        "after_release_p50_ms": round(percentile(after_release_ms, 50), 1),
        "after_release_p95_ms": round(percentile(after_release_ms, 95), 1),
        "after_release_max_ms": round(max(after_release_ms, default=math.nan), 1),
        "launch_to_ready_s": round(outcome.all_ready_at - min(r.launched_at for r in results), 2),
        "winner_appointment_id": winner_id,
        "conflicts_naming_winner": len(naming),
        "active_in_slot": len(held),
        "one_booking_held": held == [winner_id] if winner_id is not None else False,
        "setup_s": round(setup_s, 2),
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--attempts", type=int, default=50)
    parser.add_argument(
        "--resource",
        choices=("chair", "provider"),
        default="chair",
        help="what the racers share: one chair (providers alternate) or one provider",
    )
    parser.add_argument(
        "--no-barrier",
        dest="barrier",
        action="store_false",
        help="run the bare console script, without the start line after the imports",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the race")
    args = parser.parse_args(argv)
    if args.attempts < 2:
        parser.error("--attempts must be at least 2")

    own_dir = not os.environ.get("DENTOPS_DATA_DIR")
    data_dir = (
        Path(tempfile.mkdtemp(prefix="dentops-bench-"))
        if own_dir
        else Path(os.environ["DENTOPS_DATA_DIR"])
    )
    try:
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url(args.backend),
            key_file=Path(os.environ.get("DENTOPS_KEY_FILE") or data_dir / "keys.json"),
        )
        began = time.perf_counter()
        stage = build_stage(settings, attempts=args.attempts, resource=args.resource)
        setup_s = time.perf_counter() - began
        log(
            f"{args.backend}: {args.attempts} racers for {args.resource} "
            f"{stage.attempts[0][2] if args.resource == 'chair' else stage.attempts[0][1]} "
            f"at {stage.start_local:%Y-%m-%d %H:%M} {CLINIC_TZ} (set-up {setup_s:.1f} s)"
        )
        outcome = race(stage, barrier=args.barrier, timeout_s=args.timeout)
        report = summarise(
            stage, outcome, backend=args.backend, barrier=args.barrier, setup_s=setup_s
        )
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"{report['succeeded']} booked, {report['conflicts']} conflicts "
        f"({report['conflicts_naming_winner']} naming the winner), {report['errors']} errors; "
        f"per process p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms"
    )
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
