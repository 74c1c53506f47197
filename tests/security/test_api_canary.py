"""Through the served REST API (`dentops api`, uvicorn, the application's own logging set-up at
DEBUG), on a real SQLite practice: a canary patient's values, planted through the API first,
appear in no error body and in no line the server writes, whatever refusal it answers with:
schema and rule errors, conflicts, not found, another clinic's records, failed sign-ins.

Answers whose job is to show patient data (the patient record, the day list) are left out of
the body check; the server's log lines are checked whole."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from core_app.config import Settings
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Role
from core_app.service_layer import bootstrap, users
from core_app.service_layer import practice as setup

PASSWORD = "api-canary-password"
ZONE = ZoneInfo("America/New_York")
#: the canary: values no other test data contains
CANARY = {
    "first_name": "Vantrobell",
    "last_name": "Okkelsquith",
    "phone": "+1 555 0199 7373",
    "email": "vantrobell.okkelsquith@canary.example",
    "notes": "canary-note: reacts to plexadorine",
}
BIRTH = "1966-06-16"
#: pieces of the canary that must not show up anywhere (the birth date in any spelling too)
NEEDLES = (*CANARY.values(), "Vantrobell", "Okkelsquith", "0199 7373", "plexadorine", BIRTH)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def next_tuesday_at(hour: int) -> str:
    day = datetime.now(ZONE).date() + timedelta(days=2)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE).isoformat()


@dataclass
class Served:
    base: str
    log: Path
    ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)
    #: (what was asked, status, body) of every refusal
    refusals: list[tuple[str, int, str]] = field(default_factory=list)

    def call(
        self, user: str | None, method: str, path: str, *, status: int, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        answer = httpx.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        if status >= 400:
            self.refusals.append((f"{method} {path}", status, answer.text))
            assert answer.json()["request_id"] == answer.headers["x-request-id"]
        return answer


def build_practice(data_dir: Path) -> dict[str, int]:
    settings = Settings(data_dir=data_dir, database_url="")
    bootstrap.initialise(settings, admin_username="admin", admin_password=PASSWORD)
    app = bootstrap.connect(settings)
    try:
        hours = parse_weekly_hours("mon-fri 08:00-17:00")
        ids: dict[str, int] = {}
        for name in ("main", "uptown"):
            clinic = setup.create_clinic(
                app.uow(),
                SYSTEM,
                name=name,
                timezone=str(ZONE),
                currency="USD",
                country="US",
                hours=hours,
            )
            ids[f"{name}.clinic"] = clinic
            ids[f"{name}.dentist"] = setup.add_provider(
                app.uow(),
                SYSTEM,
                name=f"Dr {name}",
                kind=ProviderKind.DENTIST,
                clinic_id=clinic,
                hours=hours,
            )
            ids[f"{name}.chair"] = setup.add_chair(app.uow(), SYSTEM, clinic_id=clinic, name="Op 1")
            users.add_user(
                app.uow(),
                SYSTEM,
                username=f"desk.{name}",
                password=PASSWORD,
                role=Role.FRONT_DESK,
                clinic_id=clinic,
            )
        return ids
    finally:
        app.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("api-canary")
    ids = build_practice(data_dir)
    port = free_port()
    log = data_dir / "server.log"
    env = os.environ | {"DENTOPS_DATA_DIR": str(data_dir), "DENTOPS_LOG_LEVEL": "DEBUG"}
    env.pop("DENTOPS_DATABASE_URL", None)
    dentops = str(Path(sys.executable).with_name("dentops"))
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [dentops, "api", "--port", str(port), "--log-level", "debug"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/openapi.json").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the API did not start")
        yield Served(base, log, ids)
    finally:
        server.terminate()
        server.wait(timeout=30)


def sign_in(served: Served, user: str) -> None:
    answer = served.call(
        None, "POST", "/v1/auth/sign-in", status=201, json={"username": user, "password": PASSWORD}
    )
    served.tokens[user] = answer.json()["token"]


def test_canary_values_reach_no_error_body_and_no_server_log_line(served: Served) -> None:
    ids = served.ids
    sign_in(served, "desk.main")
    sign_in(served, "desk.uptown")
    main = ids["main.clinic"]
    canary = {**CANARY, "birth_date": BIRTH}

    # plant the canary through the API
    added = served.call(
        "desk.main", "POST", "/v1/patients", status=201, json={"clinic_id": main, **canary}
    ).json()
    patient_id = added["patient_id"]
    assert added["last_name"] == CANARY["last_name"]  # stored and shown to its own clinic
    booking = {
        "patient_id": patient_id,
        "provider_id": ids["main.dentist"],
        "chair_id": ids["main.chair"],
        "start_at": next_tuesday_at(9),
        "procedure_codes": ["D0120"],
    }
    served.call(
        "desk.main",
        "POST",
        "/v1/appointments",
        status=201,
        json=booking,
        headers={"Idempotency-Key": "canary-booking-1"},
    )

    # schema errors: the canary in an unknown field, in a malformed value, in the query
    desk = "desk.main"
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        json={"clinic_id": main, **canary, "nickname": CANARY["first_name"]},
    )
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        json={"clinic_id": main, **canary, "birth_date": f"{BIRTH}T{CANARY['last_name']}"},
    )
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        json={"clinic_id": main, **canary, "phone": CANARY["notes"] * 3},
    )
    served.call(
        desk, "POST", "/v1/patients", status=422, json={"clinic_id": CANARY["last_name"], **canary}
    )
    served.call(desk, "GET", f"/v1/patients/{CANARY['first_name']}", status=422)
    served.call(desk, "GET", "/v1/patients", status=422, params={"clinic_id": CANARY["email"]})
    served.call(
        desk,
        "GET",
        "/v1/appointments",
        status=422,
        params={"start_at": CANARY["last_name"], "end_at": BIRTH},
    )
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        content=f'{{"first_name": "{CANARY["first_name"]}"',
        headers={"Content-Type": "application/json"},
    )
    # rule errors: a birth date in the future, a contact the rules refuse
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        json={"clinic_id": main, **canary, "birth_date": "2999-01-01"},
    )
    served.call(
        desk,
        "POST",
        "/v1/patients",
        status=422,
        json={"clinic_id": main, **canary, "email": f"{CANARY['last_name']} at nowhere"},
    )
    # conflicts: the canary's slot again, the same key with another body
    served.call(
        desk,
        "POST",
        "/v1/appointments",
        status=409,
        json=booking,
        headers={"Idempotency-Key": "canary-booking-2"},
    )
    served.call(
        desk,
        "POST",
        "/v1/appointments",
        status=422,
        json={**booking, "start_at": next_tuesday_at(11)},
        headers={"Idempotency-Key": "canary-booking-1"},
    )
    served.call(
        desk,
        "POST",
        "/v1/appointments",
        status=422,
        json=booking,
        headers={"Idempotency-Key": CANARY["notes"]},
    )
    # not found, and the canary's records asked for by another clinic's user
    served.call(desk, "GET", "/v1/patients/987654", status=404)
    other = "desk.uptown"
    served.call(other, "GET", f"/v1/patients/{patient_id}", status=404)
    served.call(other, "GET", f"/v1/patients/{patient_id}/balance", status=404)
    served.call(
        other,
        "POST",
        "/v1/appointments",
        status=404,
        json={**booking, "provider_id": ids["uptown.dentist"], "chair_id": ids["uptown.chair"]},
        headers={"Idempotency-Key": "canary-booking-3"},
    )
    served.call(
        other,
        "GET",
        "/v1/appointments",
        status=404,
        params={"clinic_id": main, "start_at": next_tuesday_at(0), "end_at": next_tuesday_at(23)},
    )
    # failed sign-ins with the canary as the username or the password, and no session at all
    served.call(
        None,
        "POST",
        "/v1/auth/sign-in",
        status=401,
        json={"username": CANARY["last_name"], "password": CANARY["notes"]},
    )
    served.call(
        None,
        "POST",
        "/v1/auth/sign-in",
        status=401,
        json={"username": "desk.main", "password": CANARY["email"]},
    )
    served.call(
        None,
        "GET",
        f"/v1/patients/{patient_id}",
        status=401,
        headers={"Authorization": f"Bearer {CANARY['first_name']}"},
    )

    # the day list shows the canary to its own clinic (by design); its refusals above did not
    day = served.call(
        desk,
        "GET",
        "/v1/appointments",
        status=200,
        params={"start_at": next_tuesday_at(0), "end_at": next_tuesday_at(23)},
    ).json()
    assert [i["patient_name"] for i in day["items"]] == [
        f"{CANARY['first_name']} {CANARY['last_name']}"
    ]

    assert len(served.refusals) >= 20
    for asked, status, body in served.refusals:
        for needle in NEEDLES:
            assert needle.lower() not in body.lower(), (asked, status, body)
    time.sleep(0.5)  # the server's last lines
    lines = served.log.read_text(errors="replace").splitlines()
    answered = [line for line in lines if "HTTP/" in line]  # uvicorn's access log, at DEBUG
    assert len(answered) >= len(served.refusals), lines
    for line in lines:
        for needle in NEEDLES:
            assert needle.lower() not in line.lower(), line
