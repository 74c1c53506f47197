"""Suggestions: the optimizer's proposed slots for requests. The optimizer (acting as the
system) records them; schedulers list the pending ones, accept one (which books the appointment
through the usual booking rules, in the same transaction) or reject it with a reason. A
suggestion whose slot is no longer free, has started, or whose request is closed expires.
Every write and every read is audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core_app.adapters import request_store
from core_app.domain.appointment import BookingSource
from core_app.domain.exceptions import DomainError, SlotUnavailable, ValidationError
from core_app.domain.request import RequestStatus, SlotSuggestion, SuggestionStatus
from core_app.domain.staff import Action, Actor
from core_app.service_layer.appointments import book_in_transaction
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case


class StaleSuggestion(DomainError):
    """The suggested slot is no longer free: the suggestion expired and nothing was booked."""

    code = "slot_unavailable"


def record_suggestions(
    uow: UnitOfWork, actor: Actor, suggestions: Sequence[SlotSuggestion]
) -> list[int]:
    """Store the suggestions (earlier pending ones of the same requests expire); all or
    nothing. Returns the new suggestions' ids in the given order."""

    def work(uow: UnitOfWork) -> list[int]:
        actor.require(Action.RECORD_SUGGESTIONS)
        connection = uow.session.connection()
        clinic_of: dict[int, int] = {}
        for index, s in enumerate(suggestions):
            problems = s.problems()
            request = request_store.get_request(connection, s.request_id)
            if request is None:
                problems.append(f"request {s.request_id} does not exist")
            else:
                actor.require(Action.RECORD_SUGGESTIONS, clinic_id=request["clinic_id"])
                if request["status"] != RequestStatus.OPEN:
                    problems.append(f"request {s.request_id} is {request['status']}, not open")
                chair = uow.chairs.get(s.chair_id)
                if chair is None or chair.clinic_id != request["clinic_id"]:
                    problems.append(f"chair {s.chair_id} is not a chair of the request's clinic")
                provider = uow.providers.get(s.provider_id)
                clinics = {h.clinic_id for h in provider.working_hours} if provider else set()
                if request["clinic_id"] not in clinics:
                    problems.append(f"provider {s.provider_id} does not work at that clinic")
                clinic_of[s.request_id] = request["clinic_id"]
            if problems:
                raise ValidationError(f"suggestion {index}: " + "; ".join(problems))
        ids = request_store.replace_pending(connection, suggestions, clinic_of, uow.now())
        if ids:
            uow.audit(
                actor,
                "suggestion.record",
                "suggestion",
                None,
                detail=f"{len(ids)} suggestions, ids {ids[0]}..{ids[-1]}",
            )
        return ids

    return run_use_case(
        uow, actor, action="suggestion.record", entity_type="suggestion", entity_id=None, work=work
    )


def list_suggestions(
    uow: UnitOfWork,
    actor: Actor,
    clinic_id: int,
    *,
    status: SuggestionStatus | None = SuggestionStatus.PENDING,
) -> list[dict[str, Any]]:
    """A clinic's suggestions by start time (pending ones by default), after expiring the
    stale ones; each with its request's patient, kind and procedures. The read is audited."""

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        connection = uow.session.connection()
        now = uow.now()
        stale = request_store.stale_pending(connection, clinic_id, now)
        if stale:
            request_store.expire(connection, stale, now)
            uow.audit(actor, "suggestion.expire", "suggestion", None, detail=f"{len(stale)}")
        rows = request_store.list_suggestions(connection, clinic_id, status)
        for row in rows:
            request = request_store.get_request(connection, row["request_id"]) or {}
            row["patient_id"] = request.get("patient_id")
            row["kind"] = request.get("kind")
            row["procedure_codes"] = tuple(str(request.get("procedure_codes", "")).split("+"))
            row["status"] = str(SuggestionStatus(row["status"]))
        if rows:
            ids: list[int | None] = [r["suggestion_id"] for r in rows]
            uow.audit(actor, "suggestion.read", "suggestion", ids)
        return rows

    return run_use_case(
        uow, actor, action="suggestion.read", entity_type="suggestion", entity_id=None, work=work
    )


