"""Helpers for import tests: write the interchange files, run an import, read records back."""

from __future__ import annotations

import csv
from pathlib import Path

from core_app.service_layer.importing import ImportOptions, ImportReport, import_directory
from tests.conftest import Practice

Rows = list[dict[str, str]]


def write_csv(folder: Path, name: str, rows: Rows, *, header: list[str] | None = None) -> None:
    """Write `rows` under `header` (default: every key, in order of first appearance)."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = header or list(dict.fromkeys(key for row in rows for key in row))
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([row.get(column, "") for column in columns] for row in rows)


def write_folder(folder: Path, patients: Rows, appointments: Rows, payments: Rows | None) -> Path:
    write_csv(folder, "patients.csv", patients)
    write_csv(folder, "appointments.csv", appointments)
    if payments is not None:
        write_csv(folder, "payments.csv", payments)
    return folder


def run_import(practice: Practice, folder: Path, **options: str) -> ImportReport:
    """Import into the practice's clinic (Main Street, New York) as its admin."""
    settings = ImportOptions.for_folder(folder, clinic="Main Street", **options)
    return import_directory(practice.app.uow(), practice.admin, folder, settings)


def counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    return {
        name: (c.created, c.updated, c.unchanged)
        for name, c in (
            ("patients", report.patients),
            ("appointments", report.appointments),
            ("payments", report.payments),
        )
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def patients(*ids: str) -> Rows:
    """Patients P1, P2, ... with names, birth dates and contacts."""
    return [
        {
            "patient_id": pid,
            "first_name": f"First{pid}",
            "last_name": f"Last{pid}",
            "birth_date": f"19{60 + n}-0{1 + n % 9}-1{n % 9}",
            "sex": "F" if n % 2 else "M",
            "phone": f"+1 555 01{n:02d}",
            "email": f"{pid.lower()}@example.org",
            "area": "North",
        }
        for n, pid in enumerate(ids)
    ]
