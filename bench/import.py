"""Import benchmark: `dentops import` of N appointments into a fresh SQLite database.

    python bench/import.py --appointments 100000 [--reimport]

Builds what it needs under DENTOPS_DATA_DIR/import-bench (a fresh temporary folder, removed
afterwards, when unset): the interchange files of one clinic with twelve providers, each in
their own chair, booked back to back on weekdays until N appointments (about 3 % of them
booked in the coming weeks, the rest completed, no-shows or cancelled, two-thirds of them with
a payment, some refunded), then a fresh SQLite database (`dentops init`). Only the import is
timed (`import_directory`, the service behind `dentops import`, in this process). With
--reimport the same files are imported a second time (everything unchanged) and timed too.

Progress goes to stderr; the last line on stdout is one JSON object: appointments, patients,
payments, seconds (wall time of the import), appointments_per_s, cpu_seconds (this process's
CPU time during the import), load_average_1m (the machine's load when it started: on a shared
machine the wall time grows with it), cpu_count (and reimport_seconds with --reimport).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from core_app.config import Settings
from core_app.service_layer import bootstrap, users
from core_app.service_layer.importing import ImportOptions, import_directory

PROVIDERS = 12
#: (code, minutes, fee in cents, weight): a general practice's mix
PROCEDURES = (
    ("D0120", 15, 6_500, 30),
    ("D1110", 60, 12_000, 35),
    ("D0150", 45, 11_500, 10),
    ("D2391", 40, 20_000, 15),
    ("D2740", 90, 125_000, 5),
    ("D0140", 20, 9_000, 5),
)
DAY_START, DAY_END = 8 * 60, 17 * 60


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def weekdays_back(today: date) -> list[date]:
    """Every weekday from far back to three weeks ahead, oldest first."""
    first = today - timedelta(days=365 * 12)
    days = [first + timedelta(days=n) for n in range((today - first).days + 21)]
    return [d for d in days if d.weekday() < 5]


def generate(folder: Path, appointments: int, seed: int, today: date) -> tuple[int, int]:
    """Write the three files; returns (patients, payments)."""
    rng = random.Random(seed)
    # every booking is made before yesterday (clinic local time), whatever the machine's zone
    now = datetime.combine(today - timedelta(days=1), datetime.min.time())
    codes = [p[0] for p in PROCEDURES]
    weights = [p[3] for p in PROCEDURES]
    minutes = {p[0]: p[1] for p in PROCEDURES}
    fees = {p[0]: p[2] for p in PROCEDURES}
    per_day = PROVIDERS * 10.5  # about; the last day is cut at N
    days = weekdays_back(today)[-(int(appointments / per_day) + 22) :]
    patients_per_provider = max(1, appointments // 5 // PROVIDERS)
    visits: list[list[str]] = []
    payments: list[list[str]] = []
    count = 0
    for day in days:
        for provider in range(PROVIDERS):
            clock = DAY_START
            while count < appointments:
                code = rng.choices(codes, weights)[0]
                if clock + minutes[code] > DAY_END:
                    break
                start = datetime(day.year, day.month, day.day, clock // 60, clock % 60)
                clock += minutes[code] + rng.choice((0, 0, 15))
                future = day >= today
                booked = start - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 8))
                booked = min(booked, now - timedelta(hours=rng.randint(1, 48)))
                status = (
                    rng.choice(("booked", "confirmed"))
                    if future
                    else rng.choices(("completed", "no_show", "cancelled"), (84, 8, 8))[0]
                )
                cancelled = (
                    start - timedelta(hours=rng.randint(2, 96)) if status == "cancelled" else None
                )
                if cancelled is not None and cancelled < booked:
                    cancelled = booked + (start - booked) / 2
                patient = provider + PROVIDERS * rng.randrange(patients_per_provider)
                aid = f"A{count + 1}"
                visits.append(
                    [aid, f"P{patient}", f"{booked:%Y-%m-%d %H:%M}", f"{start:%Y-%m-%d %H:%M}",
                     status, f"Dr {provider + 1}", f"Op {provider + 1}", code,
                     f"{cancelled:%Y-%m-%d %H:%M}" if cancelled else "", rng.choice(("yes", "no"))]
                )  # fmt: skip
                if status == "completed" and rng.random() < 0.7:
                    paid = start + timedelta(minutes=minutes[code] + 10)
                    late = paid + timedelta(days=3) >= now
                    refund = fees[code] // 4 if rng.random() < 0.02 and not late else 0
                    payments.append(
                        [f"X{len(payments) + 1}", f"P{patient}", f"{paid:%Y-%m-%d %H:%M}",
                         str(fees[code]), rng.choice(("card", "cash", "insurance")), aid,
                         str(refund) if refund else "",
                         f"{paid + timedelta(days=3):%Y-%m-%d %H:%M}" if refund else ""]
                    )  # fmt: skip
                count += 1
    patient_count = patients_per_provider * PROVIDERS
    birth = date(1950, 1, 1)
    people = [
        [f"P{n}", (birth + timedelta(days=(n * 97) % 20_000)).isoformat(), "FM"[n % 2],
         f"First{n}", f"Last{n}", f"+1 555 {n % 10_000:04d}", f"p{n}@example.org"]
        for n in range(patient_count)
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    write(
        folder / "patients.csv",
        ["patient_id", "birth_date", "sex", "first_name", "last_name", "phone", "email"],
        people,
    )
    write(
        folder / "appointments.csv",
        [
            "appointment_id",
            "patient_id",
            "booked_at",
            "start_at",
            "status",
            "provider",
            "chair",
            "procedure_code",
            "cancelled_at",
            "reminder_sent",
        ],
        visits,
    )
    write(folder / "payments.csv",
          ["payment_id", "patient_id", "received_at", "amount_cents", "method", "appointment_id",
           "refunded_cents", "refunded_at"], payments)  # fmt: skip
    return patient_count, len(payments)


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reimport", action="store_true", help="time a second, unchanged import")
    args = parser.parse_args()
    given = os.environ.get("DENTOPS_DATA_DIR")
    base = Path(given) if given else Path(tempfile.mkdtemp(prefix="dentops-bench-"))
    work = base / "import-bench"
    shutil.rmtree(work, ignore_errors=True)
    try:
        started = time.perf_counter()
        files = work / "files"
        patients, payments = generate(files, args.appointments, args.seed, date.today())
        log(f"generated {args.appointments} appointments in {time.perf_counter() - started:.1f} s")
        settings = Settings(
            data_dir=work / "db", database_url="", key_file=work / "db" / "keys.json"
        )
        password = secrets.token_urlsafe(16)
        bootstrap.initialise(settings, admin_username="bench-admin", admin_password=password)
        app = bootstrap.connect(settings)
        actor = users.actor_for(app.uow(), "bench-admin")
        options = ImportOptions.for_folder(
            files, clinic="Bench Clinic", timezone="America/New_York"
        )
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        report = import_directory(app.uow(), actor, files, options)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        assert report.appointments.created == args.appointments, report
        log(f"imported in {seconds:.1f} s: {report}")
        result: dict[str, object] = {
            "appointments": args.appointments,
            "patients": patients,
            "payments": payments,
            "seconds": round(seconds, 2),
            "appointments_per_s": round(args.appointments / seconds),
            "cpu_seconds": round(cpu_seconds, 2),
            "load_average_1m": round(load_before, 1),
            "backend": app.backend,
            "cpu_count": os.cpu_count(),
        }
        if args.reimport:
            started = time.perf_counter()
            again = import_directory(app.uow(), actor, files, options)
            result["reimport_seconds"] = round(time.perf_counter() - started, 2)
            assert again.appointments.unchanged == args.appointments, again
        app.close()
        print(json.dumps(result))
    finally:
        if not given:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