def accept_suggestion(
    uow: UnitOfWork, actor: Actor, suggestion_id: int, *, patient_id: int | None = None
) -> int:
    """Book the suggested slot for the request's patient (`patient_id` for a new patient's
    request, registered first) and close the request; returns the appointment's id. A slot
    that is no longer free expires the suggestion and books nothing (`StaleSuggestion`)."""

    def work(uow: UnitOfWork) -> int:
        connection = uow.session.connection()
        found = require(
            request_store.get_suggestion(connection, suggestion_id), "suggestion", suggestion_id
        )
        actor.require(Action.DECIDE_SUGGESTION, clinic_id=found["clinic_id"])
        if found["status"] != SuggestionStatus.PENDING:
            raise ValidationError(f"suggestion {suggestion_id} is {found['status']}, not pending")
        request = require(
            request_store.get_request(connection, found["request_id"]),
            "request",
            found["request_id"],
        )
        if request["status"] != RequestStatus.OPEN:
            raise ValidationError(f"request {request['request_id']} is {request['status']} already")
        patient = request["patient_id"]
        if patient is None and patient_id is None:
            raise ValidationError(
                f"request {request['request_id']} is for a new patient: register the patient "
                "and give their id"
            )
        if patient is not None and patient_id not in (None, patient):
            raise ValidationError(f"request {request['request_id']} is for patient {patient}")
        appointment_id = book_in_transaction(
            uow,
            actor,
            patient_id=patient if patient is not None else int(patient_id or 0),
            provider_id=found["provider_id"],
            chair_id=found["chair_id"],
            clinic_id=found["clinic_id"],
            start_at=found["start_at"],
            end_at=found["end_at"],
            codes=request["procedure_codes"].split("+"),
            overbook_of=found["overbook_of_appointment_id"],
            source=BookingSource.SUGGESTION,
        )
        now = uow.now()
        request_store.decide(
            connection,
            suggestion_id,
            SuggestionStatus.ACCEPTED,
            now,
            user_id=actor.user_id,
            appointment_id=appointment_id,
        )
        request_store.set_request_status(
            connection, request["request_id"], RequestStatus.BOOKED, now, appointment_id
        )
        siblings = [
            s["suggestion_id"]
            for s in request_store.list_suggestions(
                connection, found["clinic_id"], SuggestionStatus.PENDING
            )
            if s["request_id"] == request["request_id"]
        ]
        request_store.expire(connection, siblings, now)
        uow.audit(
            actor,
            "suggestion.accept",
            "suggestion",
            suggestion_id,
            detail=f"appointment {appointment_id}",
        )
        return appointment_id

    try:
        return run_use_case(
            uow,
            actor,
            action="suggestion.accept",
            entity_type="suggestion",
            entity_id=suggestion_id,
            work=work,
        )
    except SlotUnavailable as error:
        _expire_one(uow, actor, suggestion_id)
        raise StaleSuggestion(
            f"suggestion {suggestion_id} is stale ({error}); it expired and nothing was booked"
        ) from error


def _expire_one(uow: UnitOfWork, actor: Actor, suggestion_id: int) -> None:
    def work(uow: UnitOfWork) -> None:
        request_store.expire(uow.session.connection(), [suggestion_id], uow.now())
        uow.audit(actor, "suggestion.expire", "suggestion", suggestion_id, detail="slot taken")

    run_use_case(
        uow,
        actor,
        action="suggestion.expire",
        entity_type="suggestion",
        entity_id=suggestion_id,
        work=work,
    )


def reject_suggestion(uow: UnitOfWork, actor: Actor, suggestion_id: int, *, reason: str) -> None:
    def work(uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        found = require(
            request_store.get_suggestion(connection, suggestion_id), "suggestion", suggestion_id
        )
        actor.require(Action.DECIDE_SUGGESTION, clinic_id=found["clinic_id"])
        text = reason.strip()
        if not text or len(text) > 500:
            raise ValidationError("a rejection needs a reason of 1-500 characters")
        if found["status"] != SuggestionStatus.PENDING:
            raise ValidationError(f"suggestion {suggestion_id} is {found['status']}, not pending")
        request_store.decide(
            connection,
            suggestion_id,
            SuggestionStatus.REJECTED,
            uow.now(),
            user_id=actor.user_id,
            reason=text,
        )
        uow.audit(actor, "suggestion.reject", "suggestion", suggestion_id)

    run_use_case(
        uow,
        actor,
        action="suggestion.reject",
        entity_type="suggestion",
        entity_id=suggestion_id,
        work=work,
    )
