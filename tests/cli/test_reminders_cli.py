"""`dentops clinic reminder-policy` and `dentops reminders ...` end to end on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import Cli, dentops, next_weekday, prepared  # noqa: F401 - fixtures

DEFAULTS = {
    "clinic_id": 1,
    "standard_minutes": [1440, 120],
    "short_enabled": False,
    "high_risk_minutes": [4320],
    "high_risk_call_task": True,
    "day_start": "08:00",
    "day_end": "21:00",
    "min_lead_minutes": 15,
}


def test_reminder_policy_is_shown_changed_and_refused_when_wrong(dentops: Cli) -> None:  # noqa: F811
    assert dentops("clinic", "reminder-policy", "--clinic", "1") == DEFAULTS
    changed = dentops(
        "clinic",
        "reminder-policy",
        "--clinic",
        "1",
        "--standard",
        "48h,3h",
        "--short",
        "--min-lead",
        "10",
        "--day-end",
        "20:00",
    )
    expected = DEFAULTS | {
        "standard_minutes": [2880, 180],
        "short_enabled": True,
        "min_lead_minutes": 10,
        "day_end": "20:00",
    }
    assert changed == expected
    assert dentops("clinic", "reminder-policy", "--clinic", "1") == expected
    before = dentops.dump()
    for args, message in [
        (["--standard", "soon"], "error: cannot read reminder offset 'soon'"),
        (["--day-start", "22:00"], "error: quiet hours: the day must start before it ends"),
        (["--high-risk", "30d"], "error: cannot read reminder offset '30d'"),
        (["--min-lead", "45"], "error: the 30-minute reminder needs a minimum lead under 30"),
    ]:
        refused = dentops("clinic", "reminder-policy", "--clinic", "1", *args, ok=False)
        assert refused["exit_code"] != 0 and str(refused["stderr"]).startswith(message), refused
    assert dentops.dump() == before


def test_reminders_of_a_booking_are_listed_and_dispatch_reports_in_json(
    dentops: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
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
        f"{day} 14:00",
        "--procedures",
        "D1110",
    )
    listed = dentops("reminders", "list", "--appointment", str(booked["appointment_id"]))
    rows = listed["reminders"]
    assert [(r["kind"], r["status"], r["channel"]) for r in rows] == [
        ("standard", "pending", "email"),
        ("standard", "pending", "email"),
    ]
    report = dentops("reminders", "dispatch")
    assert report["claimed"] == 0 and report["sent"] == 0  # nothing due yet (two days ahead)
    assert dentops("reminders", "list", "--due") == {"reminders": []}
    neither = dentops("reminders", "list", ok=False)
    assert str(neither["stderr"]).startswith("error: give either --appointment ID or --due")
    assert not (dentops.data_dir / "reminders.jsonl").exists()
