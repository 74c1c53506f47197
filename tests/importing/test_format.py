"""The file format itself: every column documented, header and cell problems, time reading."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core_app.service_layer.importing.csv_format import FILES
from core_app.service_layer.importing.parse import parse_folder
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.values import CellError, timestamp

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"
NEW_YORK = ZoneInfo("America/New_York")


def test_every_column_is_documented_under_its_file() -> None:
    text = DOC.read_text(encoding="utf-8")
    for spec in FILES:
        section = text.split(f"## `{spec.name}`", 1)[1].split("\n## ", 1)[0]
        documented = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
        assert documented == list(spec.names), spec.name


def problems_of(folder: Path) -> dict[tuple[str, int, str], str]:
    found = Problems()
    parse_folder(folder, found)
    return {(p.file, p.line, p.column): p.reason for p in found.found}


def test_header_and_record_problems(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        '\ufeffpatient_id,phone,phone\nP1,1,2\nP2\n\nP3,"+1 555\n0100",x\nP3,,\n',
        encoding="utf-8",
    )
    (tmp_path / "appointments.csv").write_bytes(b"appointment_id\n\xff\n")
    found = problems_of(tmp_path)
    assert found.keys() == {
        ("patients.csv", 1, "phone"),  # twice
        ("patients.csv", 3, ""),  # one field for three columns
        ("patients.csv", 7, "patient_id"),  # P3 again (the quoted break makes P3 span 5-6)
        ("appointments.csv", 0, ""),  # not UTF-8
    }
    assert "first on line 5" in found[("patients.csv", 7, "patient_id")]


def test_required_values_and_cells(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text("patient_id\nP1\n", encoding="utf-8")
    (tmp_path / "appointments.csv").write_text(
        "appointment_id,patient_id,booked_at,start_at,status,duration_min,fee_cents,"
        "procedure_code,reminder_sent\n"
        "A1,,2024-01-01,2024-01-02 9:00,booked,4,100,D0120+D1110,maybe\n",
        encoding="utf-8",
    )
    found = problems_of(tmp_path)
    assert found.keys() == {
        ("appointments.csv", 2, "patient_id"),
        ("appointments.csv", 2, "start_at"),  # 9:00 is not ISO 8601 (09:00 is)
        ("appointments.csv", 2, "duration_min"),
        ("appointments.csv", 2, "fee_cents"),  # two procedures, one fee
        ("appointments.csv", 2, "reminder_sent"),
    }
    assert found[("appointments.csv", 2, "patient_id")] == "a value is required"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-03-10T01:30", "2024-03-10T06:30:00+00:00"),  # EST
        ("2024-03-10 02:30", "2024-03-10T07:30:00+00:00"),  # in the gap: the offset before it
        ("2024-03-10 03:30", "2024-03-10T07:30:00+00:00"),  # EDT
        ("2024-11-03 01:30", "2024-11-03T05:30:00+00:00"),  # the first 01:30 (EDT)
        ("2024-03-10T02:30:00Z", "2024-03-10T02:30:00+00:00"),  # aware: as written
        ("2024-03-10T09:15:59.999+01:00", "2024-03-10T08:15:59+00:00"),  # fraction dropped
        ("2024-03-10", "2024-03-10T05:00:00+00:00"),  # a date: local midnight
    ],
)
def test_naive_times_are_clinic_local(text: str, utc: str) -> None:
    epoch = timestamp(text).epoch(NEW_YORK)
    assert datetime.fromtimestamp(epoch, UTC).isoformat() == utc


def test_unreadable_times_say_why() -> None:
    with pytest.raises(CellError, match="not a date"):
        timestamp("2024-02-30")
    with pytest.raises(CellError, match="not an ISO 8601 timestamp"):
        timestamp("03/01/2024 9:30")
