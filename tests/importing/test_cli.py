"""`dentops import` and `dentops export` end to end (typer's CliRunner, a real SQLite file)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli
from tests.importing.helpers import patients, read_csv, write_folder

ADMIN_PASSWORD = "cli-admin-password"


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()
        self.env = {"DENTOPS_DATA_DIR": str(data_dir), "DENTOPS_ACTOR": "admin"}

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = self.runner.invoke(cli, list(args), env=self.env)
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> dict[str, object]:
        code, out, err = self(*args, "--json")
        assert code == 0, (args, out, err)
        return dict(json.loads(out))

    def tables(self) -> dict[str, list[tuple[object, ...]]]:
        """Every table but the audit log, row by row."""
        with sqlite3.connect(self.data_dir / "dentops.db") as con:
            names = [
                row[0]
                for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if row[0] != "audit_entries"
            ]
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in names}  # noqa: S608


def visits(**changes: str) -> list[dict[str, str]]:
    rows = [
        {
            "appointment_id": f"A{n}",
            "patient_id": f"P{n % 2 + 1}",
            "booked_at": "2025-03-01 10:00",
            "start_at": f"2025-03-{10 + n:02d} 09:00",
            "status": "completed",
            "clinic": "Elm Street",
            "provider": "Dr Chen",
            "chair": "Op 1",
            "procedure_code": "D0120",
            "reminder_sent": "yes",
        }
        for n in range(4)
    ]
    rows[0] |= changes
    return rows


@pytest.fixture
def dentops(tmp_path: Path) -> Cli:
    run = Cli(tmp_path / "data")
    run.ok("init", "--admin-username", "admin", "--admin-password", ADMIN_PASSWORD)
    return run


def test_import_reimport_refusal_and_export(dentops: Cli, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "elm", patients("P1", "P2"), visits(), None)
    zone = ("--clinic-timezone", "America/Chicago")
    first = dentops.ok("import", str(folder), *zone)
    assert first["appointments"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert first["clinics_created"] == ["Elm Street"] and first["namespace"] == "elm"
    before = dentops.tables()
    again = dentops.ok("import", str(folder), *zone)
    assert again["appointments"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert dentops.tables() == before

    bad = write_folder(
        tmp_path / "elm", patients("P1", "P2"), visits(status="done", start_at="2025-02-30"), None
    )
    code, out, err = dentops("import", str(bad), *zone, "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert [(p["file"], p["line"], p["column"]) for p in problems] == [
        ("appointments.csv", 2, "start_at"),
        ("appointments.csv", 2, "status"),
    ]
    assert err.startswith("error: 2 problem(s)")
    code, out, err = dentops("import", str(bad), *zone)
    assert code == 1 and out == ""
    assert err.splitlines()[:2] == [
        "error: appointments.csv:2: start_at: '2025-02-30' is not a date (YYYY-MM-DD)",
        "error: appointments.csv:2: status: status 'done' is not one of completed, no_show, "
        "cancelled, booked, confirmed, checked_in",
    ]
    assert dentops.tables() == before

    exported = dentops.ok("export", str(tmp_path / "out"))
    assert exported["appointments"] == 4 and exported["patients"] == 2
    rows = read_csv(tmp_path / "out" / "appointments.csv")
    assert [r["appointment_id"] for r in rows] == ["A0", "A1", "A2", "A3"]
    assert rows[0]["start_at"] == "2025-03-10T09:00:00-05:00"  # Chicago, daylight time


def test_usage_errors(dentops: Cli, tmp_path: Path) -> None:
    code, _, err = dentops("import", str(tmp_path / "nowhere"))
    assert code == 1 and "is not a folder" in err
    code, _, err = dentops("import", str(tmp_path), "--namespace", "a b")
    assert code == 1 and "namespace 'a b'" in err
