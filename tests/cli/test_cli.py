"""The `dentops` command line end to end, on a real SQLite file with the system clock."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli

ADMIN_PASSWORD = "cli-admin-password"
ZONE = ZoneInfo("America/New_York")


def next_weekday(weekday: int) -> date:
    """A day at least two days ahead, so that every booking lies in the future."""
    day = datetime.now(ZONE).date() + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()
        self.env = {"DENTOPS_DATA_DIR": str(data_dir), "DENTOPS_ACTOR": "admin"}

    def __call__(self, *args: str, ok: bool = True) -> dict[str, object]:
        result = self.runner.invoke(cli, [*args, "--json"], env=self.env)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.stderr)
            return dict(json.loads(result.stdout))
        return {"exit_code": result.exit_code, "stderr": result.stderr, "stdout": result.stdout}

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every table but the audit log, row by row."""
        with sqlite3.connect(self.data_dir / "dentops.db") as con:
            tables = [
                row[0]
                for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if row[0] != "audit_entries"
            ]
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}  # noqa: S608


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A practice set up through the CLI once; each test gets a copy of its folder."""
    run = Cli(tmp_path_factory.mktemp("cli") / "data")
    run("init", "--admin-username", "admin", "--admin-password", ADMIN_PASSWORD)
    run(
        "clinic",
        "add",
        "--name",
        "Main St",
        "--timezone",
        "America/New_York",
        "--hours",
        "mon-fri 08:00-17:00",
    )
    run(
        "provider",
        "add",
        "--name",
        "Dr Chen",
        "--kind",
        "dentist",
        "--clinic",
        "1",
        "--hours",
        "mon-fri 08:00-17:00",
    )
    run(
        "provider",
        "add",
        "--name",
        "Hy Brooks",
        "--kind",
        "hygienist",
        "--clinic",
        "1",
        "--hours",
        "mon-fri 08:00-17:00",
    )
    run("chair", "add", "--clinic", "1", "--name", "Op 1")
    run("chair", "add", "--clinic", "1", "--name", "Op 2")
    for first in ("Ann", "Bob"):
        run(
            "patient",
            "add",
            "--clinic",
            "1",
            "--first-name",
            first,
            "--last-name",
            "Lee",
            "--birth-date",
            "1980-02-03",
            "--email",
            f"{first.lower()}@example.org",
        )
    return run.data_dir


@pytest.fixture
def dentops(prepared: Path, tmp_path: Path) -> Cli:
    shutil.copytree(prepared, tmp_path / "data")
    return Cli(tmp_path / "data")


def test_init_runs_without_a_terminal_from_the_environment(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DENTOPS_DATA_DIR": str(tmp_path / "d"),
        "DENTOPS_ADMIN_USERNAME": "boss",
        "DENTOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    command = [str(Path(sys.executable).parent / "dentops"), "init", "--json"]
    first = subprocess.run(
        command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True
    )
    report = json.loads(first.stdout)["init"]
    assert report["admin_created"] and report["created_keys"]
    key_file = tmp_path / "d" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = subprocess.run(
        command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True
    )
    assert json.loads(again.stdout)["init"]["admin_created"] is False


def test_a_refusal_is_one_line_on_stderr_with_a_non_zero_exit(dentops: Cli) -> None:
    day = next_weekday(1)
    dentops(
        "appointment",
        "book",
        "--patient",
        "1",
        "--provider",
        "1",
        "--chair",
        "1",
        "--start",
        f"{day} 09:00",
        "--procedures",
        "D2391",
    )
    command = [
        str(Path(sys.executable).parent / "dentops"),
        "appointment",
        "book",
        "--patient",
        "2",
        "--provider",
        "2",
        "--chair",
        "1",
        "--start",
        f"{day} 09:15",
        "--procedures",
        "D1110",
    ]
    result = subprocess.run(
        command, env={**os.environ, **dentops.env}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 3
    assert result.stderr == "error: chair 1 is held by appointment 1 at that time\n"
    assert result.stdout == ""


def test_lifecycle_money_and_balance_through_the_cli(dentops: Cli) -> None:
    day = next_weekday(2)
    booked = dentops(
        "appointment",
        "book",
        "--patient",
        "1",
        "--provider",
        "1",
        "--chair",
        "1",
        "--start",
        f"{day} 10:00",
        "--procedures",
        "D2391,D0120",
    )
    appointment_id = str(booked["appointment_id"])
    dentops("appointment", "confirm", appointment_id)
    dentops(
        "appointment",
        "reschedule",
        appointment_id,
        "--start",
        f"{day} 11:00",
        "--reason",
        "patient asked",
    )
    listing = dentops("appointment", "list", "--clinic", "1", "--date", str(day))
    rows = listing["appointments"]
    assert isinstance(rows, list) and len(rows) == 1
    assert rows[0]["local_start"] == f"{day} 11:00" and rows[0]["status"] == "booked"
    assert rows[0]["patient_name"] == "Ann Lee" and rows[0]["reschedule_count"] == 1
    paid = dentops(
        "payment",
        "record",
        "--patient",
        "1",
        "--amount",
        "120.50",
        "--method",
        "card",
        "--idempotency-key",
        "pos-0001-abc",
    )
    again = dentops(
        "payment",
        "record",
        "--patient",
        "1",
        "--amount",
        "120.50",
        "--method",
        "card",
        "--idempotency-key",
        "pos-0001-abc",
    )
    assert paid["payment_id"] == again["payment_id"]
    dentops("payment", "refund", str(paid["payment_id"]), "--amount", "20.50", "--reason", "fix")
    balance = dentops("balance", "1")
    assert balance["paid_cents"] == 12050 and balance["refunded_cents"] == 2050
    assert balance["balance_cents"] == -10000 and balance["credit_cents"] == 10000
    dentops("appointment", "cancel", appointment_id, "--reason", "moved away")
    shown = dentops("patient", "show", "1")
    patient = shown["patient"]
    assert isinstance(patient, dict)
    assert (patient["first_name"], patient["email"]) == ("Ann", "ann@example.org")


BAD_INPUT = {
    "overlapping booking": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "{day} 09:30",
            "--procedures",
            "D0120",
        ],
        3,
        "provider 1 is held by appointment 1",
    ),
    "unknown patient": (
        [
            "appointment",
            "book",
            "--patient",
            "99",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "{day} 13:00",
            "--procedures",
            "D0120",
        ],
        4,
        "patient 99 does not exist",
    ),
    "past time": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "2020-03-03 10:00",
            "--procedures",
            "D0120",
        ],
        1,
        "is in the past",
    ),
    "negative amount": (
        ["payment", "record", "--patient", "1", "--amount", "-5", "--method", "cash"],
        1,
        "is negative",
    ),
    "zero amount": (
        ["payment", "record", "--patient", "1", "--amount", "0", "--method", "cash"],
        1,
        "must be positive",
    ),
    "wrong transition": (
        ["appointment", "complete", "1"],
        1,
        "it cannot be completed before it starts",
    ),
    "malformed date": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "{day} 25:00",
            "--procedures",
            "D0120",
        ],
        1,
        "cannot read time",
    ),
    "hygienist doing surgery": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "2",
            "--chair",
            "2",
            "--start",
            "{day} 13:00",
            "--procedures",
            "D7140",
        ],
        1,
        "needs a dentist",
    ),
    "outside opening hours": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "{day} 19:00",
            "--procedures",
            "D0120",
        ],
        1,
        "is not open",
    ),
    "unknown procedure": (
        [
            "appointment",
            "book",
            "--patient",
            "2",
            "--provider",
            "1",
            "--chair",
            "2",
            "--start",
            "{day} 13:00",
            "--procedures",
            "D9999",
        ],
        1,
        "unknown procedure code(s) D9999",
    ),
    "no actor": (["balance", "1"], 5, "say who is acting"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_gets_a_clear_error_and_changes_nothing(dentops: Cli, case: str) -> None:
    day = next_weekday(3)
    dentops(
        "appointment",
        "book",
        "--patient",
        "1",
        "--provider",
        "1",
        "--chair",
        "1",
        "--start",
        f"{day} 09:00",
        "--procedures",
        "D2391",
    )
    args, exit_code, message = BAD_INPUT[case]
    if case == "no actor":
        dentops.env.pop("DENTOPS_ACTOR")
    before = dentops.dump()
    result = dentops(*[a.format(day=day) for a in args], ok=False)
    assert result["exit_code"] == exit_code, result
    stderr = str(result["stderr"])
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert message in stderr
    assert dentops.dump() == before


def test_clinic_risk_thresholds_are_shown_and_set(dentops: Cli) -> None:
    assert dentops("clinic", "risk-thresholds", "--clinic", "1") == {
        "clinic_id": 1,
        "medium": 0.15,
        "high": 0.3,
    }
    assert dentops(
        "clinic", "risk-thresholds", "--clinic", "1", "--medium", "0.2", "--high", "0.4"
    ) == {"clinic_id": 1, "medium": 0.2, "high": 0.4, "rebanded_scores": 0}
    refused = dentops(
        "clinic", "risk-thresholds", "--clinic", "1", "--medium", "0.5", "--high", "0.4", ok=False
    )
    assert refused["exit_code"] != 0
    assert str(refused["stderr"]).startswith("error: risk thresholds need 0 < medium < high < 1")
    half = dentops("clinic", "risk-thresholds", "--clinic", "1", "--medium", "0.5", ok=False)
    assert half["exit_code"] != 0 and "give both --medium and --high" in str(half["stderr"])
    assert dentops("clinic", "risk-thresholds", "--clinic", "1")["medium"] == 0.2
