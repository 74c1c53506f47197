"""API load: N concurrent clients book appointments and list the day through the REST API.

    python bench/api_load.py --clients 16

Builds a fresh practice under DENTOPS_DATA_DIR (a temporary folder, removed afterwards, when
unset; SQLite by default): `dentops init`, one clinic open every day 07:00-20:00, 8 dentists,
8 chairs, 300 patients and a scheduler user, set up through the services. Then it starts the
API (`dentops api`, uvicorn on 127.0.0.1, one process) and runs the clients as threads, each
with its own session: per round it books a random 15-minute slot (random dentist, chair,
patient, one of the next 3 days; a 409 for a taken slot is a conflict, not an error) and lists
that day's appointments. Afterwards it counts, in the database, pairs of active appointments
that overlap on the same dentist, chair or patient (none may exist: no overbooks are made).

The last line on stdout is one JSON object: book_p50_ms, book_p95_ms, day_list_p50_ms,
day_list_p95_ms, errors (any other status or a transport error), conflicts, bookings,
double_bookings, clients, rounds, server_cpu_ms_per_request and client_cpu_ms_per_request
(user + system CPU of the server's processes, from /proc, and of this process, over the run,
per request: less sensitive than wall time to what else the machine runs), the load average
before and after, day_list_size_max, backend, cpu_count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import bootstrap, patients, users
from core_app.service_layer import practice as setup

ZONE = ZoneInfo("America/New_York")
PASSWORD = "bench-scheduler-password"  # noqa: S105 - a throwaway practice
DENTISTS = 8
CHAIRS = 8
PATIENTS = 300
DAYS = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def build_practice(settings: Settings) -> dict[str, Any]:
    bootstrap.initialise(settings, admin_username="bench-admin", admin_password=PASSWORD)
    app = bootstrap.connect(settings)
    try:
        week = parse_weekly_hours("mon-sun 07:00-20:00")
        clinic = setup.create_clinic(
            app.uow(),
            SYSTEM,
            name="Load",
            timezone=str(ZONE),
            currency="USD",
            country="US",
            hours=week,
        )
        dentists = [
            setup.add_provider(
                app.uow(),
                SYSTEM,
                name=f"Dr {n}",
                kind=ProviderKind.DENTIST,
                clinic_id=clinic,
                hours=week,
            )
            for n in range(DENTISTS)
        ]
        chairs = [
            setup.add_chair(app.uow(), SYSTEM, clinic_id=clinic, name=f"Op {n}")
            for n in range(CHAIRS)
        ]
        patient_ids = [
            patients.add_patient(
                app.uow(),
                SYSTEM,
                clinic_id=clinic,
                first_name=f"P{n}",
                last_name="Load",
                birth_date=date(1980, 1, 1) + timedelta(days=n),
            )
            for n in range(PATIENTS)
        ]
        users.add_user(
            app.uow(),
            SYSTEM,
            username="scheduler",
            password=PASSWORD,
            role=Role.SCHEDULER,
            clinic_id=clinic,
        )
        return {"clinic": clinic, "dentists": dentists, "chairs": chairs, "patients": patient_ids}
    finally:
        app.close()


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its (live) children, from /proc (Linux):
    the server's CPU cost, whatever else the shared machine runs meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (field 3); ppid is field 4, utime 14, stime 15
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int | None) -> subprocess.Popen[bytes]:
    dentops = Path(sys.executable).with_name("dentops")
    chosen = [] if workers is None else ["--workers", str(workers)]
    server = subprocess.Popen(
        [str(dentops), "api", "--port", str(port), "--log-level", "warning", *chosen],
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the API server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the API server did not start")


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.book_ms: list[float] = []
        self.list_ms: list[float] = []
        self.errors = 0
        self.conflicts = 0
        self.bookings = 0
        self.list_size_max = 0
        self.error_samples: list[str] = []

    def error(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(what)


class Http:
    """One client's keep-alive connection (the standard library's `http.client`: the load
    generator shares the 2 CPUs with the server, so it does as little as it can per request;
    httpx cost this process about 1.1 ms of CPU per request, and its 16 threads' work queued for
    this process's one interpreter lock inside the timed span)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json"}

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(
            method, path, body=data, headers={**self.headers, **(headers or {})}
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def client_run(
    n: int,
    port: int,
    practice: dict[str, Any],
    rounds: int,
    days: list[date],
    out: Results,
    start: threading.Barrier,
    think_s: float,
) -> None:
    rng = random.Random(n)
    http = Http(port)
    try:
        status, body = http.request(
            "POST", "/v1/auth/sign-in", {"username": "scheduler", "password": PASSWORD}
        )
        if status != 201:
            out.error(f"sign-in {status}")
            start.wait()
            return
        http.headers["Authorization"] = f"Bearer {json.loads(body)['token']}"
        start.wait()
        for r in range(rounds):
            day = rng.choice(days)
            minute = rng.randrange(0, 13 * 60 - 15, 15)
            begin = datetime(day.year, day.month, day.day, 7, tzinfo=ZONE) + timedelta(
                minutes=minute
            )
            booking = {
                "patient_id": rng.choice(practice["patients"]),
                "provider_id": rng.choice(practice["dentists"]),
                "chair_id": rng.choice(practice["chairs"]),
                "start_at": begin.isoformat(),
                "procedure_codes": ["D0120"],
            }
            t0 = time.perf_counter()
            status, _ = http.request(
                "POST", "/v1/appointments", booking, {"Idempotency-Key": f"load-{n}-{r}"}
            )
            elapsed = (time.perf_counter() - t0) * 1000
            with out.lock:
                out.book_ms.append(elapsed)
            if status == 201:
                with out.lock:
                    out.bookings += 1
            elif status == 409:
                with out.lock:
                    out.conflicts += 1
            else:
                out.error(f"book {status}")
            midnight = datetime(day.year, day.month, day.day, tzinfo=ZONE).isoformat()
            window = urlencode(
                {
                    "start_at": midnight,
                    "end_at": midnight.replace("T00:00:00", "T23:59:59"),
                    "limit": 200,
                }
            )
            time.sleep(think_s * rng.uniform(0.5, 1.5))
            t0 = time.perf_counter()
            status, body = http.request("GET", f"/v1/appointments?{window}")
            elapsed = (time.perf_counter() - t0) * 1000
            with out.lock:
                out.list_ms.append(elapsed)
            time.sleep(think_s * rng.uniform(0.5, 1.5))
            if status != 200:
                out.error(f"list {status}")
            else:
                with out.lock:
                    out.list_size_max = max(out.list_size_max, len(json.loads(body)["items"]))
    finally:
        http.close()


def double_bookings(database: Path) -> int:
    """Pairs of active appointments overlapping on the same dentist, chair or patient."""
    active = "('booked', 'confirmed', 'checked_in', 'completed')"
    with sqlite3.connect(database) as con:
        row = con.execute(
            f"""SELECT COUNT(*) FROM appointments a JOIN appointments b
                ON a.appointment_id < b.appointment_id
               AND a.start_at < b.end_at AND b.start_at < a.end_at
               AND (a.provider_id = b.provider_id OR a.chair_id = b.chair_id
                    OR a.patient_id = b.patient_id)
             WHERE a.status IN {active} AND b.status IN {active}
               AND a.overbook_of_appointment_id IS NULL
               AND b.overbook_of_appointment_id IS NULL"""  # noqa: S608 - constants only
        ).fetchone()
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=25, help="Bookings per client.")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API worker processes (default: the server's own, DENTOPS_API_WORKERS).",
    )
    parser.add_argument(
        "--think-ms", type=int, default=0, help="Pause of each client between requests (0: none)."
    )
    args = parser.parse_args()

    given = os.environ.get("DENTOPS_DATA_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="dentops-api-load-"))
    env = dict(os.environ, DENTOPS_DATA_DIR=str(folder))
    env.pop("DENTOPS_DATABASE_URL", None)  # the SQLite default
    settings = Settings(data_dir=folder, database_url="")
    server = None
    try:
        print("building the practice ...", file=sys.stderr)
        practice = build_practice(settings)
        port = free_port()
        server = start_server(env, port, args.workers)
        today = datetime.now(ZONE).date()
        days = [today + timedelta(days=d) for d in range(2, 2 + DAYS)]
        out = Results()
        start = threading.Barrier(args.clients + 1)
        threads = [
            threading.Thread(
                target=client_run,
                args=(
                    n,
                    port,
                    practice,
                    args.rounds,
                    days,
                    out,
                    start,
                    args.think_ms / 1000,
                ),
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        load_before = load_average()
        start.wait()
        print(f"{args.clients} clients running ...", file=sys.stderr)
        server_cpu0 = process_tree_cpu_s(server.pid)
        client0 = os.times()
        t0 = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t0
        client1 = os.times()
        server_cpu = process_tree_cpu_s(server.pid) - server_cpu0
        client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
        requests = len(out.book_ms) + len(out.list_ms)
        if out.error_samples:
            print(f"errors: {out.error_samples}", file=sys.stderr)
        result = {
            "book_p50_ms": round(percentile(out.book_ms, 0.50), 1),
            "book_p95_ms": round(percentile(out.book_ms, 0.95), 1),
            "day_list_p50_ms": round(percentile(out.list_ms, 0.50), 1),
            "day_list_p95_ms": round(percentile(out.list_ms, 0.95), 1),
            "errors": out.errors,
            "conflicts": out.conflicts,
            "bookings": out.bookings,
            "double_bookings": double_bookings(folder / "dentops.db"),
            "clients": args.clients,
            "workers": args.workers or settings.worker_processes(),
            "think_ms": args.think_ms,
            "rounds": args.rounds,
            "requests": requests,
            "wall_s": round(wall, 1),
            "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, requests), 2),
            "client_cpu_ms_per_request": round(1000 * client_cpu / max(1, requests), 2),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "day_list_size_max": out.list_size_max,
            "backend": "sqlite",
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(result))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
