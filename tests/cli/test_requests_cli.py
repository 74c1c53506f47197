"""`dentops request` and `dentops suggestion` as a scheduler uses them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from core_app.config import Settings
from core_app.domain.request import SlotSuggestion
from core_app.service_layer import bootstrap, suggestions, users
from tests.cli.test_cli import Cli, dentops, next_weekday, prepared  # noqa: F401 - fixtures

ZONE = ZoneInfo("America/New_York")


def rows(payload: dict[str, object], key: str) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", payload[key])


def suggest(cli: Cli, request_id: int, day: str, hhmm: str) -> int:
    """What the optimizer does: record a suggestion through the core's service."""
    start = datetime.fromisoformat(f"{day} {hhmm}").replace(tzinfo=ZONE)
    app = bootstrap.connect(Settings(data_dir=cli.data_dir))
    try:
        admin = users.actor_for(app.uow(), "admin")
        (suggestion_id,) = suggestions.record_suggestions(
            app.uow(),
            admin,
            [
                SlotSuggestion(
                    request_id=request_id,
                    provider_id=1,
                    chair_id=1,
                    start_at=start,
                    end_at=start + timedelta(minutes=60),
                    score=3.0,
                    reasons=("fills an empty hour",),
                )
            ],
        )
    finally:
        app.close()
    return suggestion_id


def test_request_suggestion_accept_and_stale_through_the_cli(dentops: Cli) -> None:  # noqa: F811
    monday = next_weekday(0)
    day = monday.isoformat()
    added = dentops(
        "request",
        "add",
        "--clinic",
        "1",
        "--patient",
        "1",
        "--kind",
        "recall",
        "--procedures",
        "D1110",
        "--earliest",
        day,
        "--latest",
        (monday + timedelta(days=4)).isoformat(),
    )
    request_id = int(str(added["request_id"]))
    listed = rows(dentops("request", "list", "--clinic", "1"), "requests")
    assert [(r["request_id"], r["procedures"]) for r in listed] == [(request_id, "D1110")]

    first = suggest(dentops, request_id, day, "09:00")
    shown = rows(dentops("suggestion", "list", "--clinic", "1"), "suggestions")
    assert [(s["suggestion_id"], s["start"]) for s in shown] == [(first, f"{day} 09:00")]

    # someone books the dentist at 09:30 by hand: the suggestion is stale
    dentops(
        "appointment",
        "book",
        "--patient",
        "2",
        "--provider",
        "1",
        "--chair",
        "2",
        "--start",
        f"{day} 09:30",
        "--procedures",
        "D0120",
    )
    stale = dentops("suggestion", "accept", str(first), ok=False)
    assert stale["exit_code"] != 0
    assert "is stale" in str(stale["stderr"]) and "nothing was booked" in str(stale["stderr"])

    second = suggest(dentops, request_id, day, "13:00")
    rejected = dentops("suggestion", "reject", str(second), "--reason", "patient at work")
    assert rejected == {"suggestion_id": second, "status": "rejected"}
    third = suggest(dentops, request_id, day, "14:00")
    accepted = dentops("suggestion", "accept", str(third))
    assert accepted["suggestion_id"] == third
    assert dentops("request", "list", "--clinic", "1") == {"requests": []}
    accepted_rows = rows(
        dentops("suggestion", "list", "--clinic", "1", "--status", "accepted"), "suggestions"
    )
    assert [s["suggestion_id"] for s in accepted_rows] == [third]
