"""Requests and suggestions: requests checked when added, suggestions recorded by the system,
accepted through the booking rules in one transaction, rejected with a reason, expired when
their slot is taken; every step audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core_app.domain.appointment import BookingSource
from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.request import NewRequest, RequestKind, SlotSuggestion, SuggestionStatus
from core_app.domain.staff import Role
from core_app.service_layer import open_requests, suggestions
from tests.conftest import Practice, local
from tests.service_layer.helpers import (
    add_staff,
    audit_entries,
    book,
    load_appointment,
    snapshot,
)

MONDAY = local(0, "12:00").date()


def request(practice: Practice, **changes: object) -> NewRequest:
    values: dict[str, object] = {
        "clinic_id": practice.clinic_id,
        "patient_id": practice.patient_ids[1],
        "kind": RequestKind.RECALL,
        "procedure_codes": ("D1110",),
        "earliest_date": MONDAY,
        "latest_date": MONDAY + timedelta(days=13),
    }
    values.update(changes)
    return NewRequest(**values)  # type: ignore[arg-type]


def slot(
    practice: Practice, request_id: int, day: int, hhmm: str, chair: int = 0
) -> SlotSuggestion:
    start = local(day, hhmm)
    return SlotSuggestion(
        request_id=request_id,
        provider_id=practice.dentist_id,
        chair_id=practice.chair_ids[chair],
        start_at=start,
        end_at=start + timedelta(minutes=60),
        score=12.5,
        reasons=("fills a gap on Tuesday morning", "patient overdue for recall"),
        plan_ref="plan-1",
    )


def test_requests_are_checked_when_added_and_listed_with_an_audit_entry(
    practice: Practice,
) -> None:
    app, admin = practice.app, practice.admin
    request_id = open_requests.add_request(app.uow(), admin, request(practice))
    for changes, message in (
        ({"patient_id": None}, "needs a patient"),
        ({"latest_date": MONDAY - timedelta(days=1)}, "before earliest"),
        ({"procedure_codes": ("D9999",)}, "unknown procedure code"),
        ({"urgency": 7}, "urgency must be one of"),
        ({"preferred_hours": "someday"}, "cannot read hours"),
        ({"earliest_date": date(2020, 1, 1), "latest_date": date(2020, 2, 1)}, "ended on"),
    ):
        with pytest.raises(ValidationError, match=message):
            open_requests.add_request(app.uow(), admin, request(practice, **changes))
    new_patient = open_requests.add_request(
        app.uow(), admin, request(practice, patient_id=None, kind=RequestKind.NEW_PATIENT)
    )
    rows = open_requests.list_requests(app.uow(), admin, practice.clinic_id)
    assert [(r["request_id"], r["kind"], r["duration_min"]) for r in rows] == [
        (request_id, "recall", 60),
        (new_patient, "new_patient", 60),
    ]
    [read] = [e for e in audit_entries(app) if e.action == "request.read"]
    assert (read.entity_type, read.entity_id) == ("clinic", str(practice.clinic_id))
    assert read.detail == f"requests {request_id},{new_patient}"


def test_the_most_urgent_requests_are_listed_first_and_only_those_listed_are_audited(
    practice: Practice,
) -> None:
    app, admin = practice.app, practice.admin
    routine = open_requests.add_request(app.uow(), admin, request(practice, urgency=1))
    urgent_late = open_requests.add_request(
        app.uow(), admin, request(practice, urgency=3, earliest_date=MONDAY + timedelta(days=2))
    )
    urgent_early = open_requests.add_request(app.uow(), admin, request(practice, urgency=3))
    middle = open_requests.add_request(app.uow(), admin, request(practice, urgency=2))
    top = open_requests.list_requests(
        app.uow(), admin, practice.clinic_id, most_urgent_first=True, limit=2
    )
    assert [r["request_id"] for r in top] == [urgent_early, urgent_late]
    everything = open_requests.list_requests(
        app.uow(), admin, practice.clinic_id, most_urgent_first=True
    )
    assert [r["request_id"] for r in everything] == [urgent_early, urgent_late, middle, routine]
    reads = [e.detail for e in audit_entries(app) if e.action == "request.read"]
    listed = f"{urgent_early},{urgent_late}"
    assert reads == [f"requests {listed}", f"requests {listed},{middle},{routine}"]
    assert open_requests.count_requests(app.uow(), admin, practice.clinic_id) == 4
    open_requests.cancel_request(app.uow(), admin, routine)
    assert open_requests.count_requests(app.uow(), admin, practice.clinic_id) == 3
    assert open_requests.count_requests(app.uow(), admin, practice.clinic_id, status=None) == 4
    with pytest.raises(ValidationError, match="limit must be at least 1"):
        open_requests.list_requests(app.uow(), admin, practice.clinic_id, limit=0)


def test_accepting_books_through_the_rules_and_closes_the_request(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    scheduler = add_staff(practice, "sched", Role.SCHEDULER, clinic_id=practice.clinic_id)
    request_id = open_requests.add_request(app.uow(), admin, request(practice))
    first, second = suggestions.record_suggestions(
        app.uow(),
        admin,
        [slot(practice, request_id, 1, "09:00"), slot(practice, request_id, 2, "09:00")],
    )
    pending = suggestions.list_suggestions(app.uow(), scheduler, practice.clinic_id)
    assert [(s["suggestion_id"], s["patient_id"], s["reasons"][0]) for s in pending] == [
        (first, practice.patient_ids[1], "fills a gap on Tuesday morning"),
        (second, practice.patient_ids[1], "fills a gap on Tuesday morning"),
    ]
    appointment_id = suggestions.accept_suggestion(app.uow(), scheduler, first)
    booked = load_appointment(app, appointment_id)
    assert booked.start_at == local(1, "09:00") and booked.source is BookingSource.SUGGESTION
    assert booked.patient_id == practice.patient_ids[1]
    everything = suggestions.list_suggestions(app.uow(), scheduler, practice.clinic_id, status=None)
    assert {s["suggestion_id"]: s["status"] for s in everything} == {
        first: "accepted",
        second: "expired",
    }
    assert open_requests.list_requests(app.uow(), admin, practice.clinic_id) == []
    with pytest.raises(ValidationError, match="not pending"):
        suggestions.accept_suggestion(app.uow(), scheduler, second)
    actions = [(e.action, e.outcome) for e in audit_entries(app) if e.action.startswith("sugg")]
    assert ("suggestion.accept", "success") in actions
    assert ("suggestion.record", "success") in actions


def test_a_stale_suggestion_expires_and_books_nothing(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    request_id = open_requests.add_request(app.uow(), admin, request(practice))
    (suggestion_id,) = suggestions.record_suggestions(
        app.uow(), admin, [slot(practice, request_id, 1, "09:00")]
    )
    holder = book(practice, 1, "09:30", patient=2, chair=1)  # same dentist, overlapping
    before = snapshot(app)
    with pytest.raises(suggestions.StaleSuggestion, match=f"held by appointment {holder}"):
        suggestions.accept_suggestion(app.uow(), admin, suggestion_id)
    after = snapshot(app)
    assert {t for t in after if after[t] != before[t]} == {"suggestions"}
    (expired,) = suggestions.list_suggestions(
        app.uow(), admin, practice.clinic_id, status=SuggestionStatus.EXPIRED
    )
    assert expired["suggestion_id"] == suggestion_id


def test_listing_expires_suggestions_whose_slot_was_taken(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    request_id = open_requests.add_request(app.uow(), admin, request(practice))
    _taken, free = suggestions.record_suggestions(
        app.uow(),
        admin,
        [slot(practice, request_id, 1, "09:00"), slot(practice, request_id, 1, "14:00")],
    )
    book(practice, 1, "09:00", patient=2, chair=2)
    pending = suggestions.list_suggestions(app.uow(), admin, practice.clinic_id)
    assert [s["suggestion_id"] for s in pending] == [free]


def test_rejecting_needs_a_reason_and_new_patients_need_a_record_first(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    request_id = open_requests.add_request(
        app.uow(), admin, request(practice, patient_id=None, kind=RequestKind.NEW_PATIENT)
    )
    one, two = suggestions.record_suggestions(
        app.uow(),
        admin,
        [slot(practice, request_id, 1, "09:00"), slot(practice, request_id, 3, "10:00")],
    )
    with pytest.raises(ValidationError, match="reason"):
        suggestions.reject_suggestion(app.uow(), admin, one, reason="  ")
    suggestions.reject_suggestion(app.uow(), admin, one, reason="patient works Tuesdays")
    with pytest.raises(ValidationError, match="new patient"):
        suggestions.accept_suggestion(app.uow(), admin, two)
    appointment_id = suggestions.accept_suggestion(
        app.uow(), admin, two, patient_id=practice.patient_ids[3]
    )
    assert load_appointment(app, appointment_id).patient_id == practice.patient_ids[3]


def test_only_the_system_records_and_front_desk_cannot_decide(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    desk = add_staff(practice, "desk", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    request_id = open_requests.add_request(app.uow(), desk, request(practice))
    with pytest.raises(PermissionDenied):
        suggestions.record_suggestions(app.uow(), desk, [slot(practice, request_id, 1, "09:00")])
    (suggestion_id,) = suggestions.record_suggestions(
        app.uow(), admin, [slot(practice, request_id, 1, "09:00")]
    )
    with pytest.raises(PermissionDenied):
        suggestions.accept_suggestion(app.uow(), desk, suggestion_id)
    with pytest.raises(ValidationError, match="not a chair"):
        bad = slot(practice, request_id, 1, "11:00")
        suggestions.record_suggestions(
            app.uow(),
            admin,
            [SlotSuggestion(**{**bad.__dict__, "chair_id": 999_999})],
        )
