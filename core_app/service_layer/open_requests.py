"""Requests: someone waiting for an appointment (waitlist, recall due, new patient). Staff add
and cancel them; the optimizer reads the open ones; a bulk load brings many at once.
Reads are audited: a request says which patient waits for what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from core_app.adapters import request_store
from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import parse_weekly_hours, zone
from core_app.domain.request import (
    NewRequest,
    RequestKind,
    RequestStatus,
    SuggestionStatus,
    check_request,
)
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case


def _row(uow: UnitOfWork, request: NewRequest, now: datetime) -> dict[str, Any]:
    """The request checked against the rules and the practice, as a row to insert."""
    clinic = require(uow.clinics.get(request.clinic_id), "clinic", request.clinic_id)
    codes = tuple(code.strip().upper() for code in request.procedure_codes)
    check_request(
        kind=request.kind,
        patient_id=request.patient_id,
        procedure_codes=codes,
        earliest_date=request.earliest_date,
        latest_date=request.latest_date,
        urgency=request.urgency,
        today=now.astimezone(zone(clinic.timezone)).date(),
    )
    if request.patient_id is not None:
        patient = require(uow.patients.get(request.patient_id), "patient", request.patient_id)
        if patient.clinic_id != request.clinic_id:
            raise ValidationError(
                f"patient {request.patient_id} is not a patient of clinic {request.clinic_id}"
            )
    procedures = uow.procedures.by_codes(request.clinic_id, list(codes))
    unknown = sorted(set(codes) - {p.code for p in procedures})
    if unknown:
        raise ValidationError(f"unknown procedure code(s) {', '.join(unknown)}")
    if request.preferred_provider_id is not None:
        provider = require(
            uow.providers.get(request.preferred_provider_id),
            "provider",
            request.preferred_provider_id,
        )
        if request.clinic_id not in {h.clinic_id for h in provider.working_hours}:
            raise ValidationError(
                f"provider {request.preferred_provider_id} does not work at clinic "
                f"{request.clinic_id}"
            )
    if request.preferred_hours is not None:
        parse_weekly_hours(request.preferred_hours)
    return {
        "clinic_id": request.clinic_id,
        "patient_id": request.patient_id,
        "kind": request.kind,
        "procedure_codes": "+".join(codes),
        "duration_min": sum(p.default_duration_min for p in procedures),
        "preferred_provider_id": request.preferred_provider_id,
        "preferred_hours": request.preferred_hours,
        "earliest_date": request.earliest_date,
        "latest_date": request.latest_date,
        "urgency": request.urgency,
        "status": RequestStatus.OPEN,
        "requested_at": request.requested_at or now,
        "updated_at": now,
    }


def add_request(uow: UnitOfWork, actor: Actor, request: NewRequest) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.MANAGE_REQUESTS, clinic_id=request.clinic_id)
        row = _row(uow, request, uow.now())
        request_id = request_store.add_request(uow.session.connection(), row)
        uow.audit(actor, "request.add", "request", request_id, detail=f"{request.kind}")
        return request_id

    return run_use_case(
        uow, actor, action="request.add", entity_type="request", entity_id=None, work=work
    )


def load_requests(uow: UnitOfWork, actor: Actor, requests: Sequence[NewRequest]) -> int:
    """Many requests in one transaction, all or nothing (each checked like `add_request`)."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.IMPORT)
        now = uow.now()
        rows = []
        for index, request in enumerate(requests):
            actor.require(Action.MANAGE_REQUESTS, clinic_id=request.clinic_id)
            try:
                rows.append(_row(uow, request, now))
            except ValidationError as error:
                raise ValidationError(f"request {index}: {error}") from error
        request_store.add_requests(uow.session.connection(), rows)
        if rows:
            uow.audit(actor, "request.load", "request", None, detail=f"{len(rows)} requests")
        return len(rows)

    return run_use_case(
        uow, actor, action="request.load", entity_type="request", entity_id=None, work=work
    )


def cancel_request(uow: UnitOfWork, actor: Actor, request_id: int) -> None:
    """An open request is withdrawn; its pending suggestions expire with it."""

    def work(uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        found = require(request_store.get_request(connection, request_id), "request", request_id)
        actor.require(Action.MANAGE_REQUESTS, clinic_id=found["clinic_id"])
        if found["status"] != RequestStatus.OPEN:
            raise ValidationError(f"request {request_id} is {found['status']}, not open")
        now = uow.now()
        request_store.set_request_status(connection, request_id, RequestStatus.CANCELLED, now)
        pending = [
            s["suggestion_id"]
            for s in request_store.list_suggestions(
                connection, found["clinic_id"], SuggestionStatus.PENDING
            )
            if s["request_id"] == request_id
        ]
        request_store.expire(connection, pending, now)
        uow.audit(actor, "request.cancel", "request", request_id)

    run_use_case(
        uow, actor, action="request.cancel", entity_type="request", entity_id=request_id, work=work
    )


def list_requests(
    uow: UnitOfWork,
    actor: Actor,
    clinic_id: int,
    *,
    status: RequestStatus | None = RequestStatus.OPEN,
) -> list[dict[str, Any]]:
    """A clinic's requests (open ones by default), oldest first; the read is audited."""

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        rows = request_store.list_requests(uow.session.connection(), clinic_id, status)
        if rows:
            ids: list[int | None] = [r["request_id"] for r in rows]
            uow.audit(actor, "request.read", "request", ids)
        return [_public(r) for r in rows]

    return run_use_case(
        uow, actor, action="request.read", entity_type="request", entity_id=None, work=work
    )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A request as callers see it: codes as a tuple, enums as text, dates as dates."""
    found = dict(row)
    found["procedure_codes"] = tuple(row["procedure_codes"].split("+"))
    found["kind"] = str(RequestKind(row["kind"]))
    found["status"] = str(RequestStatus(row["status"]))
    for key in ("earliest_date", "latest_date"):
        value = row[key]
        found[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
    return found
