"""Through the command line, on a real SQLite practice: a canary patient's values (planted
first) appear in no output, no error message and no log line of the commands that run the
practice and its safeguards; and the safeguards' commands work end to end (audit verify names
a tampered entry, keys rotate/status/retire, backup/restore, break-glass open/list/review).

Commands whose job is to show patient data (`patient show`, `patient list`) are left out.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from core_app.adapters.crypto import install_keyring, load_key_file
from core_app.cli.main import app as cli

ADMIN_PASSWORD = "cli-admin-password"
ZONE = ZoneInfo("America/New_York")
#: the canary: values no other test data contains
CANARY = {
    "first_name": "Quorravel",
    "last_name": "Ixthwaite",
    "phone": "+1 555 0177 4242",
    "email": "quorravel.ixthwaite@canary.example",
    "notes": "canary-note: allergic to xylofenicol",
}
#: `patient add` of the canary's names in clinic 1 (the refusals below add one bad value)
ADD_CANARY = (
    "patient",
    "add",
    "--clinic",
    "1",
    "--first-name",
    CANARY["first_name"],
    "--last-name",
    CANARY["last_name"],
)


@dataclass
class Run:
    data_dir: Path
    outputs: list[str] = field(default_factory=list)
    runner: CliRunner = field(default_factory=CliRunner)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DENTOPS_DATA_DIR": str(self.data_dir),
            "DENTOPS_ACTOR": "admin",
            "DENTOPS_LOG_LEVEL": "DEBUG",  # every log line a library would write
            **extra,
        }

    def __call__(self, *args: str, status: int = 0, **env: str) -> dict[str, object]:
        result = self.runner.invoke(cli, [*args, "--json"], env=self.env(**env))
        self.outputs.append(result.stdout + result.stderr)
        assert result.exit_code == status, (args, result.stdout, result.stderr)
        return dict(json.loads(result.stdout)) if result.stdout.strip() else {}

    def error(self, *args: str, **env: str) -> str:
        result = self.runner.invoke(cli, [*args, "--json"], env=self.env(**env))
        self.outputs.append(result.stdout + result.stderr)
        assert result.exit_code != 0, (args, result.stdout)
        return result.stderr


def next_tuesday() -> date:
    day = datetime.now(ZONE).date() + timedelta(days=2)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = Run(tmp_path_factory.mktemp("canary") / "data")
    run("init", "--admin-username", "admin", "--admin-password", ADMIN_PASSWORD)
    hours = "mon-fri 08:00-17:00"
    run("clinic", "add", "--name", "Main St", "--timezone", "America/New_York", "--hours", hours)
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
        hours,
    )
    run("chair", "add", "--clinic", "1", "--name", "Op 1")
    run(
        "user",
        "add",
        "dr.chen",
        "--role",
        "provider",
        "--password",
        "provider-password-1",
        "--clinic",
        "1",
    )
    canary = [f"--{k.replace('_', '-')}" for k in CANARY]
    values = list(CANARY.values())
    added = run(
        "patient",
        "add",
        "--clinic",
        "1",
        "--birth-date",
        "1977-07-07",
        *[x for pair in zip(canary, values, strict=True) for x in pair],
    )
    assert added["patient_id"] == 1
    return run


def test_canary_values_appear_in_no_output_error_or_log_line(practice: Run, tmp_path: Path) -> None:
    run = practice
    start = f"{next_tuesday():%Y-%m-%d} 10:00"
    booked = run(
        "appointment",
        "book",
        "--patient",
        "1",
        "--provider",
        "1",
        "--chair",
        "1",
        "--start",
        start,
        "--procedures",
        "D0120",
    )
    appointment = str(booked["appointment_id"])
    run("appointment", "confirm", appointment)
    run("payment", "record", "--patient", "1", "--amount", "20.00", "--method", "card")
    run("balance", "1")
    # refusals that carry the canary's values in their input
    errors = [
        run.error(
            *ADD_CANARY,
            "--birth-date",
            "1977-07-07",
            "--email",
            CANARY["email"].replace("@", " at "),
        ),
        run.error(
            *ADD_CANARY,
            "--birth-date",
            "2199-07-07",
        ),
        run.error(
            *ADD_CANARY,
            "--birth-date",
            CANARY["notes"],
        ),
        run.error(
            *ADD_CANARY,
            "--birth-date",
            "1977-07-07",
            "--phone",
            CANARY["notes"],
        ),
        run.error("balance", "1", DENTOPS_ACTOR="dr.chen"),
    ]
    assert all(e.startswith("error: ") for e in errors), errors
    run(
        "break-glass",
        "open",
        "--reason",
        "emergency: records needed now",
        "--minutes",
        "10",
        "--action",
        "read_balance",
        DENTOPS_ACTOR="dr.chen",
    )
    run("balance", "1", DENTOPS_ACTOR="dr.chen")
    run("audit", "verify")
    run("keys", "status")
    run("keys", "rotate", "--batch", "1")
    run("backup", "--out", str(tmp_path / "canary.backup"))

    everything = "\n".join(run.outputs).lower()
    assert "error: " in everything  # the refusals were captured
    leaks = {name: v for name, v in CANARY.items() if v.lower() in everything}
    assert leaks == {}
    # nor in the database outside the encrypted columns (audit details, grants, anything)
    database = (run.data_dir / "dentops.db").read_bytes()
    backup = (tmp_path / "canary.backup").read_bytes()
    for value in CANARY.values():
        assert value.encode() not in database and value.encode() not in backup


def test_audit_verify_names_a_tampered_entry(practice: Run) -> None:
    report = practice("audit", "verify")["audit_chain"]
    assert isinstance(report, dict) and report["ok"] is True
    database = practice.data_dir / "dentops.db"
    with sqlite3.connect(database) as con:
        audit_id, seq = con.execute(
            "SELECT audit_id, seq FROM audit_entries WHERE action = 'patient.add'"
        ).fetchone()
        con.execute("DROP TRIGGER audit_entries_no_update")
        con.execute(
            "UPDATE audit_entries SET actor_username = 'nobody' WHERE audit_id = ?", (audit_id,)
        )
        con.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )
    try:
        broken = practice("audit", "verify", status=7)["audit_chain"]
        assert isinstance(broken, dict)
        assert broken["ok"] is False
        assert broken["broken"] == {
            "seq": seq,
            "audit_id": audit_id,
            "problem": "content does not match its hash",
        }
        human = practice.runner.invoke(cli, ["audit", "verify"], env=practice.env())
        assert human.exit_code == 7
        assert f"BROKEN at seq {seq}, entry id {audit_id}" in human.stdout
    finally:
        with sqlite3.connect(database) as con:
            con.execute("DROP TRIGGER audit_entries_no_update")
            con.execute(
                "UPDATE audit_entries SET actor_username = 'admin' WHERE audit_id = ?", (audit_id,)
            )
            con.execute(
                "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
    assert practice("audit", "verify")["audit_chain"]["ok"] is True  # type: ignore[index]


def test_keys_backup_restore_and_break_glass_review_from_the_command_line(
    practice: Run, tmp_path: Path
) -> None:
    status = practice("keys", "status")["keys"]
    assert isinstance(status, dict)
    old = status["active_key_id"]
    rotated = practice("keys", "rotate")["rotation"]
    assert isinstance(rotated, dict) and rotated["previous_key_id"] == old
    refused = practice.error("keys", "retire", rotated["active_key_id"])
    assert "active key" in refused
    for key_id in load_key_file(practice.data_dir / "keys.json").encryption_keys:
        if key_id != rotated["active_key_id"]:
            practice("keys", "retire", key_id)
    assert list(load_key_file(practice.data_dir / "keys.json").encryption_keys) == [
        rotated["active_key_id"]
    ]

    out = tmp_path / "practice.backup"
    made = practice("backup", "--out", str(out))["backup"]
    assert isinstance(made, dict) and made["tables"] > 10
    restored_dir = tmp_path / "restored"
    restored = practice(
        "restore",
        "--from",
        str(out),
        DENTOPS_DATA_DIR=str(restored_dir),
        DENTOPS_KEY_FILE=str(practice.data_dir / "keys.json"),
        DENTOPS_BACKUP_KEY_FILE=str(practice.data_dir / "backup.key"),
    )["restore"]
    assert isinstance(restored, dict) and restored["checked"] and restored["missing_key_ids"] == []
    again = practice.error(
        "restore",
        "--from",
        str(out),
        DENTOPS_DATA_DIR=str(restored_dir),
        DENTOPS_BACKUP_KEY_FILE=str(practice.data_dir / "backup.key"),
    )
    assert "empty database" in again
    with sqlite3.connect(restored_dir / "dentops.db") as con:
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] >= 1

    grants = practice("break-glass", "list")["grants"]
    assert isinstance(grants, list) and grants
    practice("user", "add", "second.admin", "--role", "admin", "--password", "second-admin-pass")
    for grant in grants:
        practice(
            "break-glass",
            "review",
            str(grant["grant_id"]),
            "--note",
            "checked",
            DENTOPS_ACTOR="second.admin",
        )
    assert practice("break-glass", "list")["grants"] == []
    install_keyring(load_key_file(practice.data_dir / "keys.json"))
