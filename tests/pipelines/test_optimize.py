"""pipelines.optimize: a week planned from the core's queries becomes pending suggestions that
book through the core; suggestions for one request lie ahead, are distinct and stored."""

from __future__ import annotations

from datetime import timedelta

from core_app.domain.request import NewRequest, RequestKind
from core_app.service_layer import open_requests, suggestions
from pipelines import optimize
from tests.conftest import Practice, local
from tests.service_layer.helpers import book

MONDAY = local(0, "12:00").date()


def _request(practice: Practice, patient: int, **changes: object) -> int:
    values: dict[str, object] = {
        "clinic_id": practice.clinic_id,
        "patient_id": practice.patient_ids[patient],
        "kind": RequestKind.RECALL,
        "procedure_codes": ("D1110",),
        "earliest_date": MONDAY,
        "latest_date": MONDAY + timedelta(days=4),
    }
    values.update(changes)
    return open_requests.add_request(practice.app.uow(), practice.admin, NewRequest(**values))  # type: ignore[arg-type]


def test_the_week_is_built_from_the_core_in_local_minutes(practice: Practice) -> None:
    held = book(practice, 0, "09:00")
    _request(practice, 1)
    instance, week = optimize.build_instance(practice.app, practice.clinic_id, MONDAY)
    (appointment,) = instance.appointments
    assert appointment.appointment_id == held
    assert (appointment.start, appointment.end) == (9 * 60, 10 * 60)
    assert week.at(appointment.start) == local(0, "09:00")
    assert len(instance.providers) == 3 and len(instance.chairs) == 3
    (request,) = instance.requests
    assert request.duration_min == 60
    assert request.windows[0].start == week.minute(practice.app.clock()) + 1  # after now


def test_a_planned_week_is_stored_as_suggestions_that_book(practice: Practice) -> None:
    book(practice, 0, "09:00")
    first, second = _request(practice, 1), _request(practice, 2)
    summary = optimize.plan_week(practice.app, practice.clinic_id, MONDAY)
    assert summary["placed"] == 2 and len(summary["suggestion_ids"]) == 2
    pending = suggestions.list_suggestions(practice.app.uow(), practice.admin, practice.clinic_id)
    assert sorted(s["request_id"] for s in pending) == [first, second]
    for s in pending:
        appointment_id = suggestions.accept_suggestion(
            practice.app.uow(), practice.admin, s["suggestion_id"]
        )
        assert appointment_id > 0
    assert open_requests.list_requests(practice.app.uow(), practice.admin, practice.clinic_id) == []


def test_suggestions_for_one_request_lie_ahead_and_are_stored(practice: Practice) -> None:
    request_id = _request(practice, 1, latest_date=MONDAY)
    result = optimize.suggest_for_request(practice.app, request_id, k=3)
    starts = [s["start_at"] for s in result["suggestions"]]
    assert len(starts) == 3 and len(result["suggestion_ids"]) == 3
    now = practice.app.clock()
    assert all(s >= now.isoformat() for s in starts)
    assert len({(s["provider_id"], s["start_at"]) for s in result["suggestions"]}) == 3


def test_planning_ahead_gives_each_request_one_week(practice: Practice) -> None:
    spans_both = _request(practice, 1, latest_date=MONDAY + timedelta(days=11))
    next_week = _request(
        practice,
        2,
        earliest_date=MONDAY + timedelta(days=7),
        latest_date=MONDAY + timedelta(days=11),
    )
    summaries = optimize.plan_ahead(practice.app, weeks=2)
    assert [s["week"] for s in summaries] == [
        MONDAY.isoformat(),
        (MONDAY + timedelta(days=7)).isoformat(),
    ]
    assert [s["placed_request_ids"] for s in summaries] == [[spans_both], [next_week]]
    pending = suggestions.list_suggestions(practice.app.uow(), practice.admin, practice.clinic_id)
    assert sorted(s["request_id"] for s in pending) == [spans_both, next_week]
